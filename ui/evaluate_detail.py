"""The question-level views of an evaluation run: the per-question heatmap with every strategy's
answer side by side (reference and passages included), and head to head between two strategies.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import streamlit as st

from backend.evaluate import results
from backend.evaluate.metrics import HEADLINE_METRIC, METRICS
from backend.evaluate.strategies import get_strategy
from backend.evaluate.wording import describe_comparison, format_number
from ui import charts
from ui.evaluate_frames import heatmap_grid, overview_metrics, question_label
from ui.evaluate_results import (View, coloured_name, metric_help, metric_in_sentence,
                                 metric_label, pick, plot)
from ui.i18n import t
from ui.sources import highlight_html, md_escape, question_pattern

if TYPE_CHECKING:
    from backend.lab import Lab

METRIC_KEY = "evaluate.question.metric"
HEATMAP_KEY = "evaluate.chart.heatmap"
QUESTION_KEY = "evaluate.question"
H2H_A_KEY = "evaluate.h2h.a"
H2H_B_KEY = "evaluate.h2h.b"
H2H_METRIC_KEY = "evaluate.h2h.metric"
TEXT_STYLE = "font-size:0.95rem;line-height:1.5;overflow-wrap:anywhere"


def _metric_choices(view: View) -> list[str]:
    keys = overview_metrics(view.metric_keys)
    return keys + [k for k in ("abstention",) if k in view.metric_keys]


def _picked_from_chart(positions: list[int], labels: list[str]) -> None:
    """A click on a heatmap cell opens that question (runs before the page, as callbacks do)."""
    event = st.session_state.get(HEATMAP_KEY) or {}
    points = (event.get("selection") or {}).get("points") or []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list):
            custom = custom[0] if custom else None
        if custom is not None and int(custom) in positions:
            st.session_state[QUESTION_KEY] = int(custom)
            return
        if point.get("y") in labels:
            st.session_state[QUESTION_KEY] = positions[labels.index(point["y"])]
            return


def per_question_tab(lab: "Lab", view: View) -> None:
    """Heatmap of one metric (questions x strategies); a click or the selectbox opens a question
    with every strategy's answer, the reference and the passages side by side."""
    run = view.summary.run
    choices = _metric_choices(view)
    metric = pick(st.selectbox, t("evaluate.question.metric"), choices, METRIC_KEY,
                  default=HEADLINE_METRIC, format_func=metric_label,
                  help=metric_help(st.session_state.get(METRIC_KEY, HEADLINE_METRIC)))
    rows = results.per_question(lab, run.id, metric)
    values, statuses, labels = heatmap_grid(rows, view.names)
    positions = list(values.index)
    low, high = METRICS[metric].range
    texts = {"not_applicable": t("evaluate.heat.not_applicable"), "failed": t("evaluate.heat.failed"),
             "missing": t("evaluate.heat.missing")}
    fig = charts.score_heatmap(values, statuses, labels, zmin=max(low, 0.0), zmax=high,
                               colorbar_title=metric_label(metric), status_texts=texts)
    plot(fig, HEATMAP_KEY, on_select=lambda: _picked_from_chart(positions, labels),
         selection_mode="points")
    st.caption(t("evaluate.question.caption"))
    if st.session_state.get(QUESTION_KEY) not in positions:
        st.session_state[QUESTION_KEY] = positions[0]
    position = st.selectbox(t("evaluate.question.open"), positions, key=QUESTION_KEY,
                            format_func=lambda p: labels[positions.index(p)])
    question_panel(lab, view, position)


def _score_line(scores: dict, keys: list[str], view: View) -> str:
    parts = []
    for k in keys:
        s = scores.get(k) or {}
        if s.get("status") == "ok":
            parts.append(f"{metric_label(k)} {format_number(s['value'], view.lang)}")
        elif s.get("status") == "not_applicable":
            parts.append(f"{metric_label(k)} {t('evaluate.heat.not_applicable')}")
        elif s.get("status") == "failed":
            parts.append(f"{metric_label(k)} {t('evaluate.heat.failed')}")
    return " · ".join(parts)


def question_panel(lab: "Lab", view: View, position: int) -> None:
    """One question: the reference (and its passages), then one column per strategy with its
    answer, scores, latency and tokens, and the passages it was given, question words marked."""
    detail = results.question_detail(lab, view.summary.run.id, position)
    pattern = question_pattern(detail["question"])
    with st.container(border=True):
        st.markdown(f"**{md_escape(question_label(position, detail['question'], width=10_000))}**")
        if detail["unanswerable"]:
            st.badge(t("evaluate.question.unanswerable"), icon=":material/block:", color="orange")
        st.markdown(f"{t('evaluate.question.reference')}: "
                    f"{md_escape(detail['reference'] or t('evaluate.question.no_reference'))}")
        passages = detail["reference_contexts"] or []
        if passages:
            with st.expander(t("evaluate.question.reference_passages", n=len(passages))):
                for text in passages:
                    st.markdown(f"<div style='{TEXT_STYLE}'>{highlight_html(text, pattern)}</div>",
                                unsafe_allow_html=True)
    keys = _metric_choices(view)
    answers = {a["strategy"]: a for a in detail["answers"]}
    ordered_keys = [s.key for s in view.by_legend]
    per_row = min(4, max(2, len(ordered_keys)))
    for start in range(0, len(ordered_keys), per_row):
        for column, key in zip(st.columns(per_row, gap="medium"), ordered_keys[start:start + per_row]):
            a, name = answers[key], view.names[key]
            with column:
                coloured_name(name, view.colours[name])
                if a.get("answer") is None:
                    st.caption(t("evaluate.question.not_answered"))
                    continue
                if a.get("error"):
                    st.error(t("evaluate.question.failed", error=a["error"]), icon=":material/error:")
                else:
                    st.markdown(f"<div style='{TEXT_STYLE}'>{highlight_html(a['answer'] or '—', None)}"
                                "</div>", unsafe_allow_html=True)
                st.caption(md_escape(_score_line(a.get("scores") or {}, keys, view)))
                st.caption(t("evaluate.question.cost", latency=format_number(a["latency_s"] or 0,
                                                                             view.lang),
                             tokens_in=a.get("tokens_in") or 0, tokens_out=a.get("tokens_out") or 0))
                contexts = a.get("contexts")
                if contexts is None:
                    st.caption(t("evaluate.question.closed_book"))
                elif contexts:
                    with st.expander(t("evaluate.question.passages", n=len(contexts))):
                        for i, text in enumerate(contexts, start=1):
                            st.markdown(f"<div style='{TEXT_STYLE}'><b>[{i}]</b> "
                                        f"{highlight_html(text, pattern)}</div>", unsafe_allow_html=True)


# --- head to head ---------------------------------------------------------------------------------
def sentence_name(strategy: Any, view: View) -> str:
    """A strategy's name inside a sentence ("the base model" / "el modelo base"; a custom label
    as it is)."""
    try:
        default = get_strategy(strategy.kind).default_label
    except Exception:  # noqa: BLE001
        default = None
    return t(f"evaluate.sentence.{strategy.kind}") if strategy.label == default else strategy.label


def capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def head_to_head_tab(lab: "Lab", view: View) -> None:
    """Two strategies and a metric: wins / ties / losses per question, the paired difference with
    its CI, and the sentence that says who wins (or that no difference is detectable)."""
    strategies = view.by_legend
    if len(strategies) < 2:
        st.info(t("evaluate.h2h.one_strategy"), icon=":material/info:")
        return
    keys = [s.key for s in strategies]
    left, middle, right = st.columns(3)
    a = pick(left.selectbox, t("evaluate.h2h.a"), keys, H2H_A_KEY, default=keys[-1],
             format_func=view.names.get)
    b = pick(middle.selectbox, t("evaluate.h2h.b"), keys, H2H_B_KEY, default=keys[0],
             format_func=view.names.get)
    choices = overview_metrics(view.metric_keys)
    metric = pick(right.selectbox, t("evaluate.h2h.metric"), choices, H2H_METRIC_KEY,
                  default=HEADLINE_METRIC, format_func=metric_label)
    if a == b:
        st.info(t("evaluate.h2h.same"), icon=":material/compare_arrows:")
        return
    result = results.head_to_head(lab, view.summary.run.id, a, b, metric)
    sa, sb = view.summary.strategy(a), view.summary.strategy(b)
    cmp = replace(result.comparison, a=sentence_name(sa, view), b=sentence_name(sb, view))
    sentence = describe_comparison(cmp, metric_in_sentence(metric), view.lang,
                                   higher_is_better=METRICS[metric].higher_is_better)
    st.markdown(f"#### {md_escape(capitalised(sentence))}")
    name_a, name_b = view.names[a], view.names[b]
    d = cmp.diff
    p = "—" if cmp.p_value is None else format_number(cmp.p_value, view.lang, 3)
    st.caption(t("evaluate.h2h.caption", n=cmp.n, tolerance=format_number(cmp.tie_tolerance, view.lang),
                 p=p))
    fig = charts.wins_ties_losses(name_a, name_b, cmp.wins, cmp.ties, cmp.losses, view.strategies,
                                  labels={"wins": t("evaluate.h2h.wins", name=name_a),
                                          "ties": t("evaluate.h2h.ties"),
                                          "losses": t("evaluate.h2h.wins", name=name_b)},
                                  x_title=t("evaluate.h2h.questions"))
    plot(fig, "evaluate.chart.h2h")
    winner = name_a if (d.mean or 0) > 0 else name_b
    colour = view.colours[winner] if cmp.significant else charts.TIE_COLOUR
    fig = charts.difference_interval(d.mean, d.low, d.high, colour=colour,
                                     x_title=t("evaluate.h2h.difference", a=name_a, b=name_b,
                                               metric=metric_label(metric)))
    plot(fig, "evaluate.chart.difference")
