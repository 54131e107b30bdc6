"""A cheap health check of every configured model, for the Home page's status strip.

It checks that files exist and configurations resolve; it loads no weights and contacts no
endpoint (a slow or absent server must not stall the Home page), so it runs in well under a second.
"""

from __future__ import annotations

from pathlib import Path

from backend.errors import ConfigError, LabError, ModelUnavailable
from backend.models import hardware
from backend.models.bundled import SMOLLM2_FOLDER, is_converted, smollm2_gguf_path
from backend.models.specs import BUNDLED_LLM, BUNDLED_USE, parse_spec


def model_status(settings) -> list[dict]:
    """One row per model role: ``role``, ``spec``, ``ok``, ``detail`` (where it is and how it runs,
    or the error's user message) and ``required`` (False for the optional judge)."""
    rows = [_row("generation", settings.llm_model, lambda: _generation_detail(settings)),
            _row("embeddings (English)", settings.embed_model_en,
                 lambda: _embedding_detail(settings.embed_model_en, settings)),
            _row("embeddings (Spanish/mixed)", settings.embed_model_multi,
                 lambda: _embedding_detail(settings.embed_model_multi, settings))]
    judge_spec = f"openai:{settings.judge_model}" if settings.judge_model else ""
    if settings.judge_api_base.strip() and settings.judge_model.strip():
        rows.append({"role": "judge", "spec": judge_spec, "ok": True, "required": False,
                     "detail": f"{settings.judge_model} at {settings.judge_api_base} (not contacted)"})
    else:
        rows.append({"role": "judge", "spec": judge_spec, "ok": False, "required": False,
                     "detail": "Not configured: only the offline metrics run. Set the judge "
                               "endpoint and model on the Settings page to add LLM-judged metrics."})
    return rows


def _row(role: str, spec: str, check) -> dict:
    try:
        return {"role": role, "spec": spec, "ok": True, "required": True, "detail": check()}
    except LabError as exc:
        return {"role": role, "spec": spec, "ok": False, "required": True, "detail": exc.user_message}


def _runs_on(settings) -> str:
    device = hardware.pick_device(settings)
    return f"{hardware.dtype_name(hardware.pick_dtype(settings, device))} on {device}"


def _generation_detail(settings) -> str:
    parsed = parse_spec(settings.llm_model)
    if parsed.kind == "openai":
        return _endpoint_detail(parsed.name, settings.llm_api_base, "LAB_LLM_API_BASE")
    if parsed.kind == "bundled":
        if parsed.name != BUNDLED_LLM:
            raise ConfigError(f"{parsed.name} is an embedding model; it cannot generate text.")
        gguf = smollm2_gguf_path()
        folder = settings.models_path / SMOLLM2_FOLDER
        where = (f"converted at {folder}" if is_converted(folder)
                 else f"converted from {gguf.name} on first use (about 20 s)")
        return f"SmolLM2-135M-Instruct, {_runs_on(settings)}; {where}"
    return f"{_local_folder(parsed)}, {_runs_on(settings)}"


def _embedding_detail(spec: str, settings) -> str:
    parsed = parse_spec(spec)
    if parsed.kind == "openai":
        return _endpoint_detail(parsed.name, settings.embed_api_base, "LAB_EMBED_API_BASE")
    from backend.models.embeddings import embedding_info

    info = embedding_info(spec, settings)
    runs = "numpy on cpu" if parsed.name == BUNDLED_USE else _runs_on(settings)
    return f"{info.name}, {info.dim} dimensions, up to {info.max_input_tokens} tokens, {runs}"


def _endpoint_detail(model: str, base: str, setting: str) -> str:
    if not base.strip():
        raise ConfigError(f"openai:{model} needs an endpoint URL.", hint=f"Set {setting}.")
    return f"{model} at {base} (not contacted)"


def _local_folder(parsed) -> str:
    if parsed.kind == "path":
        if not Path(parsed.name).is_dir():
            raise ModelUnavailable(f"The model folder {parsed.name} does not exist.",
                                   hint="Check the path, or pick a bundled model.")
        if not (Path(parsed.name) / "config.json").is_file():
            raise ModelUnavailable(f"{parsed.name} holds no config.json: it is not a model folder.")
        return parsed.name
    from backend.models.registry import hf_cache_folder

    return f"{parsed.name} (cached at {hf_cache_folder(parsed.name)})"
