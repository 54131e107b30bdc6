"""Pure helpers of the ui package: the strategy palette, the chart theme, durations and rates."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from ui import palette
from ui.jobs import format_duration, format_rate


def test_each_strategy_has_its_fixed_colour_and_legend_place():
    assert [palette.color_for(k) for k in palette.LEGEND_ORDER] == [
        "#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c"]
    assert palette.color_for("fine-tuned") == palette.FINETUNED
    assert [palette.legend_rank(k) for k in ("hybrid", "base", "rag")] == [3, 0, 1]
    with pytest.raises(ValueError):
        palette.color_for("magic")


def _is_orange(hex_colour: str) -> bool:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return r > g > b  # red dominant, then green: the orange family


def test_several_fine_tunes_get_distinct_shades_of_orange():
    shades = [palette.color_for("finetuned", i) for i in range(5)]
    assert len(set(shades)) == 5 and all(_is_orange(c) for c in shades)
    mapping = palette.colour_map([("base", "base"), ("lora r8", "finetuned"),
                                  ("full", "finetuned"), ("rag", "rag")])
    assert mapping["lora r8"] == palette.FINETUNED and _is_orange(mapping["full"])
    assert mapping["full"] != mapping["lora r8"] and mapping["rag"] == palette.RAG


def test_ordered_puts_strategies_in_legend_order_keeping_the_given_order_within_a_kind():
    given = [("hyb", "hybrid"), ("ft2", "finetuned"), ("rag", "rag"), ("ft1", "finetuned"),
             ("base", "base")]
    assert [n for n, _ in palette.ordered(given)] == ["base", "rag", "ft2", "ft1", "hyb"]


def test_apply_theme_sets_fonts_and_colours():
    fig = palette.apply_theme(go.Figure(go.Bar(x=["a"], y=[1])))
    assert fig.layout.font.family == palette.FONT_FAMILY
    assert list(fig.layout.colorway)[:4] == [palette.BASE, palette.RAG, palette.FINETUNED,
                                             palette.HYBRID]
    assert fig.layout.legend.orientation == "h"


@pytest.mark.parametrize("seconds, text", [
    (None, ""), (-1, ""), (0, "0 s"), (42.4, "42 s"), (200, "3 min 20 s"), (3725, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_rate_switches_to_per_minute_when_slow():
    assert format_rate(2.5, "documents") == "2.5 documents/s"
    assert format_rate(0.25, "steps") == "15.0 steps/min"
    assert format_rate(None, "steps") == "" and format_rate(0, None) == ""
    assert format_rate(3, "widgets") == "3.0 widgets/s"  # an unknown unit is shown as it is
