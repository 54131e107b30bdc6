"""The text of a corpus as training material: its chunks.

Chunks come from the corpus's active index (the LlamaIndex table ``data_<table_name>``), the same
chunks retrieval returns, so a RAFT example's gold chunk is a chunk retrieval can find. A corpus
without a ready active index (documents stored, index not built) falls back to its documents'
parsed sections, cut at paragraph boundaries into pieces of about ``FALLBACK_CHARS`` characters.
Only documents whose status is ``ready`` count: a document half-way through ingestion is not part
of the corpus yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql as pgsql

from backend.errors import InputError, NotFound

FALLBACK_CHARS = 1200
_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    document_id: str
    document_name: str
    page: int | None = None
    position: int = 0


def corpus_info(lab, corpus_id: str) -> dict:
    """``{id, name, language, version}`` of a corpus (NotFound if it is gone)."""
    row = lab.db.fetchone("SELECT id::text AS id, name, language, version FROM corpora "
                          "WHERE id = %s", (corpus_id,))
    if row is None:
        raise NotFound(f"Corpus {corpus_id} does not exist (it may have been deleted).")
    return row


def corpus_chunks(lab, corpus_id: str, *, limit: int | None = None) -> list[Chunk]:
    """The corpus's chunks in document order; InputError when the corpus has no text."""
    corpus_info(lab, corpus_id)
    with lab.db.connect() as conn:
        index = conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s AND active "
            "AND status = 'ready'", (corpus_id,)).fetchone()
        chunks: list[Chunk] = []
        if index is not None:
            table = "data_" + index["table_name"]
            present = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (table,)).fetchone()
            if present["ok"]:
                chunks = _index_chunks(conn, corpus_id, table)
        if not chunks:
            chunks = _section_chunks(conn, corpus_id)
    if not chunks:
        raise InputError("This corpus has no text yet.", hint="Add documents to it first.")
    return chunks[:limit] if limit else chunks


def _index_chunks(conn, corpus_id: str, table: str) -> list[Chunk]:
    query = pgsql.SQL(
        "SELECT c.node_id, c.text, d.id::text AS document_id, d.name AS document_name,"
        " c.metadata_ AS meta FROM {} c JOIN documents d"
        " ON d.id::text = c.metadata_->>'ref_doc_id'"
        " WHERE d.corpus_id = %s AND d.status = 'ready'"
        " ORDER BY d.name, (c.metadata_->>'position')::int NULLS LAST, c.id").format(
        pgsql.Identifier(table))
    out = []
    for r in conn.execute(query, (corpus_id,)).fetchall():
        meta = r["meta"] or {}
        page = meta.get("page")
        out.append(Chunk(str(r["node_id"]), r["text"], r["document_id"], r["document_name"],
                         int(page) if isinstance(page, (int, float)) else None,
                         int(meta.get("position") or 0)))
    return out


def _section_chunks(conn, corpus_id: str) -> list[Chunk]:
    rows = conn.execute("SELECT id::text AS id, name, sections FROM documents WHERE corpus_id = %s"
                        " AND status = 'ready' ORDER BY name", (corpus_id,)).fetchall()
    out = []
    for doc in rows:
        position = 0
        for section in doc["sections"] or []:
            for piece in split_paragraphs(section.get("text") or ""):
                out.append(Chunk(f"{doc['id']}:{position}", piece, doc["id"], doc["name"],
                                 section.get("page"), position))
                position += 1
    return out


def split_paragraphs(text: str, max_chars: int = FALLBACK_CHARS) -> list[str]:
    """Paragraphs of ``text`` joined into pieces of at most ``max_chars`` (a longer paragraph
    stays whole: cutting it mid-sentence would make worse training text than a long piece)."""
    pieces, current = [], ""
    for para in (p.strip() for p in _PARAGRAPHS.split(text)):
        if not para:
            continue
        if current and len(current) + 2 + len(para) > max_chars:
            pieces.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        pieces.append(current)
    return pieces
