"""Vector tables of corpus indexes: one LlamaIndex ``PGVectorStore`` table per corpus index.

How the vector tables relate to the lab's schema
-------------------------------------------------
The lab's own schema (``sql/``, applied by the migration runner) holds what users manage:
``corpora`` (name, language, a version bumped by every change), ``documents`` (one row per
document per corpus, keyed by content hash, with a version number, a status and the parsed text),
``corpus_indexes`` (corpus + embedding model spec + chunking key -> a vector table name, status
building/ready/failed, which one is active), ``document_findings`` (sensitive-data counts per
document and kind) and ``ingestion_files`` (what happened to each uploaded file).

The chunks and their vectors live in ONE LlamaIndex ``PGVectorStore`` table PER CORPUS INDEX,
``data_<corpus_indexes.table_name>``, created through SQLAlchemy by the store itself (not by a
migration: its dimension and text-search language depend on the index). Each table has one
embedding dimension and one text-search configuration (``english`` for English corpora,
``spanish`` for Spanish, ``simple`` for mixed), a generated ``tsvector`` column with a GIN index
(full-text search), an HNSW index with cosine distance (``vector_cosine_ops``) and a btree index on
``ref_doc_id``. No search ever filters across corpora: a query goes to one table.

Each chunk is a LlamaIndex ``TextNode`` whose ``ref_doc_id`` (also stored as ``document_id``) is the
``documents.id`` it came from, so ``PGVectorStore.delete(ref_doc_id)`` removes a document's chunks;
its metadata holds ``document_name``, ``page``, ``section``, ``position``, ``kind``, ``tokens`` and
the sensitive-data ``findings`` counts of the chunk.

Visibility: a document's row says ``ingesting`` while its chunks are embedded, and retrieval
excludes documents that are not ``ready``; its chunks are inserted (ingestion writes the rows
``PGVectorStore.add`` would, with one COPY: ``backend.corpus.pipeline``) in the same transaction
that flips the row to ``ready`` and deletes an older version's row and chunks. On failure its
chunks are deleted by document id, so nothing of a failed document stays behind.

SQLAlchemy needs its own URL form of our psycopg URL (the embedded database is reached through a
unix socket: ``postgresql://postgres:@/lab?host=/path``, or ``user=... host=/path`` conninfo);
``sqlalchemy_url`` converts either form for the sync and the async psycopg engines, which are
created once per process and handed to every store.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy
    from llama_index.vector_stores.postgres import PGVectorStore

#: the Postgres text-search configuration of a corpus language
TEXT_SEARCH_CONFIG = {"en": "english", "es": "spanish", "mixed": "simple"}
#: HNSW build parameters (pgvector's defaults) and the ef_search of unfiltered queries
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 16, 64, 40
#: pgvector refuses an hnsw.ef_search above this
MAX_EF_SEARCH = 1000

_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,50}$")
_lock = threading.Lock()
_engines: dict[str, tuple[Any, Any]] = {}
_stores: dict[tuple[str, str], "PGVectorStore"] = {}


def sqlalchemy_url(url: str, *, hide_password: bool = False) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://``) of a psycopg URL or conninfo string.

    Works for TCP hosts and unix-socket directories alike (the host goes into the query string,
    which the psycopg dialect hands to ``psycopg.connect``) and for the sync and async engines.
    """
    from sqlalchemy.engine import URL

    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    port = params.pop("port", None)
    host = params.pop("host", None)
    query = dict(params)
    tcp_host = None
    if host and not host.startswith("/") and "," not in host:
        tcp_host = host
    elif host:
        query["host"] = host
    sa_url = URL.create("postgresql+psycopg", username=query.pop("user", None),
                        password=query.pop("password", None), host=tcp_host,
                        port=int(port) if port and tcp_host else None,
                        database=query.pop("dbname", None), query=query)
    if port and not tcp_host:
        sa_url = sa_url.update_query_dict({"port": port})
    return sa_url.render_as_string(hide_password=hide_password)


def engines(url: str) -> tuple["sqlalchemy.engine.Engine", Any]:
    """The process-wide (sync, async) SQLAlchemy engines for database ``url``."""
    with _lock:
        pair = _engines.get(url)
        if pair is None:
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine

            from psycopg import AsyncClientCursor, ClientCursor

            sa_url = sqlalchemy_url(url)
            # small pools: the lab's own psycopg pool does most of the work
            kwargs = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 4}
            # Client-side parameter binding: PGVectorStore sends `SET hnsw.ef_search = :n` with a
            # bound parameter, which Postgres refuses from psycopg 3's server-side binding.
            pair = (create_engine(sa_url, connect_args={"cursor_factory": ClientCursor}, **kwargs),
                    create_async_engine(sa_url, connect_args={"cursor_factory": AsyncClientCursor},
                                        **kwargs))
            _engines[url] = pair
        return pair


def dispose_engines(url: str | None = None) -> None:
    """Close the engines (and forget the stores) of ``url``, or of every database."""
    with _lock:
        for key in [k for k in _engines if url is None or k == url]:
            engine, async_engine = _engines.pop(key)
            engine.dispose()
            async_engine.sync_engine.dispose()
        for key in [k for k in _stores if url is None or k[0] == url]:
            _stores.pop(key)


def physical_table(table_name: str) -> str:
    """The Postgres table PGVectorStore keeps ``table_name``'s chunks in."""
    check_table_name(table_name)
    return f"data_{table_name}"


def check_table_name(table_name: str) -> str:
    if not _TABLE.match(table_name):
        raise ValueError(f"not a corpus index table name: {table_name!r}")
    return table_name


def new_table_name(index_id: str) -> str:
    """A table name derived from the index id (never from user input)."""
    return check_table_name("ci_" + str(index_id).replace("-", "")[:24])


def vector_store(url: str, table_name: str, dim: int, text_search_config: str) -> "PGVectorStore":
    """The ``PGVectorStore`` of one corpus index table (created, with its indexes, if missing)."""
    key = (url, check_table_name(table_name))
    if text_search_config not in TEXT_SEARCH_CONFIG.values():
        raise ValueError(f"unknown text-search configuration {text_search_config!r}")
    with _lock:
        store = _stores.get(key)
    if store is not None:
        return store
    from llama_index.vector_stores.postgres import PGVectorStore

    engine, async_engine = engines(url)
    store = PGVectorStore(
        connection_string=sqlalchemy_url(url, hide_password=True),
        async_connection_string=sqlalchemy_url(url, hide_password=True),
        table_name=table_name, embed_dim=int(dim), hybrid_search=True,
        text_search_config=text_search_config, use_jsonb=True,
        # a fresh dict per store: PGVectorStore pops the build parameters out of it
        hnsw_kwargs={"hnsw_m": HNSW_M, "hnsw_ef_construction": HNSW_EF_CONSTRUCTION,
                     "hnsw_ef_search": HNSW_EF_SEARCH, "hnsw_dist_method": "vector_cosine_ops"},
        initialization_fail_on_error=True, engine=engine, async_engine=async_engine)
    store._initialize()  # creates the table and its indexes now, not inside the first query
    with _lock:
        _stores[key] = store
    return store


def forget_store(url: str, table_name: str) -> None:
    with _lock:
        _stores.pop((url, table_name), None)


def drop_table(conn: "psycopg.Connection", table_name: str) -> None:
    """Drop an index's vector table (with its indexes), inside the caller's transaction."""
    conn.execute(pgsql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(
        pgsql.Identifier(physical_table(table_name))))


def table_exists(conn: "psycopg.Connection", table_name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present",
                       (physical_table(table_name),)).fetchone()
    return bool(row["present"])


def delete_document_chunks(conn: "psycopg.Connection", table_names: list[str],
                           document_id: str) -> int:
    """Delete one document's chunks from the given index tables, in the caller's transaction
    (the same statement as ``PGVectorStore.delete(ref_doc_id)``, so it can be atomic with the
    document's own row). Returns how many chunks went."""
    removed = 0
    for name in table_names:
        if not table_exists(conn, name):
            continue
        removed += conn.execute(pgsql.SQL("DELETE FROM {} WHERE metadata_->>'ref_doc_id' = %s").format(
            pgsql.Identifier(physical_table(name))), (str(document_id),)).rowcount
    return removed


def chunk_counts(conn: "psycopg.Connection", table_name: str) -> dict[str, int]:
    """Chunks per document id in one index table."""
    if not table_exists(conn, table_name):
        return {}
    rows = conn.execute(pgsql.SQL(
        "SELECT metadata_->>'ref_doc_id' AS doc, count(*) AS n FROM {} GROUP BY 1").format(
        pgsql.Identifier(physical_table(table_name)))).fetchall()
    return {r["doc"]: r["n"] for r in rows}


def documents_in_table(conn: "psycopg.Connection", table_name: str) -> set[str]:
    """Document ids that have chunks in one index table."""
    return set(chunk_counts(conn, table_name))
