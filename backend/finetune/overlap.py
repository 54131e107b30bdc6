"""The held-out leak check: no held-out question of any question set of a corpus may reach training.

Texts are compared after :func:`normalise` (case, punctuation and runs of spaces ignored). A
held-out question leaks when it equals a training question (the user turn of a chat example), or
when a training text contains it (a continued-pretraining chunk, an answer, a RAFT context) and it
is long enough (``MIN_CONTAINED_WORDS``) that containment is not a coincidence. A run with a leak
is refused, listing the leaks. Near-duplicates (embedding cosine >= 0.95 between a held-out and a
training question) are reported for the user to look at, but not refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Sequence

from backend.errors import InputError

#: a held-out question shorter than this only leaks by equality, not by being contained
MIN_CONTAINED_WORDS = 4
NEAR_DUPLICATE_COSINE = 0.95
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, punctuation and symbols removed, spaces collapsed (accents are kept:
    in Spanish they can change the word)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class HeldOut:
    """One held-out question and the set it belongs to."""

    set_id: int
    set_name: str
    version: int
    position: int
    question: str


@dataclass(frozen=True)
class Leak:
    question: str
    set_name: str
    version: int
    example: int          # position of the training example it appears in
    how: str              # "same question" | "contained in the text" | "near duplicate (0.97)"

    def as_dict(self) -> dict:
        return asdict(self)


def example_question(example: dict) -> str | None:
    """The question a chat example asks: its ``question`` key when it has one (a RAFT example,
    whose last user turn also holds the sources), else its (last) user turn; None for text."""
    if example.get("question"):
        return example["question"]
    users = [m["content"] for m in example.get("messages") or [] if m.get("role") == "user"]
    return users[-1] if users else None


def example_text(example: dict) -> str:
    """All the text of an example, as the model would read it."""
    if example.get("messages"):
        return "\n".join(m["content"] for m in example["messages"])
    return example.get("text", "")


def find_leaks(held_out: Sequence[HeldOut], examples: Sequence[dict]) -> list[Leak]:
    """Held-out questions that appear in ``examples`` (exact, after normalising)."""
    if not held_out:
        return []
    by_norm: dict[str, list[HeldOut]] = {}
    for h in held_out:
        key = normalise(h.question)
        if key:
            by_norm.setdefault(key, []).append(h)
    long_keys = [k for k in by_norm if len(k.split()) >= MIN_CONTAINED_WORDS]
    leaks: list[Leak] = []
    for position, example in enumerate(examples):
        question = example_question(example)
        qkey = normalise(question) if question else None
        text = f" {normalise(example_text(example))} "
        for key, owners in by_norm.items():
            if key == qkey:
                how = "same question"
            elif key in long_keys and f" {key} " in text:
                how = "contained in the text"
            else:
                continue
            leaks.extend(Leak(h.question, h.set_name, h.version, position, how) for h in owners)
    return leaks


def near_duplicates(held_out: Sequence[HeldOut], examples: Sequence[dict],
                    embed: Callable[[list[str]], Sequence[Sequence[float]]],
                    threshold: float = NEAR_DUPLICATE_COSINE) -> list[Leak]:
    """Held-out questions whose embedding is within ``threshold`` cosine of a training question
    (and that are not exact leaks). ``embed`` returns one vector per text."""
    import numpy as np

    questions = [(i, q) for i, e in enumerate(examples) if (q := example_question(e))]
    if not held_out or not questions:
        return []
    a = _unit(np.asarray(embed([h.question for h in held_out]), dtype=np.float32))
    b = _unit(np.asarray(embed([q for _, q in questions]), dtype=np.float32))
    sims = a @ b.T
    out = []
    for hi, h in enumerate(held_out):
        j = int(sims[hi].argmax())
        score = float(sims[hi, j])
        if score >= threshold and normalise(h.question) != normalise(questions[j][1]):
            out.append(Leak(h.question, h.set_name, h.version, questions[j][0],
                            f"near duplicate ({score:.2f})"))
    return out


def _unit(x):
    import numpy as np

    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def refuse_if_leaking(leaks: Iterable[Leak], *, limit: int = 10) -> None:
    """Raise InputError listing (up to ``limit``) leaks; do nothing when there are none."""
    leaks = list(leaks)
    if not leaks:
        return
    shown = "; ".join(f"\u201c{x.question}\u201d ({x.set_name} v{x.version}, example {x.example + 1}, "
                      f"{x.how})" for x in leaks[:limit])
    more = f" and {len(leaks) - limit} more" if len(leaks) > limit else ""
    raise InputError(
        f"{len(leaks)} held-out question(s) appear in the training data: {shown}{more}.",
        hint="Held-out questions measure what the model learnt; training on them would inflate "
             "the score. Remove them from the training data (or from the held-out part) and "
             "build the dataset again.", leaks=[x.as_dict() for x in leaks])
