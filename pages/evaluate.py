"""Evaluate: which strategy wins, by how much, and at what cost? Launch a run (question set x
strategies) as a job, follow it, then read its results: the headline per strategy with its
interval, and tabs for every metric, trade-offs, each question, head to head, unanswerable
questions and a comparison with another run."""

import streamlit as st

from backend.corpus import store
from backend.evaluate import results, runner
from backend.finetune import questions, registry
from backend.jobs.store import ACTIVE
from ui.errors import guard
from ui.evaluate_detail import head_to_head_tab, per_question_tab
from ui.evaluate_launch import launch_form, show_flash
from ui.evaluate_results import (View, cached_summary, headline_row, overview_tab, tradeoffs_tab,
                                 unanswerable_tab)
from ui.evaluate_runs import actions, compare_tab, resume_button, run_facts, run_picker
from ui.i18n import t
from ui.jobs import job_progress
from ui.state import lab_or_none

TABS = ("overview", "tradeoffs", "questions", "h2h", "unanswerable", "compare")


def run_results(lab, runs) -> None:
    """The chosen run: what it is, its job, then its results once it has scores."""
    row = run_picker(runs)
    run = runner.get_run(lab, row["id"])
    status = row["job_status"]
    facts, buttons = st.columns([3, 2], vertical_alignment="top")
    with facts:
        run_facts(run, status)
    with buttons:
        actions(lab, run)
    if status in ACTIVE:
        job_progress(run.job_id, lab=lab)
        st.caption(t("evaluate.run.wait"))
        return
    done = runner.counts(lab, run.id)
    if status in ("failed", "cancelled"):
        job_progress(run.job_id, lab=lab)
    if done["answered"] < done["total"] or done["scored"] < done["answered"]:
        st.warning(t("evaluate.run.partial", answered=done["answered"], total=done["total"],
                     scored=done["scored"]), icon=":material/hourglass_bottom:")
        resume_button(lab, run.id)
    if not done["scored"]:
        return
    view = View.of(cached_summary(run.id, (done["answered"], done["scored"], run.job_id, status)))
    headline_row(view)
    tabs = st.tabs([t(f"evaluate.tab.{name}") for name in TABS])
    with tabs[0]:
        overview_tab(view)
    with tabs[1]:
        tradeoffs_tab(view)
    with tabs[2]:
        per_question_tab(lab, view)
    with tabs[3]:
        head_to_head_tab(lab, view)
    with tabs[4]:
        unanswerable_tab(view)
    with tabs[5]:
        compare_tab(lab, view, runs)


with guard():
    st.title(t("evaluate.title"))
    st.caption(t("evaluate.intro"))
    show_flash()
    lab = lab_or_none()
    if lab is not None:
        runs = results.list_runs(lab)
        sets = questions.list_sets(lab)
        if not runs and not sets:
            st.info(t("evaluate.empty"), icon=":material/analytics:")
        if sets:
            with st.expander(t("evaluate.launch.title"), expanded=not runs,
                             icon=":material/play_circle:"):
                launch_form(lab, sets, registry.list_models(lab, status="ready"),
                            {c.id: c.name for c in store.list_corpora(lab)})
        if runs:
            run_results(lab, runs)
