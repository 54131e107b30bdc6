"""HTML reader: the text a browser would show, split into sections at the headings (h1–h6).

Scripts, styles, templates, embedded objects, the ``<head>`` and elements marked hidden (``hidden``,
``aria-hidden="true"``, inline ``display:none``) are dropped. Block elements end a line; table cells
are separated by " | ". The ``<title>`` goes to the metadata.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from backend.corpus.documents import (SECTION_SEP, ParsedDocument, ParsedSection, ReadOptions,
                                      fold_heading_only, make_document)
from backend.corpus.formats import register
from backend.corpus.formats.text import decoded
from backend.messages import msg

_DROPPED = ("script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object",
            "embed", "canvas", "audio", "video", "select", "button")
_BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
           "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
           "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
           "tr", "ul", "caption", "body"}
_CELLS = {"td", "th"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Marks for line and cell ends while walking: control characters no page contains, unlike "\n",
# which HTML treats as a space.
_LINE, _CELL = "\x1e", "\x1f"
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


@register("html", "web page (HTML)", (".html", ".htm", ".xhtml"))
def read_html(name: str, data: bytes, options: ReadOptions) -> list[ParsedDocument]:
    """One section per heading, named by the heading path."""
    declared = _META_CHARSET.search(data[:4096])
    text, metadata, warnings = decoded(data, declared=declared.group(1).decode("ascii") if declared else None)
    soup = BeautifulSoup(text, "html.parser")
    title = soup.find("title")
    if title and title.get_text(strip=True):
        metadata["title"] = " ".join(title.get_text(" ").split())[:500]
    _drop_invisible(soup)
    sections = _sections(soup)
    return [make_document(name, "html", data, sections, metadata=metadata, warnings=warnings,
                          empty_message=msg("upload.no_text_html"))]


def _drop_invisible(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    hidden = [tag for tag in soup.find_all(True)
              if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true"
              or _HIDDEN_STYLE.search(str(tag.get("style", "")))]
    for tag in hidden:
        if not tag.decomposed:
            tag.decompose()


def _sections(soup: BeautifulSoup) -> list[ParsedSection]:
    """Walk the tree once (iteratively: pages nest deeply), ending lines at block elements and
    starting a section at each heading."""
    sections: list[ParsedSection] = []
    has_body: list[bool] = []
    stack: list[tuple[int, str]] = []  # open headings: (level, text)
    parts: list[str] = []
    body = False
    path: str | None = None
    in_heading = in_pre = 0
    todo: list[tuple[object, bool]] = [(soup, False)]
    while todo:
        node, leaving = todo.pop()
        if isinstance(node, Tag):
            name = node.name
            if leaving:
                in_heading -= name in _HEADINGS
                in_pre -= name == "pre"
                parts.append(_CELL if name in _CELLS else _LINE if name in _BLOCKS else "")
                continue
            level = _HEADINGS.get(name)
            if level:
                heading = " ".join(node.get_text(" ").split())
                if heading:
                    sections.append(ParsedSection(_tidy(parts), section=path))
                    has_body.append(body)
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    stack.append((level, heading))
                    path = SECTION_SEP.join(h for _, h in stack)
                    parts, body = [], False
                in_heading += 1
            in_pre += name == "pre"
            if name in _BLOCKS:
                parts.append(_LINE)
            todo.append((node, True))
            todo.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            # (comments, doctype, CDATA and processing instructions are PreformattedStrings)
            piece = str(node).replace("\n", _LINE if in_pre else " ")  # in HTML a line break is a space
            parts.append(piece)
            body = body or (not in_heading and bool(piece.strip(_LINE + _CELL + " \t")))
    sections.append(ParsedSection(_tidy(parts), section=path))
    has_body.append(body)
    return fold_heading_only(sections, has_body)


def _tidy(parts: list[str]) -> str:
    lines = []
    for line in "".join(parts).replace(_LINE, "\n").split("\n"):
        cells = [_SPACES.sub(" ", cell).strip() for cell in line.split(_CELL)]
        line = " | ".join(cell for cell in cells if cell)
        if line:
            lines.append(line)
    return "\n".join(lines)
