"""``apply_theme`` sets plotly's "plotly_white" template without re-validating it (a speed-up for
pages with many charts); the figure must be exactly what the validated way gives."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio

from ui import palette


def _validated(fig):
    """The slow, public way: what apply_theme did before."""
    themed = palette.apply_theme(fig)
    themed.update_layout(template="plotly_white")
    return themed


def test_the_fast_template_gives_the_same_figure_as_the_validated_one():
    for trace in (go.Bar(x=["a", "b"], y=[1, 2]), go.Heatmap(z=[[0.1, 0.9], [0.5, None]]),
                  go.Scatter(x=[1, 2], y=[3, 4], mode="markers")):
        fast = palette.apply_theme(go.Figure(trace))
        slow = _validated(go.Figure(trace))
        assert json.loads(pio.to_json(fast)) == json.loads(pio.to_json(slow))
        assert fast.layout.template.layout.paper_bgcolor == "white"  # plotly_white, not plotly


def test_the_figure_gets_its_own_copy_of_the_template():
    fig = palette.apply_theme(go.Figure(go.Bar(x=["a"], y=[1])))
    fig.layout.template.layout.font.size = 99
    assert pio.templates["plotly_white"].layout.font.size != 99
    assert fig.layout._validate  # validation is back on for everything set afterwards
