"""The results of one evaluation run: the headline row, the Overview, Trade-offs and Unanswerable
tabs. (Per question and Head to head live in ``ui.evaluate_detail``.)

Every number is shown with its interval or its sample size; a metric without a number says why
(not applicable, failed, needs a judge) instead of showing 0 or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pandas as pd
import streamlit as st

from backend.evaluate.metrics import HEADLINE_METRIC, METRICS
from backend.evaluate.wording import describe_estimate, format_number
from ui import charts
from ui.evaluate_frames import (ABSTENTION_METRICS, cell_status, judge_metrics_missing,
                                metric_cells, names_and_kinds, overview_metrics, rate_rows,
                                score_text, summary_metrics, tradeoff_points)
from ui.i18n import current_language, t
from ui.jobs import format_duration
from ui.palette import colour_map, ordered

if TYPE_CHECKING:
    from backend.evaluate.results import RunSummary

AXIS_KEY = "evaluate.tradeoff.axis"
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
KINDS = ("base", "rag", "finetuned", "hybrid")


@dataclass
class View:
    """What every tab needs: the summary, display names by strategy key, (name, kind) pairs in
    run order, their colours, and the language numbers are written in."""

    summary: "RunSummary"
    names: dict[str, str]
    strategies: list[tuple[str, str]]
    colours: dict[str, str]
    lang: str

    @classmethod
    def of(cls, summary: "RunSummary") -> "View":
        kind_names = {k: t(f"strategy.{k}") for k in KINDS}
        pairs = names_and_kinds(summary.strategies, kind_names)
        names = {s.key: name for s, (name, _) in zip(summary.strategies, pairs)}
        return cls(summary, names, pairs, colour_map(ordered(pairs)), current_language())

    @property
    def by_legend(self) -> list:
        """The strategy summaries in legend order (base, RAG, fine-tuned, hybrid)."""
        rank = {name: i for i, (name, _) in enumerate(ordered(self.strategies))}
        return sorted(self.summary.strategies, key=lambda s: rank[self.names[s.key]])

    @property
    def metric_keys(self) -> list[str]:
        """The metrics this run has numbers for (offline, then judged ones once judged)."""
        return summary_metrics(self.summary)

    def number(self, value: float | None, decimals: int = 2) -> str:
        return "—" if value is None else format_number(value, self.lang, decimals)


@st.cache_data(ttl=600, show_spinner=False, max_entries=16)
def _summary(env: tuple, run_id: str, stamp: tuple) -> "RunSummary":
    from backend.evaluate.results import run_summary
    from ui.state import get_lab

    return run_summary(get_lab(), run_id)


def cached_summary(run_id: str, stamp: tuple) -> "RunSummary":
    """``results.run_summary`` of a run, recomputed only when ``stamp`` (what the run's job has
    done so far) or the lab changes: the bootstrap intervals need not rerun on every click."""
    from ui.state import env_key

    return _summary(env_key(), run_id, stamp)


def metric_label(key: str) -> str:
    """The short name of a metric ("Answer similarity")."""
    return t(METRICS[key].label_key)


def pick(widget: Callable[..., Any], label: str, options: Sequence[Any], key: str, *,
         default: Any = None, **kwargs: Any) -> Any:
    """``widget`` (st.selectbox, st.radio, or their column/form versions) whose option texts are
    translated, keyed per language: Streamlit keeps showing a keyed widget's old option texts
    after they change, so each language gets its own widget, and the choice carries over."""
    options = list(options)
    last = st.session_state.get(key, default)
    start = last if last in options else default
    index = options.index(start) if start in options else 0
    # the texts are made now, in this run's language (a lazy t() would answer in the default
    # language when called outside the script run, e.g. by AppTest)
    fmt = kwargs.pop("format_func", str)
    texts = {o: fmt(o) for o in options}
    value = widget(label, options, index=index, key=f"{key}.{current_language()}",
                   format_func=lambda o: texts.get(o, str(o)), **kwargs)
    st.session_state[key] = value
    return value


def metric_in_sentence(key: str) -> str:
    """The metric's name inside a sentence: "answer similarity", but "ROUGE-L" and "chrF" as is."""
    label = metric_label(key)
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def metric_help(key: str) -> str:
    """The tooltip of a metric: plain words, then how it is computed and its range."""
    return f"{t(f'metric.{key}.plain')}\n\n{t(f'metric.{key}.help')}"


def status_texts() -> dict[str, str]:
    return {"not_applicable": t("evaluate.cell.not_applicable"), "failed": t("evaluate.cell.failed"),
            "missing": t("evaluate.cell.missing"), "some_failed": t("evaluate.cell.some_failed")}


def coloured_name(name: str, colour: str) -> None:
    """A strategy's name with its palette colour as a bar above it."""
    st.markdown(f"<div style='border-top:5px solid {colour};padding-top:0.35rem;font-weight:600;"
                f"color:{colour}'>{_html(name)}</div>", unsafe_allow_html=True)


def _html(text: str) -> str:
    import html

    return html.escape(str(text))


def plot(fig: Any, key: str, **kwargs: Any) -> Any:
    """A figure on the page with the lab's own look (Streamlit's theme would recolour it)."""
    return st.plotly_chart(fig, theme=None, key=key, config=PLOTLY_CONFIG, **kwargs)


def interval_text(est: Any, summary: Any, view: View) -> str:
    """Under a headline number: its interval and n ("95% CI 0.46–0.60, n = 12"), plus failed
    scores; or why there is no number."""
    texts = status_texts()
    failed = summary.failed if summary else 0
    status = cell_status(summary)
    if status != "ok":
        return score_text(est, status, view.lang, texts, failed=failed)
    whole = describe_estimate(est, view.lang)  # "0.53 (95% CI 0.46–0.60, n = 12)"
    text = whole[whole.index("(") + 1:whole.rindex(")")]
    return text + (texts["some_failed"].replace("{n}", str(failed)) if failed else "")


# --- headline row -----------------------------------------------------------------------------------
def headline_row(view: View) -> None:
    """One metric per strategy: the headline mean, its delta against the base model, its CI and n."""
    strategies = view.by_legend
    base = next((s for s in strategies if s.kind == "base"), None)
    base_mean = base.metrics[HEADLINE_METRIC].estimate.mean if (
        base and HEADLINE_METRIC in base.metrics) else None
    st.markdown(f"**{metric_label(HEADLINE_METRIC)}** · {t('evaluate.headline_caption')}",
                help=metric_help(HEADLINE_METRIC))
    per_row = 4
    for start in range(0, len(strategies), per_row):
        chunk = strategies[start:start + per_row]
        for column, s in zip(st.columns(per_row), chunk):
            name = view.names[s.key]
            summary = s.metrics.get(HEADLINE_METRIC)
            est = summary.estimate if summary else None
            with column:
                coloured_name(name, view.colours[name])
                delta = None
                if s is not base and est is not None and est.mean is not None and base_mean is not None:
                    diff = est.mean - base_mean
                    delta = ("+" if diff > 0 else "") + view.number(diff)
                st.metric(name, view.number(est.mean if est else None), delta=delta,
                          delta_description=t("evaluate.vs_base") if delta else None,
                          help=metric_help(HEADLINE_METRIC), label_visibility="collapsed")
                st.caption(interval_text(est, summary, view))


# --- overview ---------------------------------------------------------------------------------------
def overview_tab(view: View) -> None:
    """Grouped bars of every offline metric with CIs, the same numbers as a table with n, the
    metrics that need a judge, and what each metric means."""
    keys = overview_metrics(view.metric_keys)
    labels = {k: metric_label(k) for k in keys}
    cells = metric_cells(view.summary.strategies, keys, view.names)
    st.caption(t("evaluate.overview.caption"))
    fig = charts.metric_bars(cells, view.strategies, labels, y_title=t("evaluate.axis.score"),
                             not_applicable_text=t("evaluate.chart.not_applicable"),
                             failed_text=t("evaluate.chart.failed"), hover_n=t("evaluate.n"))
    plot(fig, "evaluate.chart.overview")
    texts = status_texts()
    table = {}
    for s in view.by_legend:
        column = []
        for k in keys:
            m = s.metrics.get(k)
            column.append(score_text(m.estimate if m else None, cell_status(m), view.lang, texts,
                                     failed=m.failed if m else 0))
        table[view.names[s.key]] = column
    st.dataframe(pd.DataFrame(table, index=[labels[k] for k in keys]), width="stretch")
    judge = getattr(view.summary, "judge", None) or {}
    missing = [k for k in (judge.get("needs_judge") or judge_metrics_missing(view.metric_keys))
               if k in METRICS and k not in view.metric_keys]
    if missing:
        names = ", ".join(metric_label(k) for k in missing)
        # configured but not run yet is another situation than no judge at all
        key = "evaluate.not_judged" if judge.get("configured") else "evaluate.needs_judge"
        st.info(t(key, metrics=names), icon=":material/gavel:")
    with st.expander(t("evaluate.metrics_explained"), icon=":material/help:"):
        for k in keys + [k for k in ABSTENTION_METRICS if k in view.metric_keys] + missing:
            st.markdown(f"**{metric_label(k)}** — {t(f'metric.{k}.plain')}", help=t(f"metric.{k}.help"))


# --- trade-offs --------------------------------------------------------------------------------------
def _build_text(s: Any, view: View) -> str:
    if s.build_seconds is None:
        return t("evaluate.build.unknown")
    if not s.build_seconds:
        return t("evaluate.build.none")
    return t("evaluate.build.value", duration=format_duration(s.build_seconds),
             cost=view.number(s.build_cost or 0.0, 3))


def tradeoffs_tab(view: View) -> None:
    """Quality against p95 latency or cost per 1,000 questions, sized by the one-off build cost;
    then the speed and cost figures as a table."""
    axis = pick(st.radio, t("evaluate.tradeoff.axis"), ["latency", "cost"], AXIS_KEY,
                horizontal=True, format_func=lambda a: t(f"evaluate.tradeoff.{a}"))
    x_title = t(f"evaluate.tradeoff.{axis or 'latency'}")
    points = tradeoff_points(view.summary.strategies, view.names, axis or "latency", HEADLINE_METRIC,
                             lambda s: _build_text(s, view))
    fig = charts.tradeoff_scatter(points, view.strategies, x_title=x_title,
                                  y_title=metric_label(HEADLINE_METRIC),
                                  size_title=t("evaluate.tradeoff.size"),
                                  x_unit=" s" if axis != "cost" else " USD")
    plot(fig, "evaluate.chart.tradeoffs")
    st.caption(t("evaluate.tradeoff.caption"))
    rows = []
    for s in view.by_legend:
        rows.append({
            t("evaluate.col.strategy"): view.names[s.key],
            t("evaluate.col.answered"): f"{s.answered - s.failed_answers} / {s.answered}",
            t("evaluate.col.latency_mean"): _seconds(s.latency_mean, view),
            t("evaluate.col.latency_p95"): _seconds(s.latency_p95, view),
            t("evaluate.col.tokens"): (f"{view.number(s.tokens_in_mean, 0)} / "
                                       f"{view.number(s.tokens_out_mean, 0)}"),
            t("evaluate.col.cost"): ("—" if s.cost_per_1k is None
                                     else f"{view.number(s.cost_per_1k, 3)} USD"),
            t("evaluate.col.build"): _build_text(s, view),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _seconds(value: float | None, view: View) -> str:
    return "—" if value is None else f"{view.number(value, 2)} s"


# --- unanswerable ------------------------------------------------------------------------------------
def unanswerable_tab(view: View) -> None:
    """How often each strategy declines the questions the documents cannot answer (good), and
    declines answerable ones (bad), each with its CI and n."""
    run = view.summary.run
    if "abstention" not in run.metric_keys:
        st.info(t("evaluate.unanswerable.not_measured"), icon=":material/info:")
        return
    rows = rate_rows(view.summary.strategies, view.names, "abstention")
    n = int(rows["n"].max() or 0) if not rows.empty else 0
    if n == 0:
        st.info(t("evaluate.unanswerable.none"), icon=":material/info:")
    else:
        st.markdown(f"**{metric_label('abstention')}**", help=metric_help("abstention"))
        st.caption(t("evaluate.unanswerable.caption", n=n))
        plot(charts.rate_dots(rows, view.strategies, x_title=t("evaluate.unanswerable.rate"),
                              hover_n=t("evaluate.n")), "evaluate.chart.abstention")
    if "false_abstention" in run.metric_keys:
        rows = rate_rows(view.summary.strategies, view.names, "false_abstention")
        if int(rows["n"].max() or 0):
            st.markdown(f"**{metric_label('false_abstention')}**", help=metric_help("false_abstention"))
            st.caption(t("evaluate.unanswerable.false_caption"))
            plot(charts.rate_dots(rows, view.strategies, x_title=t("evaluate.unanswerable.false_rate"),
                                  hover_n=t("evaluate.n")), "evaluate.chart.false_abstention")
