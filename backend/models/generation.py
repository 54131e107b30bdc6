"""The generation interface shared by every model: settings for one call, the answer it gives,
and the ``Generator`` protocol that local models and endpoints both implement.

Import these from ``backend.models.llm``, which also holds the implementations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterator, Protocol, runtime_checkable

from backend.errors import InputError

Conversation = list[dict]  # [{"role": "system"|"user"|"assistant", "content": str}, ...]


def _param(default: Any, help: str, minimum: float, maximum: float) -> Any:
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum})


@dataclass(frozen=True)
class GenerationConfig:
    """How to generate; the same values work for local models and endpoints."""

    max_new_tokens: int = _param(
        256, "Longest answer, in tokens (about 3/4 of a word each). Longer answers take longer.", 1, 8192)
    temperature: float = _param(
        0.0, "Randomness. 0 always picks the most likely next word (greedy, reproducible); "
             "0.7 gives varied answers.", 0.0, 2.0)
    top_p: float = _param(
        1.0, "Sample only from the most likely words whose probabilities add up to this "
             "(nucleus sampling). 1 keeps them all. Ignored when temperature is 0.", 0.01, 1.0)
    seed: int = _param(0, "Random seed for sampling, so a run can be repeated.", 0, 2**32 - 1)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = int if f.type in (int, "int") else float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    kind is int and not isinstance(value, int)):
                raise InputError(f"{f.name} must be {'a whole number' if kind is int else 'a number'}, "
                                 f"not {value!r}.")
            if kind is float:
                object.__setattr__(self, f.name, float(value))  # 1 -> 1.0, for stable records
            low, high = f.metadata["minimum"], f.metadata["maximum"]
            if not low <= value <= high:
                raise InputError(f"{f.name} is {value}; it must be between {low} and {high}.",
                                 hint=f.metadata["help"])

    @property
    def greedy(self) -> bool:
        """True when decoding is deterministic (temperature 0)."""
        return self.temperature == 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for run records and JSON."""
        return asdict(self)


@dataclass
class Generation:
    """One answer: its text, prompt and answer token counts, and wall-clock seconds it took
    (for a batch, the time of the whole batch: what a user waiting for it would have waited)."""

    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float


@runtime_checkable
class Generator(Protocol):
    """Anything that answers conversations. ``name`` is the spec it was made from; ``model_id``
    says what that resolved to (wheel and file, folder, HF id or endpoint), for run records."""

    name: str
    model_id: str

    def generate(self, conversations: list[Conversation], config: GenerationConfig, *,
                 batch_size: int = 8) -> list[Generation]:
        """One Generation per conversation, in order."""
        ...

    def stream(self, conversation: Conversation, config: GenerationConfig) -> Iterator[str]:
        """Pieces of the answer as they are generated; their concatenation is the answer."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for this model (an estimate for endpoints)."""
        ...
