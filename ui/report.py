"""The Report page's widgets: the priorities in the sidebar, the run picker, the cached read of
a run's measured results, and the download buttons. The memo itself is the backend's HTML, shown
as it is downloaded (``backend.report.render.memo_html``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import streamlit as st

from backend.report.recommend import CRITERIA, MAX_WEIGHT, Priorities
from ui.i18n import t

if TYPE_CHECKING:
    from backend.report.build import Memo, ReportInputs

RUN_KEY = "report.run"                  #: the evaluation run the memo reports on
PRIORITY_PREFIX = "report.priority."    #: + criterion: the priority sliders
DOWNLOAD_HTML_KEY = "report.download.html"
DOWNLOAD_MD_KEY = "report.download.md"
DEFAULT_WEIGHT = 3


def priorities_sidebar() -> Priorities:
    """One 0-5 slider per criterion in the sidebar; returns the user's priorities."""
    st.sidebar.subheader(t("report.priorities"), help=t("report.priorities_help"))
    values = {}
    for criterion in CRITERIA:
        key = PRIORITY_PREFIX + criterion
        values[criterion] = st.sidebar.slider(
            t(f"report.priority.{criterion}"), 0, MAX_WEIGHT,
            None if key in st.session_state else DEFAULT_WEIGHT, step=1, key=key,
            help=t(f"report.priority.{criterion}_help"))
    return Priorities(**values)


def _when(run: dict) -> str:
    created = run.get("created_at")
    return created.strftime("%Y-%m-%d %H:%M") if created else ""


def run_picker(runs: Sequence[dict]) -> dict:
    """A selectbox of the runs with answers, newest first; returns the chosen one."""
    by_id = {r["id"]: r for r in runs}
    if st.session_state.get(RUN_KEY) not in by_id:
        st.session_state[RUN_KEY] = runs[0]["id"]
    chosen = st.selectbox(t("report.run"), list(by_id), key=RUN_KEY, help=t("report.run_help"),
                          format_func=lambda i: f"{by_id[i]['name']} — {_when(by_id[i])}")
    return by_id[chosen]


@st.cache_data(ttl=120, show_spinner=False, max_entries=8)
def _inputs(env: tuple, run_id: str, stamp: tuple) -> "ReportInputs":
    from backend.report.build import collect
    from ui.state import get_lab

    return collect(get_lab(), run_id)


def cached_inputs(run: dict) -> "ReportInputs":
    """The run's measured results, read again only when its progress changes (or after two
    minutes, so a freshness check that finished meanwhile shows up): moving a priority slider
    recomposes the memo without touching the database."""
    from ui.state import env_key

    stamp = (run["answered"], run["total"], run.get("job_id"), run.get("job_status"))
    return _inputs(env_key(), run["id"], stamp)


def download_buttons(memo: "Memo") -> None:
    """The HTML and Markdown downloads of the memo shown below them."""
    from backend.report.render import file_name, to_html, to_markdown

    left, right, _ = st.columns([1, 1, 3])
    with left:
        st.download_button(t("report.download.html"), to_html(memo).encode("utf-8"),
                           file_name=file_name(memo, "html"), mime="text/html",
                           key=DOWNLOAD_HTML_KEY, help=t("report.download.html_help"),
                           on_click="ignore", type="primary", icon=":material/download:")
    with right:
        st.download_button(t("report.download.md"), to_markdown(memo).encode("utf-8"),
                           file_name=file_name(memo, "md"), mime="text/markdown",
                           key=DOWNLOAD_MD_KEY, help=t("report.download.md_help"),
                           on_click="ignore", icon=":material/description:")
