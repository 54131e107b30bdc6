"""Fine-tuning runs on the Fine-tune page: a table with status chips, and the chosen run's live
progress (``ui.jobs.job_progress``: bar, rate, time left, Cancel), Resume for a failed or cancelled
run, the loss and validation-loss curves (refreshed while it trains) and its model's lineage.

A run is a ``finetune`` job; its model (once training starts) is the registry row with its job id.
While the run trains, the curves come from the job's progress rows; once the model is recorded they
come from the registry, which holds every step.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.finetune import registry
from backend.jobs import service
from ui.errors import guard, show_error
from ui.finetune_charts import loss_figure, points_from_curves, points_from_events
from ui.finetune_form import PENDING_RUN_KEY
from ui.finetune_models import lineage_view
from ui.i18n import t
from ui.jobs import STATUS_DOTS, format_duration, job_progress, title_text

if TYPE_CHECKING:
    from backend.finetune.registry import TrainedModel
    from backend.jobs.service import Job
    from backend.lab import Lab

RUN_KEY = "finetune.run"              #: the chosen run (selectbox of job ids)
RESUME_PREFIX = "finetune.resume."    #: + job id
CURVES_PREFIX = "finetune.curves."    #: + job id: the plotly chart
POLL_SECONDS = 3
RESUMABLE = frozenset({"failed", "cancelled"})


def model_for_job(models: Sequence["TrainedModel"], job_id: int) -> "TrainedModel | None":
    """The registry row a run wrote (None before training started)."""
    return next((m for m in models if m.job_id == job_id), None)


def _final_loss(model: "TrainedModel | None") -> float | None:
    return model.train_loss[-1][1] if model is not None and model.train_loss else None


def run_rows(jobs: Sequence["Job"], models: Sequence["TrainedModel"]) -> list[dict[str, Any]]:
    """One table row per run: title, status (dot + word), progress, final loss, when, duration."""
    rows = []
    for job in jobs:
        model = model_for_job(models, job.id)
        took = ""
        if job.started_at:
            end = job.finished_at or (datetime.now(job.started_at.tzinfo) if job.is_active else None)
            took = format_duration((end - job.started_at).total_seconds()) if end else ""
        rows.append({"run": f"#{job.id} · {title_text(job)}",
                     "status": f"{STATUS_DOTS.get(job.status, '⚪')} {t(f'job.status.{job.status}')}",
                     "progress": job.fraction, "loss": _final_loss(model),
                     "method": t(f"finetune.method.{job.params.get('config', {}).get('method', 'adapter')}"),
                     "created": job.created_at.strftime("%Y-%m-%d %H:%M"), "duration": took})
    return rows


def runs_table(jobs: Sequence["Job"], models: Sequence["TrainedModel"]) -> None:
    """The runs, newest first."""
    col = st.column_config
    st.dataframe(run_rows(jobs, models), hide_index=True, width="stretch", column_config={
        "run": col.TextColumn(t("finetune.runs.col.run"), width="large"),
        "status": col.TextColumn(t("jobs.col.status")),
        "progress": col.ProgressColumn(t("jobs.col.progress"), min_value=0.0, max_value=1.0,
                                       format="percent"),
        "loss": col.NumberColumn(t("finetune.runs.col.loss"), format="%.3f"),
        "method": col.TextColumn(t("finetune.runs.col.method")),
        "created": col.TextColumn(t("jobs.col.created")),
        "duration": col.TextColumn(t("jobs.col.duration")),
    })


def _resume(lab: "Lab", job_id: int) -> None:
    try:
        service.retry(lab, job_id)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)


def curve_points(lab: "Lab", job_id: int) -> list[dict[str, Any]]:
    """The run's loss points: the registry's full curves when recorded, else its progress rows."""
    model = model_for_job(registry.list_models(lab), job_id)
    if model is not None and model.train_loss:
        return points_from_curves(model.train_loss, model.val_loss)
    return points_from_events(service.job_events(lab, job_id))


def curves_panel(lab: "Lab", job_id: int, active: bool) -> None:
    """The loss curves; refreshed every few seconds while the run is active."""

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def _draw() -> None:
        with guard():
            points = curve_points(lab, job_id)
            if not points:
                st.caption(t("finetune.curves.none"))
                return
            st.plotly_chart(loss_figure(points, train_label=t("finetune.curves.train"),
                                        validation_label=t("finetune.curves.validation"),
                                        x_label=t("finetune.curves.step"),
                                        y_label=t("finetune.curves.loss"),
                                        title=t("finetune.curves.title")),
                            key=f"{CURVES_PREFIX}{job_id}", config={"displayModeBar": False})

    _draw()


def runs_section(lab: "Lab", corpus_names: dict[str, str]) -> None:
    """The runs table and the chosen run (progress, resume, curves, lineage)."""
    st.subheader(t("finetune.runs.title"), anchor=False)
    jobs = service.list_jobs(lab, kind="finetune", limit=50)
    if not jobs:
        st.caption(t("finetune.runs.none"))
        return
    if any(j.status in ("queued", "stalled") for j in jobs) and not service.worker_alive(lab):
        st.warning(t("finetune.runs.no_worker"), icon=":material/warning:")
    models = registry.list_models(lab)
    runs_table(jobs, models)
    by_id = {j.id: j for j in jobs}
    pending = st.session_state.pop(PENDING_RUN_KEY, None)
    if pending in by_id:
        st.session_state[RUN_KEY] = pending
    elif st.session_state.get(RUN_KEY) not in by_id:
        st.session_state[RUN_KEY] = jobs[0].id
    job_id = st.selectbox(t("finetune.runs.pick"), list(by_id), key=RUN_KEY,
                          format_func=lambda i: f"#{i} · {by_id[i].title}")
    job = by_id[job_id]
    progress_col, actions_col = st.columns([5, 1], vertical_alignment="top")
    with progress_col:
        job_progress(job_id, lab=lab)
    with actions_col:
        if job.status in RESUMABLE:
            st.button(t("finetune.runs.resume"), key=f"{RESUME_PREFIX}{job_id}", type="primary",
                      icon=":material/play_arrow:", help=t("finetune.runs.resume_help"),
                      on_click=_resume, args=(lab, job_id), width="stretch")
    curves_panel(lab, job_id, job.is_active)
    model = model_for_job(models, job_id)
    if model is not None:
        with st.expander(t("finetune.runs.lineage", name=model.name), icon=":material/account_tree:"):
            lineage_view(model, corpus_names)
