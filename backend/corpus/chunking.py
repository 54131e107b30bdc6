"""Cut parsed documents into chunks measured in the embedding model's own tokens.

The splitting is LlamaIndex's (``SentenceSplitter``, ``TokenTextSplitter``, ``MarkdownNodeParser``
followed by a sentence split), with its ``tokenizer`` set to the embedding model's tokenizer, so a
chunk of 200 means 200 of *that model's* word pieces. Each section of a document (a PDF page, a
heading section, a CSV row) is split on its own: chunks never cross a page or a section, and each
keeps its page and section. Every chunk is re-measured afterwards and split again if the splitter's
estimate was off, so no chunk exceeds ``chunk_size`` by the model's own count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, Sequence

from backend.corpus.documents import SECTION_SEP, ParsedDocument
from backend.errors import InputError

SPLITTERS = ("sentence", "token", "markdown")
#: room left for the special tokens a model adds around the text ([CLS]/[SEP], <s>/</s>, ...)
SPECIAL_TOKENS_MARGIN = 6
MIN_CHUNK_SIZE = 8

CountTokens = Callable[[str], int]


def _option(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class ChunkingConfig:
    """How documents are cut into chunks before embedding; part of an index's identity (``key``)."""

    splitter: str = _option(
        "sentence",
        "How text is cut. `sentence`: whole sentences packed up to the chunk size (best default). "
        "`token`: fixed-size windows of tokens, ignoring sentence ends. `markdown`: first at every "
        "heading inside the text, then by sentences.", choices=SPLITTERS)
    chunk_size: int = _option(
        200, "Largest chunk, in the embedding model's tokens (word pieces; about ¾ of a word in "
        "English). Smaller chunks retrieve more precisely; larger ones carry more context. Must fit "
        "the model's input limit.", minimum=MIN_CHUNK_SIZE)
    chunk_overlap: int = _option(
        30, "Tokens repeated at the start of the next chunk, so a sentence cut at a boundary is still "
        "found whole. Must be smaller than the chunk size.", minimum=0)

    def __post_init__(self) -> None:
        if self.splitter not in SPLITTERS:
            raise InputError(f"The splitter “{self.splitter}” does not exist.",
                             hint=f"Choose one of: {', '.join(SPLITTERS)}.")
        for name in ("chunk_size", "chunk_overlap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"The {name.replace('_', ' ')} must be a whole number of tokens, not {value!r}.")
        if self.chunk_size < MIN_CHUNK_SIZE:
            raise InputError(f"A chunk size of {self.chunk_size} tokens is too small.",
                             hint=f"Use at least {MIN_CHUNK_SIZE} tokens; 100–250 suits most documents.")
        if self.chunk_overlap < 0:
            raise InputError("The chunk overlap cannot be negative.", hint="Use 0 for no overlap.")
        if self.chunk_overlap >= self.chunk_size:
            raise InputError(f"The chunk overlap ({self.chunk_overlap}) must be smaller than the chunk "
                             f"size ({self.chunk_size}).",
                             hint="An overlap of 10–20% of the chunk size is typical.")

    def key(self) -> str:
        """A short stable name, e.g. ``sentence-200-30`` (used in index table names)."""
        return f"{self.splitter}-{self.chunk_size}-{self.chunk_overlap}"

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Each field with its default and help, for forms and docs."""
        return [{"name": f.name, "default": f.default, **f.metadata} for f in fields(cls)]


def validate_for_model(cfg: ChunkingConfig, max_input_tokens: int | None, model_name: str) -> None:
    """Raise ``InputError`` with the reason when chunks of ``cfg`` would not fit the model's input.

    Models truncate longer input without a word, so the end of an oversized chunk would never be
    searchable. ``SPECIAL_TOKENS_MARGIN`` tokens are kept free for the model's special tokens.
    ``max_input_tokens=None`` means the model states no limit: nothing to check.
    """
    if max_input_tokens is None:
        return
    limit = max_input_tokens - SPECIAL_TOKENS_MARGIN
    if limit < MIN_CHUNK_SIZE:
        raise ValueError(f"{model_name}: an input limit of {max_input_tokens} tokens is not plausible")
    if cfg.chunk_size > limit:
        raise InputError(f"{model_name} reads at most {max_input_tokens} word pieces and silently drops "
                         f"the rest: use a chunk size of {limit} or less.")


@dataclass
class Chunk:
    """A piece of a document ready to embed."""

    text: str
    position: int  # order in the document, from 0
    page: int | None
    section: str | None
    token_count: int  # by the embedding model's own tokenizer, without special tokens
    char_start: int | None = None  # where the chunk starts in its section's text


def hf_token_counter(tokenizer: Any) -> CountTokens:
    """``count_tokens`` for a Hugging Face tokenizer: word pieces without the special tokens.

    Uses a copy of the fast (Rust) tokenizer when there is one, with truncation switched off: the
    model's tokenizer file often truncates (all-MiniLM-L6-v2's at 128), which would hide exactly the
    oversized chunks we are measuring; the Python wrapper would also warn on every long text.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        from tokenizers import Tokenizer

        measuring = Tokenizer.from_str(backend.to_str())
        measuring.no_truncation()
        measuring.no_padding()
        return lambda text: len(measuring.encode(text, add_special_tokens=False).ids)
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False, truncation=False))


def _measure(count_tokens: CountTokens) -> Callable[[str], Sequence[int]]:
    # LlamaIndex wants a tokenizer returning a list of tokens and only ever takes its length.
    return lambda text: range(count_tokens(text))


def _splitter(kind: str, chunk_size: int, overlap: int, count_tokens: CountTokens) -> Any:
    from llama_index.core.node_parser import SentenceSplitter, TokenTextSplitter

    if kind == "token":
        return TokenTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap, tokenizer=_measure(count_tokens))
    # Readers leave at most one blank line between paragraphs, so that is the paragraph break.
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=overlap, tokenizer=_measure(count_tokens),
                            paragraph_separator="\n\n")


def _markdown_parts(text: str, section: str | None) -> list[tuple[str | None, str]]:
    """Split at headings inside ``text``; each part named by the section plus its heading path."""
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    parts = []
    for node in MarkdownNodeParser(header_path_separator="\x1f").get_nodes_from_documents([Document(text=text)]):
        body = node.get_content()
        path = [p for p in node.metadata.get("header_path", "").split("\x1f") if p]
        first = body.split("\n", 1)[0]
        if first.startswith("#"):
            path.append(first.lstrip("#").strip())
        own = path if not section else [p for p in path if p not in section.split(SECTION_SEP)]
        name = SECTION_SEP.join(([section] if section else []) + own) or None
        parts.append((name, body))
    return parts


class _Fitter:
    """Splits text into pieces of at most ``cfg.chunk_size`` tokens by the model's own count."""

    def __init__(self, cfg: ChunkingConfig, count_tokens: CountTokens) -> None:
        self.cfg, self.count = cfg, count_tokens
        self.splitter = _splitter(cfg.splitter, cfg.chunk_size, cfg.chunk_overlap, count_tokens)

    def __call__(self, text: str) -> list[str]:
        try:
            pieces = self.splitter.split_text(text)
        except ValueError as exc:  # "Single token exceeded chunk size": a pathological unit of text
            raise InputError(f"The text could not be cut into chunks of {self.cfg.chunk_size} tokens ({exc}).",
                             hint="Use a larger chunk size.") from None
        out = []
        for piece in pieces:
            out.extend(self._refit(piece, depth=0))
        return out

    def _refit(self, piece: str, depth: int) -> list[str]:
        """Re-split a piece the splitter let through too large (it adds up the sizes of the parts,
        which can differ from the count of the joined text); after a few tries, cut by characters."""
        limit = self.cfg.chunk_size
        size = self.count(piece)
        if size <= limit:
            return [piece] if piece.strip() else []
        if depth < 3:
            smaller = max(MIN_CHUNK_SIZE // 2, limit - (size - limit) - 2 * (depth + 1))
            out = []
            for part in _splitter(self.cfg.splitter, smaller, 0, self.count).split_text(piece):
                out.extend(self._refit(part, depth + 1))
            return out
        out = []
        while piece.strip():  # the longest prefix that fits, found by bisection on characters
            lo, hi = 1, len(piece)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if self.count(piece[:mid]) <= limit else (lo, mid - 1)
            out.append(piece[:lo])
            piece = piece[lo:]
        return out


def _remembered(count_tokens: CountTokens) -> CountTokens:
    """``count_tokens`` that tokenizes each distinct text once. Tokenizing is most of chunking's
    cost, and every piece is measured twice (re-fit, then its ``token_count``); the memory lasts one
    document."""
    known: dict[str, int] = {}

    def count(text: str) -> int:
        n = known.get(text)
        if n is None:
            n = known[text] = count_tokens(text)
        return n
    return count


def chunk_document(doc: ParsedDocument, cfg: ChunkingConfig, count_tokens: CountTokens) -> list[Chunk]:
    """The chunks of ``doc`` in order, none over ``cfg.chunk_size`` tokens by ``count_tokens``.

    ``count_tokens`` must be the embedding model's own count (see ``hf_token_counter``). If it
    includes the special tokens the model adds to every input, they are taken off (what it returns
    for the empty text), so sizes always mean tokens of text. Chunks never span two sections, so
    never two PDF pages, and keep their page and section. ``InputError`` when the text cannot be
    cut at this size.
    """
    overhead = count_tokens("")
    if overhead:
        # Otherwise the splitter would charge the special tokens once per sentence or word it adds.
        raw_count = count_tokens
        count_tokens = lambda text: raw_count(text) - overhead  # noqa: E731
    count_tokens = _remembered(count_tokens)
    fit = _Fitter(cfg, count_tokens)
    chunks: list[Chunk] = []
    for section in doc.sections:
        parts = (_markdown_parts(section.text, section.section) if cfg.splitter == "markdown"
                 else [(section.section, section.text)])
        cursor = 0
        for name, text in parts:
            for piece in fit(text):
                piece = piece.strip()
                if not piece:
                    continue
                start = section.text.find(piece, cursor)
                if start >= 0:
                    cursor = start + 1
                chunks.append(Chunk(text=piece, position=len(chunks), page=section.page, section=name,
                                    token_count=count_tokens(piece), char_start=start if start >= 0 else None))
    return chunks
