"""Registry of format readers: one small function per format, registered by kind.

A reader takes ``(name, data, options)`` (the display name, the raw bytes and the ``ReadOptions``)
and returns a list of ``ParsedDocument`` — one for most formats, one per row for CSV and JSONL —
or a pair ``(documents, file_warnings)`` when it has something to say about the file as a whole
(rows skipped, the column it guessed). It raises ``InputError`` with a message the user can act on
when the file cannot be used; anything else it raises is treated by ``readers.parse_upload`` as a
damaged file. Adding a format means adding one module here that calls ``register``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backend.corpus.documents import ParsedDocument, ReadOptions

ReaderOutput = "list[ParsedDocument] | tuple[list[ParsedDocument], list[str]]"
ReaderFn = Callable[[str, bytes, ReadOptions], ReaderOutput]


@dataclass(frozen=True)
class Format:
    kind: str  # "pdf", "docx", ...
    label: str  # what to call it in messages: "PDF", "Word document (.docx)"
    extensions: tuple[str, ...]
    read: ReaderFn


FORMATS: dict[str, Format] = {}
_BY_EXTENSION: dict[str, Format] = {}


def register(kind: str, label: str, extensions: tuple[str, ...]) -> Callable[[ReaderFn], ReaderFn]:
    """Decorator: make ``fn`` the reader for files ending in any of ``extensions``."""

    def wrap(fn: ReaderFn) -> ReaderFn:
        fmt = Format(kind, label, tuple(e.lower() for e in extensions), fn)
        FORMATS[kind] = fmt
        for ext in fmt.extensions:
            _BY_EXTENSION[ext] = fmt
        return fn

    return wrap


def format_for_extension(ext: str) -> Format | None:
    """The format registered for ``ext`` (".pdf"), or None."""
    return _BY_EXTENSION.get(ext.lower())


def registered_extensions() -> list[str]:
    return sorted(_BY_EXTENSION)


# Importing the modules registers their readers (kept at the bottom: they import ``register``).
from backend.corpus.formats import markup, pdf, tabular, text, word  # noqa: E402,F401
