"""The freshness check: does a strategy's answer change when a document changes, and how soon?

The claim under test is that RAG updates instantly while a fine-tuned model does not until it is
retrained. ``run_freshness`` (the ``freshness`` job) asks the questions with every strategy, ingests
the changed documents (timed), re-asks at once, then optionally retrains the fine-tuned model on the
updated question set (a short LoRA through ``backend.finetune``) and re-asks those strategies. Every
step is a timestamped event; every answer is stored with what decides whether it reflects v2:

- ``answer_reflects``: the answer states a fact only v2 has (``facts_v2``: by default the numbers of
  ``reference_v2`` that ``reference_v1`` lacks) and none only v1 has; when it states neither and
  the references differ in no number, its similarity to ``reference_v2`` beats that to v1;
- ``context_v2`` / ``context_v1``: the retrieved passages hold v2 (v1) evidence: a fact, or a
  reference passage verbatim. For strategies that retrieve, ``reflects`` is "v2 evidence and no v1
  evidence in what the model was given" (robust with a tiny model that may not repeat it); for
  closed-book ones it is ``answer_reflects``.

A strategy counts as updated in a phase when more than ``threshold`` of the questions reflect v2;
its time to update is the time from the start of the change until the step that updated it
finished (ingestion for RAG and hybrid, the retrain for fine-tuned models), or "not updated".
Reading the results: ``freshness_results``.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

from psycopg.types.json import Jsonb

from backend.errors import InputError, JobCancelled
from backend.evaluate.strategies import StrategyConfig, answer_batch, parse_strategy
from backend.jobs.registry import handler
from backend.messages import msg

if TYPE_CHECKING:
    from backend.lab import Lab

PHASES = ("before", "after_ingest", "after_retrain")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


# --- what "reflects the change" means -------------------------------------------------------------
def derive_facts(reference: str, other: str) -> list[str]:
    """The numbers of ``reference`` that ``other`` does not contain (e.g. "45" for "45 days" vs
    "30 days"): a planted fact an answer reflecting ``reference`` would state."""
    theirs = set(_NUMBER.findall(other or ""))
    return list(dict.fromkeys(n for n in _NUMBER.findall(reference or "") if n not in theirs))


def mentions(text: str | None, facts: Sequence[str]) -> bool:
    """True when ``text`` states one of ``facts`` as a whole token ("45", not "145")."""
    return any(re.search(rf"(?<![\w.,]){re.escape(f)}(?![\w]|[.,]\d)", text or "", re.I)
               for f in facts if f)


def _folded(text: str) -> str:
    return " ".join((text or "").lower().split())


def holds_evidence(contexts: Sequence[str], facts: Sequence[str], passages: Sequence[str]) -> bool:
    """True when a retrieved passage states one of ``facts`` or contains a reference passage."""
    folded = [_folded(c) for c in contexts]
    return any(mentions(c, facts) for c in contexts) or any(
        _folded(p) in c for p in passages if _folded(p) for c in folded)


def prepare_questions(questions: Sequence[dict]) -> list[dict]:
    """Validated questions with ``qid``, ``language`` and ``facts_v1``/``facts_v2`` filled in."""
    from backend.rag.prompts import detect_language

    out = []
    for n, q in enumerate(questions, start=1):
        text = str(q.get("question") or "").strip()
        v1, v2 = str(q.get("reference_v1") or "").strip(), str(q.get("reference_v2") or "").strip()
        if not text or not v1 or not v2:
            raise InputError(f"Freshness question {n} needs question, reference_v1 and reference_v2.")
        language = str(q.get("language") or detect_language(text)).lower()[:2]
        facts_v1 = list(q.get("facts_v1") or ([q["fact_v1"]] if q.get("fact_v1") else
                                              derive_facts(v1, v2)))
        facts_v2 = list(q.get("facts_v2") or ([q["fact_v2"]] if q.get("fact_v2") else
                                              derive_facts(v2, v1)))
        out.append({"qid": str(q.get("id") or q.get("qid") or n), "question": text,
                    "language": language if language in ("en", "es") else "en",
                    "reference_v1": v1, "reference_v2": v2, "facts_v1": facts_v1,
                    "facts_v2": facts_v2,
                    "reference_contexts_v1": list(q.get("reference_contexts_v1") or []),
                    "reference_contexts_v2": list(q.get("reference_contexts_v2") or [])})
    if not out:
        raise InputError("Give at least one question whose answer the change affects.")
    return out


def assess(q: dict, answer: str, contexts: list[str] | None, sim_v1: float | None,
           sim_v2: float | None) -> dict[str, Any]:
    """Whether one answer (and what was retrieved for it) reflects v1 or v2 of question ``q``."""
    fact_v1, fact_v2 = mentions(answer, q["facts_v1"]), mentions(answer, q["facts_v2"])
    if fact_v1 or fact_v2:
        answer_reflects = fact_v2 and not fact_v1
    elif q["facts_v2"] or sim_v1 is None or sim_v2 is None:
        answer_reflects = False  # the new fact is not stated
    else:
        answer_reflects = sim_v2 > sim_v1
    out = {"fact_v1": fact_v1, "fact_v2": fact_v2, "answer_reflects": answer_reflects,
           "context_v1": None, "context_v2": None, "reflects": answer_reflects}
    if contexts is not None:
        out["context_v1"] = holds_evidence(contexts, q["facts_v1"], q["reference_contexts_v1"])
        out["context_v2"] = holds_evidence(contexts, q["facts_v2"], q["reference_contexts_v2"])
        out["reflects"] = out["context_v2"] and not out["context_v1"]
    return out


# --- creating a check -----------------------------------------------------------------------------
def _strategy(item: StrategyConfig | dict | str) -> StrategyConfig:
    if isinstance(item, StrategyConfig):
        return item
    return parse_strategy(item) if isinstance(item, str) else StrategyConfig.from_dict(item)


def create_freshness(lab: "Lab", corpus_id: str, changed_files: Sequence[tuple[str, bytes]],
                     questions: Sequence[dict], strategies: Sequence[StrategyConfig | dict | str], *,
                     retrain: bool | dict | None = None, name: str | None = None,
                     threshold: float = 0.5) -> str:
    """Store a freshness check (files as artifacts, questions, strategies, the retrain plan) and
    return its id; nothing runs yet (``enqueue_freshness`` or ``execute_freshness``).

    ``retrain``: False/None for none; True or ``{"config": FinetuneConfig dict, "question_set_id":
    the set to update (default: the one the fine-tuned model learnt from), "base_model": ...}``."""
    from backend.corpus import store
    from backend.evaluate.runner import _strategy_key
    from backend.evaluate.strategies import training_seconds
    from backend.storage import ArtifactStore

    corpus = store.get_corpus(lab, corpus_id)
    files = [(str(n), bytes(d)) for n, d in changed_files]
    if not files or any(not d for _, d in files):
        raise InputError("Give the changed document(s), each with some content.")
    prepared = prepare_questions(questions)
    configs = [_strategy(s) for s in strategies]
    if not configs:
        raise InputError("Pick at least one strategy to check.")
    if not 0 <= float(threshold) < 1:
        raise InputError("threshold is a share of the questions, from 0 up to (not including) 1.")
    taken: set[str] = set()
    rows = []
    for cfg in configs:
        if cfg.model_id:
            training_seconds(lab, cfg.model_id)  # NotFound / not ready: say so before starting
        if cfg.retrieves:
            cfg = replace(cfg, corpus_id=corpus.id, index_id=None)  # the live index, as it changes
        key = _strategy_key(cfg.label, taken)
        taken.add(key)
        rows.append({"key": key, "label": cfg.label, "kind": cfg.kind, "config": cfg.as_dict()})
    plan = None
    if retrain:
        plan = dict(retrain) if isinstance(retrain, dict) else {}
        tuned = [c.model_id for c in configs if c.model_id]
        if not tuned:
            raise InputError("A retrain needs a fine-tuned or hybrid strategy to retrain.")
        plan.setdefault("model_id", tuned[0])
        if plan.get("config") is not None:
            from backend.finetune.config import FinetuneConfig

            plan["config"] = FinetuneConfig.from_dict(plan["config"]).as_dict()
    artifacts = ArtifactStore(lab.db, lab.settings.artifact_dir or None)
    stored = [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d),
               "artifact_id": artifacts.put_bytes("freshness", n, d, {"corpus_id": corpus.id})}
              for n, d in files]
    return lab.db.fetchone(
        "INSERT INTO freshness_checks (name, corpus_id, corpus_name, files, questions, strategies,"
        " retrain, threshold) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id::text",
        ((name or "").strip() or f"Freshness · {corpus.name}", corpus.id, corpus.name,
         Jsonb(stored), Jsonb(prepared), Jsonb(rows), Jsonb(plan) if plan else None,
         float(threshold)))["id"]


def enqueue_freshness(lab: "Lab", check_id: str) -> int:
    """Queue the ``freshness`` job for a created check; returns the job id."""
    from backend.jobs.service import enqueue

    check = _check_row(lab, check_id)
    if check["status"] != "created":
        raise InputError("This freshness check has already run.", hint="Start a new one.")
    job_id = enqueue(lab, "freshness", {"check_id": check["id"]}, title=check["name"])
    lab.db.execute("UPDATE freshness_checks SET job_id = %s WHERE id = %s", (job_id, check["id"]))
    return job_id


def run_freshness(lab: "Lab", corpus_id: str, changed_files: Sequence[tuple[str, bytes]],
                  questions: Sequence[dict], strategies: Sequence[StrategyConfig | dict | str], *,
                  retrain: bool | dict | None = None, name: str | None = None,
                  threshold: float = 0.5, progress: Callable[..., None] | None = None,
                  check_cancelled: Callable[[], None] | None = None) -> str:
    """Create a check and run it in this process (what the job does); returns its id."""
    check_id = create_freshness(lab, corpus_id, changed_files, questions, strategies,
                                retrain=retrain, name=name, threshold=threshold)
    execute_freshness(lab, check_id, progress=progress, check_cancelled=check_cancelled)
    return check_id


def _check_row(lab: "Lab", check_id: str) -> dict:
    from backend.errors import NotFound

    row = lab.db.fetchone("SELECT *, id::text AS id, corpus_id::text AS corpus_id FROM"
                          " freshness_checks WHERE id::text = %s", (str(check_id),))
    if row is None:
        raise NotFound(f"There is no freshness check {check_id!r}.")
    return row


# --- running it -----------------------------------------------------------------------------------
class _Timeline:
    """Appends timestamped events; ``elapsed`` counts from the start of the check."""

    def __init__(self, lab: "Lab", check_id: str) -> None:
        self.lab, self.check_id, self.began, self.seq = lab, check_id, time.perf_counter(), 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def event(self, event: str, *, phase: str | None = None, strategy: str | None = None,
              **detail: Any) -> float:
        at = self.elapsed()
        self.lab.db.execute(
            "INSERT INTO freshness_events (check_id, seq, elapsed_s, event, phase, strategy, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (self.check_id, self.seq, at, event, phase, strategy, Jsonb(detail)))
        self.seq += 1
        return at


def execute_freshness(lab: "Lab", check_id: str, *, progress: Callable[..., None] | None = None,
                      check_cancelled: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run a created check: ask (before), ingest the files (timed), ask again at once, retrain
    and ask the fine-tuned strategies again when planned. Returns ``freshness_summary``. A check
    cannot resume half way (its timings would mean nothing): a second attempt fails clearly."""
    from backend.evaluate.freshness_results import freshness_summary

    report = progress or (lambda *a, **k: None)
    check = check_cancelled or (lambda: None)
    row = _check_row(lab, check_id)
    if row["status"] != "created":
        raise InputError("This freshness check was interrupted after it started; a check cannot "
                         "resume, because its timings would no longer be comparable.",
                         hint="Start a new check (the corpus may already hold the changed files).")
    lab.db.execute("UPDATE freshness_checks SET status = 'running', started_at = now() WHERE id = %s",
                   (row["id"],))
    timeline = _Timeline(lab, row["id"])
    try:
        _execute(lab, row, timeline, report, check)
    except JobCancelled:
        _finish(lab, row["id"], "cancelled", "Cancelled.")
        timeline.event("cancelled")
        raise
    except BaseException as exc:
        _finish(lab, row["id"], "failed", getattr(exc, "user_message", None) or repr(exc))
        raise
    _finish(lab, row["id"], "finished", None)
    return freshness_summary(lab, row["id"])


def _finish(lab: "Lab", check_id: str, status: str, error: str | None) -> None:
    lab.db.execute("UPDATE freshness_checks SET status = %s, error = %s, finished_at = now()"
                   " WHERE id = %s", (status, error, check_id))


def _execute(lab: "Lab", row: dict, timeline: _Timeline, report: Callable[..., None],
             check: Callable[[], None]) -> None:
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.storage import ArtifactStore

    questions = row["questions"]
    strategies = [(s["key"], StrategyConfig.from_dict(s["config"])) for s in row["strategies"]]
    steps = 2 * len(strategies) + 1 + (1 + len(strategies) if row["retrain"] else 0)
    done = 0
    corpus = store.get_corpus(lab, row["corpus_id"])
    lab.db.execute("UPDATE freshness_checks SET version_before = %s WHERE id = %s",
                   (corpus.version, row["id"]))
    timeline.event("started", corpus_version=corpus.version, questions=len(questions),
                   strategies=[k for k, _ in strategies])
    refs = _reference_vectors(lab, questions)
    for key, cfg in strategies:
        check()
        _ask(lab, row["id"], "before", key, cfg, questions, refs, timeline, None)
        done += 1
        report(done, steps, message=msg("freshness.before", strategy=cfg.label), unit="steps")

    artifacts = ArtifactStore(lab.db, lab.settings.artifact_dir or None)
    files = [(f["name"], artifacts.get_bytes(f["artifact_id"])) for f in row["files"]]
    change_at = timeline.event("change_started", files=[f["name"] for f in row["files"]])
    began = time.perf_counter()
    result = ingest(lab, row["corpus_id"], files, check_cancelled=check)
    ingest_s = time.perf_counter() - began
    failed = [f"{f.file_name}: {f.message}" for f in result.files if not f.ok]
    timeline.event("ingest_finished", seconds=round(ingest_s, 3), corpus_version=result.version,
                   chunks=result.chunks, failed=failed,
                   outcomes={o: result.count(o) for o in ("added", "replaced", "unchanged")})
    lab.db.execute("UPDATE freshness_checks SET ingest_seconds = %s, version_after = %s WHERE id = %s",
                   (ingest_s, result.version, row["id"]))
    for f in row["files"]:
        artifacts.delete(f["artifact_id"])
    if failed:
        raise InputError("The changed document could not be ingested: " + "; ".join(failed))
    done += 1
    report(done, steps, message=msg("freshness.ingested", seconds=f"{ingest_s:.1f}"), unit="steps")
    for key, cfg in strategies:  # at once: RAG should already see the new passages
        check()
        _ask(lab, row["id"], "after_ingest", key, cfg, questions, refs, timeline, change_at)
        done += 1
        report(done, steps, message=msg("freshness.after_ingestion", strategy=cfg.label), unit="steps")

    if row["retrain"]:
        from backend.evaluate.freshness_retrain import retrain

        def forward(step, total=None, *, message=None, **_):
            report(done, steps, message=msg("freshness.retraining", detail=message or str(step)),
                   unit="steps")

        new_model = retrain(lab, row, timeline, forward, check)
        done += 1
        if new_model is not None:
            old = row["retrain"]["model_id"]
            for key, cfg in strategies:
                if cfg.model_id == old:
                    check()
                    _ask(lab, row["id"], "after_retrain", key, replace(cfg, model_id=new_model),
                         questions, refs, timeline, change_at)
                    report(done, steps, message=msg("freshness.after_retrain", strategy=cfg.label),
                           unit="steps")
    timeline.event("finished")


def _embed(lab: "Lab", language: str, texts: list[str]) -> list[list[float]]:
    from backend.models.embeddings import get_embedding

    return get_embedding(lab.settings, language=language).get_text_embedding_batch(
        [t or " " for t in texts])


def _reference_vectors(lab: "Lab", questions: list[dict]) -> dict[str, tuple]:
    out = {}
    for q in questions:
        v1, v2 = _embed(lab, q["language"], [q["reference_v1"], q["reference_v2"]])
        out[q["qid"]] = (v1, v2)
    return out


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm else 0.0


def _ask(lab: "Lab", check_id: str, phase: str, key: str, cfg: StrategyConfig,
         questions: list[dict], refs: dict, timeline: _Timeline, change_at: float | None) -> None:
    """Answer every question with one strategy (one batch) and store how each answer reads."""
    answers = answer_batch(lab, cfg, [{"question": q["question"], "language": q["language"]}
                                      for q in questions], batch_size=max(1, len(questions)))
    at = timeline.elapsed()
    since = None if change_at is None else at - change_at
    rows, reflecting = [], 0
    for q, a in zip(questions, answers):
        sim_v1 = sim_v2 = None
        if a.error is None:
            vector = _embed(lab, q["language"], [a.text])[0]
            sim_v1, sim_v2 = (_cos(vector, r) for r in refs[q["qid"]])
        verdict = assess(q, a.text, a.contexts, sim_v1, sim_v2) if a.error is None else {
            "fact_v1": None, "fact_v2": None, "answer_reflects": False, "context_v1": None,
            "context_v2": None, "reflects": False}
        reflecting += bool(verdict["reflects"])
        rows.append((check_id, phase, key, q["qid"], _model_of(lab, cfg), a.text,
                     Jsonb(a.contexts) if a.contexts is not None else None, sim_v1, sim_v2,
                     verdict["fact_v1"], verdict["fact_v2"], verdict["context_v1"],
                     verdict["context_v2"], verdict["answer_reflects"], verdict["reflects"],
                     a.latency_s, since, a.error))
    with lab.db.connect() as conn:
        conn.cursor().executemany(
            "INSERT INTO freshness_answers (check_id, phase, strategy, qid, model, answer, contexts,"
            " sim_v1, sim_v2, fact_v1, fact_v2, context_v1, context_v2, answer_reflects, reflects,"
            " latency_s, since_change_s, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s)", rows)
    timeline.event("asked", phase=phase, strategy=key, reflecting=reflecting,
                   questions=len(questions), since_change_s=since,
                   model=_model_of(lab, cfg), errors=sum(a.error is not None for a in answers))


def _model_of(lab: "Lab", cfg: StrategyConfig) -> str:
    return f"model {cfg.model_id}" if cfg.model_id else (cfg.model or lab.settings.llm_model)


@handler("freshness")
def freshness_job(ctx, params: dict) -> dict:
    """The ``freshness`` job: ``execute_freshness`` with the job's progress and cancellation."""
    summary = execute_freshness(ctx.lab, params["check_id"], progress=ctx.progress,
                                check_cancelled=ctx.check_cancelled)
    return {"check_id": params["check_id"], "strategies": [
        {k: s[k] for k in ("key", "status", "time_to_update_s")} for s in summary["strategies"]]}


def demo_scenario() -> tuple[list[tuple[str, bytes]], list[dict]]:
    """The demo's freshness scenario: the changed documents (v2) and the questions they affect."""
    from backend.demo.build import demo_update_files, freshness_questions

    return [(f.name, f.data) for f in demo_update_files()], freshness_questions()

