"""Evaluation runs: a frozen question set, several strategies, answered in batches and scored.

``create_run`` copies the questions (the held-out part by default) and pins the corpus version and
index; ``run_evaluation`` (the ``evaluate`` job) answers every (question, strategy) not answered
yet, then scores every answer not scored yet with the offline metrics. Everything is stored per
row as it is done, so a killed or cancelled run resumes where it stopped, and ``add_strategy``
extends a run with another strategy on the same pinned corpus version (refused once the corpus
has changed: the new answers would not be comparable).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Sequence

from psycopg.types.json import Jsonb

from backend.errors import InputError, NotFound
from backend.evaluate.metrics import METRICS, Sample, Score, offline_keys
from backend.evaluate.strategies import DEFAULT_BATCH_SIZE, StrategyConfig, answer_batch
from backend.jobs.registry import handler
from backend.messages import msg

if TYPE_CHECKING:
    from backend.lab import Lab

PARTS = ("held_out", "train", "all")
_PART_ALIASES = {"heldout": "held_out", "held-out": "held_out", "test": "held_out"}
SCORE_CHUNK = 32
Progress = Callable[..., None]


class CorpusChanged(InputError):
    """The corpus changed since the run pinned it: answering now would mix two versions."""

    code = "corpus_changed"


@dataclass(frozen=True)
class RunStrategy:
    key: str
    kind: str
    label: str
    position: int
    config: StrategyConfig
    model_record: str | None
    build_seconds: float | None


@dataclass(frozen=True)
class EvalRun:
    id: str
    name: str
    question_set_id: int
    question_set_name: str
    question_set_version: int | None
    part: str
    language: str
    corpus_id: str | None
    corpus_name: str | None
    corpus_version: int | None
    index_id: str | None
    embed_spec: str
    metric_keys: list[str]
    batch_size: int
    seed: int
    job_id: int | None
    created_at: datetime
    n_questions: int
    strategies: list[RunStrategy]

    def strategy(self, key: str) -> RunStrategy:
        """The run's strategy by key or label; NotFound lists them."""
        for s in self.strategies:
            if key in (s.key, s.label):
                return s
        raise NotFound(f"This run has no strategy {key!r}.",
                       hint="Strategies: " + ", ".join(s.key for s in self.strategies) + ".")


# --- questions from a question set ----------------------------------------------------------------
def load_questions(lab: "Lab", question_set_id: int, part: str) -> tuple[dict, list[dict]]:
    """``(set, rows)`` for the ``part`` of a question set: the set as ``{id, name, version,
    corpus_id, language}``, each row as ``{qid, question, reference, reference_contexts, tags,
    language, unanswerable}``. A row's language is its ``metadata["language"]``, else the set's
    when that is en or es, else detected from the question."""
    from backend.finetune import questions
    from backend.rag.prompts import detect_language

    qset = questions.get_set(lab, _set_id(question_set_id), with_rows=False)
    rows = questions.set_rows(lab, qset.id, part=None if part == "all" else part)
    info = {"id": qset.id, "name": qset.name, "version": qset.version,
            "corpus_id": qset.corpus_id, "language": qset.language}
    out = []
    for row in rows:
        language = str((row.metadata or {}).get("language") or "").lower()[:2]
        if language not in ("en", "es"):
            language = qset.language if qset.language in ("en", "es") else detect_language(row.question)
        out.append({"qid": str(row.position), "question": row.question,
                    "reference": row.reference or None,
                    "reference_contexts": list(row.reference_contexts or []),
                    "tags": list(row.tags or []), "language": language,
                    "unanswerable": row.unanswerable})
    return info, out


def _set_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a question set id.") from None


# --- creating and reading runs --------------------------------------------------------------------
def _check_metric_keys(metric_keys: Sequence[str] | None) -> list[str]:
    keys = list(dict.fromkeys(metric_keys or offline_keys()))
    unknown = [k for k in keys if k not in METRICS]
    judged = [k for k in keys if k in METRICS and METRICS[k].needs_judge]
    if unknown:
        raise InputError(f"Unknown metric(s): {', '.join(unknown)}.",
                         hint=f"Offline metrics: {', '.join(offline_keys())}.")
    if judged:
        raise InputError(f"{', '.join(judged)} need a judge model; an evaluation run computes the "
                         "offline metrics.", hint="Leave them out here.")
    return keys


def create_run(lab: "Lab", question_set_id: int, strategies: Sequence[StrategyConfig], *,
               part: str = "held_out", metric_keys: Sequence[str] | None = None,
               name: str | None = None, corpus_id: str | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 0) -> EvalRun:
    """A new run on the ``part`` of a question set (its questions copied into the run) with
    ``strategies``; pins the corpus (default: the set's) at its current version and active index.
    Nothing is answered yet: run it with ``run_evaluation`` or ``enqueue_run``."""
    from backend.corpus import store
    from backend.models.embeddings import default_embedding_spec

    part = _PART_ALIASES.get(part, part)
    if part not in PARTS:
        raise InputError(f"Unknown question set part {part!r}.", hint="Use held_out, train or all.")
    if not strategies:
        raise InputError("Pick at least one strategy to evaluate.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a whole number of at least 1, not {batch_size!r}.")
    keys = _check_metric_keys(metric_keys)
    qset, rows = load_questions(lab, question_set_id, part)
    if not rows:
        raise InputError(f"The {part} part of the question set {qset['name']!r} has no questions.",
                         hint="Split the set, or evaluate another part.")
    corpus = store.get_corpus(lab, corpus_id or qset["corpus_id"]) if (
        corpus_id or qset.get("corpus_id")) else None
    if corpus is None and any(s.retrieves for s in strategies):
        raise InputError("RAG and hybrid strategies need a corpus to retrieve from, and this "
                         "question set is not tied to one.", hint="Pick the corpus.")
    index = store.active_index(lab, corpus.id) if corpus is not None else None
    language = qset.get("language") or (corpus.language if corpus else None) or _rows_language(rows)
    with lab.db.connect() as conn:
        run_id = conn.execute(
            "INSERT INTO eval_runs (name, question_set_id, question_set_name, question_set_version,"
            " part, language, corpus_id, corpus_name, corpus_version, index_id, embed_spec,"
            " metric_keys, batch_size, seed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s) RETURNING id::text",
            ((name or "").strip() or f"{qset['name']} v{qset['version']} · {part.replace('_', '-')}",
             qset["id"], qset["name"],
             qset.get("version"), part, language, corpus.id if corpus else None,
             corpus.name if corpus else None, corpus.version if corpus else None,
             index.id if index else None, default_embedding_spec(lab.settings, language), keys,
             batch_size, seed)).fetchone()["id"]
        conn.cursor().executemany(
            "INSERT INTO eval_questions (run_id, position, qid, question, reference,"
            " reference_contexts, tags, language, unanswerable) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " %s, %s)",
            [(run_id, i, r["qid"], r["question"], r["reference"], Jsonb(r["reference_contexts"]),
              r["tags"], r["language"], r["unanswerable"]) for i, r in enumerate(rows)])
    try:
        for cfg in strategies:
            add_strategy(lab, run_id, cfg)
    except BaseException:
        lab.db.execute("DELETE FROM eval_runs WHERE id = %s", (run_id,))
        raise
    return get_run(lab, run_id)


def _rows_language(rows: list[dict]) -> str:
    languages = {r["language"] for r in rows}
    return languages.pop() if len(languages) == 1 else "mixed"


def get_run(lab: "Lab", run_id: str) -> EvalRun:
    """The run with its strategies (in legend order) and question count; NotFound otherwise."""
    row = lab.db.fetchone(
        "SELECT r.id::text, r.name, r.question_set_id, r.question_set_name, r.question_set_version,"
        " r.part, r.language, r.corpus_id::text, r.corpus_name, r.corpus_version, r.index_id::text,"
        " r.embed_spec, r.metric_keys, r.batch_size, r.seed, r.job_id, r.created_at,"
        " (SELECT count(*) FROM eval_questions q WHERE q.run_id = r.id) AS n_questions"
        " FROM eval_runs r WHERE r.id::text = %s", (str(run_id),))
    if row is None:
        raise NotFound(f"There is no evaluation run {run_id!r}.",
                       hint="List them with `./lab cli eval-list`.")
    strategies = [RunStrategy(key=s["key"], kind=s["kind"], label=s["label"], position=s["position"],
                              config=StrategyConfig.from_dict(s["config"]),
                              model_record=s["model_record"], build_seconds=s["build_seconds"])
                  for s in lab.db.fetchall(
                      "SELECT key, kind, label, position, config, model_record, build_seconds"
                      " FROM eval_strategies WHERE run_id = %s ORDER BY position", (row["id"],))]
    return EvalRun(**row, strategies=strategies)


def check_pinned(lab: "Lab", run: EvalRun) -> None:
    """Raise ``CorpusChanged`` when the run's corpus is gone or changed since the run pinned it,
    or its pinned index is no longer searchable."""
    from backend.corpus import store

    if run.corpus_version is None:
        return
    if run.corpus_id is None:
        raise CorpusChanged(f"The corpus {run.corpus_name!r} of this run was deleted.",
                            hint="Its stored results stay readable; start a new run to evaluate "
                                 "another corpus.")
    corpus = store.get_corpus(lab, run.corpus_id)
    if corpus.version != run.corpus_version:
        raise CorpusChanged(
            f"The corpus {corpus.name!r} changed since this run started (it was at version "
            f"{run.corpus_version}, it is now at version {corpus.version}): new answers would not "
            "be comparable with the stored ones.",
            hint="Start a new run to evaluate the current documents; this run's results stay as "
                 "they are.")
    try:
        index = store.get_index(lab, run.index_id)
    except NotFound:
        index = None
    if index is None or index.status != "ready":
        raise CorpusChanged("The corpus index this run searched was deleted or is not ready.",
                            hint="Start a new run on the current index.")


def _strategy_key(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "strategy"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def add_strategy(lab: "Lab", run_id: str, cfg: StrategyConfig) -> RunStrategy:
    """Add a strategy to a run, on the run's pinned corpus version and index (``CorpusChanged``
    when the corpus has changed since). Its answers come with the next ``run_evaluation``."""
    from backend.models.specs import parse_spec

    run = get_run(lab, run_id)
    if cfg.retrieves and run.corpus_id is None and run.corpus_version is None:
        raise InputError(f"{cfg.label} retrieves passages, but this run has no corpus.",
                         hint="Start a new run with the corpus to retrieve from.")
    check_pinned(lab, run)
    changes: dict[str, Any] = {}
    if not cfg.model_id:
        changes["model"] = parse_spec(cfg.model or lab.settings.llm_model).raw  # record the default
    if cfg.retrieves:
        changes["corpus_id"] = run.corpus_id
        changes["index_id"] = cfg.index_id or run.index_id
        _check_index(lab, run, changes["index_id"])
    cfg = replace(cfg, **changes)
    build = _build_seconds(lab, cfg)
    taken = {s.key for s in run.strategies}
    key = _strategy_key(cfg.label, taken)
    labels = {s.label for s in run.strategies}
    if cfg.label in labels:
        cfg = replace(cfg, label=f"{cfg.label} ({key})")
    lab.db.execute(
        "INSERT INTO eval_strategies (run_id, key, position, kind, label, config, build_seconds)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (run.id, key, len(run.strategies), cfg.kind, cfg.label, Jsonb(cfg.as_dict()), build))
    return get_run(lab, run.id).strategy(key)


def _check_index(lab: "Lab", run: EvalRun, index_id: str) -> None:
    from backend.corpus import store

    index = store.get_index(lab, index_id)
    if index.corpus_id != run.corpus_id or index.status != "ready":
        raise InputError("The strategy's index must be a ready index of the run's corpus.")


def _build_seconds(lab: "Lab", cfg: StrategyConfig) -> float | None:
    """One-off cost of the strategy: indexing time (retrieval) plus training time (fine-tuned);
    None when a part of it is not known."""
    from backend.corpus import store

    total = 0.0
    if cfg.retrieves:
        seconds = store.get_index(lab, cfg.index_id).build_seconds
        if seconds is None:
            return None
        total += seconds
    if cfg.model_id:
        from backend.evaluate.strategies import training_seconds

        seconds = training_seconds(lab, cfg.model_id)
        if seconds is None:
            return None
        total += seconds
    return total


# --- running --------------------------------------------------------------------------------------
def _missing_answers(lab: "Lab", run_id: str, key: str) -> list[dict]:
    return lab.db.fetchall(
        "SELECT q.position, q.question, q.language FROM eval_questions q WHERE q.run_id = %s AND"
        " NOT EXISTS (SELECT 1 FROM eval_answers a WHERE a.run_id = q.run_id AND a.strategy = %s"
        " AND a.position = q.position) ORDER BY q.position", (run_id, key))


def counts(lab: "Lab", run_id: str) -> dict[str, int]:
    """How far the run is: questions, strategies, total (question, strategy) pairs, answered,
    failed answers and fully scored answers."""
    run = get_run(lab, run_id)
    row = lab.db.fetchone(
        "SELECT count(*) AS answered, count(*) FILTER (WHERE error IS NOT NULL) AS failed,"
        " count(*) FILTER (WHERE (SELECT count(*) FROM eval_scores s WHERE s.run_id = a.run_id AND"
        "  s.strategy = a.strategy AND s.position = a.position AND s.metric = ANY(%s)) >= %s)"
        "  AS scored FROM eval_answers a WHERE a.run_id = %s",
        (run.metric_keys, len(run.metric_keys), run.id))
    return {"questions": run.n_questions, "strategies": len(run.strategies),
            "total": run.n_questions * len(run.strategies), **row}


def run_evaluation(lab: "Lab", run_id: str, *, progress: Progress | None = None,
                   check_cancelled: Callable[[], None] | None = None) -> dict[str, Any]:
    """Answer every (question, strategy) of the run not answered yet, in batches, then score every
    answer not scored yet. ``progress(step, total, message=, unit=, metrics=)`` is called after
    each batch; ``check_cancelled`` between batches. Returns ``counts`` after the call, with
    ``answered_now`` and ``scored_now``: what this call added."""
    report = progress or (lambda *a, **k: None)
    check = check_cancelled or (lambda: None)
    run = get_run(lab, run_id)
    status = counts(lab, run.id)
    total, answered = status["total"], status["answered"]
    if answered < total:
        check_pinned(lab, run)
    began, new = time.perf_counter(), 0
    report(answered, total, message=msg("evaluate.answered", done=answered, total=total), unit="answers")
    for strat in run.strategies:
        missing = _missing_answers(lab, run.id, strat.key)
        if not missing:
            continue
        check()

        def store(indices: list[int], answers: list, strat: RunStrategy = strat,
                  missing: list[dict] = missing) -> None:
            # each batch is stored as soon as it is answered: a cancelled or killed run keeps it
            nonlocal answered, new
            _store_answers(lab, run.id, strat, [missing[i] for i in indices], answers)
            answered, new = answered + len(indices), new + len(indices)
            rate = new / max(time.perf_counter() - began, 1e-9)
            report(answered, total, message=msg("evaluate.answered_by", done=answered, total=total,
                                       strategy=strat.label),
                   unit="answers", metrics={"answers_per_s": round(rate, 3)})

        answer_batch(lab, strat.config, missing, batch_size=run.batch_size, check_cancelled=check,
                     on_batch=store)
    scored = score_run(lab, run.id, progress=report, check_cancelled=check)
    return {**counts(lab, run.id), "run_id": run.id, "answered_now": new, "scored_now": scored}


def _store_answers(lab: "Lab", run_id: str, strat: RunStrategy, batch: list[dict],
                   answers: list) -> None:
    rows = [(run_id, strat.key, q["position"], a.text, Jsonb(a.contexts) if a.contexts is not None
             else None, a.chunk_ids, a.latency_s, a.compute_s, a.retrieval_s, a.tokens_in,
             a.tokens_out, a.error) for q, a in zip(batch, answers)]
    with lab.db.connect() as conn:
        # a second worker on the same run (or a retried batch) must not duplicate answers
        conn.cursor().executemany(
            "INSERT INTO eval_answers (run_id, strategy, position, answer, contexts, chunk_ids,"
            " latency_s, compute_s, retrieval_s, tokens_in, tokens_out, error) VALUES (%s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
        if strat.model_record is None:
            from backend.evaluate.strategies import get_strategy

            record = get_strategy(strat.kind).generator(lab, strat.config).model_id
            conn.execute("UPDATE eval_strategies SET model_record = %s WHERE run_id = %s AND key = %s",
                         (record, run_id, strat.key))


def score_run(lab: "Lab", run_id: str, *, progress: Progress | None = None,
              check_cancelled: Callable[[], None] | None = None, judge: bool = True) -> int:
    """Score every stored answer of the run that lacks a score for one of the run's metrics;
    returns how many answers were scored. Failed answers get failed scores with the reason.
    Then, when a judge is configured in the settings (and ``judge``), the LLM-judged metrics of
    every answer not judged yet (``backend.evaluate.judge.judge_run``), stored the same way."""
    report = progress or (lambda *a, **k: None)
    check = check_cancelled or (lambda: None)
    run = get_run(lab, run_id)
    scored = _score_offline(lab, run, report, check)
    if judge:
        from backend.evaluate.judge import judge_run

        judge_run(lab, run.id, progress=report, check_cancelled=check)
    return scored


def _score_offline(lab: "Lab", run: EvalRun, report: Progress, check: Callable[[], None]) -> int:
    from backend.evaluate.metrics import score_samples

    keys = run.metric_keys
    pending = lab.db.fetchall(
        "SELECT a.strategy, a.position, a.answer, a.contexts, a.error, q.question, q.reference,"
        " q.reference_contexts, q.language, q.unanswerable FROM eval_answers a JOIN eval_questions q"
        " ON q.run_id = a.run_id AND q.position = a.position WHERE a.run_id = %s AND (SELECT count(*)"
        " FROM eval_scores s WHERE s.run_id = a.run_id AND s.strategy = a.strategy AND s.position ="
        " a.position AND s.metric = ANY(%s)) < %s ORDER BY a.strategy, a.position",
        (run.id, keys, len(keys)))
    if not pending:
        return 0
    embedding = None
    if "semantic_similarity" in keys:
        from backend.models.embeddings import get_embedding

        embedding = get_embedding(lab.settings, run.embed_spec)
    report(0, len(pending), message=msg("evaluate.scoring_count", answers=len(pending)),
           unit="answers")
    for start in range(0, len(pending), SCORE_CHUNK):
        check()
        chunk = pending[start:start + SCORE_CHUNK]
        ok = [r for r in chunk if r["error"] is None]
        samples = [Sample(question=r["question"], answer=r["answer"], reference=r["reference"],
                          contexts=r["contexts"], reference_contexts=r["reference_contexts"] or None,
                          unanswerable=r["unanswerable"], language=r["language"]) for r in ok]
        computed = iter(score_samples(samples, keys, embedding=embedding))
        rows = []
        for r in chunk:
            per_metric = next(computed) if r["error"] is None else {
                k: Score.failed(f"no answer: {r['error']}") for k in keys}
            rows += [(run.id, r["strategy"], r["position"], k, s.value, s.status, s.reason)
                     for k, s in per_metric.items()]
        with lab.db.connect() as conn:
            conn.cursor().executemany(
                "INSERT INTO eval_scores (run_id, strategy, position, metric, value, status, reason)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
        report(start + len(chunk), len(pending), message=msg("evaluate.scoring"), unit="answers")
    return len(pending)


# --- the job --------------------------------------------------------------------------------------
def enqueue_run(lab: "Lab", run_id: str) -> int:
    """Queue the ``evaluate`` job for the run (InputError while one is still active)."""
    from backend.jobs.service import enqueue, get_job

    run = get_run(lab, run_id)
    if run.job_id is not None:
        try:
            if get_job(lab, run.job_id).is_active:
                raise InputError("This run is already being evaluated.",
                                 hint="Wait for it to finish, or cancel it first.")
        except NotFound:
            pass
    if counts(lab, run.id)["answered"] < run.n_questions * len(run.strategies):
        check_pinned(lab, run)  # refuse now rather than in the worker
    job_id = enqueue(lab, "evaluate", {"run_id": run.id}, title=msg("title.evaluate", run=run.name))
    lab.db.execute("UPDATE eval_runs SET job_id = %s, updated_at = now() WHERE id = %s",
                   (job_id, run.id))
    return job_id


@handler("evaluate")
def evaluate_job(ctx, params: dict) -> dict:
    """The ``evaluate`` job: ``run_evaluation`` with the job's progress and cancellation; a retried
    or resumed job continues from the answers and scores already stored."""
    return run_evaluation(ctx.lab, params["run_id"], progress=ctx.progress,
                          check_cancelled=ctx.check_cancelled)
