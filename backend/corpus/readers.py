"""Read uploaded files into documents: ``parse_upload(name, data, limits)``.

Everything happens on the bytes in memory; the user's file name is only ever shown, never used
as a path. Each file — and each member of a ZIP — gets its own ``FileResult``: its documents, or
a message saying what is wrong and what to do, so one bad file never stops the others.

The format readers live in ``backend.corpus.formats`` (PDF, Word, Markdown, text, HTML, CSV,
JSONL), parsed directly with pypdf, python-docx and BeautifulSoup: LlamaIndex's file readers need
a path on disk and the ``llama-index-readers-file`` package, and we parse from bytes without it.
LlamaIndex takes over at chunking (``backend.corpus.chunking``).
"""

from __future__ import annotations

import logging

from backend.corpus.archive import expand_zip
from backend.corpus.documents import (FileResult, ParsedDocument, ParsedSection, ReadOptions, UploadLimits,
                                      display_name, extension, human_size)
from backend.corpus.formats import format_for_extension, registered_extensions
from backend.errors import InputError
from backend.messages import TEXTS, msg

__all__ = ["FileResult", "ParsedDocument", "ParsedSection", "UploadLimits", "parse_upload",
           "supported_extensions"]

log = logging.getLogger(__name__)

_UNEXPECTED = msg("upload.unexpected")

#: what to do with a file of a type the lab does not read (a key of backend/messages.py)
_SAVE_AS = {
    ".doc": "upload.save_as_docx", ".rtf": "upload.save_as_docx",
    ".odt": "upload.save_as_docx_or_pdf",
    ".pptx": "upload.export_pdf", ".ppt": "upload.export_pdf",
    ".xlsx": "upload.export_csv", ".xls": "upload.export_csv",
    ".json": "upload.save_as_jsonl",
    ".rar": "upload.repack_zip", ".7z": "upload.repack_zip", ".tar": "upload.repack_zip",
    ".gz": "upload.repack_zip",
}


def supported_extensions() -> list[str]:
    """Every file extension ``parse_upload`` accepts, with its dot, sorted (".csv", ..., ".zip")."""
    return sorted(set(registered_extensions()) | {".zip"})


def parse_upload(name: str, data: bytes, limits: UploadLimits, *,
                 text_column: str | None = None) -> list[FileResult]:
    """One ``FileResult`` per file: one for a plain file, one per member for a ZIP.

    Never raises for bad input: a file that cannot be used comes back with ``ok=False`` and a
    message for the user, and nothing partial; the other files of the same ZIP still parse. A ZIP
    that is unsafe as a whole (damaged, a ZIP bomb, too many files) comes back as one failed result.
    ``text_column`` picks the column that holds the text in CSV and JSONL files.
    """
    shown = display_name(name)
    options = ReadOptions(text_column=text_column, max_expanded_bytes=limits.max_zip_uncompressed_bytes)
    try:
        refused = _refuse_early(shown, data, limits)
        if refused:
            return [FileResult(shown, ok=False, error=refused)]
        if extension(shown) == ".zip":
            return _parse_zip(shown, data, limits, options)
        return [_parse_file(shown, data, options)]
    except InputError as exc:
        return [FileResult(shown, ok=False, error=exc.user_message)]
    except Exception:  # noqa: BLE001 - a bug or a library failure must not lose the other files
        log.exception("unexpected failure reading upload %r", shown)
        return [FileResult(shown, ok=False, error=_UNEXPECTED)]


def _refuse_early(name: str, data: bytes, limits: UploadLimits) -> str | None:
    """The message for a file refused before it is opened: empty, too large or of the wrong type."""
    if not data:
        return msg("upload.empty")
    if len(data) > limits.max_file_bytes:
        return msg("upload.too_large", size=human_size(len(data)),
                   limit=human_size(limits.max_file_bytes))
    return _unsupported(name)


def _unsupported(name: str) -> str | None:
    ext = extension(name)
    if ext == ".zip" or format_for_extension(ext):
        return None
    supported = ", ".join(supported_extensions())
    what = (msg("upload.unsupported", ext=ext, supported=supported) if ext
            else msg("upload.no_extension", supported=supported))
    advice = _SAVE_AS.get(ext)
    return msg("text.joined", first=what, second=msg(advice)) if advice else what


def _parse_file(name: str, data: bytes, options: ReadOptions, *, archive: str | None = None) -> FileResult:
    fmt = format_for_extension(extension(name))
    assert fmt is not None  # _unsupported() ran first
    try:
        output = fmt.read(name, data, options)
    except InputError as exc:
        return FileResult(name, ok=False, error=exc.user_message)
    except RecursionError:
        return FileResult(name, ok=False, error=msg("upload.nested", format=_format(fmt)))
    except Exception:  # noqa: BLE001 - the libraries raise anything on broken files
        log.warning("could not read %r as %s", name, fmt.kind, exc_info=True)
        return FileResult(name, ok=False, error=msg("upload.damaged", format=_format(fmt)))
    documents, warnings = output if isinstance(output, tuple) else (output, [])
    if archive:
        for doc in documents:
            doc.metadata["archive"] = archive
    return FileResult(name, ok=True, documents=documents, warnings=list(warnings))


def _format(fmt) -> str:
    """The format's name as a message names it (translatable when the catalogue knows it)."""
    return msg(f"format.{fmt.kind}") if f"format.{fmt.kind}" in TEXTS else fmt.label


def _parse_zip(name: str, data: bytes, limits: UploadLimits, options: ReadOptions) -> list[FileResult]:
    results = []
    for member in expand_zip(data, limits, precheck=_unsupported):
        if member.error:
            results.append(FileResult(member.name, ok=False, error=member.error))
        elif not member.data:
            results.append(FileResult(member.name, ok=False,
                                      error=msg("upload.empty_in_zip")))
        else:
            results.append(_parse_file(member.name, member.data, options, archive=name))
    if not results:
        return [FileResult(name, ok=False, error=msg("upload.zip_no_files"))]
    return results
