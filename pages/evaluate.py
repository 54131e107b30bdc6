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
from ui.evaluate_detail import QUESTION_KEY, head_to_head_tab, per_question_tab
from ui.evaluate_launch import launch_form, show_flash
from ui.evaluate_results import (View, cached_summary, headline_row, overview_tab, tradeoffs_tab,
                                 unanswerable_tab)
from ui.evaluate_runs import (COMPARE_KEY, actions, compare_tab, resume_button, run_facts,
                              run_picker)
from ui.i18n import current_language, t
from ui.jobs import job_progress
from ui.state import lab_or_none

TABS = ("overview", "tradeoffs", "questions", "h2h", "unanswerable", "compare")
TAB_KEY = "evaluate.tab"  #: the open results tab (its name in TABS), kept across languages
#: choices made in a tab, kept while another tab is open (Streamlit forgets the value of a widget
#: that a run does not draw, and only the open tab is drawn)
KEPT_KEYS = (QUESTION_KEY, COMPARE_KEY)


def results_tabs(view: View, lab, runs) -> None:
    """The result tabs; only the open one is computed and drawn (eight charts in all would cost
    the first render seconds: bench/pages_bench.py). A click on a tab reruns the page."""
    for key in KEPT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    labels = [t(f"evaluate.tab.{name}") for name in TABS]
    # one tab bar per language (its labels are its options); a new one opens on the tab that was
    # open, set through session state: a changing ``default`` would make it another widget
    key = f"{TAB_KEY}.{current_language()}"
    if st.session_state.get(key) not in labels:
        wanted = st.session_state.get(TAB_KEY)
        st.session_state[key] = labels[TABS.index(wanted)] if wanted in TABS else labels[0]
    tabs = st.tabs(labels, key=key, on_change="rerun")
    draw = {"overview": lambda: overview_tab(view), "tradeoffs": lambda: tradeoffs_tab(view),
            "questions": lambda: per_question_tab(lab, view),
            "h2h": lambda: head_to_head_tab(lab, view),
            "unanswerable": lambda: unanswerable_tab(view),
            "compare": lambda: compare_tab(lab, view, runs)}
    for name, tab in zip(TABS, tabs):
        if tab.open:
            st.session_state[TAB_KEY] = name
            with tab:
                draw[name]()


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
    results_tabs(view, lab, runs)


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
