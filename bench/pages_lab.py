"""The populated lab the page benchmark measures (``bench/pages_bench.py``), built once and reused.

What a presenter's lab holds after Load demo and a little use: the full demo (the Nortera corpus,
its question set, training data, a LoRA adapter, a finished four-strategy evaluation and the
prepared freshness check), loaded by the very job Home's Load demo button queues; two more corpora
(subsets of the demo documents); and a second, earlier evaluation run (base and RAG only). Each
part is looked for first and only built when missing, so a second run of the benchmark reuses it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from backend.demo.plan import DemoPlan
    from backend.lab import Lab

#: the extra corpora: name -> which demo documents (slice of the demo's file list) they hold.
#: Their names sort after the demo's, so the pages open on the demo corpus as after Load demo.
EXTRA_CORPORA = {"Pages bench · archive": slice(0, 6), "Pages bench · support": slice(6, 12)}
EXTRA_RUN = "Pages bench · base and RAG"


def reduced_plan() -> "DemoPlan":
    """A small demo (8 train and 6 held-out questions, 4 training steps, 24-token answers) for a
    quick populated lab: minutes instead of a quarter of an hour."""
    from backend.demo.plan import DemoPlan

    return DemoPlan(train_questions=8, eval_questions=6, max_steps=4, max_new_tokens=24)


def _timed(say: Callable[[str, str], None], what: str, fn):
    began = time.perf_counter()
    out, built = fn()
    say(what, f"built in {time.perf_counter() - began:.1f} s" if built else "reused")
    return out


def demo(lab: "Lab", plan: "DemoPlan") -> tuple[dict, bool]:
    """The result of the last successful demo job with this plan; when there is none, the demo
    job is queued and run here (as a worker would), reusing whatever stages already exist."""
    from backend.demo.loader import KIND, enqueue_demo
    from backend.jobs.runner import run_inline
    from backend.jobs.service import list_jobs

    for job in list_jobs(lab, kind=KIND, limit=20):
        if job.status == "succeeded" and job.params.get("plan") == plan.as_dict() and job.result:
            return job.result, False
    job = run_inline(lab, enqueue_demo(lab, plan))
    if job.status != "succeeded":
        raise SystemExit(f"the demo job ended {job.status}: {job.error or job.message}")
    return job.result, True


def extra_corpus(lab: "Lab", name: str, part: slice) -> tuple[str, bool]:
    """A corpus holding ``part`` of the demo documents (ingested once)."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.demo.build import DEMO_LANGUAGE, demo_files
    from backend.errors import NotFound

    try:
        corpus = store.get_corpus(lab, name)
        if corpus.document_count:
            return corpus.id, False
    except NotFound:
        corpus = store.create_corpus(lab, name, DEMO_LANGUAGE)
    report = ingest(lab, corpus.id, [(f.name, f.data) for f in demo_files(1)[part]])
    if any(not f.ok for f in report.files):
        raise SystemExit(f"ingestion failed: {[f.message for f in report.files if not f.ok]}")
    return corpus.id, True


def extra_run(lab: "Lab", demo_result: dict, plan: "DemoPlan") -> tuple[str, bool]:
    """Base and RAG (the demo's settings) on the demo's held-out questions, answered and scored.

    Dated a minute before the demo's run: the Evaluate and Report pages open on the newest run,
    and after Load demo that is the four-strategy one (the heaviest page, the one to measure).
    """
    from backend.evaluate import runner

    row = lab.db.fetchone("SELECT id::text FROM eval_runs WHERE name = %s ORDER BY created_at"
                          " DESC LIMIT 1", (EXTRA_RUN,))
    if row and runner.counts(lab, row["id"])["scored"]:
        return row["id"], False
    run_id = row["id"] if row else runner.create_run(
        lab, demo_result["question_set_id"], plan.strategies(demo_result["model_id"])[:2],
        name=EXTRA_RUN, batch_size=plan.eval_batch_size).id
    runner.run_evaluation(lab, run_id)
    lab.db.execute("UPDATE eval_runs SET created_at = (SELECT created_at - interval '1 minute'"
                   " FROM eval_runs WHERE id = %s) WHERE id = %s", (demo_result["run_id"], run_id))
    return run_id, True


def populate(lab: "Lab", plan: "DemoPlan", say: Callable[[str, str], None]) -> dict:
    """Everything above, built where missing; returns the demo job's result (its ids)."""
    from backend.jobs.runner import cap_threads

    cap_threads(lab.settings.worker_threads)  # what a worker allows itself
    result = _timed(say, "Load demo (the Home page's job)", lambda: demo(lab, plan))
    for name, part in EXTRA_CORPORA.items():
        _timed(say, f"corpus {name!r}", lambda: extra_corpus(lab, name, part))
    _timed(say, f"evaluation run {EXTRA_RUN!r}", lambda: extra_run(lab, result, plan))
    return result


def inventory(lab: "Lab") -> dict:
    """How populated the lab is: corpora, documents, chunks, question sets, trained models,
    evaluation runs, answers and scores."""
    count = {
        "corpora": "SELECT count(*) AS n FROM corpora",
        "documents": "SELECT count(*) AS n FROM documents",
        "question sets": "SELECT count(*) AS n FROM question_sets",
        "trained models": "SELECT count(*) AS n FROM trained_models",
        "evaluation runs": "SELECT count(*) AS n FROM eval_runs",
        "answers": "SELECT count(*) AS n FROM eval_answers",
        "scores": "SELECT count(*) AS n FROM eval_scores",
        "jobs": "SELECT count(*) AS n FROM jobs",
    }
    return {name: lab.db.fetchone(sql)["n"] for name, sql in count.items()}
