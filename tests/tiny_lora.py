"""A real fine-tuned model in seconds, for tests that need one to exist: a LoRA adapter on the
bundled SmolLM2, trained for a few steps on question-answer pairs of a corpus (the same path as
the Fine-tune page: question set -> qa_pairs dataset -> ``run_finetune`` -> the registry)."""

from __future__ import annotations

from typing import Sequence

#: a few steps of a small adapter: enough to register a usable model, not to learn much
TINY_LORA = {"method": "adapter", "max_steps": 3, "batch_size": 2, "max_length": 64,
             "val_fraction": 0.0, "eval_every": 0, "checkpoint_every": 0, "learning_rate": 2e-3}


def train_tiny_lora(lab, corpus_id: str, pairs: Sequence[tuple[str, str]], *,
                    name: str = "tiny lora") -> int:
    """Train and register a tiny LoRA model on ``pairs`` (question, answer) of ``corpus_id``;
    returns its registry id (status ready)."""
    from backend.finetune.datasets import build_dataset
    from backend.finetune.jobs import run_finetune
    from backend.finetune.questions import create_set

    qset = create_set(lab, corpus_id, f"{name} questions",
                      [{"question": q, "reference": a, "part": "train"} for q, a in pairs])
    dataset = build_dataset(lab, "qa_pairs", corpus_id, question_set_id=qset.id, name=f"{name} pairs")
    return int(run_finetune(lab, {"dataset_id": dataset.id, "name": name, "config": TINY_LORA})["model_id"])
