"""The memo as Markdown and as one self-contained HTML file.

The HTML holds everything it shows: its styles inline, the chart as inline SVG (no JavaScript, no
CDN, no web fonts), so the downloaded file opens offline and prints as one page. ``memo_html``
(the fragment) is what the Report page shows, so page and download look the same (the page
shows the chart as an image of the same SVG: Streamlit's HTML sanitiser drops inline SVG). Every text is
escaped; the memo's words come from ``phrases`` and the user's own names (runs, strategies).
"""

from __future__ import annotations

import base64
from html import escape
from typing import Mapping

from backend.report.build import Bar, Memo
from backend.report.phrases import lang_of, number, say

FONT = ('"Source Sans 3", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif')
TEXT = "#262730"
MUTED = "#5f6470"
GRID = "#e6e9ef"
NEUTRAL = "#7f7f7f"

#: scoped under .lab-memo so the page's own styles are never touched
CSS = f"""
.lab-memo {{ font-family: {FONT}; color: {TEXT}; max-width: 60rem; line-height: 1.45;
  font-size: 1rem; }}
.lab-memo h1 {{ font-size: 1.9rem; margin: 0 0 .2rem; }}
.lab-memo h2 {{ font-size: 1.2rem; margin: 1.4rem 0 .5rem; border-bottom: 1px solid {GRID};
  padding-bottom: .2rem; }}
.lab-memo .subtitle, .lab-memo .priorities, .lab-memo footer {{ color: {MUTED}; font-size: .9rem; }}
.lab-memo .recommendation {{ font-size: 1.15rem; font-weight: 600; padding: .8rem 1rem;
  border-left: 6px solid var(--choice, {NEUTRAL}); background: #f6f7f9; margin: .6rem 0; }}
.lab-memo ul {{ margin: .3rem 0; padding-left: 1.3rem; }}
.lab-memo li {{ margin: .2rem 0; }}
.lab-memo table {{ border-collapse: collapse; width: 100%; font-size: .88rem; margin: .4rem 0; }}
.lab-memo th, .lab-memo td {{ border: 1px solid {GRID}; padding: .3rem .45rem; text-align: left;
  vertical-align: top; }}
.lab-memo th {{ background: #f6f7f9; }}
.lab-memo .swatch {{ display: inline-block; width: .75rem; height: .75rem; border-radius: 2px;
  margin-right: .35rem; vertical-align: baseline; }}
.lab-memo svg, .lab-memo img.chart {{ max-width: 100%; height: auto; }}
.lab-memo footer {{ margin-top: 1.5rem; border-top: 1px solid {GRID}; padding-top: .4rem; }}
@media print {{ .lab-memo {{ font-size: 10pt; }} .lab-memo h2 {{ break-after: avoid; }} }}
"""


def colours_for(memo: Memo) -> dict[str, str]:
    """``{strategy name: colour}`` from the shared palette: one colour per strategy, shades for
    several of a kind, as in every chart of the lab."""
    try:
        # the palette is plain data (no Streamlit); the report reuses it so colours match the app
        from ui.palette import colour_map
    except ImportError:  # a backend-only install: one neutral colour
        return {b.label: NEUTRAL for b in memo.bars}
    return colour_map((b.label, b.kind) for b in memo.bars)


# --- the chart -------------------------------------------------------------------------------------
def chart_svg(memo: Memo, colours: Mapping[str, str] | None = None, *,
              standalone: bool = False) -> str:
    """Horizontal bars of the headline metric per strategy with 95% interval whiskers, as SVG
    (``standalone``: with its namespace, as an SVG file or image must have it)."""
    colours = colours or colours_for(memo)
    lang = memo.language
    left, right, row, top = 170, 130, 36, 12
    plot = 640 - left - right
    low, high = memo.chart_range
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return left + plot * (min(max(value, low), high) - low) / span

    height = top + row * len(memo.bars) + 28
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = [f'<svg{namespace} viewBox="0 0 640 {height}" width="640" '
             f'height="{height}" role="img" aria-label="{escape(memo.chart_title)}" '
             f'font-family=\'{FONT}\' font-size="13" fill="{TEXT}">',
             f"<title>{escape(memo.chart_title)}</title>"]
    ticks = [low + span * i / 4 for i in range(5)]
    for tick in ticks:  # grid and axis labels
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 4}" '
                     f'y2="{height - 22}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle" '
                     f'fill="{MUTED}">{escape(number(tick, lang))}</text>')
    origin = x(0.0) if low <= 0 <= high else x(low)
    for i, bar in enumerate(memo.bars):
        y = top + i * row
        mid = y + row / 2
        colour = colours.get(bar.label, NEUTRAL)
        parts.append(f'<text x="{left - 8}" y="{mid + 4:.1f}" text-anchor="end">'
                     f'{escape(bar.label)}</text>')
        parts.append(_bar(bar, x, origin, y, row, colour, left + plot, lang))
    parts.append("</svg>")
    return "".join(parts)


def _bar(bar: Bar, x, origin: float, y: float, row: int, colour: str, end: float, lang: str) -> str:
    mid = y + row / 2
    if bar.mean is None:
        return (f'<text x="{origin + 4:.1f}" y="{mid + 4:.1f}" fill="{MUTED}" font-style="italic">'
                f'{escape(say(lang, "na"))}</text>')
    start, stop = sorted((origin, x(bar.mean)))
    out = [f'<rect x="{start:.1f}" y="{y + 7}" width="{max(stop - start, 1):.1f}" '
           f'height="{row - 14}" fill="{colour}" rx="2"/>']
    if bar.low is not None and bar.high is not None:
        lo, hi = x(bar.low), x(bar.high)
        out.append(f'<path d="M{lo:.1f},{mid:.1f}H{hi:.1f}M{lo:.1f},{mid - 6:.1f}V{mid + 6:.1f}'
                   f'M{hi:.1f},{mid - 6:.1f}V{mid + 6:.1f}" stroke="{TEXT}" stroke-width="1.5" '
                   'fill="none"/>')
    label = f"{number(bar.mean, lang)} (n = {bar.n})"
    out.append(f'<text x="{end + 8:.1f}" y="{mid + 4:.1f}">{escape(label)}</text>')
    return "".join(out)


# --- HTML ----------------------------------------------------------------------------------------------
def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else ""


def chart_image(memo: Memo, colours: Mapping[str, str] | None = None) -> str:
    """The chart as an ``<img>`` holding the SVG in a data URI: Streamlit's ``st.html`` keeps
    HTML only (its sanitiser drops inline SVG), and an image looks the same."""
    data = base64.b64encode(chart_svg(memo, colours, standalone=True).encode("utf-8")).decode("ascii")
    return (f'<img class="chart" alt="{escape(memo.chart_title)}" width="640" '
            f'src="data:image/svg+xml;base64,{data}">')


def memo_html(memo: Memo, colours: Mapping[str, str] | None = None, *,
              chart_as_image: bool = False) -> str:
    """The memo as an HTML fragment (a ``<style>`` and an ``<article>``). The download has its
    chart inline (``<svg>``: selectable text, prints sharply); the page, where inline SVG is not
    allowed, shows the same drawing as an image (``chart_as_image``)."""
    colours = colours or colours_for(memo)
    chart = chart_image(memo, colours) if chart_as_image else chart_svg(memo, colours)
    h = {k: escape(v) for k, v in memo.headings.items()}
    choice = (colours.get(memo.bars[memo.keys.index(memo.choice)].label)
              if memo.choice in memo.keys else None)
    head = "".join(f"<th>{escape(c)}</th>" for c in memo.columns)
    body = "".join(
        "<tr>" + "".join(
            (f'<td><span class="swatch" style="background:{colours.get(row[0], NEUTRAL)}"></span>'
             f"{escape(cell)}</td>") if j == 0 else f"<td>{escape(cell)}</td>"
            for j, cell in enumerate(row)) + "</tr>" for row in memo.rows)
    settings = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in memo.settings)
    style = f' style="--choice: {choice}"' if choice else ""
    return (f"<style>{CSS}</style>"
            f'<article class="lab-memo" lang="{lang_of(memo.language)}">'
            f"<h1>{escape(memo.title)}</h1><p class=\"subtitle\">{escape(memo.subtitle)}</p>"
            f"<h2>{h['recommendation']}</h2>"
            f'<p class="recommendation"{style}>{escape(memo.recommendation)}</p>'
            f'<p class="priorities">{escape(memo.priorities)}</p>'
            + (f"<h2>{h['reasons']}</h2>{_list(memo.reasons)}" if memo.reasons else "")
            + f"<h2>{h['chart']}</h2>{chart}"
            f"<h2>{h['tradeoffs']}</h2><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{_list(memo.tradeoffs)}"
            f"<h2>{h['caveats']}</h2>{_list(memo.caveats)}"
            f"<h2>{h['sensitive']}</h2>{_list(memo.sensitive)}"
            f"<h2>{h['settings']}</h2><table><tbody>{settings}</tbody></table>"
            f"<footer>{escape(memo.footer)}</footer></article>")


def to_html(memo: Memo, colours: Mapping[str, str] | None = None) -> str:
    """The memo as one self-contained HTML document (opens offline, prints as a page)."""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang_of(memo.language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(memo.title)} — {escape(memo.subtitle)}</title></head>"
            f'<body style="margin: 2rem; background: #ffffff">{memo_html(memo, colours)}</body></html>\n')


# --- Markdown ----------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_cell(c) for c in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(memo: Memo) -> str:
    """The memo as Markdown: the same sections, the chart as a table of its numbers."""
    lang = memo.language
    h = memo.headings
    bullets = lambda items: "\n".join(f"- {i}" for i in items)  # noqa: E731
    chart = _table([say(lang, "col.strategy"), say(lang, "col.mean"), say(lang, "col.ci"),
                    say(lang, "col.n")],
                   [[b.label, number(b.mean, lang),
                     f"{number(b.low, lang)}–{number(b.high, lang)}" if b.low is not None else
                     say(lang, "na"), str(b.n)] for b in memo.bars])
    parts = [f"# {memo.title}", f"_{memo.subtitle}_", f"## {h['recommendation']}",
             f"> **{memo.recommendation}**", memo.priorities]
    if memo.reasons:
        parts += [f"## {h['reasons']}", bullets(memo.reasons)]
    parts += [f"## {h['chart']}", chart,
              f"## {h['tradeoffs']}", _table(memo.columns, memo.rows), bullets(memo.tradeoffs),
              f"## {h['caveats']}", bullets(memo.caveats),
              f"## {h['sensitive']}", bullets(memo.sensitive),
              f"## {h['settings']}", _table([say(lang, "col.setting"), say(lang, "col.value")],
                                           [list(r) for r in memo.settings]),
              "---", f"_{memo.footer}_"]
    return "\n\n".join(p for p in parts if p) + "\n"


def file_name(memo: Memo, extension: str) -> str:
    """``strategy-lab-report-<run>-<lang>.<extension>``."""
    return f"strategy-lab-report-{memo.run_id[:8]}-{lang_of(memo.language)}.{extension}"
