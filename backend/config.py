"""One settings object for the whole lab.

Precedence, lowest first: the defaults below, environment variables (``LAB_<FIELD>`` in upper
case; ``DATABASE_URL`` for the database), then values a user saved on the Settings page (stored in
the ``settings`` table; workers read them when a job starts). Fields marked ``env_only`` can only
come from the environment (they are needed before the database is reachable). Every field has a
help text, so the Settings page, the CLI and the README are generated from this one place.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from backend.errors import ConfigError

ENV_PREFIX = "LAB_"
MASK = "••••••••"


def setting(default: Any, help: str, *, group: str = "general", secret: bool = False,
            env_only: bool = False, choices: tuple[str, ...] | None = None,
            env: str | None = None, minimum: float | None = None) -> Any:
    """Declare one setting with its help text and how it may be set."""
    return field(default=default, metadata={
        "help": help, "group": group, "secret": secret, "env_only": env_only,
        "choices": choices, "env": env, "minimum": minimum,
    })


def _default_data_dir() -> str:
    return str(Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "strategy-lab")


def _default_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass(frozen=True)
class Settings:
    # --- where things live -------------------------------------------------------------------
    data_dir: str = setting(
        _default_data_dir(),
        "Folder for everything the lab keeps on this machine: the embedded database, the converted "
        "bundled model, logs. Must be writable.", group="storage", env_only=True)
    database_url: str = setting(
        "",
        "Connection URL of an external Postgres (15 or newer, with the `vector` extension), e.g. "
        "postgresql://user:pass@host:5432/lab. Empty: the embedded Postgres in the data folder.",
        group="storage", env_only=True, env="DATABASE_URL", secret=True)
    artifact_dir: str = setting(
        "",
        "Shared folder for large model weights (full fine-tunes). Empty: artifacts are stored in "
        "Postgres, which every worker can read.", group="storage")

    # --- models --------------------------------------------------------------------------------
    llm_model: str = setting(
        "bundled:smollm2-135m-instruct",
        "Generation model: `bundled:smollm2-135m-instruct` (ships with the lab), any Hugging Face "
        "model id or local folder, or `openai:<model>` to use the OpenAI-compatible endpoint below.",
        group="models")
    llm_api_base: str = setting(
        "", "Base URL of an OpenAI-compatible endpoint (vLLM, Ollama, OpenAI), e.g. "
        "http://localhost:11434/v1. Used when the model starts with `openai:`.", group="models")
    llm_api_key: str = setting("", "API key for the generation endpoint.", group="models", secret=True)
    embed_model_en: str = setting(
        "bundled:all-minilm-l6-v2",
        "Embedding model for English corpora: `bundled:all-minilm-l6-v2`, "
        "`bundled:use-multilingual`, a sentence-transformers id or folder, or `openai:<model>`.",
        group="models")
    embed_model_multi: str = setting(
        "bundled:use-multilingual",
        "Embedding model for Spanish and mixed corpora (default: the bundled multilingual Universal "
        "Sentence Encoder).", group="models")
    embed_api_base: str = setting(
        "", "Base URL of an OpenAI-compatible embeddings endpoint, for `openai:` embedding models.",
        group="models")
    embed_api_key: str = setting("", "API key for the embeddings endpoint.", group="models", secret=True)
    dtype: str = setting(
        "auto", "Number format for local models: `auto` uses bfloat16 where the CPU or GPU supports "
        "it and float32 elsewhere.", group="models", choices=("auto", "bf16", "fp32"))
    device: str = setting(
        "auto", "Where local models run: `auto` picks CUDA when a GPU is present, else the CPU.",
        group="models", choices=("auto", "cpu", "cuda"))

    # --- judge (LLM-judged metrics) -------------------------------------------------------------
    judge_api_base: str = setting(
        "", "OpenAI-compatible endpoint of the judge model for LLM-judged metrics (faithfulness, "
        "relevancy, ...). Empty: only the offline metrics run.", group="judge")
    judge_model: str = setting("", "Model name of the judge at that endpoint.", group="judge")
    judge_api_key: str = setting("", "API key for the judge endpoint.", group="judge", secret=True)

    # --- limits ----------------------------------------------------------------------------------
    max_upload_mb: int = setting(50, "Largest file a user may upload, in MB.", group="limits", minimum=1)
    max_zip_uncompressed_mb: int = setting(
        500, "Largest total uncompressed size of a ZIP upload, in MB (guards against ZIP bombs).",
        group="limits", minimum=1)
    max_zip_files: int = setting(2000, "Most files a ZIP upload may hold.", group="limits", minimum=1)
    worker_threads: int = setting(
        _default_threads(), "Torch threads a worker may use; keep one core free for the interface.",
        group="limits", minimum=1)
    heartbeat_seconds: int = setting(
        5, "How often a running job reports that its worker is alive.", group="limits", minimum=1)
    stalled_after_seconds: int = setting(
        60, "A running job whose worker has not reported for this long is marked stalled and "
        "retried (long jobs resume from their last checkpoint).", group="limits", minimum=5)
    max_job_attempts: int = setting(
        3, "How many times a stalled job is retried before it is marked failed.", group="limits",
        minimum=1)
    checkpoints_keep: int = setting(2, "Checkpoints kept per fine-tuning run.", group="limits", minimum=1)

    # --- cost --------------------------------------------------------------------------------------
    price_per_hour: float = setting(
        0.10, "What an hour of this machine costs (USD), to price local answers and training.",
        group="cost", minimum=0)
    price_per_1k_tokens_in: float = setting(
        0.0, "Endpoint price per 1,000 prompt tokens (USD).", group="cost", minimum=0)
    price_per_1k_tokens_out: float = setting(
        0.0, "Endpoint price per 1,000 generated tokens (USD).", group="cost", minimum=0)

    # --- interface ---------------------------------------------------------------------------------
    language: str = setting("en", "Default interface language.", group="interface", choices=("en", "es"))
    port: int = setting(8501, "Port of the dashboard.", group="interface", env_only=True, minimum=1)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            choices = f.metadata["choices"]
            if choices and value not in choices:
                raise ConfigError(
                    f"Setting {env_name(f.name)} is {value!r}; it must be one of {', '.join(choices)}.")
            minimum = f.metadata["minimum"]
            if minimum is not None and value < minimum:
                raise ConfigError(f"Setting {env_name(f.name)} is {value}; it must be at least {minimum}.")

    # --- derived paths -------------------------------------------------------------------------------
    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def pgdata_path(self) -> Path:
        return self.data_path / "pgdata"

    @property
    def models_path(self) -> Path:
        return self.data_path / "models"

    def masked(self) -> dict[str, Any]:
        """All values, with secrets replaced by a mask (for display and logs)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = mask_url(value) if f.name == "database_url" else MASK
            out[f.name] = value
        return out

    def __repr__(self) -> str:  # never leak secrets into logs or tracebacks
        return f"Settings({self.masked()!r})"


def env_name(name: str) -> str:
    """The environment variable that sets field ``name``."""
    f = _FIELDS[name]
    return f.metadata["env"] or ENV_PREFIX + name.upper()


def mask_url(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:••••@host/db``."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":" + MASK
        return f"{scheme}://{creds}@{host}"
    return url


def _coerce(name: str, raw: Any) -> Any:
    f = _FIELDS[name]
    kind = f.type if isinstance(f.type, type) else {"int": int, "float": float, "str": str}[f.type]
    if isinstance(raw, kind) and not isinstance(raw, bool):
        return raw
    try:
        return kind(str(raw).strip())
    except ValueError:
        raise ConfigError(
            f"Setting {env_name(name)} is {raw!r}, which is not a valid {kind.__name__}.") from None


_FIELDS = {f.name: f for f in fields(Settings)}


def describe() -> list[dict[str, Any]]:
    """Every setting with its default, help, group and flags: the source for forms and docs."""
    return [{"name": f.name, "env": env_name(f.name), "default": f.default, "type": _coerce_type(f),
             **{k: v for k, v in f.metadata.items() if k != "env"}} for f in fields(Settings)]


def _coerce_type(f: dataclasses.Field) -> str:
    return f.type if isinstance(f.type, str) else f.type.__name__


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The values set through environment variables."""
    environ = os.environ if environ is None else environ
    out = {}
    for name in _FIELDS:
        raw = environ.get(env_name(name))
        if raw is not None and raw != "":
            out[name] = _coerce(name, raw)
    return out


def build(environ: Mapping[str, str] | None = None, saved: Mapping[str, Any] | None = None) -> Settings:
    """Defaults < environment < saved values (saved values for env-only fields are ignored)."""
    values = from_env(environ)
    for name, raw in (saved or {}).items():
        if name in _FIELDS and not _FIELDS[name].metadata["env_only"]:
            values[name] = _coerce(name, raw)
    return Settings(**values)


def load(environ: Mapping[str, str] | None = None, *, with_saved: bool = True) -> Settings:
    """Settings for this process: the environment, then what users saved in the database.

    If the database cannot be reached the environment settings are returned, so the caller can
    still show a clear "database unavailable" message.
    """
    base = build(environ)
    if not with_saved:
        return base
    from backend.db import settings_store  # local import: config must not need a database

    try:
        saved = settings_store.saved_values(base)
    except Exception:  # noqa: BLE001 - the database's own errors are reported by the status checks
        return base
    return build(environ, saved)


def validate_value(name: str, raw: Any) -> Any:
    """Coerce and check one value a user typed; raises ConfigError with the reason."""
    if name not in _FIELDS:
        raise ConfigError(f"There is no setting named {name!r}.")
    if _FIELDS[name].metadata["env_only"]:
        raise ConfigError(f"{env_name(name)} can only be set in the environment, before the lab starts.")
    value = _coerce(name, raw)
    dataclasses.replace(Settings(), **{name: value})  # runs the field checks
    return value
