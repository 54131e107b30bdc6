"""The memo's sections, written from the collected inputs: reasons, the trade-off table and
sentences, caveats, sensitive-data decisions and the settings used. Pure functions of
``build.ReportInputs`` (imported for typing only) and the decision; no database."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from backend.evaluate.wording import describe_estimate, format_number
from backend.models.specs import BUNDLED_LLM, BUNDLED_MINILM
from backend.report.phrases import (SENSITIVE_KINDS, capital, duration, join, lang_of, metric_label,
                                    money, say)
from backend.report.recommend import (CRITERIA, Evidence, Priorities, Recommendation,
                                      StrategyEvidence, comparison_sentence, versus)

if TYPE_CHECKING:
    from backend.report.build import ReportInputs

#: below this many answerable questions the memo warns that intervals are wide
SMALL_SAMPLE = 30
MAX_REASONS = 5


# --- per-strategy facts ------------------------------------------------------------------------------
def measured_update_seconds(freshness: dict | None, kind: str) -> float | None:
    """Seconds from a document change until the freshness check saw it in ``kind``'s answers
    (``math.inf``: never), or None when the check did not measure that kind."""
    seen = (freshness or {}).get("kinds", {}).get(kind)
    if not seen:
        return None
    if seen["status"] == "already_current":
        return 0.0
    if seen["status"] == "not_updated":
        return math.inf
    if seen.get("seconds") is not None:
        return seen["seconds"]
    step = "ingest_seconds" if seen["status"] == "updated_after_ingest" else "retrain_seconds"
    return freshness.get(step) or 0.0


def _training_seconds(inputs: "ReportInputs", s: StrategyEvidence) -> float | None:
    summary = inputs.summary.strategy(s.key)
    model = inputs.models.get(summary.config.get("model_id")) or {}
    return model.get("duration_s")


def _index_seconds(inputs: "ReportInputs", s: StrategyEvidence) -> float | None:
    if s.build_seconds is None:
        return None
    return max(0.0, s.build_seconds - (_training_seconds(inputs, s) or 0.0))


def update_text(inputs: "ReportInputs", s: StrategyEvidence, lang: str) -> str:
    """What it takes for ``s`` to reflect a changed document: measured when a freshness check
    ran, else from how the strategy works and its measured build times."""
    measured = measured_update_seconds(inputs.freshness, s.kind)
    if measured is not None:
        if math.isinf(measured):
            return say(lang, "upd.not_reflected")
        return say(lang, "upd.measured", time=duration(measured, lang))
    if s.kind == "base":
        return say(lang, "upd.never")
    if s.kind == "rag":
        seconds = _index_seconds(inputs, s)
        if seconds is None:
            return say(lang, "upd.reingest_plain")
        return say(lang, "upd.reingest", time=duration(seconds, lang))
    key = "upd.hybrid" if s.kind == "hybrid" else "upd.retrain"
    return say(lang, key, time=duration(_training_seconds(inputs, s), lang))


def privacy_text(s: StrategyEvidence, lang: str) -> str:
    """Where the strategy keeps your documents, with its guard decision when it trained on them."""
    if s.kind == "base":
        return say(lang, "priv.none")
    if s.kind == "rag":
        return say(lang, "priv.database")
    return say(lang, "priv.weights_guard", decision=say(lang, f"guard.{s.guard or 'unknown'}"))


def _percent(est, lang: str) -> str:
    if est is None or not est.n or est.mean is None:
        return say(lang, "na")
    value = format_number(100 * est.mean, lang, 0)
    return f"{value} % (n = {est.n})" if lang_of(lang) == "es" else f"{value}% (n = {est.n})"


# --- sections ------------------------------------------------------------------------------------------
def table(inputs: "ReportInputs", ev: Evidence, lang: str) -> tuple[list[str], list[list[str]], list[str]]:
    """``(columns, rows, kinds)`` of the trade-off table, one row per strategy in legend order."""
    metric = metric_label(inputs.metric, lang)
    columns = [say(lang, "col.strategy"), say(lang, "col.quality", metric=capital(metric))] + [
        say(lang, f"col.{c}") for c in ("abstention", "latency", "cost", "build", "updates", "privacy")]
    rows, kinds = [], []
    for s in ev.strategies:
        summary = inputs.summary.strategy(s.key)
        rows.append([s.name(lang, title=True), describe_estimate(s.quality, lang),
                     _percent(summary.abstention, lang), duration(s.latency_p95, lang),
                     money(s.cost_per_1k, lang), duration(s.build_seconds, lang),
                     update_text(inputs, s, lang), privacy_text(s, lang)])
        kinds.append(s.kind)
    return columns, rows, kinds


def criterion_line(criterion: str, a: StrategyEvidence, b: StrategyEvidence,
                   inputs: "ReportInputs", lang: str) -> str | None:
    """One sentence comparing ``a`` with ``b`` on a non-quality criterion, with the numbers."""
    names = {"a": a.name(lang), "b": b.name(lang)}
    if criterion == "cost" and None in (a.build_seconds, b.build_seconds):
        return say(lang, "rsn.cost_running", **names, a_cost=money(a.cost_per_1k, lang),
                   b_cost=money(b.cost_per_1k, lang))
    if criterion == "cost":
        return say(lang, "rsn.cost", **names, a_cost=money(a.cost_per_1k, lang),
                   b_cost=money(b.cost_per_1k, lang), a_build=duration(a.build_seconds, lang),
                   b_build=duration(b.build_seconds, lang))
    if criterion == "latency":
        return say(lang, "rsn.latency", **names, a_value=duration(a.latency_p95, lang),
                   b_value=duration(b.latency_p95, lang))
    if criterion == "updates":
        return say(lang, "rsn.updates", **names, a_value=update_text(inputs, a, lang),
                   b_value=update_text(inputs, b, lang))
    if criterion == "privacy":
        return say(lang, "rsn.privacy", **names, a_value=privacy_text(a, lang),
                   b_value=privacy_text(b, lang))
    return None


def reasons(rec: Recommendation, ev: Evidence, inputs: "ReportInputs", priorities: Priorities,
            lang: str) -> list[str]:
    """The reasons behind the recommendation, each with its numbers: the measured quality gaps
    (runner-up first), the choice's own score, and the criteria that decided (or, for a clear
    winner, the user's top other priority: what the better answers cost)."""
    if rec.choice is None:
        return []
    choice = ev.strategy(rec.choice)
    ordered = sorted(rec.against, key=lambda c: c.b != rec.runner_up)
    out = [capital(comparison_sentence(c, ev, lang)) + "." for c in ordered[:3]]
    out.append(say(lang, "rsn.estimate", name=capital(choice.name(lang)),
                   estimate=describe_estimate(choice.quality, lang),
                   metric=metric_label(ev.metric, lang)))
    if rec.runner_up is not None:
        runner = ev.strategy(rec.runner_up)
        criteria = [c for c in rec.deciding if c in CRITERIA]
        if rec.outcome == "clear":
            weighted = [c for c in CRITERIA[1:] if priorities.weight(c) > 0]
            criteria = sorted(weighted, key=lambda c: -priorities.weight(c))[:1]
        for c in criteria[:2]:
            line = criterion_line(c, choice, runner, inputs, lang)
            if line:
                out.append(line)
    return out[:MAX_REASONS]


def tradeoffs(inputs: "ReportInputs", ev: Evidence, lang: str) -> list[str]:
    """One sentence per strategy: what it costs and how it copes with a changed document."""
    out = []
    metric = metric_label(ev.metric, lang)
    for s in ev.strategies:
        summary = inputs.summary.strategy(s.key)
        tokens = say(lang, "na") if summary.tokens_in_mean is None else str(round(summary.tokens_in_mean))
        key = f"to.{s.kind}"
        if s.kind == "rag" and _index_seconds(inputs, s) is None:
            key = "to.rag_plain"
        text = say(lang, key, name=capital(s.name(lang)), tokens=tokens,
                   p95=duration(s.latency_p95, lang), index=duration(_index_seconds(inputs, s), lang),
                   train=duration(_training_seconds(inputs, s), lang), metric=metric,
                   score=describe_estimate(s.quality, lang)) if s.kind in (
            "base", "rag", "finetuned", "hybrid") else ""
        measured = measured_update_seconds(inputs.freshness, s.kind)
        if measured is not None:
            fresh = inputs.freshness
            status = fresh["kinds"][s.kind]["status"]
            if math.isinf(measured):
                outcome = say(lang, "fresh.never")
            elif status == "updated_after_retrain":
                outcome = say(lang, "fresh.retrain", time=duration(fresh.get("retrain_seconds"), lang))
            elif status == "updated_after_ingest":
                outcome = say(lang, "fresh.after", time=duration(measured, lang))
            else:
                outcome = say(lang, "fresh.current")
            text = f"{text} {say(lang, 'to.fresh', name=s.name(lang), outcome=outcome)}".strip()
        if text:
            out.append(text)
    return out


def _models_used(inputs: "ReportInputs") -> list[str]:
    specs = []
    for s in inputs.summary.strategies:
        model = s.config.get("model") or (inputs.models.get(s.config.get("model_id")) or {}).get(
            "base_model")
        if model and model not in specs:
            specs.append(model)
    return specs


def caveats(inputs: "ReportInputs", ev: Evidence, rec: Recommendation, lang: str) -> list[str]:
    """What limits the conclusion: progress, sample size, judge, model size and language,
    failed or unscored strategies, missing freshness data, the single metric."""
    run, counts, out = inputs.summary.run, inputs.summary.counts, []
    if counts.get("answered", 0) < counts.get("total", 0):
        out.append(say(lang, "cav.unfinished", answered=counts["answered"], total=counts["total"]))
    total, unanswerable = inputs.questions["total"], inputs.questions["unanswerable"]
    answerable = total - unanswerable
    cmp = versus(rec, rec.runner_up) or (rec.against[0] if rec.against else None)
    if answerable < SMALL_SAMPLE and cmp is not None and cmp.diff.has_interval:
        width = format_number((cmp.diff.high - cmp.diff.low) / 2, lang_of(lang), 2)
        out.append(say(lang, "cav.sample_small", n=total, answerable=answerable, width=width))
    else:
        out.append(say(lang, "cav.sample", n=total, answerable=answerable, unanswerable=unanswerable))
    judged = [k for k in run.metric_keys if k in _judge_keys()]
    if inputs.judges:
        out.append(say(lang, "cav.judge", model=", ".join(inputs.judges),
                       metrics=join([metric_label(k, lang) for k in judged], lang) or say(lang, "na")))
    else:
        out.append(say(lang, "cav.no_judge"))
    models = _models_used(inputs)
    if BUNDLED_LLM in models:
        out.append(say(lang, "cav.model_small", model="SmolLM2-135M-Instruct"))
    elif models:
        out.append(say(lang, "cav.model", model=", ".join(models)))
    if BUNDLED_LLM in models or run.embed_spec == BUNDLED_MINILM:
        out.append(say(lang, "cav.language", language=say(lang, f"lang.{run.language}")))
    for s in inputs.summary.strategies:
        name = ev.strategy(s.key).name(lang, title=True)
        if s.failed_answers:
            out.append(say(lang, "cav.failed", name=name, failed=s.failed_answers, total=s.answered))
        if not ev.strategy(s.key).quality.n:
            out.append(say(lang, "cav.unscored", name=name))
    if inputs.freshness is None:
        out.append(say(lang, "cav.no_freshness"))
    out.append(say(lang, "cav.metric", metric=metric_label(ev.metric, lang)))
    return out


def _judge_keys() -> set[str]:
    from backend.evaluate.metrics import judge_keys

    return set(judge_keys())


def sensitive(inputs: "ReportInputs", ev: Evidence, lang: str) -> list[str]:
    """The personal data found in the corpus, and each fine-tuned model's guard decision."""
    kinds_words = SENSITIVE_KINDS[lang_of(lang)]

    def kinds(counts: dict[str, int]) -> str:
        return join([f"{kinds_words.get(k, k)} ({n})" for k, n in sorted(counts.items())], lang)

    out = []
    corpus = inputs.corpus
    if corpus is None:
        out.append(say(lang, "sen.corpus_gone"))
    elif corpus["with_data"]:
        out.append(say(lang, "sen.corpus", with_data=corpus["with_data"], docs=corpus["documents"],
                       kinds=kinds(corpus["kinds"])))
    else:
        out.append(say(lang, "sen.corpus_clean", docs=corpus["documents"]))
    trained = [s for s in inputs.summary.strategies if s.config.get("model_id")]
    if not trained:
        out.append(say(lang, "sen.no_models"))
    for s in trained:
        lineage = inputs.models.get(s.config["model_id"])
        label = ev.strategy(s.key).name(lang, title=True)
        if lineage is None:
            out.append(say(lang, "sen.model.gone", model=label))
            continue
        label = f"{label} ({lineage.get('name')})"
        guard = lineage.get("guard") or {}
        decision = guard.get("decision") if guard.get("decision") in (
            "clean", "redact", "acknowledge") else "unknown"
        out.append(say(lang, f"sen.model.{decision}", model=label, kinds=kinds(guard.get("kinds") or {}),
                       examples=guard.get("examples", 0)))
    return out


def settings_used(inputs: "ReportInputs", lang: str) -> list[tuple[str, str]]:
    """(setting, value) pairs: the run, its questions, corpus, metrics, each strategy's full
    configuration and the prices behind the costs."""
    run, cfg = inputs.summary.run, inputs.settings
    corpus = say(lang, "na") if run.corpus_name is None else say(
        lang, "set.corpus_value", name=run.corpus_name, version=run.corpus_version)
    rows = [(say(lang, "set.run"), f"{run.name} ({run.id})"),
            (say(lang, "set.questions"), say(lang, "set.questions_value", name=run.question_set_name,
                                             version=run.question_set_version or 1,
                                             part=say(lang, f"part.{run.part}"), n=run.n_questions)),
            (say(lang, "set.corpus"), corpus),
            (say(lang, "set.embedding"), run.embed_spec),
            (say(lang, "set.metrics"), ", ".join(metric_label(k, lang) for k in run.metric_keys)),
            (say(lang, "set.seed"), str(run.seed))]
    for s in run.strategies:
        summary = inputs.summary.strategy(s.key)
        name = StrategyEvidence(s.key, s.label, s.kind, summary.abstention).name(lang, title=True)
        value = s.config.describe() + (f" · {s.model_record}" if s.model_record else "")
        rows.append((say(lang, "set.strategy", name=name), value))
    rows.append((say(lang, "set.prices"), say(
        lang, "set.prices_value", hour=money(cfg["price_per_hour"], lang),
        tin=money(cfg["price_per_1k_tokens_in"], lang), tout=money(cfg["price_per_1k_tokens_out"], lang))))
    rows.append((say(lang, "set.judge"), ", ".join(inputs.judges) or cfg.get("judge_model")
                 or say(lang, "none")))
    return rows
