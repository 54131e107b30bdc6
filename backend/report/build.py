"""Assemble the decision memo from an evaluation run's measured results.

``collect`` reads everything the memo needs from the database once (the run's summary and paired
comparisons on the headline metric, its corpus's sensitive-data counts, the lineage of the
fine-tuned models it evaluated, the latest freshness check of its corpus, the settings);
``compose`` turns that into a ``Memo`` in one language for given priorities, without touching the
database, so a page can re-compose on every slider move. ``build_report`` does both.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from backend.errors import NotFound
from backend.evaluate.metrics import HEADLINE_METRIC, METRICS
from backend.evaluate.results import RunSummary, head_to_head, list_runs, run_summary
from backend.evaluate.stats import PairedComparison
from backend.report import sections
from backend.report.phrases import metric_label, say
from backend.report.recommend import (CRITERIA, Evidence, Priorities, StrategyEvidence, decide,
                                      recommendation_sentence)

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportInputs:
    """What was measured, read once: plain data, picklable (a page may cache it)."""

    summary: RunSummary
    metric: str
    comparisons: list[PairedComparison]  # a, b = strategy keys; difference a - b
    questions: dict[str, int]            # total, unanswerable
    corpus: dict | None                  # name, version, documents, with_data, kinds; None: deleted
    models: dict[int, dict | None]       # model id -> lineage (None: deleted)
    freshness: dict | None               # the corpus's latest finished freshness check
    judges: list[str]                    # judges that scored this run
    settings: dict[str, Any]
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class Bar:
    label: str
    kind: str
    mean: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class Memo:
    """The one-page memo, every text already in ``language``; ``render`` lays it out."""

    language: str
    run_id: str
    keys: list[str]  # the strategies' keys, in legend order (bars and rows follow it)
    title: str
    subtitle: str
    headings: dict[str, str]
    recommendation: str
    outcome: str
    choice: str | None
    priorities: str
    reasons: list[str]
    chart_title: str
    chart_range: tuple[float, float]
    bars: list[Bar]
    columns: list[str]
    rows: list[list[str]]
    row_kinds: list[str]
    tradeoffs: list[str]
    caveats: list[str]
    sensitive: list[str]
    settings: list[tuple[str, str]]
    footer: str


# --- reading -------------------------------------------------------------------------------------
def latest_run_id(lab: "Lab") -> str | None:
    """The newest evaluation run with at least one answer (else the newest run), or None."""
    runs = list_runs(lab)
    answered = [r for r in runs if r["answered"]]
    chosen = (answered or runs)[:1]
    return chosen[0]["id"] if chosen else None


def headline_metric(metric_keys: list[str]) -> str:
    """The metric the decision rests on: answer similarity when the run has it."""
    if HEADLINE_METRIC in metric_keys:
        return HEADLINE_METRIC
    usable = [k for k in metric_keys if METRICS[k].applies_to == "answerable"] or metric_keys
    return usable[0]


def _comparisons(lab: "Lab", summary: RunSummary, metric: str) -> list[PairedComparison]:
    out = []
    for a, b in itertools.combinations(summary.strategies, 2):
        cmp = head_to_head(lab, summary.run.id, a.key, b.key, metric).comparison
        out.append(replace(cmp, a=a.key, b=b.key))
    return out


def _corpus(lab: "Lab", corpus_id: str | None) -> dict | None:
    from backend.corpus import store

    if corpus_id is None:
        return None
    try:
        corpus = store.get_corpus(lab, corpus_id)
    except NotFound:
        return None
    documents = store.list_documents(lab, corpus.id)
    kinds: dict[str, int] = {}
    for doc in documents:
        for kind, n in doc.findings.items():
            kinds[kind] = kinds.get(kind, 0) + n
    return {"name": corpus.name, "version": corpus.version, "documents": len(documents),
            "with_data": sum(1 for d in documents if d.findings), "kinds": kinds}


def _models(lab: "Lab", summary: RunSummary) -> dict[int, dict | None]:
    from backend.finetune.registry import get_model

    out: dict[int, dict | None] = {}
    for s in summary.strategies:
        model_id = s.config.get("model_id")
        if model_id and model_id not in out:
            try:
                out[model_id] = get_model(lab, model_id).lineage()
            except NotFound:
                out[model_id] = None
    return out


def _freshness(lab: "Lab", corpus_id: str | None) -> dict | None:
    """The latest finished freshness check of the corpus: its ingest and retrain times and, per
    strategy kind, ``status`` (already_current, updated_after_ingest, updated_after_retrain,
    not_updated) and ``seconds`` from the change until the step that updated it. None when there
    is none, or freshness checks are not available: the memo then infers update behaviour."""
    if corpus_id is None:
        return None
    try:
        from backend.evaluate.freshness_results import freshness_summary

        row = lab.db.fetchone("SELECT id::text FROM freshness_checks WHERE corpus_id = %s AND"
                              " status = 'finished' ORDER BY finished_at DESC LIMIT 1", (corpus_id,))
        if row is None:
            return None
        check = freshness_summary(lab, row["id"])
    except Exception as exc:  # noqa: BLE001 - missing freshness data is a caveat, not a failure
        log.info("no freshness data for the report: %s", exc)
        return None
    kinds: dict[str, dict] = {}
    for s in check["strategies"]:  # the first strategy of a kind speaks for it
        kinds.setdefault(s["kind"], {"status": s["status"], "seconds": s["time_to_update_s"]})
    return {"id": check["id"], "ingest_seconds": check["ingest_seconds"],
            "retrain_seconds": check["retrain_seconds"], "kinds": kinds}


def _judges(lab: "Lab", run_id: str) -> list[str]:
    try:
        rows = lab.db.fetchall("SELECT DISTINCT judge FROM eval_judges WHERE run_id = %s AND ok > 0",
                               (run_id,))
    except Exception:  # noqa: BLE001 - before the judge migration: no judge
        return []
    return sorted(r["judge"] for r in rows)


def collect(lab: "Lab", run_id: str) -> ReportInputs:
    """Everything the memo says, read from the database (NotFound for an unknown run)."""
    summary = run_summary(lab, run_id)
    metric = headline_metric(summary.run.metric_keys)
    questions = lab.db.fetchone(
        "SELECT count(*) AS total, count(*) FILTER (WHERE unanswerable) AS unanswerable"
        " FROM eval_questions WHERE run_id = %s", (summary.run.id,))
    s = lab.settings
    settings = {"llm_model": s.llm_model, "price_per_hour": s.price_per_hour,
                "price_per_1k_tokens_in": s.price_per_1k_tokens_in,
                "price_per_1k_tokens_out": s.price_per_1k_tokens_out, "judge_model": s.judge_model}
    return ReportInputs(summary=summary, metric=metric, comparisons=_comparisons(lab, summary, metric),
                        questions=dict(questions), corpus=_corpus(lab, summary.run.corpus_id),
                        models=_models(lab, summary),
                        freshness=_freshness(lab, summary.run.corpus_id),
                        judges=_judges(lab, summary.run.id), settings=settings)


# --- composing -----------------------------------------------------------------------------------
def evidence(inputs: ReportInputs) -> Evidence:
    """The measured results as the decision logic sees them."""
    out = []
    for s in inputs.summary.strategies:
        model = inputs.models.get(s.config.get("model_id")) or {}
        out.append(StrategyEvidence(
            key=s.key, label=s.label, kind=s.kind, quality=s.metrics[inputs.metric].estimate,
            cost_per_1k=s.cost_per_1k, build_seconds=s.build_seconds, latency_p95=s.latency_p95,
            update_seconds=sections.measured_update_seconds(inputs.freshness, s.kind),
            guard=(model.get("guard") or {}).get("decision")))
    return Evidence(inputs.metric, out, inputs.comparisons, METRICS[inputs.metric].higher_is_better)


def compose(inputs: ReportInputs, priorities: Priorities = Priorities(),
            language: str = "en") -> Memo:
    """The memo for ``priorities`` in ``language``: pure, no database."""
    run, lang = inputs.summary.run, language
    ev = evidence(inputs)
    rec = decide(ev, priorities)
    metric = metric_label(inputs.metric, lang)
    items = ", ".join(f"{say(lang, f'crit.{c}')} {priorities.weight(c):g}/5" for c in CRITERIA)
    values = [v for b in ev.strategies for v in (b.quality.low, b.quality.high, b.quality.mean)
              if v is not None]
    low, high = METRICS[inputs.metric].range
    chart_range = (min([0.0, *values]) if low < 0 else low, max([high if high <= 1 else 1.0, *values]))
    columns, rows, kinds = sections.table(inputs, ev, lang)
    corpus = inputs.corpus["name"] if inputs.corpus else (run.corpus_name or say(lang, "na"))
    return Memo(
        language=lang, run_id=run.id, keys=[s.key for s in ev.strategies], title=say(lang, "title"),
        subtitle=say(lang, "subtitle", run=run.name, corpus=corpus, questions=run.n_questions,
                     date=run.created_at.date().isoformat()),
        headings={k: say(lang, f"h.{k}", metric=metric[:1].upper() + metric[1:]) for k in (
            "recommendation", "reasons", "chart", "tradeoffs", "caveats", "sensitive", "settings")},
        recommendation=recommendation_sentence(rec, ev, lang), outcome=rec.outcome,
        choice=rec.choice, priorities=say(lang, "priorities", items=items),
        reasons=sections.reasons(rec, ev, inputs, priorities, lang),
        chart_title=say(lang, "h.chart", metric=metric[:1].upper() + metric[1:]),
        chart_range=chart_range,
        bars=[Bar(s.name(lang, title=True), s.kind, s.quality.mean, s.quality.low, s.quality.high,
                  s.quality.n) for s in ev.strategies],
        columns=columns, rows=rows, row_kinds=kinds,
        tradeoffs=sections.tradeoffs(inputs, ev, lang),
        caveats=sections.caveats(inputs, ev, rec, lang),
        sensitive=sections.sensitive(inputs, ev, lang),
        settings=sections.settings_used(inputs, lang),
        footer=say(lang, "footer", date=inputs.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
                   run_id=run.id))


def build_report(lab: "Lab", run_id: str | None = None, priorities: Priorities = Priorities(),
                 language: str = "en") -> Memo:
    """The memo of ``run_id`` (default: the latest evaluation with answers); NotFound when
    there is no evaluation at all."""
    run_id = run_id or latest_run_id(lab)
    if run_id is None:
        raise NotFound("There is no evaluation to report on yet.",
                       hint="Run an evaluation, or load the demo from the Home page.")
    return compose(collect(lab, run_id), priorities, language)
