"""Retrieval benchmark: latency and recall of the lab's search at 10,000 and 100,000 chunks.

The chunks are real text: passages, sentences and sentence windows of up to 450 characters, then
20-word windows, cut from every set in ``../shared/data`` (see ``common.retrieval_texts``),
embedded once with the lab's own MiniLM (bf16) and cached under ``bench/.cache`` (the first run
embeds 100,000 texts: 20-60 minutes on two busy cores, resumable; later runs load the ``.npy``).
They are loaded into a corpus index table made by the lab itself (``store.create_corpus``: same
layout, HNSW cosine index, full-text column) with COPY, the indexes rebuilt afterwards as a bulk
build, and kept between runs (``--reload`` to rebuild).

Queries are real questions (PubMedQA, XQuAD English, COVID-QA), searched through the lab's public
``backend.rag.retrieval.retrieve`` with k=10. Each question's vector is computed first and timed on
its own ("query embedding"); the search latencies exclude it. Recall@10 is measured against exact
search (numpy over the same stored vectors). ``--sweep`` also tries other ``ef_search`` values.

Run: ``.venv/bin/python bench/retrieval_bench.py`` (``--sizes 10000`` for the small one only).
"""

from __future__ import annotations

import argparse
import time
import uuid

import numpy as np

import common

LABEL = "minilm-bf16"
K = 10


def _node_id(i: int) -> str:
    return str(uuid.UUID(int=i))  # row i of the text list, readable back from the node id


def corpus_vectors(texts: list[str], n: int) -> np.ndarray:
    """Vectors of ``texts[:n]``: a prefix of the full cache when it exists, else their own cache."""
    full = common.CACHE / f"{LABEL}-{len(texts)}-{common.fingerprint(texts)}.npy"
    if full.exists():
        return np.load(full, mmap_mode="r")[:n]
    if n == len(texts):
        return common.cached_vectors(LABEL, texts, common.lab_encoder())
    return common.cached_vectors(LABEL, texts[:n], common.lab_encoder())


def load_corpus(lab, texts: list[str], vectors: np.ndarray, *, reload: bool):
    """A corpus whose active index holds exactly these chunks (reused when it already does)."""
    from backend.corpus import index as vindex
    from backend.corpus import store
    from backend.errors import NotFound

    n = len(texts)
    name = f"bench-retrieval-{n}"
    stamp = (f"bench fingerprint={common.fingerprint(texts)} m={vindex.HNSW_M} "
             f"ef_construction={vindex.HNSW_EF_CONSTRUCTION}")
    try:
        corpus = store.get_corpus(lab, name)
        with lab.db.connect() as conn:
            count = sum(vindex.chunk_counts(conn, corpus.active_index.table_name).values())
        if not reload and corpus.description == stamp and count == n:
            return corpus, 0.0
    except NotFound:
        pass
    corpus = common.fresh_corpus(lab, name, description=stamp)
    began = time.perf_counter()
    _copy_chunks(lab, corpus, texts, vectors)
    return corpus, time.perf_counter() - began


def _copy_chunks(lab, corpus, texts: list[str], vectors: np.ndarray) -> None:
    """Insert the chunks as the lab's ingestion would store them (same node metadata), by COPY,
    with the table's indexes dropped first and rebuilt after (a bulk HNSW build)."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from psycopg import sql as pgsql
    from psycopg.types.json import Jsonb

    from backend.corpus import index as vindex

    table = vindex.physical_table(corpus.active_index.table_name)
    with lab.db.connect() as conn:
        doc_id = conn.execute(
            "INSERT INTO documents (corpus_id, name, kind, sha256, status, char_count) VALUES "
            "(%s, 'shared-data-passages.txt', 'txt', %s, 'ready', %s) RETURNING id::text",
            (corpus.id, common.fingerprint(texts), sum(map(len, texts)))).fetchone()["id"]
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                               "AND indexdef NOT LIKE '%%UNIQUE%%'", (table,)).fetchall()
        for row in indexes:
            conn.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(row["indexname"])))
    with lab.db.connect() as conn:
        with conn.cursor().copy(pgsql.SQL("COPY {} (node_id, text, metadata_, embedding) FROM STDIN")
                                .format(pgsql.Identifier(table))) as copy:
            for i, text in enumerate(texts):
                node = TextNode(id_=_node_id(i), text=text, metadata={
                    "document_id": doc_id, "document_name": "shared-data-passages.txt", "page": None,
                    "section": None, "position": i, "kind": "txt", "tokens": None, "findings": {}},
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc_id)})
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
                copy.write_row((node.node_id, text, Jsonb(meta),
                                "[" + ",".join(map(repr, vectors[i].tolist())) + "]"))
    with lab.db.connect() as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for row in indexes:
            conn.execute(row["indexdef"])
        conn.execute(pgsql.SQL("ANALYZE {}").format(pgsql.Identifier(table)))


def query_vectors(questions: list[str]) -> tuple[np.ndarray, list[float]]:
    """The questions' vectors by the lab's embedding object, each timed alone (ms)."""
    from backend.models.embeddings import get_embedding
    from backend.models.specs import BUNDLED_MINILM

    embed = get_embedding(common.lab_settings(), BUNDLED_MINILM)
    embed.get_query_embedding("warm up")
    out, times = [], []
    for q in questions:
        began = time.perf_counter()
        out.append(embed.get_query_embedding(q))
        times.append((time.perf_counter() - began) * 1000)
    return np.asarray(out, dtype=np.float32), times


def timed_searches(lab, corpus, questions: list[str], qvecs: np.ndarray, mode: str):
    """(latencies in ms, the row numbers found) for each question through ``retrieve``, with the
    question's vector precomputed: the embedding is measured apart."""
    from backend.rag import retrieval

    vectors = dict(zip((q.strip() for q in questions), qvecs.tolist()))  # retrieve() strips
    real = retrieval._query_vector
    retrieval._query_vector = lambda lab, corpus, idx, query: vectors[query.strip()]
    try:
        for q in questions[:20]:  # warm the caches (index pages, stores, connections)
            retrieval.retrieve(lab, corpus.id, q, mode=mode, k=K)
        times, found = [], []
        for q in questions:
            began = time.perf_counter()
            chunks = retrieval.retrieve(lab, corpus.id, q, mode=mode, k=K)
            times.append((time.perf_counter() - began) * 1000)
            found.append([uuid.UUID(c.chunk_id).int for c in chunks])
    finally:
        retrieval._query_vector = real
    return times, found


def measure(lab, texts, questions, qvecs, n: int, *, reload: bool, sweep: list[int]) -> list[bool]:
    from backend.corpus import index as vindex

    vectors = np.ascontiguousarray(corpus_vectors(texts, len(texts) if n == len(texts) else n))
    corpus, load_s = load_corpus(lab, texts[:n], vectors, reload=reload)
    truth = common.exact_top_k(vectors, qvecs, K)
    print(f"\n-- {n:,} chunks --")
    common.info("loaded", f"COPY + index builds in {load_s:.0f} s" if load_s else "reused (already loaded)")
    results = []
    default_ef = vindex.HNSW_EF_SEARCH
    for ef in [default_ef] + [e for e in sweep if e != default_ef]:
        vindex.HNSW_EF_SEARCH = ef
        try:
            times, found = timed_searches(lab, corpus, questions, qvecs, "vector")
        finally:
            vindex.HNSW_EF_SEARCH = default_ef
        recall = common.overlap_at_k(found, truth, K)
        tag = f"ef_search={ef}" + (" (lab default)" if ef == default_ef else "")
        if ef == default_ef:
            results.append(common.check(f"HNSW p95 latency, {tag}", common.percentile(times, 95), 15,
                                        higher_is_better=False, unit=" ms", digits=1))
            results.append(common.check(f"HNSW recall@10 vs exact, {tag}", recall, 0.95))
            common.info("HNSW p50 latency", f"{common.percentile(times, 50):.1f} ms")
        else:
            common.info(f"sweep {tag}", f"p95 {common.percentile(times, 95):.1f} ms, "
                        f"p50 {common.percentile(times, 50):.1f} ms, recall@10 {recall:.3f}")
    times, _ = timed_searches(lab, corpus, questions, qvecs, "hybrid")
    results.append(common.check("hybrid (HNSW + full text, RRF) p95 latency", common.percentile(times, 95),
                                30, higher_is_better=False, unit=" ms", digits=1))
    common.info("hybrid p50 latency", f"{common.percentile(times, 50):.1f} ms")
    times, _ = timed_searches(lab, corpus, questions, qvecs, "text")
    common.info("full-text only p95 / p50", f"{common.percentile(times, 95):.1f} ms / "
                f"{common.percentile(times, 50):.1f} ms")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes (default 10000,100000)")
    parser.add_argument("--queries", type=int, default=300, help="questions (default 300)")
    parser.add_argument("--sweep", default="64,100", help="other ef_search values to try ('' for none)")
    parser.add_argument("--reload", action="store_true", help="reload the chunks even if present")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    sweep = [int(s) for s in args.sweep.split(",") if s.strip()]
    data = common.shared_data_or_exit()
    n_threads = common.threads()
    from backend.corpus import index as vindex

    texts = common.retrieval_texts(data, max(sizes))
    questions = common.retrieval_questions(data, args.queries)
    lab = common.open_bench_lab()
    qvecs, embed_ms = query_vectors(questions)

    common.header("Retrieval at scale: the lab's retrieve() on real MiniLM (bf16) vectors")
    common.info("chunks", f"passages and sentences of ../shared/data; sizes {', '.join(map(str, sizes))}")
    common.info("queries", f"{len(questions)} real questions (PubMedQA, XQuAD en, COVID-QA), k={K}")
    common.info("HNSW (lab defaults)", f"m={vindex.HNSW_M}, ef_construction={vindex.HNSW_EF_CONSTRUCTION}, "
                f"ef_search={vindex.HNSW_EF_SEARCH}, vector_cosine_ops; {n_threads} torch threads")
    common.info("query embedding (apart), p50 / p95", f"{common.percentile(embed_ms, 50):.1f} ms / "
                f"{common.percentile(embed_ms, 95):.1f} ms")
    results = []
    for n in sizes:
        results += measure(lab, texts, questions, qvecs, n, reload=args.reload, sweep=sweep)
    print(f"\n  {sum(results)}/{len(results)} targets met")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
