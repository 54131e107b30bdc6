"""PDF reader: the text layer of each page, with its page number and, when the PDF has bookmarks,
the bookmark path the page falls under as its section.

Refused with a message: damaged files, encrypted files that need a password (those protected by an
owner password only open with the empty password and are read), and scans without a text layer —
the lab does no OCR.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader

from backend.corpus.documents import SECTION_SEP, ParsedDocument, ParsedSection, ReadOptions, make_document
from backend.corpus.formats import register
from backend.errors import InputError
from backend.messages import msg

log = logging.getLogger(__name__)

_RESAVE = msg("upload.pdf_resave")
_MAX_OUTLINE = 5000  # bookmarks read at most; a pathological outline should not stall an upload


def _damaged() -> InputError:
    return InputError(msg("upload.pdf_damaged"), hint=_RESAVE)


def _pages_list(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:12])
    return shown + (f" and {len(pages) - 12} more" if len(pages) > 12 else "")


@register("pdf", "PDF", (".pdf",))
def read_pdf(name: str, data: bytes, options: ReadOptions) -> list[ParsedDocument]:
    """One section per page that has text, page numbers from 1."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of errors for broken files
        log.info("PDF %s unreadable: %r", name, exc)
        raise _damaged() from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # owner-password-only PDFs open with the empty password
        except Exception:  # noqa: BLE001 - e.g. AES without a crypto library: treat as locked
            opened = False
        if not opened:
            raise InputError(msg("upload.pdf_encrypted"), hint=msg("upload.pdf_encrypted_hint"))
    try:
        pages = list(reader.pages)
    except Exception:  # noqa: BLE001
        raise _damaged() from None
    if not pages:
        raise InputError(msg("upload.pdf_no_pages"), hint=_RESAVE)

    starts = _outline_starts(reader)
    sections, empty, failed = [], [], []
    for index, page in enumerate(pages):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one bad page should not sink the document
            log.info("PDF %s page %d unreadable: %r", name, index + 1, exc)
            failed.append(index + 1)
            continue
        if text.strip():
            sections.append(ParsedSection(text, page=index + 1, section=_section_for(starts, index)))
        else:
            empty.append(index + 1)

    if not sections:
        if len(failed) == len(pages):
            raise _damaged()
        raise InputError(msg("upload.pdf_scanned"), hint=msg("upload.pdf_scanned_hint"))
    warnings = []
    if empty:
        warnings.append(f"Pages {_pages_list(empty)} have no text layer (scanned images?) and were skipped.")
    if failed:
        warnings.append(f"Pages {_pages_list(failed)} could not be read and were skipped.")
    return [make_document(name, "pdf", data, sections, metadata=_metadata(reader, len(pages)),
                          warnings=warnings)]


def _metadata(reader: PdfReader, page_count: int) -> dict:
    out: dict = {"pages": page_count}
    try:
        info = reader.metadata or {}
        for key, field in (("title", "/Title"), ("author", "/Author")):
            value = info.get(field)
            if value and str(value).strip():
                out[key] = str(value).strip()[:500]
    except Exception:  # noqa: BLE001 - metadata is a nicety; a broken info dictionary is common
        pass
    return out


def _outline_starts(reader: PdfReader) -> list[tuple[int, str]]:
    """``(page index, bookmark path)`` for each bookmark, sorted by page (stable)."""
    starts: list[tuple[int, str]] = []

    def walk(items: list, path: list[str], depth: int) -> None:
        last = None
        for item in items:
            if len(starts) >= _MAX_OUTLINE or depth > 16:
                return
            if isinstance(item, list):
                if last is not None:
                    walk(item, path + [last], depth + 1)
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - dangling bookmarks are common
                continue
            if title and page is not None and page >= 0:
                starts.append((page, SECTION_SEP.join(path + [title])))
                last = title

    try:
        walk(list(reader.outline), [], 0)
    except Exception:  # noqa: BLE001 - a broken outline must not stop the text from being read
        return []
    return sorted(starts, key=lambda s: s[0])


def _section_for(starts: list[tuple[int, str]], page_index: int) -> str | None:
    section = None
    for start, path in starts:
        if start > page_index:
            break
        section = path
    return section
