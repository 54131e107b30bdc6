"""Cited answers: question + retrieved chunks -> a prompt with numbered sources -> the LLM ->
the answer with its ``[n]`` citations mapped back to the chunks.

Every ``Answer`` records how it was made (template, generation settings, model, the prompt) with
its latency and token counts, so an evaluation can report and repeat it. ``answer`` returns it in
one go; ``stream_answer`` yields the text as it is generated and then the ``Answer``.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from backend.models.llm import GenerationConfig
from backend.rag.prompts import DEFAULT_TEMPLATE, PromptTemplate, detect_language, format_sources

if TYPE_CHECKING:
    from backend.lab import Lab
    from backend.rag.retrieval import RetrievedChunk

#: tokens of source text a prompt may hold; lower-ranked chunks beyond it are left out
MAX_CONTEXT_TOKENS = 1500

# [1] · [1, 2] · [1-3] · [Source 2] · [fuente 1 y 3] · (Source 2) · "source 2" / "fuente 2"
_BRACKETED = re.compile(r"[\[(]\s*(?:(?:sources?|fuentes?|refs?\.?|doc(?:ument)?o?s?)\s*#?\s*)?"
                        r"(\d{1,3}(?:\s*(?:,|;|-|–|and|y|&)\s*\d{1,3})*)\s*[\])]", re.IGNORECASE)
_NAMED = re.compile(r"\b(?:source|fuente)\s*#?\s*(\d{1,3})\b", re.IGNORECASE)
_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)")
# Small models go on past their answer, echoing the prompt: a new source line ("[2] (care.txt)")
# or a new "Question:". The answer ends where that starts.
_ECHO = re.compile(r"\n\s*(?:\[\d{1,3}\]\s*\(|(?:Sources?|Fuentes?|Question|Pregunta)\s*:)")


@dataclass(frozen=True)
class Citation:
    number: int  # as written in the answer: [number]
    chunk: "RetrievedChunk"


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]  # in order of first mention, each source once
    contexts: list["RetrievedChunk"]  # the chunks given to the model, numbered from 1
    latency_s: float
    tokens_in: int
    tokens_out: int
    prompt: list[dict]  # the chat messages sent
    config: dict  # GenerationConfig values
    template: str
    model_id: str
    language: str
    retrieval_s: float = 0.0  # the search before the prompt (0 when the caller retrieved nothing)

    @property
    def cited_chunks(self) -> list["RetrievedChunk"]:
        return [c.chunk for c in self.citations]

    def as_dict(self) -> dict[str, Any]:
        """Plain values for run records and JSON."""
        out = asdict(self)
        out["citations"] = [{"number": c.number, "chunk_id": c.chunk.chunk_id} for c in self.citations]
        return out


def parse_citations(text: str, n_sources: int) -> list[int]:
    """Source numbers (1..n_sources) cited in ``text``, in order of first mention, once each.

    Accepts the forms small models actually write: ``[1]``, ``[1, 2]``, ``[1-3]``, ``[Source 2]``,
    ``(source 1)``, ``fuente 2``. Numbers outside 1..n_sources are ignored.
    """
    found: list[int] = []

    def add(number: int) -> None:
        if 1 <= number <= n_sources and number not in found:
            found.append(number)

    spans = []
    for m in _BRACKETED.finditer(text):
        spans.append((m.start(), m.group(1)))
    for m in _NAMED.finditer(text):
        spans.append((m.start(), m.group(1)))
    for _, group in sorted(spans):
        for part in re.split(r"\s*(?:,|;|and|y|&)\s*", group):
            rng = _RANGE.fullmatch(part.strip())
            if rng:
                low, high = int(rng.group(1)), int(rng.group(2))
                if 0 < high - low < 20:
                    for number in range(low, high + 1):
                        add(number)
            elif part.strip().isdigit():
                add(int(part))
    return found


def cut_echo(text: str) -> str:
    """``text`` up to where the model starts echoing the prompt's structure."""
    match = _ECHO.search(text)
    return (text[:match.start()] if match else text).strip()


def build_prompt(question: str, chunks: Sequence["RetrievedChunk"], *, template: PromptTemplate,
                 language: str, count_tokens=None,
                 max_context_tokens: int = MAX_CONTEXT_TOKENS) -> tuple[list[dict], list["RetrievedChunk"]]:
    """The chat messages and the chunks they number: chunks in the order given, as many as fit
    ``max_context_tokens`` (always at least the first one). With no chunks and a closed-book
    template, the closed-book prompt an evaluation run sends."""
    kept: list["RetrievedChunk"] = []
    used = 0
    for chunk in chunks:
        cost = count_tokens(chunk.text) if count_tokens else len(chunk.text) // 4
        if kept and used + cost > max_context_tokens:
            break
        kept.append(chunk)
        used += cost
    messages = template.conversation(question, format_sources(kept, language), language)
    # a template without a system message (question-only, as fine-tunes are trained) leaves it
    # empty: leave it out, as evaluation runs do, rather than send an empty message
    return [m for m in messages if m["content"].strip()], kept


def _prepare(lab: "Lab | None", question: str, chunks, generator, template, language, max_context_tokens):
    from backend.errors import InputError

    if not (question or "").strip():
        raise InputError("Type a question.")
    if generator is None:
        from backend.models.registry import get_generator

        if lab is None:
            raise InputError("answer() needs a lab or a generator.")
        generator = get_generator(lab.settings)
    language = language or detect_language(question)
    prompt, kept = build_prompt(question, list(chunks), template=template, language=language,
                                count_tokens=generator.count_tokens,
                                max_context_tokens=max_context_tokens)
    return generator, language, prompt, kept


def _finish(question: str, text: str, kept, prompt, generator, config: GenerationConfig,
            template: PromptTemplate, language: str, latency: float, tokens_in: int,
            tokens_out: int) -> Answer:
    text = cut_echo(text)
    citations = [Citation(n, kept[n - 1]) for n in parse_citations(text, len(kept))]
    return Answer(question=question, text=text, citations=citations, contexts=list(kept),
                  latency_s=latency, tokens_in=tokens_in, tokens_out=tokens_out, prompt=prompt,
                  config=config.as_dict(), template=template.name,
                  model_id=getattr(generator, "model_id", getattr(generator, "name", "")),
                  language=language)


def answer(lab: "Lab | None", question: str, chunks: Sequence["RetrievedChunk"], *, generator=None,
           config: GenerationConfig = GenerationConfig(), template: PromptTemplate = DEFAULT_TEMPLATE,
           language: str | None = None, max_context_tokens: int = MAX_CONTEXT_TOKENS) -> Answer:
    """Answer ``question`` from ``chunks`` with numbered citations (default generator: the one in
    the lab's settings; default language: detected from the question)."""
    generator, language, prompt, kept = _prepare(lab, question, chunks, generator, template,
                                                 language, max_context_tokens)
    began = time.perf_counter()
    generation = generator.generate([prompt], config, batch_size=1)[0]
    latency = time.perf_counter() - began
    return _finish(question, generation.text, kept, prompt, generator, config, template, language,
                   latency, generation.tokens_in, generation.tokens_out)


def stream_answer(lab: "Lab | None", question: str, chunks: Sequence["RetrievedChunk"], *,
                  generator=None, config: GenerationConfig = GenerationConfig(),
                  template: PromptTemplate = DEFAULT_TEMPLATE, language: str | None = None,
                  max_context_tokens: int = MAX_CONTEXT_TOKENS) -> Iterator["str | Answer"]:
    """Like ``answer`` but yields the text pieces as they are generated, then the ``Answer``
    (token counts from the model's tokenizer: streaming does not report them)."""
    generator, language, prompt, kept = _prepare(lab, question, chunks, generator, template,
                                                 language, max_context_tokens)
    began = time.perf_counter()
    text, shown = "", 0
    stream = generator.stream(prompt, config)
    try:
        for piece in stream:
            text += piece
            match = _ECHO.search(text)
            if match:  # the answer is over: stop generating (closing the stream stops the model)
                text = text[:match.start()]
                break
            # hold back a last line short enough to still turn into an echo
            newline = text.rfind("\n")
            safe = len(text) if newline < 0 or len(text[newline:].strip()) > 12 else newline
            if safe > shown:
                yield text[shown:safe]
                shown = safe
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    if len(text) > shown:
        yield text[shown:].rstrip()
    latency = time.perf_counter() - began
    tokens_in = sum(generator.count_tokens(m["content"]) for m in prompt)
    yield _finish(question, text, kept, prompt, generator, config, template, language, latency,
                  tokens_in, generator.count_tokens(text))


def ask(lab: "Lab", corpus_id: str, question: str, *, mode: str = "hybrid", k: int = 3,
        filters: dict | None = None, **kwargs: Any) -> Answer:
    """Retrieve from a corpus and answer: what the CLI and the Ask page do in one call."""
    from backend.rag.retrieval import retrieve

    chunks = retrieve(lab, corpus_id, question, mode=mode, k=k, filters=filters)
    return answer(lab, question, chunks, **kwargs)
