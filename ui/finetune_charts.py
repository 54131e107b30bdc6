"""Loss curves of a fine-tuning run: points from the job's progress rows or the registry, and the
plotly figure (pure: data in, figure out; unit-tested without Streamlit).

A run that was cancelled and resumed reports some steps twice (the resumed attempt starts again at
its checkpoint); the later attempt wins, so the curve is the one the model really followed. Both
curves are orange (fine-tuning's colour): training loss in the main shade, validation loss in a
darker one, dashed, with markers since it is measured only every few steps.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from ui.palette import apply_theme, color_for

TRAIN, VALIDATION = "train", "validation"
TRAIN_COLOUR = color_for("finetuned", 0)
VALIDATION_COLOUR = color_for("finetuned", 1)


def points_from_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{series, step, loss}]`` from ``job_events`` rows (oldest first), one point per series and
    step; where attempts overlap, the latest attempt's value."""
    latest: dict[tuple[str, float], float] = {}
    for event in events:
        metrics = event.get("metrics") or {}
        step = event.get("step")
        if step is None:
            continue
        for series, name in ((TRAIN, "loss"), (VALIDATION, "val_loss")):
            value = metrics.get(name)
            if isinstance(value, (int, float)) and value == value:  # not NaN
                latest[(series, float(step))] = float(value)
    return [{"series": s, "step": step, "loss": loss}
            for (s, step), loss in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1]))]


def points_from_curves(train_loss: Sequence[Sequence[float]] | None,
                       val_loss: Sequence[Sequence[float]] | None) -> list[dict[str, Any]]:
    """``[{series, step, loss}]`` from a registered model's ``[[step, loss], ...]`` curves."""
    out = []
    for series, curve in ((TRAIN, train_loss), (VALIDATION, val_loss)):
        for step, loss in curve or []:
            out.append({"series": series, "step": float(step), "loss": float(loss)})
    return out


def loss_figure(points: Sequence[dict[str, Any]], *, train_label: str, validation_label: str,
                x_label: str, y_label: str, title: str = ""):
    """A line chart of the training and validation loss against the optimiser step."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for series, label, colour, dash, mode in (
            (TRAIN, train_label, TRAIN_COLOUR, "solid", "lines"),
            (VALIDATION, validation_label, VALIDATION_COLOUR, "dash", "lines+markers")):
        xs = [p["step"] for p in points if p["series"] == series]
        ys = [p["loss"] for p in points if p["series"] == series]
        if not xs:
            continue
        fig.add_trace(go.Scatter(x=xs, y=ys, name=label, mode=mode,
                                 line={"color": colour, "width": 2.5, "dash": dash},
                                 marker={"size": 7, "color": colour},
                                 hovertemplate=f"{label}<br>{x_label} %{{x:.0f}}<br>"
                                               f"{y_label} %{{y:.3f}}<extra></extra>"))
    last = max((p["step"] for p in points), default=1)
    fig.update_layout(title={"text": title}, height=320, showlegend=True)
    # whole steps only: a run of 4 steps would otherwise be ticked at 0.5, 1, 1.5, ...
    fig.update_xaxes(title={"text": x_label}, rangemode="tozero", tick0=0,
                     dtick=max(1, math.ceil(last / 8)))
    fig.update_yaxes(title={"text": y_label}, rangemode="tozero")
    return apply_theme(fig)
