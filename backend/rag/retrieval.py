"""Retrieval from a corpus index: vector (HNSW, cosine, through LlamaIndex's ``PGVectorStore``),
full-text (Postgres ``tsvector`` in the corpus language) and hybrid (reciprocal rank fusion).

Only chunks of documents whose row says ``ready`` are returned (see ``backend.corpus.index``).
pgvector 0.6 applies filters after the HNSW scan, which returns at most ``hnsw.ef_search``
candidates: a selective filter could leave fewer than k rows although k exist. So a filtered query
counts the matching chunks first; few of them (or an HNSW answer that came back short) are searched
exactly, otherwise ``ef_search`` is raised in proportion to how selective the filter is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psycopg import sql as pgsql

from backend.corpus import index as vindex
from backend.corpus import store
from backend.errors import InputError

if TYPE_CHECKING:
    from backend.lab import Lab

MODES = ("vector", "text", "hybrid")
RRF_K = 60
MAX_K = 100
#: filtered queries matching at most this many chunks are searched exactly (fast, and exact)
EXACT_BELOW = 2000
#: hybrid fuses this many candidates per side (at least k)
HYBRID_CANDIDATES = 30
# websearch syntax a user may type on purpose: quotes, OR, a leading minus
_WEBSEARCH = re.compile(r'"|\bOR\b|(?:^|\s)-\w')


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    text: str
    score: float  # cosine similarity (vector), ts_rank_cd (text), RRF score (hybrid)
    document_id: str
    document_name: str
    page: int | None
    section: str | None
    position: int
    rank: int  # 1 = best
    kind: str | None = None
    findings: dict = field(default_factory=dict)

    @property
    def source_label(self) -> str:
        """``name, p. 3`` / ``name › Section``: where the chunk comes from, for citations."""
        where = f", p. {self.page}" if self.page else (f" › {self.section}" if self.section else "")
        return f"{self.document_name}{where}"


@dataclass(frozen=True)
class _Scope:
    """Which chunks of the table a query may return."""

    document_ids: list[str]
    kinds: list[str]
    hidden: list[str]  # documents not ready

    @property
    def filtered(self) -> bool:
        return bool(self.document_ids or self.kinds or self.hidden)

    def where(self) -> tuple[pgsql.Composable, list]:
        parts, params = [pgsql.SQL("true")], []
        if self.document_ids:
            parts.append(pgsql.SQL("metadata_->>'ref_doc_id' = ANY(%s)"))
            params.append(self.document_ids)
        if self.kinds:
            parts.append(pgsql.SQL("metadata_->>'kind' = ANY(%s)"))
            params.append(self.kinds)
        if self.hidden:
            parts.append(pgsql.SQL("NOT (metadata_->>'ref_doc_id' = ANY(%s))"))
            params.append(self.hidden)
        return pgsql.SQL(" AND ").join(parts), params

    def metadata_filters(self):
        from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

        # values are inlined in SQL by PGVectorStore: they were checked (uuids, plain words)
        filters = []
        if self.document_ids:
            filters.append(MetadataFilter(key="ref_doc_id", value=self.document_ids,
                                          operator=FilterOperator.IN))
        if self.kinds:
            filters.append(MetadataFilter(key="kind", value=self.kinds, operator=FilterOperator.IN))
        if self.hidden:
            filters.append(MetadataFilter(key="ref_doc_id", value=self.hidden,
                                          operator=FilterOperator.NIN))
        return MetadataFilters(filters=filters, condition="and") if filters else None


def retrieve(lab: "Lab", corpus_id: str, query: str, *, mode: str = "vector", k: int = 5,
             filters: dict | None = None, index_id: str | None = None) -> list[RetrievedChunk]:
    """The top ``k`` chunks of the corpus for ``query``, best first.

    ``mode``: ``vector``, ``text`` or ``hybrid``. ``filters``: ``{"document_ids": [...],
    "kinds": ["pdf", ...]}``. ``index_id``: a ready index of the corpus (default: the active one).
    A filtered query returns k rows whenever k chunks match.
    """
    query = (query or "").strip()
    if not query:
        raise InputError("Type a question or search words.")
    if mode not in MODES:
        raise InputError(f"Unknown search mode {mode!r}.", hint="Use vector, text or hybrid.")
    if not 1 <= int(k) <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}.")
    k = int(k)
    corpus = store.get_corpus(lab, corpus_id)
    idx = store.active_index(lab, corpus.id) if index_id is None else store.get_index(lab, index_id)
    if idx.corpus_id != corpus.id:
        raise InputError("That index belongs to another corpus.")
    if idx.status != "ready":
        raise InputError(f"This index is {idx.status}; it cannot be searched yet.",
                         hint="Search the active index, or wait for the build to finish.")
    filters = filters or {}
    with lab.db.connect() as conn:
        hidden = store.not_ready_document_ids(conn, corpus.id)
    scope = _Scope(store.check_document_ids(list(filters.get("document_ids") or [])),
                   store.check_kinds(list(filters.get("kinds") or [])), hidden)
    if mode == "text":
        return _ranked(_text_search(lab, idx, query, k, scope))
    n = max(k, HYBRID_CANDIDATES)
    # Hybrid: the full-text search needs no vector, so it runs on another pooled connection while
    # the question is embedded and searched here; the query then takes as long as the slower side.
    text_hits = _side_searches().submit(_text_search, lab, idx, query, n, scope) \
        if mode == "hybrid" else None
    vector = _query_vector(lab, corpus, idx, query)
    if text_hits is None:
        return _ranked(_vector_search(lab, idx, vector, k, scope))
    return fuse([_vector_search(lab, idx, vector, n, scope), text_hits.result()], k)


_executor = None


def _side_searches():
    """A small process-wide thread pool for the full-text half of hybrid queries."""
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lab-text-search")
    return _executor


def _query_vector(lab: "Lab", corpus: store.Corpus, idx: store.IndexInfo, query: str) -> list[float]:
    from backend.models.embeddings import get_embedding

    return get_embedding(lab.settings, idx.embed_spec, language=corpus.language).get_query_embedding(query)


def fuse(result_lists: list[list[RetrievedChunk]], k: int, *, rrf_k: int = RRF_K) -> list[RetrievedChunk]:
    """Reciprocal rank fusion: each chunk scores sum(1 / (rrf_k + rank)) over the lists."""
    scores: dict[str, float] = {}
    first: dict[str, RetrievedChunk] = {}
    for results in result_lists:
        for rank, chunk in enumerate(results, start=1):
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + 1.0 / (rrf_k + rank)
            first.setdefault(chunk.chunk_id, chunk)
    best = sorted(scores, key=lambda cid: (-scores[cid], first[cid].document_name,
                                           first[cid].position))[:k]
    return [_replace(first[cid], score=scores[cid], rank=r) for r, cid in enumerate(best, start=1)]


def _replace(chunk: RetrievedChunk, **changes: Any) -> RetrievedChunk:
    from dataclasses import replace

    return replace(chunk, **changes)


def _ranked(chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
    return [_replace(c, rank=r) for r, c in enumerate(chunks, start=1)]


def _chunk(chunk_id: str, text: str, metadata: dict, score: float) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=chunk_id, text=text, score=float(score),
                          document_id=str(metadata.get("ref_doc_id") or metadata.get("document_id")),
                          document_name=str(metadata.get("document_name", "")),
                          page=metadata.get("page"), section=metadata.get("section"),
                          position=int(metadata.get("position") or 0), rank=0,
                          kind=metadata.get("kind"), findings=metadata.get("findings") or {})


def _vector_search(lab: "Lab", idx: store.IndexInfo, vector: list[float], k: int,
                   scope: _Scope) -> list[RetrievedChunk]:
    ef = max(vindex.HNSW_EF_SEARCH, 2 * k)
    want = k
    if scope.filtered:
        matching, total = _count(lab, idx, scope)
        if matching == 0:
            return []
        want = min(k, matching)
        if matching <= EXACT_BELOW:
            return _exact_search(lab, idx, vector, k, scope)
        # candidates the HNSW scan must visit so that about 2k of them pass the filter
        ef = min(vindex.MAX_EF_SEARCH, max(ef, math.ceil(2 * k * total / matching)))
    found = _hnsw_search(lab, idx, vector, k, scope, ef)
    if len(found) < want:  # the filter left too few of the HNSW candidates: search exactly
        return _exact_search(lab, idx, vector, k, scope)
    return found


def _hnsw_search(lab: "Lab", idx: store.IndexInfo, vector: list[float], k: int, scope: _Scope,
                 ef: int) -> list[RetrievedChunk]:
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    vectors = vindex.vector_store(lab.db.url, idx.table_name, idx.dim, idx.text_search_config)
    result = vectors.query(VectorStoreQuery(query_embedding=list(vector), similarity_top_k=k,
                                            filters=scope.metadata_filters(),
                                            mode=VectorStoreQueryMode.DEFAULT), hnsw_ef_search=ef)
    return [_chunk(node.node_id, node.get_content(), node.metadata, sim)
            for node, sim in zip(result.nodes, result.similarities)]


def _count(lab: "Lab", idx: store.IndexInfo, scope: _Scope) -> tuple[int, int]:
    where, params = scope.where()
    with lab.db.connect() as conn:
        row = conn.execute(pgsql.SQL("SELECT count(*) FILTER (WHERE {}) AS matching, count(*) AS total "
                                     "FROM {}").format(where, _table(idx)), params).fetchone()
    return row["matching"], row["total"]


def _exact_search(lab: "Lab", idx: store.IndexInfo, vector: list[float], k: int,
                  scope: _Scope) -> list[RetrievedChunk]:
    import numpy as np

    where, params = scope.where()
    with lab.db.connect() as conn:
        conn.execute("SET LOCAL enable_indexscan = off")  # no HNSW: every matching row is compared
        rows = conn.execute(pgsql.SQL(
            "SELECT node_id, text, metadata_, 1 - (embedding <=> %s) AS score FROM {} WHERE {} "
            "ORDER BY embedding <=> %s, id LIMIT %s").format(_table(idx), where),
            [np.asarray(vector, dtype=np.float32), *params, np.asarray(vector, dtype=np.float32), k]
        ).fetchall()
    return [_chunk(r["node_id"], r["text"], r["metadata_"], r["score"]) for r in rows]


def tsquery_sql(query: str) -> tuple[pgsql.Composable, str]:
    """The tsquery for a search box: websearch syntax (quotes, OR, -word) is honoured when used;
    plain words are OR-ed (a question rarely contains every word of the passage that answers it),
    and ranking puts chunks matching more of them first."""
    if _WEBSEARCH.search(query):
        return pgsql.SQL("websearch_to_tsquery(%s::regconfig, %s)"), query
    return pgsql.SQL("replace(plainto_tsquery(%s::regconfig, %s)::text, ' & ', ' | ')::tsquery"), query


#: about how many rows a plain-words full-text query may match before its commonest words go
MAX_TEXT_MATCHES = 1000
# Ranking is the cost of a full-text search: ts_rank_cd runs on every matching row, and the OR of
# a question's words matches a large share of a big table (measured at 100,000 chunks: ~13,000
# rows, 0.2-1 s a query). So the words are taken rarest first, by the lexeme frequencies ANALYZE
# keeps in pg_stats, while together they match about MAX_TEXT_MATCHES rows: the commonest words
# go (they tell little apart anyway: a low idf). The rarest word always stays; on a small or
# never-analysed table every word stays, and the query is exactly tsquery_sql's OR of all of them.
# Parameters: config, text, table, table, budget, config, text.
_PRUNED_OR_QUERY = pgsql.SQL(
    "words AS (SELECT DISTINCT w.lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) AS w), "
    "freqs AS (SELECT e.elem, e.freq FROM pg_stats s, unnest(s.most_common_elems::text::text[], "
    "s.most_common_elem_freqs) AS e(elem, freq) WHERE s.schemaname = current_schema() "
    "AND s.tablename = %s AND s.attname = 'text_search_tsv'), "
    "est AS (SELECT w.lexeme, coalesce(f.freq, 0) * greatest(c.reltuples, 0) AS n FROM words w "
    "LEFT JOIN freqs f ON f.elem = w.lexeme CROSS JOIN pg_class c WHERE c.oid = %s::regclass), "
    "kept AS (SELECT lexeme, (SELECT count(*) FROM words) AS total FROM (SELECT lexeme, "
    "sum(n) OVER (ORDER BY n, lexeme) AS running, row_number() OVER (ORDER BY n, lexeme) AS r "
    "FROM est) w WHERE running <= %s OR r = 1), "
    # a lexeme is quoted as a tsquery item; the rare one holding a quote or backslash is left out
    "q AS (SELECT coalesce((SELECT string_agg('''' || lexeme || '''', ' | ')::tsquery FROM kept "
    "WHERE total > (SELECT count(*) FROM kept) AND strpos(lexeme, '''') = 0 "
    "AND strpos(lexeme, chr(92)) = 0), "
    "replace(plainto_tsquery(%s::regconfig, %s)::text, ' & ', ' | ')::tsquery) AS q)")


def _text_search(lab: "Lab", idx: store.IndexInfo, query: str, k: int,
                 scope: _Scope) -> list[RetrievedChunk]:
    where, params = scope.where()
    cfg = idx.text_search_config
    if _WEBSEARCH.search(query):
        tsq, text = tsquery_sql(query)
        ctes, args = pgsql.SQL("q AS (SELECT {} AS q)").format(tsq), [cfg, text]
    else:
        table = vindex.physical_table(idx.table_name)
        ctes, args = _PRUNED_OR_QUERY, [cfg, query, table, table, MAX_TEXT_MATCHES, cfg, query]
    with lab.db.connect() as conn:
        rows = conn.execute(pgsql.SQL(
            "WITH {} SELECT node_id, text, metadata_, "
            # normalisation 1: divide by 1 + log(length), so long chunks do not win by size alone
            "ts_rank_cd(text_search_tsv, q.q, 1) AS score FROM {}, q "
            "WHERE text_search_tsv @@ q.q AND {} ORDER BY score DESC, id LIMIT %s").format(
            ctes, _table(idx), where), [*args, *params, k]).fetchall()
    return [_chunk(r["node_id"], r["text"], r["metadata_"], r["score"]) for r in rows]


def _table(idx: store.IndexInfo) -> pgsql.Identifier:
    return pgsql.Identifier(vindex.physical_table(idx.table_name))


def browse_chunks(lab: "Lab", corpus_id: str, *, document_id: str | None = None,
                  contains: str | None = None, limit: int = 50, offset: int = 0) -> list[RetrievedChunk]:
    """Chunks of the active index in document order, optionally of one document and containing
    some text (case-insensitive): the Corpora page's chunk browser. ``score`` is 0."""
    idx = store.active_index(lab, corpus_id)
    with lab.db.connect() as conn:
        hidden = store.not_ready_document_ids(conn, idx.corpus_id)
    where, params = _Scope(store.check_document_ids([document_id] if document_id else []), [],
                           hidden).where()
    if contains:
        where = pgsql.SQL("{} AND text ILIKE %s").format(where)
        params.append("%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    with lab.db.connect() as conn:
        rows = conn.execute(pgsql.SQL(
            "SELECT node_id, text, metadata_, 0.0 AS score FROM {} WHERE {} ORDER BY "
            "metadata_->>'document_name', (metadata_->>'position')::int LIMIT %s OFFSET %s").format(
            _table(idx), where), [*params, int(limit), int(offset)]).fetchall()
    return _ranked([_chunk(r["node_id"], r["text"], r["metadata_"], r["score"]) for r in rows])
