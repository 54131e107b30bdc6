"""The shapes every reader returns, and the small helpers they share.

A reader turns the raw bytes of one file into one or more ``ParsedDocument`` objects made of
``ParsedSection`` s (a PDF page, a Markdown or Word section under a heading, a CSV row). Text is
cleaned the same way for every format (``clean_text``) so that later steps (chunking, the
sensitive-data scanner, Postgres, which refuses NUL characters) see uniform input.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from backend.errors import InputError
from backend.messages import msg

#: joins the headings of a section path: "Guide > Setup > Tent poles"
SECTION_SEP = " > "
_MAX_NAME = 200


@dataclass
class ParsedSection:
    """A run of text with where it came from; its position is its order in the document."""

    text: str
    page: int | None = None  # 1-based page number (PDF only)
    section: str | None = None  # heading path, e.g. "Returns > Refunds"


@dataclass
class ParsedDocument:
    """One document ready for chunking: a file, or one row of a CSV/JSONL file."""

    name: str  # display name (sanitised; never used as a path)
    kind: str  # "pdf", "docx", "markdown", "txt", "html", "csv", "jsonl"
    sha256: str  # of the raw bytes (for a CSV/JSONL row: of the row's canonical JSON)
    sections: list[ParsedSection]
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All sections joined by blank lines."""
        return "\n\n".join(s.text for s in self.sections)


@dataclass
class FileResult:
    """What became of one uploaded file: its documents, or a message saying what to do."""

    name: str
    ok: bool
    documents: list[ParsedDocument] = field(default_factory=list)
    error: str | None = None  # a message for the user when ok is False
    warnings: list[str] = field(default_factory=list)  # file-level notes (rows skipped, ...)


@dataclass(frozen=True)
class UploadLimits:
    """Size limits applied before anything is parsed."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_zip_uncompressed_bytes: int = 500 * 1024 * 1024
    max_zip_files: int = 2000

    @classmethod
    def from_settings(cls, settings: Any) -> "UploadLimits":
        """Limits from ``Settings`` (``max_upload_mb``, ``max_zip_uncompressed_mb``, ``max_zip_files``)."""
        mb = 1024 * 1024
        return cls(max_file_bytes=int(settings.max_upload_mb * mb),
                   max_zip_uncompressed_bytes=int(settings.max_zip_uncompressed_mb * mb),
                   max_zip_files=int(settings.max_zip_files))


@dataclass(frozen=True)
class ReadOptions:
    """Per-upload choices a reader may need."""

    text_column: str | None = None  # CSV/JSONL: the column that holds the text
    max_expanded_bytes: int = 500 * 1024 * 1024  # .docx: most its ZIP parts may expand to


# --- text ---------------------------------------------------------------------------------------
# C0/C1 control characters except tab, newline and form feed; NUL in particular, which Postgres
# text columns refuse. The soft hyphen is invisible and breaks words apart in PDF text; stray
# byte-order marks (U+FEFF) start many exported cells and paragraphs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00ad\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """NFC-normalised text with Unix newlines, no control characters and at most one blank line in a row.

    NFC matters for Spanish: "ñ" typed on macOS arrives as "n" + combining tilde, which would
    neither match searches nor the sensitive-data patterns.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def display_name(raw: str, *, keep_folders: bool = False) -> str:
    """A name safe to show and store: no folders (unless ``keep_folders``), controls or odd spacing.

    The result is for display only; nothing in the lab ever opens a path built from it.
    """
    parts = [p for p in re.split(r"[\\/]+", raw or "") if p not in ("", ".", "..")]
    if not keep_folders:
        parts = parts[-1:]
    cleaned = []
    for part in parts:
        part = unicodedata.normalize("NFC", part)
        part = "".join(ch for ch in part if unicodedata.category(ch)[0] != "C")
        part = re.sub(r"\s+", " ", part).strip()
        if part:
            cleaned.append(part)
    name = "/".join(cleaned) or "unnamed"
    if len(name) > _MAX_NAME:  # keep the extension, it tells the user what the file was
        _, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = name[: _MAX_NAME - len(ext) - 2] + "…" + ("." + ext if ext else "")
    return name


def extension(name: str) -> str:
    """The lower-case extension with its dot ("" when there is none)."""
    base = re.split(r"[\\/]", name)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def human_size(n: int) -> str:
    """Bytes as a short human string in binary units (matches how the limits are set, in MB)."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def fold_heading_only(sections: list[ParsedSection], has_body: list[bool]) -> list[ParsedSection]:
    """Join a section that is only its heading to the next section when that one is its subsection.

    "## User guide" followed at once by "### Setup" would otherwise become a chunk of three words;
    the heading text still reaches the index, at the top of the subsection it introduces.
    """
    out: list[ParsedSection] = []
    carry = ""
    for i, section in enumerate(sections):
        text = carry + "\n\n" + section.text if carry else section.text
        carry = ""
        nxt = sections[i + 1] if i + 1 < len(sections) else None
        if (not has_body[i] and section.section and nxt is not None and nxt.page == section.page
                and (nxt.section or "").startswith(section.section + SECTION_SEP)):
            carry = text
            continue
        out.append(ParsedSection(text, section.page, section.section))
    return out


def make_document(name: str, kind: str, raw: bytes, sections: list[ParsedSection], *,
                  metadata: dict[str, Any] | None = None, warnings: list[str] | None = None,
                  empty_message: str | None = None) -> ParsedDocument:
    """Clean every section, drop the empty ones, and refuse a document left with no text at all."""
    kept = []
    for section in sections:
        text = clean_text(section.text)
        if text:
            kept.append(ParsedSection(text=text, page=section.page, section=section.section))
    if not kept:
        raise InputError(empty_message or msg("upload.no_text"), hint=msg("upload.check_file"))
    return ParsedDocument(name=name, kind=kind, sha256=sha256_hex(raw), sections=kept,
                          metadata=dict(metadata or {}), warnings=list(warnings or []))
