"""Corpora, their indexes and their documents: the rows in ``sql/0003_corpora.sql``.

Vector tables are created and dropped through ``backend.corpus.index``; this module keeps the rows
that say which tables exist and what is in them. Every function takes the ``Lab`` (settings +
database) and returns plain dataclasses.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from backend.corpus import index as vindex
from backend.errors import InputError, NotFound

if TYPE_CHECKING:
    from backend.lab import Lab

LANGUAGES = ("en", "es", "mixed")
_INDEX_COLS = ("id::text, corpus_id::text, embed_spec, embed_name, dim, chunking, chunking_key, "
               "table_name, text_search_config, status, active, error, job_id, build_seconds, "
               "created_at, built_at")


@dataclass(frozen=True)
class IndexInfo:
    """One corpus index: corpus + embedding model + chunking -> vector table ``data_<table_name>``."""

    id: str
    corpus_id: str
    embed_spec: str
    embed_name: str
    dim: int
    chunking: dict
    chunking_key: str
    table_name: str
    text_search_config: str
    status: str  # building / ready / failed
    active: bool
    error: str | None
    job_id: int | None
    build_seconds: float | None
    created_at: datetime
    built_at: datetime | None


@dataclass(frozen=True)
class Corpus:
    id: str
    name: str
    language: str  # en / es / mixed
    description: str
    version: int
    created_at: datetime
    updated_at: datetime
    document_count: int = 0
    active_index: IndexInfo | None = None


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    corpus_id: str
    name: str
    kind: str
    sha256: str
    version: int
    status: str  # ingesting / ready
    char_count: int
    created_at: datetime
    updated_at: datetime
    chunk_count: int = 0  # in the active index
    findings: dict[str, int] = field(default_factory=dict)  # sensitive data: kind -> count
    metadata: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


# --- corpora ---------------------------------------------------------------------------------------
def index_settings(lab: "Lab", language: str, embed_spec: str | None = None,
                   chunking: Any = None) -> tuple[str, Any, Any]:
    """``(spec, EmbeddingInfo, ChunkingConfig)`` for a new index, defaults filled in from the
    corpus language, the chunking checked against the model's own input limit (InputError)."""
    from backend.corpus.chunking import ChunkingConfig, validate_for_model
    from backend.models.embeddings import default_embedding_spec, embedding_info

    spec = embed_spec or default_embedding_spec(lab.settings, language)
    info = embedding_info(spec, lab.settings)
    if chunking is None:
        cfg = ChunkingConfig()
    elif isinstance(chunking, dict):
        cfg = ChunkingConfig(**chunking)
    else:
        cfg = chunking
    validate_for_model(cfg, info.max_input_tokens, info.name)
    return spec, info, cfg


def create_corpus(lab: "Lab", name: str, language: str = "en", *, description: str = "",
                  embed_spec: str | None = None, chunking: Any = None) -> Corpus:
    """Create an empty corpus with its first (active, ready) index: the language's default
    embedding model and the default chunking unless given. Names are unique (InputError)."""
    name = (name or "").strip()
    if not name:
        raise InputError("A corpus needs a name.")
    if language not in LANGUAGES:
        raise InputError(f"Unknown corpus language {language!r}.", hint="Use en, es or mixed.")
    spec, info, cfg = index_settings(lab, language, embed_spec, chunking)
    with lab.db.connect() as conn:
        if conn.execute("SELECT 1 FROM corpora WHERE name = %s", (name,)).fetchone():
            raise InputError(f"A corpus called {name!r} already exists.", hint="Pick another name.")
        corpus_id = conn.execute(
            "INSERT INTO corpora (name, language, description) VALUES (%s, %s, %s) RETURNING id::text",
            (name, language, description)).fetchone()["id"]
    try:
        _insert_index(lab, corpus_id, language, spec, info, cfg, status="ready", active=True)
    except BaseException:
        lab.db.execute("DELETE FROM corpora WHERE id = %s", (corpus_id,))
        raise
    return get_corpus(lab, corpus_id)


def _insert_index(lab: "Lab", corpus_id: str, language: str, spec: str, info: Any, cfg: Any, *,
                  status: str, active: bool) -> IndexInfo:
    index_id = str(uuid.uuid4())
    table = vindex.new_table_name(index_id)
    config = vindex.TEXT_SEARCH_CONFIG[language]
    lab.db.execute(
        "INSERT INTO corpus_indexes (id, corpus_id, embed_spec, embed_name, dim, chunking, "
        "chunking_key, table_name, text_search_config, status, active, built_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, CASE WHEN %s = 'ready' THEN now() END)",
        (index_id, corpus_id, spec, info.name, int(info.dim), Jsonb(dataclasses.asdict(cfg)),
         cfg.key(), table, config, status, active, status))
    try:
        vindex.vector_store(lab.db.url, table, int(info.dim), config)
    except BaseException:
        with lab.db.connect() as conn:
            vindex.drop_table(conn, table)
            conn.execute("DELETE FROM corpus_indexes WHERE id = %s", (index_id,))
        vindex.forget_store(lab.db.url, table)
        raise
    return get_index(lab, index_id)


def _corpus_rows(lab: "Lab", where: str, params: tuple) -> list[Corpus]:
    rows = lab.db.fetchall(
        "SELECT c.id::text, c.name, c.language, c.description, c.version, c.created_at, "
        "c.updated_at, (SELECT count(*) FROM documents d WHERE d.corpus_id = c.id "
        "AND d.status = 'ready') AS document_count, "
        "(SELECT i.id::text FROM corpus_indexes i WHERE i.corpus_id = c.id AND i.active) AS index_id "
        f"FROM corpora c {where} ORDER BY c.name", params)
    out = []
    for r in rows:
        index_id = r.pop("index_id")
        out.append(Corpus(**r, active_index=get_index(lab, index_id) if index_id else None))
    return out


def list_corpora(lab: "Lab") -> list[Corpus]:
    """Every corpus, by name, with its document count and active index."""
    return _corpus_rows(lab, "", ())


def get_corpus(lab: "Lab", ref: str) -> Corpus:
    """A corpus by id or by name; NotFound otherwise."""
    ref = str(ref).strip()
    by_id = _is_uuid(ref)
    rows = _corpus_rows(lab, "WHERE c.id = %s" if by_id else "WHERE c.name = %s", (ref,))
    if not rows:
        raise NotFound(f"There is no corpus {ref!r}.", hint="List them with `./lab cli corpus-list`.")
    return rows[0]


def delete_corpus(lab: "Lab", corpus_id: str) -> None:
    """Delete a corpus, its documents, results and every vector table of its indexes."""
    corpus = get_corpus(lab, corpus_id)
    with lab.db.connect() as conn:
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s", (corpus.id,))]
        for table in tables:
            vindex.drop_table(conn, table)
        conn.execute("DELETE FROM corpora WHERE id = %s", (corpus.id,))
    for table in tables:
        vindex.forget_store(lab.db.url, table)


def bump_version(conn, corpus_id: str, changes: int = 1) -> int:
    """Record ``changes`` changes of the corpus content (inside the caller's transaction)."""
    return conn.execute("UPDATE corpora SET version = version + %s, updated_at = now() "
                        "WHERE id = %s RETURNING version", (changes, corpus_id)).fetchone()["version"]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
        return True
    except ValueError:
        return False


# --- indexes ---------------------------------------------------------------------------------------
def get_index(lab: "Lab", index_id: str) -> IndexInfo:
    row = lab.db.fetchone(f"SELECT {_INDEX_COLS} FROM corpus_indexes WHERE id = %s",
                          (index_id,)) if _is_uuid(index_id) else None
    if row is None:
        raise NotFound(f"There is no corpus index {index_id!r}.")
    return IndexInfo(**row)


def list_indexes(lab: "Lab", corpus_id: str) -> list[IndexInfo]:
    """Every index of a corpus, oldest first."""
    rows = lab.db.fetchall(f"SELECT {_INDEX_COLS} FROM corpus_indexes WHERE corpus_id = %s "
                           "ORDER BY created_at", (corpus_id,))
    return [IndexInfo(**r) for r in rows]


def active_index(lab: "Lab", corpus_id: str) -> IndexInfo:
    """The index questions go to; NotFound if the corpus has none."""
    row = lab.db.fetchone(f"SELECT {_INDEX_COLS} FROM corpus_indexes WHERE corpus_id = %s "
                          "AND active", (corpus_id,))
    if row is None:
        raise NotFound("This corpus has no active index.", hint="Activate a ready index.")
    return IndexInfo(**row)


def add_index(lab: "Lab", corpus_id: str, *, embed_spec: str | None = None,
              chunking: Any = None) -> IndexInfo:
    """A new (building, inactive) index of the corpus with other settings; returns the existing
    one when the same model and chunking already have an index that did not fail."""
    corpus = get_corpus(lab, corpus_id)
    spec, info, cfg = index_settings(lab, corpus.language, embed_spec, chunking)
    row = lab.db.fetchone("SELECT id::text, status FROM corpus_indexes WHERE corpus_id = %s AND "
                          "embed_spec = %s AND chunking_key = %s", (corpus.id, spec, cfg.key()))
    if row is not None:
        if row["status"] != "failed":
            return get_index(lab, row["id"])
        delete_index(lab, row["id"])
    return _insert_index(lab, corpus.id, corpus.language, spec, info, cfg, status="building",
                         active=False)


def set_index_status(lab: "Lab", index_id: str, status: str, *, error: str | None = None,
                     build_seconds: float | None = None, job_id: int | None = None) -> None:
    lab.db.execute(
        "UPDATE corpus_indexes SET status = %s, error = %s, build_seconds = COALESCE(%s, build_seconds),"
        " job_id = COALESCE(%s, job_id), built_at = CASE WHEN %s = 'ready' THEN now() "
        "ELSE built_at END WHERE id = %s", (status, error, build_seconds, job_id, status, index_id))


def activate_index(lab: "Lab", index_id: str) -> IndexInfo:
    """Make a ready index the one questions go to (the previous one stays, inactive)."""
    idx = get_index(lab, index_id)
    if idx.status != "ready":
        raise InputError(f"This index is {idx.status}; only a ready index can be activated.",
                         hint="Wait for its build to finish, or rebuild it.")
    with lab.db.connect() as conn:
        conn.execute("UPDATE corpus_indexes SET active = false WHERE corpus_id = %s AND active",
                     (idx.corpus_id,))
        conn.execute("UPDATE corpus_indexes SET active = true WHERE id = %s", (idx.id,))
    return get_index(lab, index_id)


def delete_index(lab: "Lab", index_id: str) -> None:
    """Delete an inactive index and its vector table."""
    idx = get_index(lab, index_id)
    if idx.active:
        raise InputError("This is the active index of its corpus; it cannot be deleted.",
                         hint="Activate another index first.")
    with lab.db.connect() as conn:
        vindex.drop_table(conn, idx.table_name)
        conn.execute("DELETE FROM corpus_indexes WHERE id = %s", (idx.id,))
    vindex.forget_store(lab.db.url, idx.table_name)


def live_tables(conn, corpus_id: str) -> list[str]:
    """The tables new chunks go to: every index of the corpus that did not fail."""
    return [r["table_name"] for r in conn.execute(
        "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s AND status <> 'failed' "
        "ORDER BY created_at", (corpus_id,))]


# --- documents -------------------------------------------------------------------------------------
def list_documents(lab: "Lab", corpus_id: str, *, include_ingesting: bool = False) -> list[DocumentInfo]:
    """The corpus's documents by name, with chunk counts (active index) and sensitive-data counts."""
    status = "" if include_ingesting else "AND d.status = 'ready'"
    with lab.db.connect() as conn:
        rows = conn.execute(
            "SELECT d.id::text, d.corpus_id::text, d.name, d.kind, d.sha256, d.version, d.status, "
            "d.char_count, d.created_at, d.updated_at, d.metadata, d.warnings, "
            "COALESCE((SELECT jsonb_object_agg(f.kind, f.count) FROM document_findings f "
            "WHERE f.document_id = d.id), '{}') AS findings "
            f"FROM documents d WHERE d.corpus_id = %s {status} ORDER BY d.name", (corpus_id,)).fetchall()
        active = conn.execute("SELECT table_name FROM corpus_indexes WHERE corpus_id = %s AND active",
                              (corpus_id,)).fetchone()
        counts = vindex.chunk_counts(conn, active["table_name"]) if active else {}
    return [DocumentInfo(**r, chunk_count=counts.get(r["id"], 0)) for r in rows]


def get_document(lab: "Lab", corpus_id: str, ref: str) -> DocumentInfo:
    """A ready document of the corpus by id or name; NotFound otherwise."""
    for doc in list_documents(lab, corpus_id):
        if ref in (doc.id, doc.name):
            return doc
    raise NotFound(f"There is no document {ref!r} in this corpus.")


def delete_document(lab: "Lab", corpus_id: str, document_id: str) -> None:
    """Delete a document and its chunks in every index of the corpus, in one transaction, and
    bump the corpus version: the next question no longer sees it."""
    doc = get_document(lab, corpus_id, document_id)
    with lab.db.connect() as conn:
        vindex.delete_document_chunks(conn, [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s", (corpus_id,))], doc.id)
        conn.execute("DELETE FROM documents WHERE id = %s", (doc.id,))
        bump_version(conn, corpus_id)


def not_ready_document_ids(conn, corpus_id: str) -> list[str]:
    """Documents whose chunks retrieval must not see (still ingesting, or left by a crash)."""
    return [r["id"] for r in conn.execute(
        "SELECT id::text FROM documents WHERE corpus_id = %s AND status <> 'ready'", (corpus_id,))]


def document_sections(lab: "Lab", document_id: str) -> list[dict]:
    """The parsed text of a document ([{text, page, section}]), as stored at ingestion."""
    row = lab.db.fetchone("SELECT sections FROM documents WHERE id = %s", (document_id,))
    if row is None:
        raise NotFound(f"There is no document {document_id!r}.")
    return row["sections"]


_SAFE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def check_kinds(kinds: list[str]) -> list[str]:
    """Document kinds a filter may name (plain words only: they end up in SQL text)."""
    for kind in kinds:
        if not _SAFE.match(str(kind)):
            raise InputError(f"{kind!r} is not a document type.")
    return [str(k) for k in kinds]


def check_document_ids(ids: list[str]) -> list[str]:
    for doc_id in ids:
        if not _is_uuid(doc_id):
            raise InputError(f"{doc_id!r} is not a document id.")
    return [str(uuid.UUID(str(d))) for d in ids]
