"""Job widgets: a live progress panel that polls without blocking the page, and a jobs table.

Long work runs in a worker (STYLE habit 2); pages only read the job's row. ``job_progress`` polls
inside ``st.fragment(run_every=...)``, so only the panel reruns, the rest of the page stays usable,
and the panel picks up where the job is when the user comes back to the page. When the job
finishes, one full rerun draws the final state and the timer stops.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

import streamlit as st

from ui.errors import guard, show_error
from ui.i18n import backend_text, has_key, t
from ui.state import JOB_CANCEL_PREFIX

if TYPE_CHECKING:
    from backend.lab import Lab

#: statuses a user can still cancel
CANCELLABLE = frozenset({"queued", "running", "stalled"})
STATUS_COLOURS = {"queued": "gray", "running": "blue", "cancelling": "orange", "succeeded": "green",
                  "failed": "red", "cancelled": "gray", "stalled": "orange"}
STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/autorenew:",
                "cancelling": ":material/hourglass_top:", "succeeded": ":material/check_circle:",
                "failed": ":material/error:", "cancelled": ":material/block:",
                "stalled": ":material/warning:"}
# tables cannot hold badges; a coloured dot next to the word carries the same meaning
STATUS_DOTS = {"queued": "⚪", "running": "🔵", "cancelling": "🟠", "succeeded": "🟢",
               "failed": "🔴", "cancelled": "⚫", "stalled": "🟠"}


def _service():
    from backend.jobs import service  # lazily: pages that never show a job do not need it

    return service


# --- formatting (pure, unit-tested) ----------------------------------------------------------------
def format_duration(seconds: float | None) -> str:
    """``3725`` -> "1 h 02 min", ``200`` -> "3 min 20 s", ``42`` -> "42 s"; "" when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return t("duration.hours", h=h, m=m)
    if m:
        return t("duration.minutes", m=m, s=s)
    return t("duration.seconds", s=s)


def unit_label(unit: str | None) -> str:
    """The job's unit ("steps", "documents") in the current language when known."""
    if not unit:
        return t("job.unit_default")
    return t(f"unit.{unit}") if has_key(f"unit.{unit}") else unit


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_rate(rate: float | None, unit: str | None) -> str:
    """Units per second, or per minute when slower than one a second; "" when unknown."""
    if not rate or not math.isfinite(rate) or rate <= 0:
        return ""
    if rate >= 1:
        return t("job.rate_second", rate=f"{rate:.1f}", unit=unit_label(unit))
    return t("job.rate_minute", rate=f"{rate * 60:.1f}", unit=unit_label(unit))


def progress_text(job: Any) -> str:
    """"12 of 40 steps · 1.5 steps/s · about 20 s left" (only the parts that are known)."""
    unit = unit_label(job.unit)
    if job.total:
        parts = [t("job.progress", step=_number(job.step or 0), total=_number(job.total), unit=unit)]
    else:
        parts = [t("job.progress_open", step=_number(job.step or 0), unit=unit)]
    if job.is_active:
        parts += [format_rate(job.rate, job.unit)]
        if job.eta_seconds is not None:
            parts.append(t("job.eta", duration=format_duration(job.eta_seconds)))
    elif job.started_at and job.finished_at:
        parts.append(t("job.took", duration=format_duration(
            (job.finished_at - job.started_at).total_seconds())))
    return " · ".join(p for p in parts if p)


# --- widgets ---------------------------------------------------------------------------------------
def title_text(job: Any) -> str:
    """The job's title in the reader's language (``ui.i18n.backend_text``)."""
    return backend_text(getattr(job, "title_i18n", None), job.title or "")


def message_text(job: Any) -> str:
    """The job's message in the reader's language (``ui.i18n.backend_text``)."""
    return backend_text(getattr(job, "message_i18n", None), job.message or "")


def status_chip(status: str) -> None:
    """A coloured badge with the translated status."""
    st.badge(t(f"job.status.{status}"), color=STATUS_COLOURS.get(status, "gray"),
             icon=STATUS_ICONS.get(status))


def _cancel(lab: "Lab", job_id: Any) -> None:
    try:
        _service().cancel(lab, job_id)
    except Exception as exc:  # noqa: BLE001 - shown once, never as a traceback
        show_error(exc)


def _render(lab: "Lab", job: Any) -> None:
    with st.container(border=True):
        head, chip = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{title_text(job)}**")
        with chip:
            status_chip(job.status)
        fraction = job.fraction
        if fraction is not None:
            st.progress(min(max(float(fraction), 0.0), 1.0), text=progress_text(job))
        else:
            st.caption(progress_text(job))
        details = [message_text(job)]
        if (job.attempts or 1) > 1:
            details.append(t("job.attempt", attempt=job.attempts))
        if any(details):
            st.caption(" · ".join(d for d in details if d))
        if job.status == "failed" and job.error:
            st.error(t("job.failed", error=job.error), icon=":material/error:")
        if job.status in CANCELLABLE:
            st.button(t("job.cancel"), key=f"{JOB_CANCEL_PREFIX}{job.id}", help=t("job.cancel_help"),
                      icon=":material/stop_circle:", on_click=_cancel, args=(lab, job.id))


def job_progress(job_id: Any, *, lab: "Lab | None" = None, poll_seconds: float = 2) -> None:
    """A progress panel for one job: bar with step/total, rate, time left, message, status chip
    and a Cancel button. While the job is active it refreshes every ``poll_seconds`` without
    rerunning the page; once finished it renders once and stops polling."""
    with guard():
        if lab is None:
            from ui.state import get_lab

            lab = get_lab()
        job = _service().get_job(lab, job_id)
        if not job.is_active:
            _render(lab, job)
            return

        @st.fragment(run_every=poll_seconds)
        def _live() -> None:
            with guard():
                current = _service().get_job(lab, job_id)
                _render(lab, current)
                if not current.is_active:
                    st.rerun()  # whole page: it may show the result, and the timer goes away

        _live()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def jobs_table(jobs: Iterable[Any]) -> None:
    """A compact table of jobs (newest first as given) with status chips and progress."""
    rows = []
    for job in jobs:
        took = ""
        if job.started_at:
            end = job.finished_at or (datetime.now(job.started_at.tzinfo) if job.is_active else None)
            took = format_duration((end - job.started_at).total_seconds()) if end else ""
        rows.append({
            "title": title_text(job), "kind": job.kind,
            "status": f"{STATUS_DOTS.get(job.status, '⚪')} {t(f'job.status.{job.status}')}",
            "progress": job.fraction, "created": _when(job.created_at), "duration": took,
            "message": job.error if job.status == "failed" and job.error else message_text(job),
        })
    if not rows:
        st.caption(t("jobs.none"))
        return
    col = st.column_config
    st.dataframe(rows, hide_index=True, column_config={
        "title": col.TextColumn(t("jobs.col.title")),
        "kind": col.TextColumn(t("jobs.col.kind")),
        "status": col.TextColumn(t("jobs.col.status")),
        "progress": col.ProgressColumn(t("jobs.col.progress"), min_value=0.0, max_value=1.0,
                                       format="percent"),
        "created": col.TextColumn(t("jobs.col.created")),
        "duration": col.TextColumn(t("jobs.col.duration")),
        "message": col.TextColumn(t("jobs.col.message"), width="large"),
    })
