"""The model registry: model specs from settings -> loaded generators, offline.

Nothing here reaches a model hub. A Hugging Face id is read from the local HF cache only; a missing
one is reported with how to fetch it on a connected machine. Loaded generators are cached per
process, per (what the spec resolved to, device, dtype); :func:`load_causal_lm` is the uncached
loader training code uses (it gets its own copy of the weights to change).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from backend.errors import ConfigError, ModelUnavailable
from backend.models import hardware
from backend.models.bundled import (bundled_smollm2_bf16_dir, bundled_smollm2_dir, minilm_dir,  # noqa: F401
                                    smollm2_gguf_path, smollm2_record_id, use_resources_dir)
from backend.models.llm import Generator, LocalGenerator, OpenAICompatGenerator
from backend.models.specs import (BUNDLED_LLM, BUNDLED_MINILM, BUNDLED_USE, ModelSpec,  # noqa: F401
                                  bundled_role, parse_spec)

log = logging.getLogger(__name__)

_generators: dict[tuple, Generator] = {}
_cache_lock = threading.Lock()


def hf_cache_folder(repo_id: str) -> Path:
    """The local snapshot folder of a Hugging Face model; ModelUnavailable when not cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError, OSError) as exc:
        raise ModelUnavailable(
            f"The model {repo_id!r} is not in the local Hugging Face cache, and the lab works "
            "offline: it never downloads models.",
            hint=f"On a machine with internet run `hf download {repo_id}` and copy the cache "
                 "(~/.cache/huggingface/hub) here, or set the model to a local folder.") from exc


def resolve_model_path(spec: str, settings) -> str:
    """Where a local spec's files are: a bundled name -> its folder (converting SmolLM2 once),
    an HF id -> the id itself (checked to be in the local cache), a folder -> the folder.

    Raises ModelUnavailable when the files are not there, ConfigError for ``openai:`` specs.
    """
    parsed = parse_spec(spec)
    if parsed.kind == "bundled":
        if parsed.name == BUNDLED_LLM:
            return str(bundled_smollm2_dir(settings))
        if parsed.name == BUNDLED_MINILM:
            return str(minilm_dir())
        return str(use_resources_dir())
    if parsed.kind == "openai":
        raise ConfigError(f"{spec} runs on an endpoint; it has no local files.")
    if parsed.kind == "path":
        if not Path(parsed.name).is_dir():
            raise ModelUnavailable(f"The model folder {parsed.name} does not exist.",
                                   hint="Check the path, or pick a bundled model.")
        return parsed.name
    hf_cache_folder(parsed.name)
    return parsed.name


def _llm_spec(spec: str | None, settings) -> ModelSpec:
    parsed = parse_spec(spec if spec is not None else settings.llm_model)
    if parsed.kind == "bundled" and bundled_role(parsed) != "generation":
        raise ConfigError(f"{parsed.name} is an embedding model; it cannot generate text.",
                          hint=f"Use {BUNDLED_LLM}, a Hugging Face id or an openai: model.")
    return parsed


def load_causal_lm(spec: str, settings, *, dtype=None, device: str | None = None):
    """A fresh (uncached) ``(model, tokenizer)`` for a local spec, in eval mode on ``device``
    (default from settings) in ``dtype`` (default: bf16 where supported, else fp32).

    A bundled model whose converted folder fails to load is converted again once.
    """
    parsed = _llm_spec(spec, settings)
    if parsed.kind == "openai":
        raise ConfigError(f"{spec} runs on an endpoint; its weights cannot be loaded or trained here.",
                          hint="Pick a local model (bundled, Hugging Face id or folder).")
    device = device or hardware.pick_device(settings)
    dtype = dtype or hardware.pick_dtype(settings, device)
    path = resolve_model_path(parsed.raw, settings)
    # the bundled model in bf16 loads from its bf16 copy: half the peak memory (see bundled.py)
    bf16_copy = parsed.name == BUNDLED_LLM and str(dtype) == "torch.bfloat16"
    if bf16_copy:
        path = str(bundled_smollm2_bf16_dir(settings))
    try:
        return _load_folder(path, dtype, device)
    except Exception as exc:  # noqa: BLE001 - reported below with what to do
        if parsed.name != BUNDLED_LLM:
            raise ModelUnavailable(f"The model {spec} could not be loaded: {exc}",
                                   hint="Check that the folder holds a complete transformers "
                                        "causal language model.") from exc
        log.warning("the converted bundled model failed to load (%s); converting it again", exc)
        path = str(bundled_smollm2_dir(settings, rebuild=True))
        if bf16_copy:  # the rebuild restamped the conversion: the copy is made again from it
            path = str(bundled_smollm2_bf16_dir(settings))
        return _load_folder(path, dtype, device)


def _load_folder(path: str, dtype, device: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    return model.to(device).eval(), tokenizer


def record_id(parsed: ModelSpec, settings) -> str:
    """What a spec resolves to, for run records (stable across machines for bundled models)."""
    if parsed.kind == "bundled" and parsed.name == BUNDLED_LLM:
        return smollm2_record_id()
    if parsed.kind == "openai":
        return f"openai:{parsed.name}@{settings.llm_api_base.strip()}"
    return parsed.name


def get_generator(settings, spec: str | None = None) -> Generator:
    """The generator for ``spec`` (default ``settings.llm_model``), loaded once per process.

    ``openai:<model>`` -> :class:`OpenAICompatGenerator` on ``settings.llm_api_base`` (ConfigError
    when that is empty); anything else -> a :class:`LocalGenerator`.
    """
    parsed = _llm_spec(spec, settings)
    if parsed.kind == "openai":
        key = ("openai", parsed.name, settings.llm_api_base.strip(), settings.llm_api_key)
    else:
        device = hardware.pick_device(settings)
        dtype = hardware.pick_dtype(settings, device)
        where = str(settings.models_path) if parsed.kind == "bundled" else ""
        key = (parsed.raw, where, device, str(dtype))
    with _cache_lock:  # also keeps two threads from loading the same model twice
        cached = _generators.get(key)
        if cached is not None:
            return cached
        if parsed.kind == "openai":
            generator: Generator = OpenAICompatGenerator(parsed.name, settings.llm_api_base,
                                                         settings.llm_api_key)
        else:
            model, tokenizer = load_causal_lm(parsed.raw, settings, dtype=dtype, device=device)
            generator = LocalGenerator(model, tokenizer, name=parsed.raw,
                                       model_id=record_id(parsed, settings), device=device)
            generator.warm_up()
        _generators[key] = generator
        return generator


def clear_cache() -> None:
    """Forget the cached generators (their memory is freed once nobody holds them)."""
    with _cache_lock:
        _generators.clear()
