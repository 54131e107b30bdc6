"""One colour per strategy, everywhere, and one look for every chart.

Colour-blind-safe base hues from the Tableau 10 set: base model grey, RAG blue, fine-tuned orange,
hybrid green. Several runs of the same kind (e.g. three fine-tunes) get shades of their hue, so a
reader still sees "all the orange ones are fine-tunes". Legends always list strategies in
``LEGEND_ORDER``.
"""

from __future__ import annotations

from typing import Any, Iterable

BASE = "#7f7f7f"
RAG = "#1f77b4"
FINETUNED = "#ff7f0e"
HYBRID = "#2ca02c"

#: the fixed order of strategies in legends, tables and columns
LEGEND_ORDER: tuple[str, ...] = ("base", "rag", "finetuned", "hybrid")

# index 0 is the strategy's own colour; later runs of the same kind alternate darker and lighter
_SHADES: dict[str, tuple[str, ...]] = {
    "base": (BASE, "#5a5a5a", "#a5a5a5", "#404040", "#c7c7c7"),
    "rag": (RAG, "#135a8c", "#5fa2d4", "#0b3d61", "#9ac4e6"),
    "finetuned": (FINETUNED, "#c45c00", "#ffa54f", "#8c4100", "#ffc891", "#e06d00", "#ffb870"),
    "hybrid": (HYBRID, "#1b7a1b", "#66c266", "#0f520f", "#9ed99e"),
}

_ALIASES = {"base": "base", "none": "base", "closed_book": "base", "rag": "rag",
            "finetuned": "finetuned", "fine-tuned": "finetuned", "fine_tuned": "finetuned",
            "finetune": "finetuned", "ft": "finetuned", "hybrid": "hybrid", "rag+ft": "hybrid"}

#: the font of every chart: the interface's sans-serif, so charts and text look like one page
FONT_FAMILY = '"Source Sans 3", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif'
TEXT_COLOUR = "#262730"
GRID_COLOUR = "#e6e9ef"


def canonical_kind(kind: str) -> str:
    """The canonical kind ("base", "rag", "finetuned", "hybrid") for a name or alias."""
    key = str(kind).strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown strategy kind {kind!r}; expected one of {', '.join(LEGEND_ORDER)}")
    return _ALIASES[key]


def color_for(strategy_kind: str, index: int = 0) -> str:
    """The hex colour of the ``index``-th strategy of a kind (0 = the kind's own colour)."""
    shades = _SHADES[canonical_kind(strategy_kind)]
    return shades[index % len(shades)]


def legend_rank(kind: str) -> int:
    """Position of a kind in the fixed legend order (for sorting)."""
    return LEGEND_ORDER.index(canonical_kind(kind))


def colour_map(strategies: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{name: colour}`` for (name, kind) pairs; repeated kinds get successive shades.

    Use as plotly's ``color_discrete_map`` so a strategy keeps its colour in every chart.
    """
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for name, kind in strategies:
        canonical = canonical_kind(kind)
        out[name] = color_for(canonical, seen.get(canonical, 0))
        seen[canonical] = seen.get(canonical, 0) + 1
    return out


def ordered(strategies: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, kind) pairs in legend order: by kind, then in the order given."""
    items = list(strategies)
    return sorted(items, key=lambda item: (legend_rank(item[1]), items.index(item)))


def apply_theme(fig: Any) -> Any:
    """Give a plotly figure the lab's look (white, same fonts, horizontal legend); returns it."""
    _white_template(fig)
    fig.update_layout(
        font={"family": FONT_FAMILY, "size": 14, "color": TEXT_COLOUR},
        title={"font": {"family": FONT_FAMILY, "size": 17}, "x": 0, "xanchor": "left"},
        colorway=[color_for(kind) for kind in LEGEND_ORDER],
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                "traceorder": "normal", "title": {"text": ""}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        plot_bgcolor="white", paper_bgcolor="white",
    )
    fig.update_xaxes(gridcolor=GRID_COLOUR, zerolinecolor=GRID_COLOUR)
    fig.update_yaxes(gridcolor=GRID_COLOUR, zerolinecolor=GRID_COLOUR)
    return fig


def _white_template(fig: Any) -> None:
    """Plotly's own "plotly_white" template on ``fig``, set the way plotly sets a figure's default
    template (layout validation off: the template is plotly's and already valid).

    ``update_layout(template="plotly_white")`` deep-copies and re-validates the whole template:
    10-15 ms a figure, a third of the Evaluate page's script time with its eight charts; this is
    under 1 ms and gives the same figure (bench/pages_bench.py).
    """
    import plotly.io as pio

    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates["plotly_white"]
    finally:
        layout._validate = fig._validate
