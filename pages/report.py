"""Report: which strategy should we use, and why? A one-page memo written from the measured
results of an evaluation and the priorities set in the sidebar, shown exactly as it downloads
(self-contained HTML, or Markdown)."""

import streamlit as st

from backend.evaluate.results import list_runs
from backend.jobs.store import ACTIVE
from backend.report.build import compose
from backend.report.render import memo_html
from ui.errors import guard
from ui.i18n import current_language, t
from ui.report import cached_inputs, download_buttons, priorities_sidebar, run_picker
from ui.state import lab_or_none

with guard():
    st.title(t("report.title"))
    st.caption(t("report.intro"))
    lab = lab_or_none()
    if lab is not None:
        runs = [r for r in list_runs(lab) if r["answered"]]
        if not runs:
            st.info(t("report.empty"), icon=":material/description:")
            st.page_link("pages/home.py", label=t("report.empty.demo"), icon=":material/play_circle:")
            st.page_link("pages/evaluate.py", label=t("report.empty.evaluate"),
                         icon=":material/analytics:")
        else:
            priorities = priorities_sidebar()
            run = run_picker(runs)
            if run["job_status"] in ACTIVE or run["answered"] < run["total"]:
                st.info(t("report.unfinished"), icon=":material/hourglass_bottom:")
            memo = compose(cached_inputs(run), priorities, current_language())
            download_buttons(memo)
            st.html(memo_html(memo, chart_as_image=True))
