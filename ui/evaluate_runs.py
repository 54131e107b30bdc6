"""Evaluation runs as things a user handles: pick one, see what it was (set, corpus version,
strategies and their settings), follow or resume its job, export it, delete it, and compare it
with another run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.evaluate import results, runner
from backend.evaluate.metrics import HEADLINE_METRIC, METRICS
from backend.evaluate.wording import describe_comparison
from ui import charts
from ui.errors import show_error
from ui.evaluate_frames import comparison_rows, display_name, overview_metrics
from ui.evaluate_launch import RUN_KEY, flash
from ui.evaluate_results import KINDS, View, metric_in_sentence, metric_label, pick, plot
from ui.i18n import t
from ui.jobs import status_chip
from ui.sources import md_escape

if TYPE_CHECKING:
    from backend.lab import Lab

DELETE_KEY = "evaluate.delete.confirm"
RESUME_KEY = "evaluate.resume"
EXPORT_CSV_KEY = "evaluate.export.csv"
EXPORT_JSON_KEY = "evaluate.export.json"
COMPARE_KEY = "evaluate.compare.other"
COMPARE_METRIC_KEY = "evaluate.compare.metric"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def run_option(run: dict) -> str:
    """"Returns set v1 · held-out — 2025-05-01 10:12" for the run picker. Nothing that changes
    (status, language): Streamlit would keep showing the option's old text."""
    return f"{run['name']} — {_when(run['created_at'])}"


def run_picker(runs: Sequence[dict]) -> dict:
    """A selectbox of the runs, newest first; starts on the one launched last in this session."""
    by_id = {r["id"]: r for r in runs}
    if st.session_state.get(RUN_KEY) not in by_id:
        st.session_state[RUN_KEY] = runs[0]["id"]
    chosen = st.selectbox(t("evaluate.run.pick"), list(by_id), key=RUN_KEY,
                          format_func=lambda i: run_option(by_id[i]))
    return by_id[chosen]


def run_facts(run: "runner.EvalRun", status: str | None) -> None:
    """The job's status, what the run measured in one line, and every strategy's full
    configuration on demand."""
    if status:
        status_chip(status)
    facts = [t("evaluate.run.set", name=run.question_set_name, version=run.question_set_version or 1,
               part=t(f"evaluate.part.{run.part}")),
             t("evaluate.run.questions", n=run.n_questions)]
    if run.corpus_name:
        facts.append(t("evaluate.run.corpus", name=run.corpus_name, version=run.corpus_version))
    st.caption(md_escape(" · ".join(facts)))
    with st.expander(t("evaluate.run.strategies", n=len(run.strategies)), icon=":material/tune:"):
        kind_names = {k: t(f"strategy.{k}") for k in KINDS}
        for s in run.strategies:
            st.markdown(f"**{md_escape(display_name(s.label, s.kind, kind_names))}** — "
                        f"`{s.config.describe()}`")


def _delete(lab: "Lab", run_id: str, name: str) -> None:
    try:
        results.delete_run(lab, run_id)
    except Exception as exc:  # noqa: BLE001 - said once, the run stays
        show_error(exc)
        return
    st.session_state.pop(RUN_KEY, None)
    flash(t("evaluate.run.deleted", name=md_escape(name)))


def actions(lab: "Lab", run: "runner.EvalRun") -> None:
    """Export as CSV or JSON (built only when clicked) and delete after a confirmation."""
    row = st.container(horizontal=True, horizontal_alignment="right")
    stem = f"evaluation-{run.id[:8]}"
    row.download_button(t("evaluate.export.csv"), lambda: results.export_run(lab, run.id, "csv"),
                        file_name=f"{stem}.csv", mime="text/csv", key=EXPORT_CSV_KEY,
                        icon=":material/download:", on_click="ignore", help=t("evaluate.export.csv_help"))
    row.download_button(t("evaluate.export.json"), lambda: results.export_run(lab, run.id, "json"),
                        file_name=f"{stem}.json", mime="application/json", key=EXPORT_JSON_KEY,
                        icon=":material/data_object:", on_click="ignore",
                        help=t("evaluate.export.json_help"))
    with row.popover(t("evaluate.delete"), icon=":material/delete:"):
        st.warning(t("evaluate.delete_warning", name=md_escape(run.name)), icon=":material/warning:")
        st.button(t("evaluate.delete_confirm"), type="primary", key=DELETE_KEY,
                  icon=":material/delete_forever:", width="stretch", on_click=_delete,
                  args=(lab, run.id, run.name))


def resume_button(lab: "Lab", run_id: str) -> None:
    """Queue the run's job again: it answers and scores only what is missing."""
    if st.button(t("evaluate.resume"), key=RESUME_KEY, icon=":material/replay:",
                 help=t("evaluate.resume_help")):
        try:
            runner.enqueue_run(lab, run_id)
        except Exception as exc:  # noqa: BLE001 - e.g. the corpus changed since: said once
            show_error(exc)
            return
        st.rerun()


# --- compare two runs ---------------------------------------------------------------------------------
def compare_tab(lab: "Lab", view: View, runs: Sequence[dict]) -> None:
    """This run against another on one metric, strategy by strategy (matched by label): both
    means with CIs, and on the questions they share, the paired difference in words."""
    run = view.summary.run
    others = {r["id"]: r for r in runs if r["id"] != run.id}
    if not others:
        st.info(t("evaluate.compare.none"), icon=":material/info:")
        return
    left, right = st.columns(2)
    other = left.selectbox(t("evaluate.compare.other"), list(others), key=COMPARE_KEY,
                           format_func=lambda i: run_option(others[i]))
    choices = overview_metrics(view.metric_keys)
    metric = pick(right.selectbox, t("evaluate.compare.metric"), choices, COMPARE_METRIC_KEY,
                  default=HEADLINE_METRIC, format_func=metric_label)
    other_run = runner.get_run(lab, other)
    if metric not in other_run.metric_keys and not METRICS[metric].needs_judge:
        st.info(t("evaluate.compare.no_metric"), icon=":material/info:")
        return
    comparison = results.compare_runs(lab, run.id, other, metric)
    kind_names = {k: t(f"strategy.{k}") for k in KINDS}
    kinds = {s.label: s.kind for s in run.strategies}
    names = {s.label: display_name(s.label, s.kind, kind_names) for s in run.strategies}
    if not comparison["rows"]:
        st.info(t("evaluate.compare.nothing_shared"), icon=":material/info:")
        return
    run_names = (t("evaluate.compare.this_run"), other_run.name)
    shared = [(names[r["label"]], kinds[r["label"]]) for r in comparison["rows"]]
    fig = charts.run_comparison_bars(comparison_rows(comparison, names), shared, run_names,
                                     y_title=metric_label(metric), hover_n=t("evaluate.n"))
    plot(fig, "evaluate.chart.compare")
    for row in comparison["rows"]:
        name = names[row["label"]]
        cmp = replace(row["comparison"], a=f"{name} ({other_run.name})", b=f"{name} ({run_names[0]})")
        sentence = describe_comparison(cmp, metric_in_sentence(metric), view.lang,
                                       higher_is_better=METRICS[metric].higher_is_better)
        st.markdown(f"- {md_escape(sentence[:1].upper() + sentence[1:])} — "
                    f"{t('evaluate.n_paired', n=cmp.n)}")
    if comparison["only_a"] or comparison["only_b"]:
        st.caption(t("evaluate.compare.unmatched", names=", ".join(
            comparison["only_a"] + comparison["only_b"])))
    va, vb = comparison["corpus_versions"]
    if va != vb:
        st.warning(t("evaluate.compare.versions", this=va, other=vb), icon=":material/history:")
