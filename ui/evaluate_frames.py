"""Evaluation results as the tables the charts and the page draw: pure, no Streamlit.

``results.run_summary`` and friends return dataclasses; these functions turn them into DataFrames
with one row per thing drawn, naming strategies by their display name. A metric with no ok score
gets a status saying why (not applicable, failed, or not scored yet), so nothing downstream ever
has to guess whether a missing number is a zero.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from backend.evaluate.metrics import METRICS, judge_keys

#: metrics with their own tab (Unanswerable) instead of the overview bars
ABSTENTION_METRICS = ("abstention", "false_abstention")
OK, NOT_APPLICABLE, FAILED, MISSING = "ok", "not_applicable", "failed", "missing"


def overview_metrics(metric_keys: Sequence[str]) -> list[str]:
    """The metrics drawn in the overview (offline ones, and judged ones once scored): all the
    run's metrics but abstention, which has its own tab."""
    return [k for k in metric_keys if k in METRICS and k not in ABSTENTION_METRICS]


def summary_metrics(summary: Any) -> list[str]:
    """The metrics a ``RunSummary`` has numbers for (the run's offline metrics, then any judged
    ones), in order."""
    if summary.strategies:
        return list(summary.strategies[0].metrics)
    return list(summary.run.metric_keys)


def judge_metrics_missing(metric_keys: Sequence[str]) -> list[str]:
    """The LLM-judged metrics this run does not have (they need a judge model)."""
    return [k for k in judge_keys() if k not in metric_keys]


def display_name(label: str, kind: str, kind_names: Mapping[str, str]) -> str:
    """A strategy's name on screen: its kind's translated name when it kept the default label
    ("RAG", "Base"), else the label it was given (a model name, "RAG k=5")."""
    from backend.evaluate.strategies import get_strategy

    try:
        default = get_strategy(kind).default_label
    except Exception:  # noqa: BLE001 - an unknown kind keeps its label
        return label
    return kind_names.get(kind, label) if label == default else label


def names_and_kinds(strategies: Sequence[Any], kind_names: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(display name, kind)`` per strategy (anything with ``label`` and ``kind``), in run order."""
    return [(display_name(s.label, s.kind, kind_names), s.kind) for s in strategies]


def cell_status(summary: Any) -> str:
    """Why a metric summary has (or lacks) a number: ok, not_applicable, failed or missing."""
    if summary is None:
        return MISSING
    if summary.n > 0:
        return OK
    if summary.not_applicable == 0 and summary.failed == 0:
        return MISSING
    return NOT_APPLICABLE if summary.not_applicable >= summary.failed else FAILED


def metric_cells(strategies: Sequence[Any], metric_keys: Sequence[str],
                 names: Mapping[str, str]) -> pd.DataFrame:
    """One row per (strategy, metric): strategy (display name), metric, mean, low, high, n,
    not_applicable, failed, status. ``strategies`` are ``StrategySummary``; ``names`` maps their
    keys to display names."""
    rows = []
    for s in strategies:
        for key in metric_keys:
            m = s.metrics.get(key)
            est = m.estimate if m is not None else None
            rows.append({"strategy": names[s.key], "metric": key,
                         "mean": est.mean if est else None, "low": est.low if est else None,
                         "high": est.high if est else None, "n": est.n if est else 0,
                         "not_applicable": m.not_applicable if m else 0,
                         "failed": m.failed if m else 0, "status": cell_status(m)})
    return pd.DataFrame(rows, columns=["strategy", "metric", "mean", "low", "high", "n",
                                       "not_applicable", "failed", "status"])


def tradeoff_points(strategies: Sequence[Any], names: Mapping[str, str], axis: str,
                    headline: str, describe_build: Callable[[Any], str]) -> pd.DataFrame:
    """One row per strategy: x (p95 latency in seconds, or USD per 1,000 questions when ``axis``
    is "cost"), y (the headline mean) with low/high and n, size (one-off build seconds) and
    size_text (``describe_build(strategy_summary)``)."""
    rows = []
    for s in strategies:
        m = s.metrics.get(headline)
        est = m.estimate if m is not None else None
        rows.append({"strategy": names[s.key],
                     "x": s.cost_per_1k if axis == "cost" else s.latency_p95,
                     "y": est.mean if est else None, "low": est.low if est else None,
                     "high": est.high if est else None, "n": est.n if est else 0,
                     "size": s.build_seconds, "size_text": describe_build(s)})
    return pd.DataFrame(rows, columns=["strategy", "x", "y", "low", "high", "n", "size", "size_text"])


def rate_rows(strategies: Sequence[Any], names: Mapping[str, str], metric: str) -> pd.DataFrame:
    """One row per strategy with the mean, CI and n of ``metric`` (abstention rates)."""
    rows = []
    for s in strategies:
        m = s.metrics.get(metric)
        est = m.estimate if m is not None else None
        rows.append({"strategy": names[s.key], "mean": est.mean if est else None,
                     "low": est.low if est else None, "high": est.high if est else None,
                     "n": est.n if est else 0})
    return pd.DataFrame(rows, columns=["strategy", "mean", "low", "high", "n"])


def question_label(position: int, question: str, width: int = 60) -> str:
    """"Q3 · How many days do customers have to…" (numbered from 1, shortened to ``width``)."""
    text = " ".join((question or "").split())
    if len(text) > width:
        text = text[:width - 1].rstrip() + "…"
    return f"Q{position + 1} · {text}"


def heatmap_grid(rows: Sequence[Mapping[str, Any]], names: Mapping[str, str]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """From ``results.per_question`` rows: (values, statuses, question labels). ``values`` and
    ``statuses`` are indexed by question position with one column per strategy display name (in
    run order); a pair not scored yet has status "missing"."""
    order = list(dict.fromkeys(names[r["strategy"]] for r in rows))
    positions = list(dict.fromkeys(r["position"] for r in rows))
    values = pd.DataFrame(index=positions, columns=order, dtype=float)
    statuses = pd.DataFrame(MISSING, index=positions, columns=order, dtype=object)
    labels: dict[int, str] = {}
    for r in rows:
        name = names[r["strategy"]]
        labels[r["position"]] = question_label(r["position"], r["question"])
        statuses.at[r["position"], name] = r["status"] or MISSING
        if r["status"] == OK and r["value"] is not None:
            values.at[r["position"], name] = float(r["value"])
    return values, statuses, [labels[p] for p in positions]


def comparison_rows(comparison: Mapping[str, Any], names: Mapping[str, str]) -> pd.DataFrame:
    """From ``results.compare_runs``: one row per (strategy, run 0/1) with mean, low, high, n;
    ``names`` maps the runs' strategy labels to display names."""
    rows = []
    for row in comparison["rows"]:
        for run, est in ((0, row["a"]), (1, row["b"])):
            rows.append({"strategy": names.get(row["label"], row["label"]), "run": run,
                         "mean": est.mean, "low": est.low, "high": est.high, "n": est.n})
    return pd.DataFrame(rows, columns=["strategy", "run", "mean", "low", "high", "n"])


def score_text(estimate: Any, status: str, language: str, texts: Mapping[str, str], *,
               failed: int = 0) -> str:
    """A table cell: "0.72 (95% CI 0.68–0.76, n = 12)", or the words for a missing number
    (``texts[status]``, which may use ``{n}`` for the failed count); never "nan"."""
    from backend.evaluate.wording import describe_estimate

    if status == OK and estimate is not None:
        text = describe_estimate(estimate, language)
        return text + (texts.get("some_failed", "").replace("{n}", str(failed)) if failed else "")
    return texts.get(status, "").replace("{n}", str(failed))
