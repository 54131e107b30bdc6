"""The evaluation figure builders (ui/charts.py) and the tables they are drawn from
(ui/evaluate_frames.py): confidence intervals reach the figures as error arrays, a not-applicable
or failed metric is never plotted as 0, colours come from the palette and the legend order is fixed
whatever order the strategies come in."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from backend.evaluate.results import MetricSummary, StrategySummary
from backend.evaluate.stats import Estimate
from ui import charts, palette
from ui.evaluate_frames import (cell_status, display_name, heatmap_grid, judge_metrics_missing,
                                metric_cells, overview_metrics, question_label, rate_rows,
                                score_text, tradeoff_points)

NA, FAILED = "not applicable: no context", "failed: {n}"


def _ms(metric: str, values: list[float], *, na: int = 0, failed: int = 0) -> MetricSummary:
    n = len(values)
    mean = sum(values) / n if n else None
    low, high = (min(values), max(values)) if n > 1 else (None, None)
    return MetricSummary(metric, Estimate(mean, low, high, n), na, failed, {})


def _strategy(key: str, kind: str, label: str, metrics: dict[str, MetricSummary], *,
              p95: float = 1.0, cost: float = 0.2, build: float | None = 0.0) -> StrategySummary:
    return StrategySummary(
        key=key, label=label, kind=kind, config={}, model_record=None, answered=4, failed_answers=0,
        metrics=metrics, abstention=metrics.get("abstention", _ms("abstention", [])).estimate,
        latency_mean=p95 / 2, latency_p95=p95, seconds_per_question=0.5, tokens_in_mean=40,
        tokens_out_mean=12, cost_per_1k=cost, build_seconds=build,
        build_cost=None if build is None else build * 0.1 / 3600)


@pytest.fixture
def summaries() -> list[StrategySummary]:
    """RAG listed before the base model, on purpose: charts must still put the base model first."""
    rag = _strategy("rag", "rag", "RAG", {
        "semantic_similarity": _ms("semantic_similarity", [0.6, 0.8, 0.7]),
        "context_recall": _ms("context_recall", [1.0, 0.5]),
        "rouge_l": _ms("rouge_l", [], failed=3),
        "abstention": _ms("abstention", [1.0, 0.0])}, p95=2.5, cost=0.3, build=12.0)
    base = _strategy("base", "base", "Base", {
        "semantic_similarity": _ms("semantic_similarity", [0.3, 0.5, 0.4]),
        "context_recall": _ms("context_recall", [], na=3),
        "rouge_l": _ms("rouge_l", [0.1, 0.2]),
        "abstention": _ms("abstention", [0.0, 0.0])}, p95=0.8, cost=0.1, build=0.0)
    return [rag, base]


NAMES = {"rag": "RAG", "base": "Base model"}
PAIRS = [("RAG", "rag"), ("Base model", "base")]
KEYS = ["semantic_similarity", "rouge_l", "context_recall"]
LABELS = {"semantic_similarity": "Answer similarity", "rouge_l": "ROUGE-L",
          "context_recall": "Context recall"}


def _bars(summaries):
    cells = metric_cells(summaries, KEYS, NAMES)
    return charts.metric_bars(cells, PAIRS, LABELS, y_title="Score", not_applicable_text=NA,
                              failed_text=FAILED)


def _score_traces(fig):
    return [tr for tr in fig.data if tr.meta is None]


# --- frames ------------------------------------------------------------------------------------------
def test_cells_say_why_a_number_is_missing(summaries):
    cells = metric_cells(summaries, KEYS, NAMES).set_index(["strategy", "metric"])
    assert cells.loc[("Base model", "context_recall"), "status"] == "not_applicable"
    assert cells.loc[("RAG", "rouge_l"), "status"] == "failed"
    assert cells.loc[("RAG", "rouge_l"), "failed"] == 3
    ok = cells.loc[("RAG", "semantic_similarity")]
    assert ok["status"] == "ok" and ok["n"] == 3 and ok["mean"] == pytest.approx(0.7)
    assert cell_status(None) == "missing" and cell_status(_ms("x", [])) == "missing"


def test_overview_and_judge_metric_lists():
    keys = ["semantic_similarity", "abstention", "false_abstention", "context_recall"]
    assert overview_metrics(keys) == ["semantic_similarity", "context_recall"]
    assert overview_metrics(keys + ["faithfulness"])[-1] == "faithfulness"  # once judged, drawn
    assert "faithfulness" in judge_metrics_missing(keys)
    assert "faithfulness" not in judge_metrics_missing(keys + ["faithfulness"])


def test_score_text_never_shows_nan():
    est = Estimate(0.72, 0.68, 0.76, 12)
    texts = {"not_applicable": "not applicable", "failed": "failed ({n})", "some_failed": "; {n} failed"}
    assert score_text(est, "ok", "en", texts) == "0.72 (95% CI 0.68–0.76, n = 12)"
    assert score_text(est, "ok", "es", texts, failed=2) == "0,72 (IC 95 % 0,68–0,76; n = 12); 2 failed"
    assert score_text(Estimate(None, None, None, 0), "failed", "en", texts, failed=3) == "failed (3)"
    assert score_text(None, "not_applicable", "en", texts) == "not applicable"


def test_display_names_translate_default_labels_only():
    kinds = {"base": "Modelo base", "finetuned": "Ajuste fino"}
    assert display_name("Base", "base", kinds) == "Modelo base"
    assert display_name("lora-demo", "finetuned", kinds) == "lora-demo"
    assert display_name("Fine-tuned", "finetuned", kinds) == "Ajuste fino"


# --- grouped bars --------------------------------------------------------------------------------------
def test_bars_carry_confidence_intervals_as_error_arrays(summaries):
    fig = _bars(summaries)
    rag = next(tr for tr in _score_traces(fig) if tr.name == "RAG")
    similarity = list(rag.x).index("Answer<br>similarity")
    assert rag.y[similarity] == pytest.approx(0.7)
    assert rag.error_y.array[similarity] == pytest.approx(0.8 - 0.7)
    assert rag.error_y.arrayminus[similarity] == pytest.approx(0.7 - 0.6)
    assert rag.error_y.visible and not rag.error_y.symmetric


def test_not_applicable_and_failed_metrics_are_not_plotted_as_zero(summaries):
    fig = _bars(summaries)
    base = next(tr for tr in _score_traces(fig) if tr.name == "Base model")
    rag = next(tr for tr in _score_traces(fig) if tr.name == "RAG")
    recall = list(base.x).index("Context recall")
    assert base.y[recall] is None and base.error_y.array[recall] is None
    assert rag.y[list(rag.x).index("ROUGE-L")] is None
    assert all(v is None or v > 0 for tr in _score_traces(fig) for v in tr.y)
    na = [tr for tr in fig.data if tr.meta == "not_applicable"]
    assert len(na) == 1 and na[0].offsetgroup == "Base model"  # in the base model's slot
    assert list(na[0].x) == ["Context recall"] and list(na[0].text) == [NA]
    assert na[0].marker.pattern.shape == "/"  # hatched, and spans the axis: not a score
    failed = [tr for tr in fig.data if tr.meta == "failed"]
    assert len(failed) == 1 and list(failed[0].text) == ["failed: 3"]
    assert failed[0].offsetgroup == "RAG"


def test_bars_use_palette_colours_in_fixed_legend_order(summaries):
    fig = _bars(summaries)
    traces = _score_traces(fig)
    assert [tr.name for tr in traces] == ["Base model", "RAG"]  # base first, as LEGEND_ORDER says
    assert [tr.marker.color for tr in traces] == [palette.BASE, palette.RAG]
    assert fig.layout.legend.traceorder == "normal"
    ranks = {tr.name: tr.legendrank for tr in fig.data if tr.showlegend is not False}
    assert ranks["Base model"] < ranks["RAG"] < ranks["not applicable"]  # placeholders listed last
    assert list(fig.layout.xaxis.categoryarray) == ["Answer<br>similarity", "ROUGE-L", "Context recall"]


def test_several_fine_tunes_keep_distinct_orange_shades():
    cells = pd.DataFrame([{"strategy": s, "metric": "bleu", "mean": m, "low": m - .1, "high": m + .1,
                           "n": 5, "failed": 0, "status": "ok"} for s, m in (("ft-a", .3), ("ft-b", .4),
                                                                               ("hyb", .5))])
    fig = charts.metric_bars(cells, [("hyb", "hybrid"), ("ft-a", "finetuned"), ("ft-b", "finetuned")],
                             {"bleu": "BLEU"}, y_title="", not_applicable_text=NA, failed_text=FAILED)
    assert [tr.name for tr in fig.data] == ["ft-a", "ft-b", "hyb"]
    colours = [tr.marker.color for tr in fig.data]
    assert colours[0] == palette.FINETUNED and colours[1] != colours[0] and colours[2] == palette.HYBRID


# --- the other figures -----------------------------------------------------------------------------------
def test_tradeoff_scatter_sizes_by_build_cost(summaries):
    points = tradeoff_points(summaries, NAMES, "latency", "semantic_similarity", lambda s: "x")
    fig = charts.tradeoff_scatter(points, PAIRS, x_title="p95", y_title="sim", size_title="build")
    by_name = {tr.name: tr for tr in fig.data}
    assert list(by_name) == ["Base model", "RAG"]
    assert by_name["RAG"].x[0] == 2.5 and by_name["RAG"].y[0] == pytest.approx(0.7)
    assert by_name["RAG"].marker.size > by_name["Base model"].marker.size
    assert by_name["RAG"].marker.color == palette.RAG
    assert by_name["RAG"].error_y.array[0] == pytest.approx(0.1)
    cost = tradeoff_points(summaries, NAMES, "cost", "semantic_similarity", lambda s: "x")
    assert dict(zip(cost["strategy"], cost["x"])) == {"RAG": 0.3, "Base model": 0.1}
    unknown = points.assign(size=[None, 0.0])
    fig = charts.tradeoff_scatter(unknown, PAIRS, x_title="p95", y_title="sim", size_title="build")
    assert {tr.name: tr.marker.symbol for tr in fig.data}["RAG"] == "circle-open"


def test_heatmap_leaves_missing_scores_uncoloured_and_says_why():
    rows = [{"position": p, "qid": str(p), "question": q, "unanswerable": False, "strategy": s,
             "label": s, "value": v, "status": st, "reason": None}
            for p, q in ((0, "How long is the return period?"), (1, "Where is the office?"))
            for s, v, st in (("base", 0.2 + p / 10, "ok"),
                             ("rag", None, "not_applicable" if p else "failed"))]
    values, statuses, labels = heatmap_grid(rows, NAMES)
    assert list(values.columns) == ["Base model", "RAG"] and labels[0].startswith("Q1 · How long")
    fig = charts.score_heatmap(values, statuses, labels, zmin=0, zmax=1, colorbar_title="sim",
                               status_texts={"not_applicable": "n/a", "failed": "failed"})
    heat = fig.data[0]
    assert [row[1] for row in heat.z] == [None, None]
    assert [row[1] for row in heat.text] == ["failed", "n/a"]
    assert heat.z[1][0] == pytest.approx(0.3) and heat.text[1][0] == "0.30"
    assert [row[0] for row in heat.customdata] == [0, 1]
    cells = fig.data[1]  # clickable (invisible) markers: a click names the question's position
    assert list(cells.customdata) == [0, 0, 1, 1] and list(cells.y) == [labels[0]] * 2 + [labels[1]] * 2
    assert fig.layout.yaxis.autorange == "reversed"


def test_head_to_head_figures():
    fig = charts.wins_ties_losses("RAG", "Base model", 5, 2, 1, PAIRS,
                                  labels={"wins": "RAG better", "ties": "Tie", "losses": "Base better"})
    assert [tr.x[0] for tr in fig.data] == [5, 2, 1]
    assert [tr.marker.color for tr in fig.data] == [palette.RAG, charts.TIE_COLOUR, palette.BASE]
    fig = charts.difference_interval(0.07, 0.03, 0.11, x_title="RAG − Base", colour=palette.RAG)
    assert fig.data[0].error_x.array[0] == pytest.approx(0.04)
    assert fig.data[0].error_x.arrayminus[0] == pytest.approx(0.04)
    empty = charts.difference_interval(None, None, None, x_title="", colour=palette.RAG)
    assert not empty.data  # no number: nothing plotted, not a point at 0


def test_rate_dots_leave_out_strategies_without_a_rate(summaries):
    rows = rate_rows(summaries, NAMES, "abstention")
    fig = charts.rate_dots(rows, PAIRS, x_title="Declined")
    assert [tr.name for tr in fig.data] == ["Base model", "RAG"]
    base, rag = fig.data
    assert base.x[0] == 0.0 and base.text[0].strip() == "0% (n = 2)"  # a real 0% is drawn, as 0%
    assert rag.x[0] == pytest.approx(0.5) and rag.error_x.array[0] == pytest.approx(0.5)
    rows.loc[rows["strategy"] == "Base model", ["mean", "n"]] = [None, 0]
    fig = charts.rate_dots(rows, PAIRS, x_title="Declined")
    assert [tr.name for tr in fig.data] == ["RAG"]  # no number: left out, not drawn at 0


def test_run_comparison_hatches_the_second_run():
    rows = pd.DataFrame([{"strategy": s, "run": r, "mean": m, "low": m - .1, "high": m + .1, "n": 4}
                         for s, r, m in (("RAG", 0, .6), ("RAG", 1, .7), ("Base model", 0, .3),
                                         ("Base model", 1, math.nan))])
    fig = charts.run_comparison_bars(rows, PAIRS, ("this run", "older"), y_title="sim")
    first, second = fig.data
    assert list(first.x) == ["Base model", "RAG"] and list(first.marker.color) == [palette.BASE, palette.RAG]
    assert second.marker.pattern.shape == "/" and first.marker.pattern.shape == ""
    assert second.y[0] is None and second.y[1] == pytest.approx(0.7)  # NaN is no bar, not 0


def test_labels():
    assert charts.wrap_label("Answer similarity") == "Answer<br>similarity"
    assert charts.wrap_label("BLEU") == "BLEU"
    assert question_label(2, "  How   many days " + "x" * 80).startswith("Q3 · How many days")
    assert question_label(0, "a" * 100).endswith("…")
