"""Plotly figure builders for evaluation results: pure functions, tables and texts in, Figure out.

Every builder takes the strategies as ``(name, kind)`` pairs, colours them from ``ui.palette`` and
adds their traces in the fixed legend order, so a strategy looks the same in every chart. Texts
(axis titles, "not applicable") come in as arguments, already translated: nothing here reads the
session. Scores that are not applicable or failed are never drawn as a number: they get a hatched
placeholder column with the words, and the score bar is left out (``None``, not 0).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ui.palette import GRID_COLOUR, TEXT_COLOUR, apply_theme, colour_map, ordered

Strategies = Sequence[tuple[str, str]]

NA_FILL = "#f1f2f4"          # placeholder column: "not applicable"
NA_LINE = "#a9adb5"
FAILED_FILL = "#fbecec"      # placeholder column: every score failed
FAILED_LINE = "#c9787a"
ERROR_BAR = "#30333a"
TIE_COLOUR = "#d5d8de"
MISSING_BG = "#eef0f3"       # heatmap cells without a score
HEATMAP_SCALE = "Viridis"    # sequential and colour-blind safe
MIN_MARKER, MAX_MARKER = 16, 54


def _num(value) -> float | None:
    """A finite float, or None (None, NaN and missing all mean "no number")."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def wrap_label(text: str, width: int = 14) -> str:
    """An axis label on two lines (``<br>`` at the space nearest the middle) when it is long."""
    if len(text) <= width or " " not in text:
        return text
    middle = len(text) // 2
    cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - middle))
    return text[:cut] + "<br>" + text[cut + 1:]


def _errors(means: list, lows: list, highs: list) -> tuple[list, list]:
    """Asymmetric error-bar lengths (plus, minus); None where there is no interval."""
    plus, minus = [], []
    for m, lo, hi in zip(means, lows, highs):
        m, lo, hi = _num(m), _num(lo), _num(hi)
        ok = None not in (m, lo, hi)
        plus.append(max(hi - m, 0.0) if ok else None)
        minus.append(max(m - lo, 0.0) if ok else None)
    return plus, minus


def _error_bar(plus: list, minus: list, *, horizontal: bool = False) -> dict:
    return {"type": "data", "array": plus, "arrayminus": minus, "symmetric": False,
            "visible": True, "color": ERROR_BAR, "thickness": 1.5, "width": 0 if horizontal else 5}


def _cell(frame: pd.DataFrame, strategy: str, metric: str) -> dict | None:
    rows = frame[(frame["strategy"] == strategy) & (frame["metric"] == metric)]
    return None if rows.empty else rows.iloc[0].to_dict()


def metric_bars(cells: pd.DataFrame, strategies: Strategies, metric_labels: Mapping[str, str], *,
                y_title: str, not_applicable_text: str, failed_text: str,
                hover_n: str = "n = {n}") -> go.Figure:
    """Grouped bars: metrics on x (in ``metric_labels`` order), one bar per strategy with its 95%
    CI as error bars. ``cells`` has one row per (strategy, metric): ``mean, low, high, n, status``
    (``ok``, ``not_applicable`` or ``failed``) and ``failed`` (count). A not-applicable or
    all-failed cell gets a hatched column of the full height with ``not_applicable_text`` /
    ``failed_text`` (may use ``{n}``) written in it, in the strategy's slot; never a bar at 0."""
    fig = go.Figure()
    strategies = ordered(strategies)
    colours = colour_map(strategies)
    keys = list(metric_labels)
    labels = [wrap_label(metric_labels[k]) for k in keys]
    values = [_num(v) for v in pd.concat([cells.get("low", pd.Series(dtype=float)),
                                          cells.get("high", pd.Series(dtype=float))])]
    floor = min([0.0] + [v for v in values if v is not None])
    top = max([1.0] + [v for v in values if v is not None])
    seen_placeholder = {"not_applicable": False, "failed": False}
    for rank, (name, _kind) in enumerate(strategies):
        rows = [_cell(cells, name, k) or {"status": "missing"} for k in keys]
        means = [_num(r.get("mean")) if r["status"] == "ok" else None for r in rows]
        plus, minus = _errors(means, [r.get("low") for r in rows], [r.get("high") for r in rows])
        custom = [[r.get("n") or 0, _fmt(r.get("low")), _fmt(r.get("high")), r.get("failed") or 0]
                  for r in rows]
        fig.add_trace(go.Bar(
            name=name, x=labels, y=means, error_y=_error_bar(plus, minus), offsetgroup=name,
            legendgroup=name, legendrank=rank, marker={"color": colours[name], "line": {"width": 0}},
            customdata=custom,
            hovertemplate=(f"<b>{name}</b><br>%{{x}}: %{{y:.3f}}<br>95% CI %{{customdata[1]}}"
                           f"–%{{customdata[2]}}<br>{hover_n.replace('{n}', '%{customdata[0]}')}"
                           "<extra></extra>")))
        for status, text, fill, line, shape in (
                ("not_applicable", not_applicable_text, NA_FILL, NA_LINE, "/"),
                ("failed", failed_text, FAILED_FILL, FAILED_LINE, "x")):
            where = [i for i, r in enumerate(rows) if r["status"] == status]
            if not where:
                continue
            words = [text.replace("{n}", str(rows[i].get("failed") or 0)) for i in where]
            fig.add_trace(go.Bar(
                name=text.split(":")[0].replace("{n}", "").strip(), x=[labels[i] for i in where],
                y=[top - floor] * len(where), base=[floor] * len(where), offsetgroup=name,
                legendgroup=status, showlegend=not seen_placeholder[status], legendrank=2000,
                marker={"color": fill, "line": {"color": line, "width": 1},
                        "pattern": {"shape": shape, "fgcolor": line, "size": 7, "solidity": 0.15}},
                text=words, textposition="inside", insidetextanchor="middle", textangle=-90,
                textfont={"color": TEXT_COLOUR, "size": 11}, hovertext=[f"{name}: {w}" for w in words],
                hoverinfo="text", meta=status))
            seen_placeholder[status] = True
    apply_theme(fig)
    fig.update_layout(barmode="group", bargap=0.22, bargroupgap=0.06, height=440,
                      uniformtext={"minsize": 8, "mode": "hide"})
    fig.update_yaxes(title_text=y_title, range=[floor, top + 0.02 * (top - floor)],
                     zeroline=True, zerolinecolor=GRID_COLOUR)
    fig.update_xaxes(categoryorder="array", categoryarray=labels, tickangle=0, automargin=True)
    return fig


def _fmt(value) -> str:
    value = _num(value)
    return "" if value is None else f"{value:.3f}"


def tradeoff_scatter(points: pd.DataFrame, strategies: Strategies, *, x_title: str, y_title: str,
                     size_title: str, x_unit: str = "", unknown_text: str = "?") -> go.Figure:
    """Quality against speed or cost: one marker per strategy at (``x``, ``y``) with the y CI
    (``low``, ``high``), sized by ``size`` (one-off build seconds; an open marker when unknown).
    ``points`` also has ``n`` and ``size_text`` (the build cost in words, for the hover)."""
    fig = go.Figure()
    strategies = ordered(strategies)
    colours = colour_map(strategies)
    sizes = [_num(v) for v in points.get("size", pd.Series(dtype=float))]
    biggest = max([s for s in sizes if s is not None] + [0.0])
    for name, _kind in strategies:
        rows = points[points["strategy"] == name]
        if rows.empty:
            continue
        r = rows.iloc[0].to_dict()
        x, y = _num(r.get("x")), _num(r.get("y"))
        if x is None or y is None:
            continue
        size = _num(r.get("size"))
        known = size is not None
        px = MIN_MARKER + (MAX_MARKER - MIN_MARKER) * math.sqrt(size / biggest) if (
            known and biggest > 0) else MIN_MARKER
        plus, minus = _errors([y], [r.get("low")], [r.get("high")])
        fig.add_trace(go.Scatter(
            name=name, x=[x], y=[y], mode="markers+text", text=[f"  {name}"], textposition="middle right",
            textfont={"color": TEXT_COLOUR, "size": 12}, error_y=_error_bar(plus, minus),
            marker={"size": px, "color": colours[name], "opacity": 0.85,
                    "symbol": "circle" if known else "circle-open",
                    "line": {"color": "white" if known else colours[name], "width": 1.5 if known else 2.5}},
            customdata=[[r.get("n") or 0, r.get("size_text") or unknown_text]],
            hovertemplate=(f"<b>{name}</b><br>{x_title}: %{{x:.3g}}{x_unit}<br>{y_title}: %{{y:.3f}} "
                           f"(n = %{{customdata[0]}})<br>{size_title}: %{{customdata[1]}}"
                           "<extra></extra>")))
    xs = [v for v in (_num(x) for x in points.get("x", pd.Series(dtype=float))) if v is not None]
    apply_theme(fig)
    fig.update_layout(height=440, showlegend=True)
    # room on the right for the names written next to the markers
    fig.update_xaxes(title_text=x_title, range=[0, 1.2 * max(xs + [1e-9])] if xs else None)
    fig.update_yaxes(title_text=y_title)
    return fig


def score_heatmap(values: pd.DataFrame, statuses: pd.DataFrame, question_labels: Sequence[str], *,
                  zmin: float, zmax: float, colorbar_title: str, status_texts: Mapping[str, str],
                  hover_question: str = "") -> go.Figure:
    """Rows = questions (first on top), columns = strategies (``values.columns``), colour = score.
    Cells whose ``statuses`` entry is not ``ok`` stay uncoloured and say why (``status_texts`` by
    status, e.g. not_applicable -> "n/a"). ``customdata`` carries each row's index label (the
    question position), so a click on a cell tells which question it was."""
    columns = list(values.columns)
    z, text = [], []
    for index, row in values.iterrows():
        zrow, trow = [], []
        for col in columns:
            status = statuses.at[index, col] if col in statuses.columns else "ok"
            v = _num(row[col]) if status == "ok" else None
            zrow.append(v)
            trow.append(f"{v:.2f}" if v is not None else status_texts.get(str(status), ""))
        z.append(zrow)
        text.append(trow)
    labels = list(question_labels)
    custom = [[idx] * len(columns) for idx in values.index]
    fig = go.Figure(go.Heatmap(
        z=z, x=columns, y=labels, text=text, texttemplate="%{text}",
        textfont={"size": 12}, customdata=custom, zmin=zmin, zmax=zmax, colorscale=HEATMAP_SCALE,
        xgap=2, ygap=2, hoverongaps=True, hoverinfo="skip",
        colorbar={"title": {"text": colorbar_title, "side": "right"}, "thickness": 14}))
    # Heatmaps cannot be selected by a click; an invisible marker on every cell can, and tells
    # which question it was (customdata = the row's position)
    cells = [(row, col) for row in range(len(labels)) for col in range(len(columns))]
    fig.add_trace(go.Scatter(
        x=[columns[c] for _, c in cells], y=[labels[r] for r, _ in cells], mode="markers",
        marker={"symbol": "square", "size": 26, "color": "rgba(0,0,0,0)"}, showlegend=False,
        customdata=[custom[r][c] for r, c in cells], text=[text[r][c] for r, c in cells],
        hovertemplate=f"%{{y}}<br>%{{x}}: %{{text}}{hover_question}<extra></extra>", meta="cells"))
    apply_theme(fig)
    fig.update_layout(height=max(260, 120 + 30 * len(values)), plot_bgcolor=MISSING_BG,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True, type="category")
    fig.update_xaxes(side="top", showgrid=False, type="category")
    return fig


def wins_ties_losses(a: str, b: str, wins: int, ties: int, losses: int, strategies: Strategies, *,
                     labels: Mapping[str, str], x_title: str = "") -> go.Figure:
    """One horizontal stacked bar: questions where ``a`` scored higher (in ``a``'s colour), ties
    (grey), and where ``b`` scored higher (in ``b``'s colour). ``labels`` has the legend texts
    ``wins``, ``ties``, ``losses``."""
    colours = colour_map(ordered(strategies))
    fig = go.Figure()
    for part, count, colour in (("wins", wins, colours.get(a)), ("ties", ties, TIE_COLOUR),
                                ("losses", losses, colours.get(b))):
        fig.add_trace(go.Bar(
            name=labels[part], y=[""], x=[count], orientation="h", text=[count if count else ""],
            textposition="inside", insidetextanchor="middle", marker={"color": colour},
            textfont={"color": TEXT_COLOUR if part == "ties" else "white", "size": 14},
            hovertemplate=f"{labels[part]}: %{{x}}<extra></extra>"))
    apply_theme(fig)
    fig.update_layout(barmode="stack", height=170, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    total = wins + ties + losses
    fig.update_layout(height=190)
    fig.update_xaxes(range=[0, max(total, 1)], dtick=max(1, total // 10), title_text=x_title)
    return fig


def difference_interval(mean: float | None, low: float | None, high: float | None, *,
                        x_title: str, colour: str, label: str = "") -> go.Figure:
    """The paired difference as a point with its CI on a horizontal axis, with the zero line
    marked: an interval that crosses it means no detectable difference."""
    fig = go.Figure()
    m = _num(mean)
    plus, minus = _errors([m], [low], [high])
    if m is not None:
        fig.add_trace(go.Scatter(
            x=[m], y=[label], mode="markers", marker={"size": 14, "color": colour},
            error_x=_error_bar(plus, minus, horizontal=True) | {"color": colour, "thickness": 3},
            hovertemplate=f"%{{x:.3f}} (95% CI {_fmt(low)}–{_fmt(high)})<extra></extra>",
            showlegend=False))
    fig.add_vline(x=0, line={"color": TEXT_COLOUR, "dash": "dash", "width": 1})
    spread = max(abs(v) for v in [m or 0, _num(low) or 0, _num(high) or 0, 0.05])
    apply_theme(fig)
    fig.update_layout(height=150, margin={"l": 10, "r": 10, "t": 20, "b": 10})
    fig.update_xaxes(title_text=x_title, range=[-1.15 * spread, 1.15 * spread], zeroline=False)
    fig.update_yaxes(showticklabels=bool(label))
    return fig


def rate_dots(rows: pd.DataFrame, strategies: Strategies, *, x_title: str,
              hover_n: str = "n = {n}") -> go.Figure:
    """A share per strategy (0 to 1, e.g. abstention on unanswerable questions) as a dot with its
    CI on a 0-100% axis, one row per strategy, its value and sample size written beside it (a
    real 0% stays visible as a dot on the axis). ``rows``: ``strategy, mean, low, high, n``; a
    strategy without a number is left out, not drawn at 0."""
    fig = go.Figure()
    strategies = ordered(strategies)
    colours = colour_map(strategies)
    shown = []
    for name, _kind in strategies:
        found = rows[rows["strategy"] == name]
        r = found.iloc[0].to_dict() if not found.empty else {}
        m = _num(r.get("mean"))
        if m is None:
            continue
        shown.append(name)
        plus, minus = _errors([m], [r.get("low")], [r.get("high")])
        n_text = hover_n.replace("{n}", str(r.get("n") or 0))
        fig.add_trace(go.Scatter(
            name=name, x=[m], y=[name], mode="markers+text", text=[f"   {m:.0%} ({n_text})"],
            textposition="middle right", textfont={"color": TEXT_COLOUR, "size": 13},
            marker={"size": 15, "color": colours[name], "line": {"color": "white", "width": 1.5}},
            error_x=_error_bar(plus, minus, horizontal=True) | {"color": colours[name], "thickness": 3},
            hovertemplate=f"<b>{name}</b>: %{{x:.0%}} ({n_text})<extra></extra>"))
    apply_theme(fig)
    fig.update_layout(height=110 + 55 * max(len(shown), 1), showlegend=False,
                      margin={"l": 10, "r": 10, "t": 20, "b": 10})
    fig.update_xaxes(title_text=x_title, range=[-0.03, 1.25], tickformat=".0%",
                     tickvals=[0, 0.25, 0.5, 0.75, 1.0])
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array",
                     categoryarray=shown, showgrid=False, automargin=True)
    return fig


def run_comparison_bars(rows: pd.DataFrame, strategies: Strategies, run_names: tuple[str, str], *,
                        y_title: str, hover_n: str = "n = {n}") -> go.Figure:
    """Two runs side by side per strategy: ``rows`` has ``strategy, run`` (0 or 1), ``mean, low,
    high, n``. Bars take the strategy's colour; the second run's bars are hatched."""
    fig = go.Figure()
    strategies = ordered(strategies)
    colours = colour_map(strategies)
    names = [n for n, _ in strategies]
    for run, run_name in enumerate(run_names):
        mine = rows[rows["run"] == run]
        got = {r["strategy"]: r for r in mine.to_dict("records")}
        means = [_num(got.get(n, {}).get("mean")) for n in names]
        plus, minus = _errors(means, [got.get(n, {}).get("low") for n in names],
                              [got.get(n, {}).get("high") for n in names])
        fig.add_trace(go.Bar(
            name=run_name, x=names, y=means, error_y=_error_bar(plus, minus), offsetgroup=str(run),
            marker={"color": [colours[n] for n in names], "line": {"color": ERROR_BAR, "width": 1},
                    "pattern": {"shape": "/" if run else "", "fgcolor": "white", "solidity": 0.35}},
            customdata=[[got.get(n, {}).get("n") or 0] for n in names],
            hovertemplate=(f"<b>%{{x}}</b> · {run_name}: %{{y:.3f}} "
                           f"({hover_n.replace('{n}', '%{customdata[0]}')})<extra></extra>")))
    apply_theme(fig)
    fig.update_layout(barmode="group", height=400, bargap=0.3)
    fig.update_yaxes(title_text=y_title)
    return fig
