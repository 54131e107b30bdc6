"""Load demo, for real, on a reduced plan: the whole Nortera corpus is ingested and scanned, a few
questions of each part are kept, the LoRA trains a couple of steps and the four strategies answer
two held-out questions with short answers. Runs as the ``demo`` job (inline, with the job's
bookkeeping); then a job that fails half way is retried and resumes at the stage it was in, and a
second click creates nothing new."""

from __future__ import annotations

import pytest

from backend.demo import build
from backend.demo.loader import KIND, STAGES, active_demo_job, enqueue_demo
from backend.demo.plan import DemoPlan
from backend.jobs import service
from backend.jobs.runner import run_inline

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread

PLAN = DemoPlan(train_questions=6, eval_questions=2, max_steps=2, max_new_tokens=12)
PLACEHOLDERS = {"email": "[EMAIL]", "phone": "[PHONE]", "dni": "[DNI]", "iban": "[IBAN]",
                "card": "[CARD]"}
TABLES = ("corpora", "documents", "question_sets", "training_datasets", "trained_models",
          "eval_runs", "eval_answers", "eval_scores", "freshness_checks")


def _rows(lab) -> dict[str, int]:
    return {t: lab.db.fetchone(f"SELECT count(*) AS n FROM {t}")["n"] for t in TABLES}


def _texts(example: dict) -> str:
    if "messages" in example:
        return "\n".join(m["content"] for m in example["messages"])
    return example["text"]


def test_load_demo_builds_everything_resumes_and_reuses_it(lab, monkeypatch):
    from backend.corpus import store
    from backend.evaluate import runner
    from backend.finetune import registry
    from backend.finetune.datasets import dataset_examples
    from backend.finetune.jobs import prepare_examples
    from backend.finetune.questions import get_set

    # --- first click: the evaluation stage breaks once, after everything before it was built --
    real_run_evaluation = runner.run_evaluation

    def broken(*args, **kwargs):
        raise RuntimeError("the worker died while evaluating")

    monkeypatch.setattr(runner, "run_evaluation", broken)
    job_id = enqueue_demo(lab, PLAN)
    assert enqueue_demo(lab, PLAN) == job_id == active_demo_job(lab)  # no second demo meanwhile
    failed = run_inline(lab, job_id)
    assert failed.status == "failed", failed.error
    assert lab.db.fetchone("SELECT count(*) AS n FROM trained_models")["n"] == 1

    monkeypatch.setattr(runner, "run_evaluation", real_run_evaluation)
    assert enqueue_demo(lab, PLAN) == job_id  # clicking again retries the failed job
    job = run_inline(lab, job_id)
    assert job.status == "succeeded", job.error
    result = job.result
    # the retry resumed at the evaluation: nothing before it was built again
    assert result["created"] == ["evaluate", "freshness"]
    assert result["reused"] == ["corpus", "questions", "dataset", "finetune"]
    assert lab.db.fetchone("SELECT count(*) AS n FROM trained_models")["n"] == 1
    stages = [e["metrics"]["stage"] for e in service.job_events(lab, job_id)
              if e["metrics"] and "stage" in e["metrics"]]
    assert stages[-len(STAGES):] == list(STAGES)

    # --- the corpus: every demo document, the planted personal data flagged where it is -------
    docs = {d.name: d for d in store.list_documents(lab, result["corpus_id"])}
    assert set(docs) == {f.name for f in build.demo_files()}
    assert all(d.chunk_count > 0 for d in docs.values())
    planted = build.planted_personal_data()
    for item in planted:
        assert docs[item["document"]].findings.get(item["kind"], 0) >= 1, item

    # --- the question set keeps the demo's own split ------------------------------------------
    qset = get_set(lab, result["question_set_id"])
    split = {q["id"]: q["split"] for q in build.demo_questions()}
    assert (len(qset.part("train")), len(qset.part("held_out"))) == (6, 2)
    for row in qset.rows:
        assert row.part == {"train": "train", "heldout": "held_out"}[split[row.metadata["demo_id"]]]
    assert {r.metadata["language"] for r in qset.part("held_out")} == {"en", "es"}

    # --- the model: LoRA, trained on redacted examples, the decision recorded -----------------
    model = registry.get_model(lab, result["model_id"])
    assert model.status == "ready" and model.method == "adapter"
    assert model.guard["decision"] == "redact"
    assert {i["kind"] for i in planted} <= set(model.guard["kinds"])
    assert {i["document"] for i in planted} <= set(model.guard["where"])
    stored = "\n".join(_texts(e) for e in dataset_examples(lab, result["dataset_id"]))
    trained = "\n".join(_texts(e) for e in prepare_examples(
        lab, {"dataset_id": result["dataset_id"], "sensitive": model.guard["decision"]})[1])
    for item in planted:
        assert item["value"] in stored, item  # the documents' text did reach the training data
        assert item["value"] not in trained, item  # and the guard took every value out of it
    for kind in {i["kind"] for i in planted}:
        assert PLACEHOLDERS[kind] in trained

    # --- the run: all four strategies answered every held-out question ------------------------
    run = runner.get_run(lab, result["run_id"])
    assert [s.kind for s in run.strategies] == ["base", "rag", "finetuned", "hybrid"]
    for s in run.strategies:
        assert s.config.generation["max_new_tokens"] == PLAN.max_new_tokens
        if s.kind in ("finetuned", "hybrid"):
            assert s.config.model_id == model.id
        if s.config.retrieves:
            assert (s.config.mode, s.config.k) == ("hybrid", 3)
    answers = lab.db.fetchall("SELECT strategy, answer, error, contexts FROM eval_answers "
                              "WHERE run_id = %s", (run.id,))
    assert len(answers) == 2 * 4
    assert all(a["error"] is None and a["answer"].strip() for a in answers)
    by_key = {s.key: s.kind for s in run.strategies}
    assert all((a["contexts"] is not None) == (by_key[a["strategy"]] in ("rag", "hybrid"))
               for a in answers)
    assert runner.counts(lab, run.id)["scored"] == 8

    # --- the freshness check waits, ready to run, with the demo's strategies -------------------
    check = lab.db.fetchone("SELECT status, files, strategies, retrain FROM freshness_checks "
                            "WHERE id = %s", (result["freshness_check_id"],))
    assert check["status"] == "created" and check["retrain"]["model_id"] == model.id
    assert {f["name"] for f in check["files"]} == {f.name for f in build.demo_update_files()}
    assert [s["kind"] for s in check["strategies"]] == ["base", "rag", "finetuned", "hybrid"]

    # --- second click: a new job that finds everything and creates nothing --------------------
    before = _rows(lab)
    second = run_inline(lab, enqueue_demo(lab, PLAN))
    assert second.status == "succeeded", second.error
    assert second.kind == KIND and second.id != job_id
    assert {k: v for k, v in second.result.items() if k.endswith("_id")} == {
        k: v for k, v in result.items() if k.endswith("_id")}
    assert second.result["created"] == [] and second.result["reused"] == list(STAGES)
    assert _rows(lab) == before
