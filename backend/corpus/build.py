"""Index builds: a corpus's documents re-chunked and re-embedded into a new index (another
embedding model or chunking) by the job kind ``build_index``, while the active index keeps
answering; ``rebuild_index`` creates the index and queues the job. The documents come from the
parsed text stored at ingestion, and travel in waves like ingestion's (``backend.corpus.pipeline``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from backend.corpus import index as vindex
from backend.corpus import pipeline, store
from backend.corpus.pipeline import Pending, Target, corpus_lock, error_message, ignore_batch, targets
from backend.errors import JobCancelled
from backend.jobs.registry import handler
from backend.messages import msg

if TYPE_CHECKING:
    from backend.lab import Lab

Progress = Callable[..., None]


def build_index(lab: "Lab", index_id: str, *, progress: Progress | None = None,
                check_cancelled: Callable[[], None] | None = None) -> dict:
    """Fill a (building) index with every ready document of its corpus, from the stored parsed
    text, and mark it ready (or failed, with the reason). Documents already in it are skipped,
    so a retried build resumes. The corpus's other indexes stay queryable meanwhile."""
    from backend.corpus.chunking import chunk_document
    from backend.corpus.documents import ParsedDocument, ParsedSection

    check = check_cancelled or (lambda: None)
    report_progress = progress or (lambda *a, **k: None)
    idx = store.get_index(lab, index_id)
    corpus = store.get_corpus(lab, idx.corpus_id)
    began, chunks = time.perf_counter(), 0
    try:
        with corpus_lock(lab, corpus.id, check):
            target = targets(lab, corpus, [idx])[0]
            docs = store.list_documents(lab, corpus.id)
            with lab.db.connect() as conn:
                present = vindex.documents_in_table(conn, idx.table_name)
            report_progress(0, len(docs), message=msg("index.to_index", documents=len(docs)),
                            unit="documents")
            wave: list[Pending] = []
            for done, info in enumerate(docs, start=1):
                if info.id not in present:
                    doc = ParsedDocument(info.name, info.kind, info.sha256, [
                        ParsedSection(**s) for s in store.document_sections(lab, info.id)])
                    wave.append(Pending(doc, info.id, [chunk_document(doc, target.cfg, target.count_tokens)]))
                if done == len(docs) or sum(len(p.chunks[0]) for p in wave) >= pipeline.WAVE_CHUNKS:
                    chunks += _build_wave(lab, target, wave, check)
                    wave = []
                    report_progress(done, len(docs), message=msg(
                        "index.progress", done=done, documents=len(docs), chunks=chunks))
    except BaseException as exc:
        if isinstance(exc, Exception) and not isinstance(exc, JobCancelled):
            store.set_index_status(lab, idx.id, "failed", error=error_message(exc))
        raise
    seconds = time.perf_counter() - began
    store.set_index_status(lab, idx.id, "ready", build_seconds=seconds)
    return {"index_id": idx.id, "documents": len(docs), "chunks": chunks, "seconds": round(seconds, 2)}


def _build_wave(lab: "Lab", target: Target, wave: list[Pending], check: Callable[[], None]) -> int:
    """Embed and store one wave of an index build (the documents' chunks are committed together,
    so a resumed build finds each document whole or absent); the first error fails the build."""
    pipeline.embed_wave(target.embed, 0, wave, check, ignore_batch)
    for p in wave:
        if p.error is not None:
            raise p.error
    rows = [row for p in wave for row in pipeline.build_rows(p, 0, flat_metadata=target.vectors.flat_metadata)]
    with lab.db.connect() as conn:
        pipeline.copy_rows(conn, target.info.table_name, rows)
    return sum(len(p.chunks[0]) for p in wave)


def rebuild_index(lab: "Lab", corpus_id: str, *, embed_spec: str | None = None,
                  chunking: Any = None) -> tuple[store.IndexInfo, int | None]:
    """A new index of the corpus with other settings, built by a ``build_index`` job while the
    active one keeps answering; returns the index and the job id (None if it already exists and
    is ready or building). Activate it with ``store.activate_index`` when it is ready."""
    from backend.jobs.service import enqueue

    idx = store.add_index(lab, corpus_id, embed_spec=embed_spec, chunking=chunking)
    if idx.status != "building" or idx.job_id is not None:
        return idx, None
    job_id = enqueue(lab, "build_index", {"index_id": idx.id},
                     title=msg("title.build_index", model=idx.embed_name, chunking=idx.chunking_key))
    store.set_index_status(lab, idx.id, "building", job_id=job_id)
    return store.get_index(lab, idx.id), job_id


@handler("build_index")
def build_index_job(ctx, params: dict) -> dict:
    """Job ``build_index``: ``build_index`` with the job's progress and cancellation."""
    return build_index(ctx.lab, params["index_id"], progress=ctx.progress,
                       check_cancelled=ctx.check_cancelled)
