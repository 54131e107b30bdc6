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

__all__ = ["FileResult", "ParsedDocument", "ParsedSection", "UploadLimits", "parse_upload",
           "supported_extensions"]

log = logging.getLogger(__name__)

_UNEXPECTED = ("Something went wrong while reading this file; the details are in the lab's log. "
               "Try saving it again in another supported format.")

_SAVE_AS = {
    ".doc": "Open it in Word or LibreOffice and save it as .docx.",
    ".rtf": "Open it in Word or LibreOffice and save it as .docx.",
    ".odt": "Save it as .docx or PDF.",
    ".pptx": "Save or export it as PDF.",
    ".ppt": "Save or export it as PDF.",
    ".xlsx": "Export the sheet as CSV (UTF-8).",
    ".xls": "Export the sheet as CSV (UTF-8).",
    ".json": "Save it as JSON Lines (.jsonl): one JSON object per line.",
    ".rar": "Re-pack the files as a .zip.",
    ".7z": "Re-pack the files as a .zip.",
    ".tar": "Re-pack the files as a .zip.",
    ".gz": "Re-pack the files as a .zip.",
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
        return "The file is empty (0 bytes). Check that it is the file you meant to upload."
    if len(data) > limits.max_file_bytes:
        return (f"The file is {human_size(len(data))}; the largest upload allowed is "
                f"{human_size(limits.max_file_bytes)}. Split it into smaller files.")
    return _unsupported(name)


def _unsupported(name: str) -> str | None:
    ext = extension(name)
    if ext == ".zip" or format_for_extension(ext):
        return None
    supported = ", ".join(supported_extensions())
    what = (f"Files of type {ext} are not supported." if ext
            else "The file has no extension, so its type is unknown.")
    advice = _SAVE_AS.get(ext, "")
    return f"{what} Supported types: {supported}.{(' ' + advice) if advice else ''}"


def _parse_file(name: str, data: bytes, options: ReadOptions, *, archive: str | None = None) -> FileResult:
    fmt = format_for_extension(extension(name))
    assert fmt is not None  # _unsupported() ran first
    try:
        output = fmt.read(name, data, options)
    except InputError as exc:
        return FileResult(name, ok=False, error=exc.user_message)
    except RecursionError:
        return FileResult(name, ok=False, error=f"The {fmt.label} is nested too deeply to read. "
                                                 "Save it again in a simpler form.")
    except Exception:  # noqa: BLE001 - the libraries raise anything on broken files
        log.warning("could not read %r as %s", name, fmt.kind, exc_info=True)
        return FileResult(name, ok=False, error=f"The file could not be read as a {fmt.label}: it seems "
                                                 "damaged or is not really that type of file. Open and "
                                                 "save it again, then upload the new copy.")
    documents, warnings = output if isinstance(output, tuple) else (output, [])
    if archive:
        for doc in documents:
            doc.metadata["archive"] = archive
    return FileResult(name, ok=True, documents=documents, warnings=list(warnings))


def _parse_zip(name: str, data: bytes, limits: UploadLimits, options: ReadOptions) -> list[FileResult]:
    results = []
    for member in expand_zip(data, limits, precheck=_unsupported):
        if member.error:
            results.append(FileResult(member.name, ok=False, error=member.error))
        elif not member.data:
            results.append(FileResult(member.name, ok=False,
                                      error="The file is empty (0 bytes). Check that it is the file you meant."))
        else:
            results.append(_parse_file(member.name, member.data, options, archive=name))
    if not results:
        return [FileResult(name, ok=False, error="The ZIP holds no files.")]
    return results
