"""Load demo: one job that gives a presenter a complete comparison of the four strategies.

Stages, in order (``STAGES``): ingest the Nortera corpus; store its question set with the demo's
fixed train/held-out split; build the training data (the train part's question-answer pairs plus
the documents' chunks, so the planted personal data reaches the sensitive-data guard, which
redacts it); train a short LoRA adapter; evaluate base, RAG, fine-tuned and hybrid on the held-out
part; prepare the freshness check (the returns policy changes), ready for a presenter to run.

Every stage (``backend.demo.stages``) first looks for its result and only builds what is missing,
so a second click reuses everything and a job whose worker died resumes at the stage it was in
(training from its last checkpoint, the evaluation from its stored answers).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from backend.demo import stages
from backend.demo.plan import DemoPlan
from backend.demo.stages import STAGES
from backend.jobs.registry import handler
from backend.messages import msg

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)

KIND = "demo"


def load_demo(lab: "Lab", plan: DemoPlan | None = None, *, ctx=None,
              report: stages.Report | None = None) -> dict[str, Any]:
    """Run every stage whose result is missing, in order; returns the ids the pages link to
    (``corpus_id, question_set_id, dataset_id, model_id, run_id, freshness_check_id``), which
    stages ``created`` something and which ``reused`` what existed, and seconds per stage.

    ``ctx`` (a job context) carries progress, cancellation and resume state; without one,
    ``report(step, total, message=..., unit=..., metrics=...)`` receives the progress.
    """
    plan = plan or DemoPlan()
    state = ctx.load_state() if ctx is not None else {}
    out: dict[str, Any] = {"plan": plan.as_dict(), "created": [], "reused": [], "seconds": {}}
    # stage -> (the id it gives, how it finds or builds it); later stages read earlier ids
    steps = {
        "corpus": ("corpus_id", lambda s: stages.ensure_corpus(lab, s)),
        "questions": ("question_set_id",
                      lambda s: stages.ensure_questions(lab, out["corpus_id"], plan)),
        "dataset": ("dataset_id",
                    lambda s: stages.ensure_dataset(lab, out["corpus_id"], out["question_set_id"])),
        "finetune": ("model_id", lambda s: stages.ensure_model(lab, out["dataset_id"], plan, s)),
        "evaluate": ("run_id", lambda s: stages.ensure_run(lab, out["question_set_id"],
                                                          out["model_id"], plan, s)),
        "freshness": ("freshness_check_id", lambda s: stages.ensure_freshness_check(
            lab, out["corpus_id"], out["model_id"], plan)),
    }
    assert tuple(steps) == STAGES
    for name, (key, run) in steps.items():
        began = time.perf_counter()
        stage = stages.Stage(ctx, report, name, state)
        stage.start()
        out[key], created = run(stage)
        out["seconds"][name] = round(time.perf_counter() - began, 2)
        out["created" if created else "reused"].append(name)
        state["ids"] = {k: out[k] for k in out if k.endswith("_id")}
        if ctx is not None:  # a later attempt sees which ids exist (the lookups decide, though)
            ctx.save_state(state)
        log.info("demo stage %s %s in %.1f s", name, "built" if created else "reused",
                 out["seconds"][name])
    out["total_seconds"] = round(sum(out["seconds"].values()), 2)
    out["summary"] = demo_summary(lab, out)
    return out


def demo_summary(lab: "Lab", ids: dict) -> dict[str, Any]:
    """What the Home page says once the demo is ready: document and chunk counts, documents with
    personal data, the guard's record, the set's sizes and the training time."""
    from backend.corpus import store
    from backend.finetune.questions import get_set
    from backend.finetune.registry import get_model

    docs = store.list_documents(lab, ids["corpus_id"])
    qset = get_set(lab, ids["question_set_id"], with_rows=False)
    model = get_model(lab, ids["model_id"])
    return {"documents": len(docs), "chunks": sum(d.chunk_count for d in docs),
            "flagged": {d.name: d.findings for d in docs if d.findings},
            "questions": qset.n_questions, "held_out": qset.n_held_out,
            "guard": model.guard, "train_seconds": model.duration_s, "train_steps": model.steps}


# --- the job ------------------------------------------------------------------------------------
@handler(KIND)
def demo_job(ctx, params: dict) -> dict:
    """The ``demo`` job: ``load_demo`` with ``params["plan"]`` (default: the full demo)."""
    return load_demo(ctx.lab, DemoPlan.from_dict(params.get("plan") or {}), ctx=ctx)


def current_stage(lab: "Lab", job_id: int) -> str | None:
    """The stage a demo job is in (or stopped in): the last one it announced, None before any."""
    row = lab.db.fetchone("SELECT metrics->>'stage' AS stage FROM job_events WHERE job_id = %s"
                          " AND metrics ? 'stage' ORDER BY id DESC LIMIT 1", (job_id,))
    return row["stage"] if row else None


def active_demo_job(lab: "Lab") -> int | None:
    """The id of a demo job that is queued or running, if any."""
    from backend.jobs.service import ACTIVE, list_jobs

    jobs = list_jobs(lab, kind=KIND, statuses=ACTIVE, limit=1)
    return jobs[0].id if jobs else None


def enqueue_demo(lab: "Lab", plan: DemoPlan | None = None) -> int:
    """Queue the demo job and return its id. While one is queued or running: its id (a second
    click must not start a second demo). When the last one failed or was cancelled with the same
    plan: that job again, so it resumes from its saved state (training from its last checkpoint)."""
    from backend.jobs.service import enqueue, list_jobs, retry

    active = active_demo_job(lab)
    if active is not None:
        return active
    plan = plan or DemoPlan()
    last = list_jobs(lab, kind=KIND, limit=1)
    if (last and last[0].status in ("failed", "cancelled")
            and last[0].params.get("plan") == plan.as_dict()):
        return retry(lab, last[0].id).id
    return enqueue(lab, KIND, {"plan": plan.as_dict()}, title=msg("title.demo"))
