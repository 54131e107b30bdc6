"""Results of evaluation runs, computed from the stored scores: summaries with confidence
intervals, head-to-head comparisons, per-question tables, exports, and run housekeeping.

Everything here reads what ``runner`` stored; nothing generates or scores. Not applicable and
failed scores are counted, never averaged in as zeros. Bootstrap intervals use the run's seed, so
the same stored scores always give the same numbers.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.errors import InputError, LabError
from backend.evaluate.metrics import HEADLINE_METRIC, METRICS, judge_keys
from backend.evaluate.runner import EvalRun, counts, get_run
from backend.evaluate.stats import Estimate, PairedComparison, compare_paired, mean_ci
from backend.evaluate.wording import describe_comparison

if TYPE_CHECKING:
    from backend.lab import Lab


@dataclass(frozen=True)
class MetricSummary:
    """One metric of one strategy: the mean of its ok scores with a bootstrap CI (``estimate.n``
    ok scores), and how many were not applicable or failed (with their reasons, counted)."""

    metric: str
    estimate: Estimate
    not_applicable: int
    failed: int
    reasons: dict[str, int]

    @property
    def n(self) -> int:
        return self.estimate.n


@dataclass(frozen=True)
class StrategySummary:
    key: str
    label: str
    kind: str
    config: dict
    model_record: str | None
    answered: int
    failed_answers: int
    metrics: dict[str, MetricSummary]
    abstention: Estimate  # share of unanswerable questions declined
    latency_mean: float | None  # seconds, what a user waited (batch wall time + retrieval)
    latency_p95: float | None
    seconds_per_question: float | None  # compute time per answer (batched), for cost
    tokens_in_mean: float | None
    tokens_out_mean: float | None
    cost_per_1k: float | None  # USD per 1,000 questions
    build_seconds: float | None  # one-off: indexing and/or training
    build_cost: float | None  # USD


@dataclass(frozen=True)
class RunSummary:
    run: EvalRun
    counts: dict[str, int]
    strategies: list[StrategySummary]
    #: the LLM-judged metrics: which are computed and which need a judge (``judge_overview``)
    judge: dict = field(default_factory=dict)

    def strategy(self, key: str) -> StrategySummary:
        return next(s for s in self.strategies if key in (s.key, s.label))


@dataclass(frozen=True)
class HeadToHead:
    metric: str
    comparison: PairedComparison
    sentence: str


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def _scores(lab: "Lab", run_id: str, metric: str | None = None) -> list[dict]:
    return lab.db.fetchall(
        "SELECT s.strategy, s.position, q.qid, s.metric, s.value, s.status, s.reason, q.unanswerable"
        " FROM eval_scores s JOIN eval_questions q ON q.run_id = s.run_id AND q.position = s.position"
        " WHERE s.run_id = %s AND (%s::text IS NULL OR s.metric = %s)", (run_id, metric, metric))


def _reason_key(reason: str | None, status: str) -> str:
    """A reason to count by: judge failures quote the judge's reply, which is left out here."""
    return (reason or status).split(" (last reply:")[0]


def _metric_summary(metric: str, rows: list[dict], seed: int) -> MetricSummary:
    reasons: dict[str, int] = {}
    for r in rows:
        if r["status"] != "ok":
            key = _reason_key(r["reason"], r["status"])
            reasons[key] = reasons.get(key, 0) + 1
    return MetricSummary(
        metric, mean_ci([r["value"] for r in rows if r["status"] == "ok"], seed=seed),
        sum(r["status"] == "not_applicable" for r in rows), sum(r["status"] == "failed" for r in rows),
        reasons)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _cost_per_1k(lab: "Lab", config: dict, answers: list[dict]) -> float | None:
    """USD per 1,000 questions: this machine's price per hour for the local seconds (retrieval,
    local generation), the endpoint's token prices for endpoint generation."""
    ok = [a for a in answers if a["error"] is None]
    if not ok:
        return None
    s = lab.settings
    endpoint = str(config.get("model") or "").startswith("openai:")
    local_seconds = _mean([a["retrieval_s"] if endpoint else a["compute_s"] for a in ok]) or 0.0
    cost = s.price_per_hour / 3600 * local_seconds * 1000
    if endpoint:
        cost += (_mean([a["tokens_in"] for a in ok]) * s.price_per_1k_tokens_in
                 + _mean([a["tokens_out"] for a in ok]) * s.price_per_1k_tokens_out)
    return float(cost)


def scored_metrics(lab: "Lab", run: EvalRun) -> list[str]:
    """The run's offline metrics, then the LLM-judged metrics that have stored scores."""
    judged = {r["metric"] for r in lab.db.fetchall(
        "SELECT DISTINCT metric FROM eval_scores WHERE run_id = %s AND metric = ANY(%s)",
        (run.id, judge_keys()))}
    return list(run.metric_keys) + [k for k in judge_keys() if k in judged]


def run_summary(lab: "Lab", run_id: str) -> RunSummary:
    """Per strategy: every metric's mean with its 95% CI, n, not-applicable and failed counts
    (LLM-judged metrics too, once judged); the abstention rate on unanswerable questions; latency
    mean and p95; tokens; cost per 1,000 questions; one-off build time and cost. ``judge`` says
    which judged metrics are computed and which need a judge (``judge_overview``)."""
    run = get_run(lab, run_id)
    scores = _scores(lab, run.id)
    metric_keys = scored_metrics(lab, run)
    answers = lab.db.fetchall("SELECT strategy, latency_s, compute_s, retrieval_s, tokens_in,"
                              " tokens_out, error FROM eval_answers WHERE run_id = %s", (run.id,))
    out = []
    for strat in run.strategies:
        mine = [r for r in scores if r["strategy"] == strat.key]
        metrics = {k: _metric_summary(k, [r for r in mine if r["metric"] == k], run.seed)
                   for k in metric_keys}
        abstention = metrics["abstention"].estimate if "abstention" in metrics else Estimate(
            None, None, None, 0)
        given = [a for a in answers if a["strategy"] == strat.key]
        ok = [a for a in given if a["error"] is None]
        latencies = [a["latency_s"] for a in ok if a["latency_s"] is not None]
        price = lab.settings.price_per_hour / 3600
        out.append(StrategySummary(
            key=strat.key, label=strat.label, kind=strat.kind, config=strat.config.as_dict(),
            model_record=strat.model_record, answered=len(given), failed_answers=len(given) - len(ok),
            metrics=metrics, abstention=abstention, latency_mean=_mean(latencies),
            latency_p95=float(np.percentile(latencies, 95)) if latencies else None,
            seconds_per_question=_mean([a["compute_s"] for a in ok]),
            tokens_in_mean=_mean([a["tokens_in"] for a in ok]),
            tokens_out_mean=_mean([a["tokens_out"] for a in ok]),
            cost_per_1k=_cost_per_1k(lab, strat.config.as_dict(), given),
            build_seconds=strat.build_seconds,
            build_cost=None if strat.build_seconds is None else strat.build_seconds * price))
    return RunSummary(run, counts(lab, run.id), out, judge_overview(lab, run.id))


def judge_overview(lab: "Lab", run_id: str) -> dict[str, Any]:
    """The LLM-judged metrics of a run, for the page and the report: ``configured`` (a judge is
    set in the settings, or why the setting is wrong in ``config_error``), ``judge`` (what is
    configured), ``hint`` (how to configure one), ``passes`` (each judging pass: judge, counts,
    usage, times) and per metric ``status``: ``computed`` (every answer judged), ``partial`` or
    ``needs_judge`` (nothing judged yet), with ok / failed / not-applicable counts and the
    failure reasons, counted."""
    from backend.errors import ConfigError
    from backend.evaluate.judge import HOW_TO_CONFIGURE, judge_config

    run = get_run(lab, run_id)
    try:
        cfg, error = judge_config(lab.settings), None
    except ConfigError as exc:
        cfg, error = None, exc.user_message
    answered = counts(lab, run.id)["answered"]
    rows = lab.db.fetchall(
        "SELECT metric, status, reason, count(*) AS n FROM eval_scores WHERE run_id = %s AND"
        " metric = ANY(%s) GROUP BY metric, status, reason", (run.id, judge_keys()))
    metrics = {}
    for key in judge_keys():
        mine = [r for r in rows if r["metric"] == key]
        n = {status: sum(r["n"] for r in mine if r["status"] == status)
             for status in ("ok", "failed", "not_applicable")}
        done = sum(n.values())
        reasons: dict[str, int] = {}
        for r in mine:
            if r["status"] == "failed":
                why = _reason_key(r["reason"], "failed")
                reasons[why] = reasons.get(why, 0) + r["n"]
        metrics[key] = {"status": "needs_judge" if done == 0 else
                        "computed" if done >= answered else "partial",
                        **n, "reasons": reasons}
    passes = lab.db.fetchall(
        "SELECT judge, metric_keys, config, judged, ok, failed, usage, seconds, started_at,"
        " finished_at FROM eval_judges WHERE run_id = %s ORDER BY id", (run.id,))
    return {"configured": cfg is not None, "judge": cfg.record if cfg else None,
            "config_error": error, "hint": HOW_TO_CONFIGURE, "passes": passes,
            "metrics": metrics,
            "needs_judge": [k for k, m in metrics.items() if m["status"] == "needs_judge"]}


def _by_question(lab: "Lab", run: EvalRun, strategy: str, metric: str) -> dict[str, float | None]:
    key = run.strategy(strategy).key
    return {r["qid"]: r["value"] for r in _scores(lab, run.id, metric)
            if r["strategy"] == key and r["status"] == "ok"}


def _check_metric(run: EvalRun, metric: str) -> None:
    # a judged metric may be asked for before it is judged: its rows then say "not scored yet"
    if metric not in run.metric_keys and not (metric in METRICS and METRICS[metric].needs_judge):
        raise InputError(f"This run has no {metric!r} scores.",
                         hint=f"Its metrics: {', '.join(run.metric_keys)}.")


def head_to_head(lab: "Lab", run_id: str, a: str, b: str, metric: str = HEADLINE_METRIC, *,
                 language: str = "en", metric_label: str | None = None,
                 tie_tolerance: float = 0.01) -> HeadToHead:
    """Strategy ``a`` against ``b`` on ``metric``, paired by question (wins / ties / losses, the
    mean difference a - b with its CI, a Wilcoxon p-value), and the sentence that says it."""
    run = get_run(lab, run_id)
    _check_metric(run, metric)
    sa, sb = run.strategy(a), run.strategy(b)
    cmp = compare_paired(_by_question(lab, run, sa.key, metric), _by_question(lab, run, sb.key, metric),
                         a_name=sa.label, b_name=sb.label, seed=run.seed, tie_tolerance=tie_tolerance)
    sentence = describe_comparison(cmp, metric_label or _label(metric), language,
                                   higher_is_better=METRICS[metric].higher_is_better)
    return HeadToHead(metric, cmp, sentence)


def per_question(lab: "Lab", run_id: str, metric: str = HEADLINE_METRIC) -> list[dict]:
    """One row per (question, strategy), questions in run order and strategies in legend order:
    position, qid, question, unanswerable, strategy, label, value (None unless ok), status, reason.
    A pair not answered or scored yet has status None."""
    run = get_run(lab, run_id)
    _check_metric(run, metric)
    scored = {(r["strategy"], r["position"]): r for r in _scores(lab, run.id, metric)}
    questions = lab.db.fetchall("SELECT position, qid, question, unanswerable FROM eval_questions"
                                " WHERE run_id = %s ORDER BY position", (run.id,))
    rows = []
    for q in questions:
        for s in run.strategies:
            r = scored.get((s.key, q["position"]), {})
            rows.append({**q, "strategy": s.key, "label": s.label, "value": r.get("value"),
                         "status": r.get("status"), "reason": r.get("reason")})
    return rows


def question_detail(lab: "Lab", run_id: str, position: int) -> dict[str, Any]:
    """One question with its reference and every strategy's answer, contexts and scores, side by
    side (what a click on a heatmap row opens)."""
    run = get_run(lab, run_id)
    q = lab.db.fetchone("SELECT position, qid, question, reference, reference_contexts, tags,"
                        " language, unanswerable FROM eval_questions WHERE run_id = %s AND"
                        " position = %s", (run.id, position))
    if q is None:
        raise InputError(f"This run has no question at position {position}.")
    answers = {a["strategy"]: a for a in lab.db.fetchall(
        "SELECT strategy, answer, contexts, chunk_ids, latency_s, tokens_in, tokens_out, error"
        " FROM eval_answers WHERE run_id = %s AND position = %s", (run.id, position))}
    scores: dict[str, dict] = {}
    for r in lab.db.fetchall("SELECT strategy, metric, value, status, reason FROM eval_scores"
                             " WHERE run_id = %s AND position = %s", (run.id, position)):
        scores.setdefault(r["strategy"], {})[r["metric"]] = {
            "value": r["value"], "status": r["status"], "reason": r["reason"]}
    q["answers"] = [{"strategy": s.key, "label": s.label, "kind": s.kind,
                     **(answers.get(s.key) or {"answer": None}), "scores": scores.get(s.key, {})}
                    for s in run.strategies]
    return q


def _export_rows(lab: "Lab", run: EvalRun) -> list[dict]:
    rows = lab.db.fetchall(
        "SELECT q.position, q.qid, q.question, q.reference, q.language, q.unanswerable, a.strategy,"
        " a.answer, a.contexts, a.chunk_ids, a.latency_s, a.compute_s, a.tokens_in, a.tokens_out,"
        " a.error FROM eval_answers a JOIN eval_questions q ON q.run_id = a.run_id AND"
        " q.position = a.position WHERE a.run_id = %s", (run.id,))
    scores: dict[tuple, dict] = {}
    for r in _scores(lab, run.id):
        scores.setdefault((r["strategy"], r["position"]), {})[r["metric"]] = {
            "value": r["value"], "status": r["status"], "reason": r["reason"]}
    order = {s.key: s.position for s in run.strategies}
    labels = {s.key: s.label for s in run.strategies}
    rows.sort(key=lambda r: (r["position"], order[r["strategy"]]))
    for r in rows:
        r["label"] = labels[r["strategy"]]
        r["scores"] = scores.get((r["strategy"], r["position"]), {})
    return rows


def export_run(lab: "Lab", run_id: str, fmt: str = "csv") -> bytes:
    """The run as CSV (one row per question and strategy: answer, latency, tokens, and per metric
    its value and status; a not-applicable value is empty, never 0) or JSON (the run, its
    strategies with their full configuration, the summary, and every answer with its scores)."""
    run = get_run(lab, run_id)
    rows = _export_rows(lab, run)
    if fmt == "json":
        summary = run_summary(lab, run.id)
        doc = {"run": asdict(run), "counts": summary.counts,
               "summary": [asdict(s) for s in summary.strategies], "answers": rows}
        return json.dumps(doc, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    if fmt != "csv":
        raise InputError(f"Unknown export format {fmt!r}.", hint="Use csv or json.")
    buffer = io.StringIO()
    metric_keys = scored_metrics(lab, run)
    base = ["qid", "question", "reference", "language", "unanswerable", "strategy", "label",
            "answer", "error", "latency_s", "compute_s", "tokens_in", "tokens_out", "n_contexts"]
    writer = csv.writer(buffer)
    writer.writerow(base + [c for k in metric_keys for c in (k, f"{k}_status")])
    for r in rows:
        r["n_contexts"] = "" if r["contexts"] is None else len(r["contexts"])
        cells = ["" if r[c] is None else r[c] for c in base]
        for k in metric_keys:
            s = r["scores"].get(k) or {}
            cells += ["" if s.get("value") is None else s["value"], s.get("status") or ""]
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def list_runs(lab: "Lab") -> list[dict]:
    """Every run, newest first: id, name, question set, part, corpus and pinned version, strategy
    labels, questions, answered / total, and the status of its latest job."""
    rows = lab.db.fetchall(
        "SELECT r.id::text, r.name, r.question_set_name, r.part, r.corpus_name, r.corpus_version,"
        " r.created_at, r.job_id, j.status AS job_status,"
        " (SELECT count(*) FROM eval_questions q WHERE q.run_id = r.id) AS questions,"
        " (SELECT array_agg(s.label ORDER BY s.position) FROM eval_strategies s WHERE s.run_id = r.id)"
        "  AS strategies,"
        " (SELECT count(*) FROM eval_answers a WHERE a.run_id = r.id) AS answered"
        " FROM eval_runs r LEFT JOIN jobs j ON j.id = r.job_id ORDER BY r.created_at DESC")
    for r in rows:
        r["strategies"] = r["strategies"] or []
        r["total"] = r["questions"] * len(r["strategies"])
    return rows


def delete_run(lab: "Lab", run_id: str) -> None:
    """Delete a run with its questions, answers and scores (cancelling its job if it runs)."""
    run = get_run(lab, run_id)
    if run.job_id is not None:
        from backend.jobs.service import cancel, get_job

        try:
            if get_job(lab, run.job_id).is_active:
                cancel(lab, run.job_id)
        except LabError:  # the job is gone or already finished: nothing to stop
            pass
    lab.db.execute("DELETE FROM eval_runs WHERE id = %s", (run.id,))


def compare_runs(lab: "Lab", run_a: str, run_b: str, metric: str = HEADLINE_METRIC, *,
                 language: str = "en", metric_label: str | None = None) -> dict[str, Any]:
    """Two runs side by side on ``metric``, strategy by strategy (matched by label): each run's
    mean and CI and, on the questions both runs share (by question id), the paired difference
    b - a with its sentence. Also which strategies only one run has, and both corpus versions."""
    ra, rb = get_run(lab, run_a), get_run(lab, run_b)
    _check_metric(ra, metric)
    _check_metric(rb, metric)
    rows = []
    for sa in ra.strategies:
        sb = next((s for s in rb.strategies if s.label == sa.label), None)
        if sb is None:
            continue
        qa, qb = _by_question(lab, ra, sa.key, metric), _by_question(lab, rb, sb.key, metric)
        cmp = compare_paired(qb, qa, a_name=f"{sa.label} ({rb.name})", b_name=f"{sa.label} ({ra.name})",
                             seed=ra.seed)
        rows.append({"label": sa.label, "a": mean_ci(qa.values(), seed=ra.seed),
                     "b": mean_ci(qb.values(), seed=rb.seed), "comparison": cmp,
                     "sentence": describe_comparison(cmp, metric_label or _label(metric), language,
                                                     higher_is_better=METRICS[metric].higher_is_better)})
    labels_a, labels_b = {s.label for s in ra.strategies}, {s.label for s in rb.strategies}
    return {"metric": metric, "rows": rows, "only_a": sorted(labels_a - labels_b),
            "only_b": sorted(labels_b - labels_a),
            "corpus_versions": (ra.corpus_version, rb.corpus_version)}
