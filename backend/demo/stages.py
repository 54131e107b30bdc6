"""The stages of Load demo, each a function that finds its result or builds it.

Each returns ``(result id, created?)``. Lookups use what identifies a result, never a remembered id:
the corpus by name and every demo file's content hash, the question set by name, the dataset by
set and parameters, the model by dataset, configuration and guard decision, the run by set, name
and strategies, the freshness check by name and model. ``Stage`` hands each stage's progress,
cancellation and resume state to the service functions that do the work.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Callable

from psycopg.types.json import Jsonb

from backend.demo import build
from backend.demo.plan import DemoPlan
from backend.errors import InputError
from backend.messages import msg

if TYPE_CHECKING:
    from backend.lab import Lab

STAGES = ("corpus", "questions", "dataset", "finetune", "evaluate", "freshness")
SET_NAME = "Nortera demo questions"
DATASET_NAME = "Nortera demo · question-answer pairs + document chunks"
MODEL_NAME = "Nortera demo LoRA"
RUN_NAME = "Nortera demo · 4 strategies"
FRESHNESS_NAME = "Nortera demo · the returns policy changes"
#: what the demo decides for the planted personal data (recorded with the model)
GUARD_DECISION = "redact"
Report = Callable[..., None]


class Stage:
    """Progress, cancellation and resume state of one stage, seen through the demo job.

    Offers what the stage's service functions expect from a job context (``progress``,
    ``check_cancelled``, ``load_state``/``save_state``, ``job_id``, ``attempt``), prefixing
    messages with the stage and keeping each stage's resume state under its own key.
    """

    def __init__(self, ctx, report: Report | None, name: str, state: dict):
        self.ctx, self.report, self.name, self.state = ctx, report, name, state
        self.number = STAGES.index(name) + 1
        self.job_id = ctx.job_id if ctx is not None else None
        # a later attempt resumes the stage only if an earlier one saved something for it
        self.attempt = ctx.attempt if ctx is not None and state.get(name) else 1

    def start(self) -> None:
        self.progress(0, None, message=None, metrics={
            "stage": self.name, "stage_number": self.number, "stages": len(STAGES)})

    def progress(self, step, total=None, *, message: str | None = None, unit: str | None = None,
                 metrics: dict | None = None) -> None:
        where = {"number": self.number, "stages": len(STAGES),
                 "stage": msg(f"demo.stages.{self.name}")}
        text = (msg("demo.stage_detail", **where, detail=message) if message
                else msg("demo.stage", **where))
        if self.ctx is not None:
            self.ctx.progress(step, total, message=text, unit=unit, metrics=metrics)
        elif self.report is not None:
            self.report(step, total, message=text, unit=unit, metrics=metrics)

    def check_cancelled(self) -> None:
        if self.ctx is not None:
            self.ctx.check_cancelled()

    def load_state(self) -> dict:
        return dict(self.state.get(self.name) or {})

    def save_state(self, inner: dict) -> None:
        self.state[self.name] = dict(inner)
        if self.ctx is not None:
            self.ctx.save_state(self.state)


def file_hashes(version: int = 1) -> dict[str, str]:
    """Demo file name -> sha256 of its bytes (what ingestion keys documents by)."""
    return {f.name: hashlib.sha256(f.data).hexdigest() for f in build.demo_files(version)}


def missing_files(lab: "Lab", corpus_id: str) -> list:
    """Demo files whose content is not in the corpus. A document changed by the freshness scenario
    (its second version) counts as present: loading again must not undo a presenter's update."""
    rows = lab.db.fetchall("SELECT name, sha256 FROM documents WHERE corpus_id = %s AND "
                           "status = 'ready'", (corpus_id,))
    present = {(r["name"], r["sha256"]) for r in rows}
    v2 = file_hashes(2)
    return [f for f in build.demo_files(1)
            if (f.name, hashlib.sha256(f.data).hexdigest()) not in present
            and (f.name, v2[f.name]) not in present]


def ensure_corpus(lab: "Lab", stage: Stage) -> tuple[str, bool]:
    """The demo corpus (created if missing) with every demo file in it: only the missing ones
    are ingested. InputError if a file cannot be ingested."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.errors import NotFound

    try:
        corpus = store.get_corpus(lab, build.DEMO_CORPUS_NAME)
        created = False
    except NotFound:
        corpus = store.create_corpus(lab, build.DEMO_CORPUS_NAME, build.DEMO_LANGUAGE,
                                     description="Nortera Outdoor S.L., a fictional company: HR, "
                                                 "products, support and security documents.")
        created = True
    files = missing_files(lab, corpus.id)
    if files:
        report = ingest(lab, corpus.id, [(f.name, f.data) for f in files], progress=stage.progress,
                        check_cancelled=stage.check_cancelled, job_id=stage.job_id)
        failed = [f.file_name for f in report.files if not f.ok]
        if failed:
            raise InputError(f"Demo files could not be ingested: {', '.join(failed)}.",
                             hint="The job's details and the Corpora page say why.")
    return corpus.id, created or bool(files)


def find_set(lab: "Lab", corpus_id: str, name: str) -> int | None:
    """The first version of the corpus's question set called ``name`` (later versions are
    edits, e.g. a freshness retrain's), or None."""
    row = lab.db.fetchone("SELECT id FROM question_sets WHERE corpus_id = %s AND name = %s AND "
                          "version = 1", (corpus_id, name))
    return row["id"] if row else None


def ensure_questions(lab: "Lab", corpus_id: str, plan: DemoPlan) -> tuple[int, bool]:
    """The demo's question set with its fixed split (``DemoPlan.question_rows``)."""
    from backend.finetune.questions import create_set

    set_id = find_set(lab, corpus_id, plan.set_name(SET_NAME))
    if set_id is not None:
        return set_id, False
    rows = plan.question_rows(build.demo_questions())
    held = sum(r.part == "held_out" for r in rows)
    return create_set(lab, corpus_id, plan.set_name(SET_NAME), rows,
                      held_out_fraction=held / len(rows), generator={
                          "demo": "nortera", "split": "fixed by the demo (stratified by language "
                          "and topic)"}).id, True


def ensure_dataset(lab: "Lab", corpus_id: str, set_id: int) -> tuple[int, bool]:
    """The training data: the set's train pairs followed by the corpus's chunks, stored as they
    are (the guard redacts at training time and records that it did)."""
    from backend.finetune.datasets import build_dataset

    row = lab.db.fetchone("SELECT id FROM training_datasets WHERE corpus_id = %s AND "
                          "question_set_id = %s AND name = %s AND builder = 'qa_pairs' AND "
                          "(params->>'with_chunks')::boolean ORDER BY id DESC LIMIT 1",
                          (corpus_id, set_id, DATASET_NAME))
    if row is not None:
        return row["id"], False
    return build_dataset(lab, "qa_pairs", corpus_id, question_set_id=set_id, name=DATASET_NAME,
                         with_chunks=True).id, True


def ensure_model(lab: "Lab", dataset_id: int, plan: DemoPlan, stage: Stage) -> tuple[int, bool]:
    """A ready LoRA model trained on the dataset with the plan's configuration, the personal data
    redacted; trained here (resuming from the stage's checkpoint state) when there is none."""
    from backend.finetune.jobs import run_finetune

    cfg = plan.finetune_config()
    spec = lab.settings.llm_model
    row = lab.db.fetchone(
        "SELECT id FROM trained_models WHERE dataset_id = %s AND status = 'ready' AND "
        "base_model = %s AND config = %s AND guard->>'decision' IN (%s, 'clean') "
        "ORDER BY id DESC LIMIT 1", (dataset_id, spec, Jsonb(cfg.as_dict()), GUARD_DECISION))
    if row is not None:
        return row["id"], False
    result = run_finetune(lab, {"dataset_id": dataset_id, "config": cfg.as_dict(),
                                "base_model": spec, "name": MODEL_NAME,
                                "sensitive": GUARD_DECISION}, ctx=stage)
    return result["model_id"], True


def ensure_run(lab: "Lab", set_id: int, model_id: int, plan: DemoPlan, stage: Stage
               ) -> tuple[str, bool]:
    """A fully answered and scored run of the four strategies on the set's held-out part: a
    finished one is reused, an unfinished one on an unchanged corpus resumes, else a new one."""
    from backend.evaluate import runner

    configs = plan.strategies(model_id)
    wanted = [strategy_key(c.as_dict()) for c in configs]
    run_id, created = None, False
    for row in lab.db.fetchall("SELECT id::text FROM eval_runs WHERE question_set_id = %s AND "
                               "name = %s ORDER BY created_at DESC", (set_id, RUN_NAME)):
        run = runner.get_run(lab, row["id"])
        if [strategy_key(s.config.as_dict()) for s in run.strategies] != wanted:
            continue
        status = runner.counts(lab, run.id)
        if status["answered"] >= status["total"]:
            run_id = run.id
            break
        try:
            runner.check_pinned(lab, run)  # an unfinished run can only go on if nothing changed
        except runner.CorpusChanged:
            continue
        run_id = run.id
        break
    if run_id is None:
        run_id = runner.create_run(lab, set_id, configs, part="held_out", name=RUN_NAME,
                                   batch_size=plan.eval_batch_size).id
        created = True
    result = runner.run_evaluation(lab, run_id, progress=stage.progress,
                                   check_cancelled=stage.check_cancelled)
    return run_id, created or bool(result["answered_now"] or result["scored_now"])


def ensure_freshness_check(lab: "Lab", corpus_id: str, model_id: int, plan: DemoPlan
                           ) -> tuple[str | None, bool]:
    """A freshness check of the four strategies, created (not run): the presenter starts it."""
    try:
        from backend.evaluate import freshness
    except ModuleNotFoundError as exc:  # an install without the freshness check: nothing to prepare
        if exc.name != "backend.evaluate.freshness":
            raise
        return None, False
    row = lab.db.fetchone(
        "SELECT id::text FROM freshness_checks WHERE corpus_id = %s AND name = %s AND "
        "strategies @> %s ORDER BY created_at DESC LIMIT 1",
        (corpus_id, FRESHNESS_NAME, Jsonb([{"config": {"model_id": model_id}}])))
    if row is not None:
        return row["id"], False
    files, questions = freshness.demo_scenario()
    return freshness.create_freshness(lab, corpus_id, files, questions, plan.strategies(model_id),
                                      retrain=True, name=FRESHNESS_NAME), True


def strategy_key(config: dict) -> tuple:
    """What makes two strategy configurations the same demo strategy."""
    return (config["kind"], config.get("model_id"), config.get("mode"), config.get("k"),
            config["generation"].get("max_new_tokens"))
