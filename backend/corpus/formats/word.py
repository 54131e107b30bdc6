"""Word (.docx) reader: paragraphs and tables in document order; heading paragraphs (styles
"Heading N", Spanish "Título N", or any paragraph with an outline level) start named sections.

Word does not store page numbers (they depend on rendering), so ``page`` stays None. Headers,
footers, footnotes and text boxes are not read.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from backend.corpus.documents import (SECTION_SEP, ParsedDocument, ParsedSection, ReadOptions,
                                      fold_heading_only, human_size, make_document)
from backend.corpus.formats import register
from backend.errors import InputError
from backend.messages import msg

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc files and password-protected Office files
_HEADING_STYLE = re.compile(r"^(?:heading|t[ií]tulo|encabezado)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|t[ií]tulo)$", re.IGNORECASE)
_RESAVE = msg("upload.docx_resave")


@register("docx", "Word document (.docx)", (".docx",))
def read_docx(name: str, data: bytes, options: ReadOptions) -> list[ParsedDocument]:
    """One section per heading, named by the heading path; tables become one line per row."""
    if data.startswith(_OLE_MAGIC):
        raise InputError(msg("upload.docx_old"), hint=msg("upload.docx_old_hint"))
    _check_expanded_size(data, options)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception:  # noqa: BLE001 - python-docx raises many kinds of errors for broken files
        raise InputError(msg("upload.docx_damaged"), hint=_RESAVE) from None

    sections: list[ParsedSection] = []
    has_body: list[bool] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    body = False
    path: str | None = None
    for block in blocks:
        if isinstance(block, Paragraph):
            text = block.text
            level = _heading_level(block) if text.strip() else None
            if level is None:
                current.append(text)
                body = body or bool(text.strip())
                continue
            sections.append(ParsedSection("\n".join(current), section=path))
            has_body.append(body)
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, " ".join(text.split())))
            path = SECTION_SEP.join(h for _, h in stack)
            current, body = [text], False
        elif isinstance(block, Table):
            table = _table_text(block)
            current.append(table)
            body = body or bool(table.strip())
    sections.append(ParsedSection("\n".join(current), section=path))
    has_body.append(body)
    return [make_document(name, "docx", data, fold_heading_only(sections, has_body),
                          metadata=_metadata(document),
                          empty_message=msg("upload.no_text_docx"))]


def _check_expanded_size(data: bytes, options: ReadOptions) -> None:
    """A .docx is a ZIP: refuse one whose parts would expand past the ZIP limit (a "docx bomb")."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InputError(msg("upload.docx_damaged"), hint=_RESAVE) from None
    if declared > options.max_expanded_bytes:
        raise InputError(f"The Word document expands to {human_size(declared)}, more than the "
                         f"{human_size(options.max_expanded_bytes)} allowed.",
                         hint="Split it into smaller documents.")


def _heading_level(paragraph: Paragraph) -> int | None:
    try:
        style = paragraph.style
        style_name = (style.name or "").strip() if style is not None else ""
    except Exception:  # noqa: BLE001 - a dangling style reference: treat as body text
        return None
    match = _HEADING_STYLE.match(style_name)
    if match:
        return max(1, int(match.group(1)))
    if _TITLE_STYLE.match(style_name):
        return 0  # above "Heading 1": the document's title heads the whole path
    # Headings made with custom styles still carry an outline level (0-based; 9 means body text).
    elements = [paragraph._p] + ([style.element] if style is not None else [])
    for element in elements:
        values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if values and str(values[0]).isdigit() and int(values[0]) < 9:
            return int(values[0]) + 1
    return None


def _table_text(table: Table) -> str:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _metadata(document: docx.document.Document) -> dict:
    out: dict = {}
    try:
        props = document.core_properties
        for key in ("title", "author"):
            value = getattr(props, key, None)
            if value and str(value).strip():
                out[key] = str(value).strip()[:500]
    except Exception:  # noqa: BLE001 - core properties are optional and often malformed
        pass
    return out
