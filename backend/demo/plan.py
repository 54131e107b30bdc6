"""How big the demo is: which questions, how long the adapter trains, how long the answers are.

The defaults are the full demo, sized so that Load demo finishes within 15 minutes on a 2-core
machine (``bench/demo_bench.py`` measures it). Tests pass a reduced plan (a few questions, a few
training steps); a reduced plan names its question set differently, so a full demo loaded later
in the same database never mistakes the reduced set for its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from backend.errors import InputError


@dataclass(frozen=True)
class DemoPlan:
    """The demo's sizes. Invalid values raise ``InputError`` naming the field."""

    #: train-part questions kept (None: all of them), alternating languages
    train_questions: int | None = None
    #: held-out questions kept for the evaluation (None: all of them), alternating languages
    eval_questions: int | None = None
    #: LoRA training: passes over the examples, and a cap on optimiser steps (0: no cap)
    epochs: int = 2
    max_steps: int = 0
    batch_size: int = 4
    #: longest training example in tokens (the demo's chunks are about 200 word pieces)
    max_length: int = 256
    #: evaluation: longest answer, answers generated per batch, passages retrieved per question
    max_new_tokens: int = 48
    eval_batch_size: int = 8
    k: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in ("train_questions", "eval_questions"):
                continue
            lowest = 0 if f.name == "max_steps" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise InputError(f"Demo setting {f.name} is {value!r}; it must be a whole number "
                                 f"of at least {lowest}.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "DemoPlan":
        """The plan from ``as_dict`` output; unknown keys are an error."""
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise InputError(f"Unknown demo setting(s): {', '.join(unknown)}.")
        return cls(**values)

    @property
    def reduced(self) -> bool:
        return self.train_questions is not None or self.eval_questions is not None

    def set_name(self, base: str) -> str:
        """The question set's name: ``base`` for the full demo, with the sizes when reduced."""
        if not self.reduced:
            return base
        return (f"{base} ({self.train_questions if self.train_questions is not None else 'all'}"
                f" train + {self.eval_questions if self.eval_questions is not None else 'all'}"
                " held-out)")

    # --- what the stages are given --------------------------------------------------------------
    def question_rows(self, questions: list[dict]) -> list:
        """The question set's rows with the demo's own split kept (``part`` given explicitly),
        each row's language, demo id and source document in its metadata."""
        from backend.finetune.question_io import QuestionRow

        train = _alternate([q for q in questions if q["split"] == "train"], self.train_questions)
        held = _alternate([q for q in questions if q["split"] == "heldout"], self.eval_questions)
        return [QuestionRow(question=q["question"], reference=q["reference"],
                            reference_contexts=list(q["reference_contexts"]), tags=list(q["tags"]),
                            part="train" if q["split"] == "train" else "held_out",
                            metadata={"language": q["language"], "demo_id": q["id"],
                                      "source": q["source"]})
                for q in train + held]

    def finetune_config(self):
        """The LoRA configuration (the lab's usual adapter settings, the demo's length)."""
        from backend.finetune.config import FinetuneConfig

        return FinetuneConfig(method="adapter", epochs=self.epochs, max_steps=self.max_steps,
                              batch_size=self.batch_size, max_length=self.max_length)

    def strategies(self, model_id: int) -> list:
        """Base, RAG (hybrid retrieval, k passages), fine-tuned (the LoRA) and hybrid (the LoRA
        with the same retrieval), all with the same answer length."""
        from backend.evaluate.strategies import StrategyConfig

        generation = {"max_new_tokens": self.max_new_tokens}
        return [StrategyConfig(kind="base", generation=generation),
                StrategyConfig(kind="rag", mode="hybrid", k=self.k, generation=generation),
                StrategyConfig(kind="finetuned", model_id=model_id, generation=generation),
                StrategyConfig(kind="hybrid", model_id=model_id, mode="hybrid", k=self.k,
                               generation=generation)]


def _alternate(questions: list[dict], limit: int | None) -> list[dict]:
    """The first ``limit`` questions taking the languages in turn (file order within each), so a
    reduced demo still asks in English and Spanish; all of them, in file order, without a limit."""
    if limit is None or limit >= len(questions):
        return list(questions)
    by_language: dict[str, list[dict]] = {}
    for q in questions:
        by_language.setdefault(q["language"], []).append(q)
    queues = list(by_language.values())
    out: list[dict] = []
    while len(out) < limit:
        for queue in queues:
            if queue and len(out) < limit:
                out.append(queue.pop(0))
    return out
