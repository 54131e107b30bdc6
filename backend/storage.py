"""One storage interface for artifacts (uploaded files, adapters, exported reports).

By default the bytes live in Postgres (``artifacts.content``), so a worker on another machine that
shares the database can read them. When ``artifact_dir`` is set, artifacts larger than
``inline_limit`` (full fine-tuned weights) are written to that shared folder instead, named by their
id (never by a user's file name), and the row records where they are.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from backend.db import Database
from backend.errors import ConfigError, NotFound

INLINE_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class ArtifactInfo:
    id: str
    kind: str
    name: str
    size_bytes: int
    sha256: str
    location: str | None
    metadata: dict


class ArtifactStore:
    def __init__(self, db: Database, shared_dir: str | Path | None = None,
                 inline_limit: int = INLINE_LIMIT) -> None:
        self.db = db
        self.shared_dir = Path(shared_dir).expanduser() if shared_dir else None
        self.inline_limit = inline_limit

    def put_bytes(self, kind: str, name: str, data: bytes, metadata: dict[str, Any] | None = None) -> str:
        """Store ``data``; return the artifact id."""
        digest = hashlib.sha256(data).hexdigest()
        art_id = str(uuid.uuid4())
        location = None
        content: bytes | None = data
        if self.shared_dir is not None and len(data) > self.inline_limit:
            location = self._write_shared(art_id, data)
            content = None
        self.db.execute(
            "INSERT INTO artifacts (id, kind, name, size_bytes, sha256, content, location, metadata) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (art_id, kind, name, len(data), digest, content, location, Jsonb(metadata or {})))
        return art_id

    def put_folder(self, kind: str, name: str, folder: Path, metadata: dict[str, Any] | None = None) -> str:
        """Store a folder (e.g. a PEFT adapter) as a ZIP artifact."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(folder).as_posix())
        return self.put_bytes(kind, name, buf.getvalue(), {**(metadata or {}), "format": "zip-folder"})

    def get_bytes(self, art_id: str) -> bytes:
        row = self.db.fetchone("SELECT content, location FROM artifacts WHERE id = %s", (art_id,))
        if row is None:
            raise NotFound(f"Artifact {art_id} does not exist (it may have been deleted).")
        if row["content"] is not None:
            return bytes(row["content"])
        path = Path(row["location"])
        if not path.exists():
            raise ConfigError(f"Artifact {art_id} is stored in {path}, which this machine cannot read.",
                              hint="Mount the shared artifact folder here, or set LAB_ARTIFACT_DIR.")
        return path.read_bytes()

    def get_folder(self, art_id: str, target: Path) -> Path:
        """Unpack a folder artifact into ``target`` (created) and return it."""
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(self.get_bytes(art_id))) as zf:
            for member in zf.namelist():
                dest = (target / member).resolve()
                if not dest.is_relative_to(target.resolve()):
                    raise ConfigError(f"Artifact {art_id} holds an unsafe path {member!r}.")
            zf.extractall(target)
        return target

    def info(self, art_id: str) -> ArtifactInfo:
        row = self.db.fetchone("SELECT id::text, kind, name, size_bytes, sha256, location, metadata "
                               "FROM artifacts WHERE id = %s", (art_id,))
        if row is None:
            raise NotFound(f"Artifact {art_id} does not exist.")
        return ArtifactInfo(**row)

    def delete(self, art_id: str) -> None:
        row = self.db.fetchone("DELETE FROM artifacts WHERE id = %s RETURNING location", (art_id,))
        if row and row["location"]:
            Path(row["location"]).unlink(missing_ok=True)

    def _write_shared(self, art_id: str, data: bytes) -> str:
        assert self.shared_dir is not None
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        path = self.shared_dir / f"{art_id}.bin"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        shutil.move(tmp, path)
        return str(path)
