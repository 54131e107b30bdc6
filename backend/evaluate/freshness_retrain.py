"""The retrain step of a freshness check: what it takes for a fine-tuned model to learn a change.

A fine-tuned model only knows what its training data said. To update it the lab does what a team
would: take the question set the model learnt from, save a new version whose answers say what the
changed documents now say (questions it lacked are added to its train part), rebuild the dataset
the way the model's own was built (same builder and options, e.g. with the now-updated corpus
chunks; a corpus-text model re-reads the updated corpus) and train again
(``backend.finetune.jobs.run_finetune``, by default with the original model's recipe and its
sensitive-data decision). The time this takes is the fine-tuned strategy's
time to update. A refused or failed retrain is recorded on the timeline and the check goes on:
the fine-tuned strategy is then "not updated".
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from backend.errors import JobCancelled, LabError

if TYPE_CHECKING:
    from backend.lab import Lab


class _ForwardingContext:
    """Just enough of a JobContext for ``run_finetune``: progress and cancellation go to the
    freshness job; the retrain keeps no resume state of its own (a check cannot resume)."""

    job_id = None
    attempt = 1

    def __init__(self, progress: Callable[..., None], check: Callable[[], None]) -> None:
        self._progress, self._check = progress, check

    def progress(self, step, total=None, *, message=None, unit=None, metrics=None) -> None:
        self._check()
        self._progress(step, total, message=message)

    def check_cancelled(self) -> None:
        self._check()

    def load_state(self) -> dict:
        return {}

    def save_state(self, state: dict) -> None:
        pass


def updated_question_set(lab: "Lab", corpus_id: str, set_id: int | None, questions: list[dict],
                         name: str) -> Any:
    """A question set whose answers are the v2 references: a new version of ``set_id`` (rows
    asking a freshness question get ``reference_v2``, keeping their part; the others are added
    to the train part), or, without a set, a new set of the freshness questions to train on."""
    from backend.finetune.overlap import normalise
    from backend.finetune.questions import create_set, get_set, save_version

    fresh = {normalise(q["question"]): q for q in questions}
    rows: list[dict] = []
    if set_id is not None:
        for r in get_set(lab, set_id).rows:
            q = fresh.pop(normalise(r.question), None)
            row = {**r.as_dict(), "part": r.part}
            if q is not None:
                row.update(reference=q["reference_v2"],
                           reference_contexts=q["reference_contexts_v2"] or row["reference_contexts"])
            rows.append(row)
    rows += [{"question": q["question"], "reference": q["reference_v2"],
              "reference_contexts": q["reference_contexts_v2"], "tags": ["freshness"],
              "part": "train", "metadata": {"language": q["language"]}} for q in fresh.values()]
    if set_id is not None:
        return save_version(lab, set_id, rows)
    return create_set(lab, corpus_id, name, rows, held_out_fraction=0.0, source="edit")


#: the builders' own parameters (a dataset's stored params also hold facts about what it built)
_BUILDER_PARAMS = {"qa_pairs": ("system_prompt", "include_unanswerable", "with_chunks"),
                   "continued_pretraining": ("max_chunks", "min_chars")}


def _source_dataset(lab: "Lab", model: Any) -> dict:
    """How the model's training data was built: builder, question set, builder parameters."""
    row = lab.db.fetchone("SELECT builder, question_set_id, params FROM training_datasets"
                          " WHERE id = %s", (model.dataset_id,)) if model.dataset_id else None
    if row is None:
        return {"builder": "qa_pairs", "question_set_id": None, "params": {}}
    builder = row["builder"] if row["builder"] in _BUILDER_PARAMS else "qa_pairs"
    params = {k: v for k, v in (row["params"] or {}).items() if k in _BUILDER_PARAMS[builder]}
    return {"builder": builder, "question_set_id": row["question_set_id"], "params": params}


def _guard_decision(plan: dict, model: Any) -> str:
    """The sensitive-data decision: the plan's, else the one the model was trained with."""
    decision = plan.get("sensitive") or (model.guard or {}).get("decision")
    return decision if decision in ("redact", "acknowledge") else "refuse"


def retrain(lab: "Lab", check: dict, timeline: Any, progress: Callable[..., None],
            check_cancelled: Callable[[], None]) -> int | None:
    """Retrain the check's fine-tuned model on the updated content; returns the new model id,
    or None when the retrain was refused or failed (recorded as ``retrain_failed``)."""
    from backend.finetune.datasets import build_dataset
    from backend.finetune.jobs import run_finetune
    from backend.finetune.registry import get_model

    plan = check["retrain"]
    began = time.perf_counter()
    timeline.event("retrain_started", model_id=plan["model_id"])
    try:
        source = get_model(lab, plan["model_id"])
        built = _source_dataset(lab, source)
        name = f"{check['name']} · retrain"
        if built["builder"] == "continued_pretraining":  # it read the documents: read them again
            qset = None
            dataset = build_dataset(lab, "continued_pretraining", check["corpus_id"], name=name,
                                    **built["params"])
        else:  # the same builder and options, on the question set with the new answers
            qset = updated_question_set(lab, check["corpus_id"],
                                        plan.get("question_set_id") or built["question_set_id"],
                                        check["questions"], f"{name} {check['id'][:8]}")
            dataset = build_dataset(lab, "qa_pairs", qset.corpus_id, question_set_id=qset.id,
                                    name=name, **built["params"])
        timeline.event("dataset_built", dataset_id=dataset.id, examples=dataset.n_examples,
                       builder=dataset.builder, question_set_id=qset.id if qset else None,
                       question_set_version=qset.version if qset else None,
                       seconds=round(time.perf_counter() - began, 3))
        result = run_finetune(lab, {
            "dataset_id": dataset.id, "config": plan.get("config") or source.config,
            "base_model": plan.get("base_model") or source.base_model,
            "name": plan.get("name") or f"{source.name} · retrained",
            "sensitive": _guard_decision(plan, source)},
            ctx=_ForwardingContext(progress, check_cancelled))
    except JobCancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a failed retrain is a finding, not a crash
        message = exc.user_message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
        timeline.event("retrain_failed", error=message,
                       seconds=round(time.perf_counter() - began, 3))
        return None
    seconds = time.perf_counter() - began
    timeline.event("retrain_finished", model_id=result["model_id"], seconds=round(seconds, 3),
                   train_seconds=result["train_seconds"], steps=result["steps"],
                   final_loss=result["final_loss"])
    lab.db.execute("UPDATE freshness_checks SET retrain_seconds = %s, retrained_model_id = %s"
                   " WHERE id = %s", (seconds, result["model_id"], check["id"]))
    return result["model_id"]
