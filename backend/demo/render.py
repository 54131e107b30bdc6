"""Render the demo's Markdown sources to the formats a real upload contains (PDF, DOCX, HTML, TXT).

The sources use a deliberately small Markdown subset: a ``# Title`` first line, ``## Heading`` lines,
paragraphs, ``- bullet`` lists and ``1. numbered`` lists, with no inline markup. Keeping to that subset
means every sentence comes out of each renderer unchanged, so the question set's reference contexts
can be found verbatim in whatever text a reader extracts from the rendered file.

All renderers are deterministic (fixed timestamps, no random ids), so loading the demo twice produces
byte-identical files and content-hash de-duplication recognises them.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from dataclasses import dataclass

#: the date stamped into DOCX/PDF metadata and zip entries, so the bytes never depend on "now"
FIXED_DATE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
AUTHOR = "Nortera Outdoor S.L."

_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")


@dataclass(frozen=True)
class Block:
    """One structural element of a source document."""

    kind: str  # "title" | "heading" | "paragraph" | "bullets" | "numbered"
    text: str = ""
    items: tuple[str, ...] = ()


def parse_markdown(source: str) -> list[Block]:
    """Split a demo source into blocks; the first line must be a ``# Title``."""
    lines = source.strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("a demo source must start with a '# Title' line")
    blocks = [Block("title", lines[0][2:].strip())]
    paragraph: list[str] = []
    items: list[str] = []
    list_kind = ""

    def flush() -> None:
        nonlocal list_kind
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()
        if items:
            blocks.append(Block(list_kind, items=tuple(items)))
            items.clear()
            list_kind = ""

    for raw in lines[1:]:
        line = raw.strip()
        numbered = _NUMBERED.match(line)
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            blocks.append(Block("heading", line[3:].strip()))
        elif line.startswith("- ") or numbered:
            kind = "numbered" if numbered else "bullets"
            if paragraph or (items and list_kind != kind):
                flush()
            list_kind = kind
            items.append(numbered.group(2) if numbered else line[2:].strip())
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return blocks


def to_text(blocks: list[Block]) -> str:
    """Plain text: title on the first line, headings as their own lines, lists with markers."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "bullets":
            out.append("\n".join(f"- {item}" for item in block.items))
        elif block.kind == "numbered":
            out.append("\n".join(f"{i}. {item}" for i, item in enumerate(block.items, 1)))
        else:
            out.append(block.text)
    return "\n\n".join(out) + "\n"


def to_html(blocks: list[Block], language: str) -> str:
    """A small, valid HTML5 page with h1/h2/p/ul/ol elements."""
    esc = lambda s: html.escape(s, quote=False)  # noqa: E731 - local shorthand
    title = blocks[0].text
    body: list[str] = []
    for block in blocks:
        if block.kind == "title":
            body.append(f"<h1>{esc(block.text)}</h1>")
        elif block.kind == "heading":
            body.append(f"<h2>{esc(block.text)}</h2>")
        elif block.kind == "paragraph":
            body.append(f"<p>{esc(block.text)}</p>")
        else:
            tag = "ul" if block.kind == "bullets" else "ol"
            lis = "\n".join(f"  <li>{esc(item)}</li>" for item in block.items)
            body.append(f"<{tag}>\n{lis}\n</{tag}>")
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n"
        '<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}'
        "h1,h2{color:#1f4d3a}</style>\n"
        "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def to_pdf(blocks: list[Block], language: str) -> bytes:
    """An A4 PDF with real, extractable text (reportlab, standard Helvetica fonts)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    green = colors.HexColor("#1f4d3a")
    title_style = ParagraphStyle("DemoTitle", parent=styles["Title"], textColor=green, alignment=0)
    heading_style = ParagraphStyle("DemoHeading", parent=styles["Heading2"], textColor=green)
    body_style = ParagraphStyle("DemoBody", parent=styles["BodyText"], fontSize=10.5, leading=14)
    item_style = ParagraphStyle("DemoItem", parent=body_style, leftIndent=16, bulletIndent=4)
    esc = lambda s: html.escape(s, quote=False)  # noqa: E731 - reportlab parses a mini-XML

    story: list = []
    for block in blocks:
        if block.kind == "title":
            story.append(Paragraph(esc(block.text), title_style))
        elif block.kind == "heading":
            story.append(Paragraph(esc(block.text), heading_style))
        elif block.kind == "paragraph":
            story.append(Paragraph(esc(block.text), body_style))
        else:
            for i, item in enumerate(block.items, 1):
                bullet = "-" if block.kind == "bullets" else f"{i}."  # "\u2022" extracts as \x7f
                story.append(Paragraph(esc(item), item_style, bulletText=bullet))
            story.append(Spacer(1, 4))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=2.2 * cm, rightMargin=2.2 * cm, topMargin=2 * cm,
        bottomMargin=2 * cm, title=blocks[0].text, author=AUTHOR, lang=language,
        creator=AUTHOR, invariant=1,  # invariant: fixed dates and document id, reproducible bytes
    )
    doc.build(story)
    return buffer.getvalue()


def to_docx(blocks: list[Block], language: str) -> bytes:
    """A Word document using built-in Title/Heading/List styles, with fixed metadata dates."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.language = blocks[0].text, AUTHOR, language
    props.last_modified_by, props.revision = AUTHOR, 1
    naive = FIXED_DATE.replace(tzinfo=None)
    props.created = props.modified = props.last_printed = naive
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.text, level=0)
        elif block.kind == "heading":
            document.add_heading(block.text, level=1)
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        else:
            style = "List Bullet" if block.kind == "bullets" else "List Number"
            for item in block.items:
                document.add_paragraph(item, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_fixed_zip_dates(buffer.getvalue())


def _with_fixed_zip_dates(data: bytes) -> bytes:
    """Rewrite a zip so every entry carries FIXED_DATE: python-docx stamps the current time."""
    stamp = FIXED_DATE.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render(source: str, fmt: str, language: str) -> bytes:
    """Render one Markdown source to ``fmt`` (md, txt, html, pdf, docx) as bytes."""
    if fmt == "md":
        return source.encode("utf-8")
    blocks = parse_markdown(source)
    if fmt == "txt":
        return to_text(blocks).encode("utf-8")
    if fmt == "html":
        return to_html(blocks, language).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(blocks, language)
    if fmt == "docx":
        return to_docx(blocks, language)
    raise ValueError(f"unknown demo format: {fmt!r}")
