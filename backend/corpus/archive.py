"""Safe expansion of a ZIP upload, entirely in memory (nothing is ever written to disk).

Checked before anything is decompressed, from the archive's directory: the number of files and
their declared total size (a ZIP bomb is refused as a whole). Checked per entry: paths that are
absolute or climb out with ".." (refused: only that entry), symbolic links, password-protected
entries, entries larger than the per-file limit, and nested archives — a ZIP inside a ZIP is not
opened (one level only: nested bombs and path games are not worth the risk; the user can upload
the inner ZIP on its own). While reading, the real decompressed bytes are counted in chunks, so an
archive whose directory lies about its sizes is still stopped at the limit.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

from backend.corpus.documents import UploadLimits, display_name, extension, human_size
from backend.errors import InputError
from backend.messages import msg

_CHUNK = 1024 * 1024
_JUNK_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
_NESTED = {".zip"}  # archives we never open inside an upload


@dataclass
class Member:
    """One file of the archive: its bytes, or why it was not read."""

    name: str  # display path inside the archive ("policies/leave.md")
    data: bytes | None = None
    error: str | None = None


def _member_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; tools that write UTF-8 without setting the ZIP's UTF-8 flag are common."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _shown(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isprintable())[:160]


def _is_junk(path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    base = parts[-1].lower() if parts else ""
    return "__MACOSX" in parts or base.startswith("._") or base in _JUNK_FILES


def _unsafe_path(path: str) -> bool:
    return (path.startswith("/") or bool(re.match(r"^[A-Za-z]:", path)) or "\x00" in path
            or any(part == ".." for part in path.split("/")))


def expand_zip(data: bytes, limits: UploadLimits,
               precheck: Callable[[str], str | None] | None = None) -> Iterator[Member]:
    """Yield every file of the archive in order, each with its bytes or the reason it was refused.

    Raises ``InputError`` for problems with the archive as a whole (damaged, too many files, too
    large once expanded); callers must then discard members already yielded. ``precheck`` may
    refuse a member by name before it is decompressed (e.g. an unsupported file type).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise InputError(msg("upload.zip_invalid"), hint=msg("upload.zip_invalid_hint")) from None

    files = [info for info in infos if not info.is_dir()]
    if len(files) > limits.max_zip_files:
        raise InputError(f"The ZIP holds {len(files):,} files; at most {limits.max_zip_files:,} are allowed.",
                         hint="Split it into smaller archives.")
    declared = sum(info.file_size for info in files)
    if declared > limits.max_zip_uncompressed_bytes:
        raise InputError(f"The ZIP would expand to {human_size(declared)}, more than the "
                         f"{human_size(limits.max_zip_uncompressed_bytes)} allowed (it may be a ZIP bomb).",
                         hint="Split it into smaller archives or upload the files one by one.")

    total = 0
    with archive:
        for info in files:
            path = _member_name(info)
            if _is_junk(path):
                continue  # macOS resource forks and Explorer thumbnails: not the user's documents
            name = display_name(path, keep_folders=True)
            if _unsafe_path(path):
                yield Member(name, error=f"The archive entry “{_shown(path)}” has an unsafe path (absolute, or "
                                         "climbing out with “..”), so it was not read. Re-create the ZIP "
                                         "from the folder that holds your files.")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                yield Member(name, error="The archive entry is a symbolic link, which is not followed. "
                                         "Put the file itself in the ZIP.")
                continue
            if info.flag_bits & 0x1:
                yield Member(name, error="The archive entry is password-protected. Re-create the ZIP "
                                         "without a password.")
                continue
            if extension(path) in _NESTED:
                yield Member(name, error="Archives inside a ZIP are not opened (one level only). Upload "
                                         "that inner ZIP on its own, or extract it first.")
                continue
            refused = precheck(name) if precheck else None
            if refused:
                yield Member(name, error=refused)
                continue
            if info.file_size > limits.max_file_bytes:
                yield Member(name, error=f"The file is {human_size(info.file_size)}; the largest file "
                                         f"allowed is {human_size(limits.max_file_bytes)}. Split it into "
                                         "smaller files.")
                continue
            chunks, size, error = [], 0, None
            try:
                with archive.open(info) as handle:
                    while chunk := handle.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if total > limits.max_zip_uncompressed_bytes:
                            raise InputError(
                                f"The ZIP expands to more than {human_size(limits.max_zip_uncompressed_bytes)} "
                                "(more than its directory declares: it may be a ZIP bomb).",
                                hint="Split it into smaller archives or upload the files one by one.")
                        if size > info.file_size or size > limits.max_file_bytes:
                            error = ("The archive entry holds more data than it declares; the ZIP is "
                                     "damaged. Re-create it.")
                            break
                        chunks.append(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
                error = ("The archive entry is damaged or uses a compression method the lab cannot read. "
                         "Re-create the ZIP with standard (deflate) compression.")
            yield Member(name, error=error) if error else Member(name, data=b"".join(chunks))
