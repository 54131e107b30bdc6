"""Ingestion: uploaded files -> parsed documents -> chunks -> embeddings -> the corpus's vector
tables, as a service function (``ingest``) and as the job kind ``ingest``; index rebuilds as the
job kind ``build_index``.

Promises:
 - a document is stored once per corpus, keyed by its content hash: the same file again adds
   nothing; a changed file with the same name replaces that document (its old chunks go); every
   change bumps the corpus version;
 - stage and swap: a document's chunks are inserted while its row says ``ingesting`` (retrieval
   does not see them); one transaction then marks it ``ready``, deletes the version it replaces and
   bumps the corpus version. A document that fails has its chunks deleted by its id and its row
   removed: nothing of it stays visible. A cancelled job keeps the documents it finished;
 - ingestions (and builds) of one corpus run one at a time (a Postgres advisory lock), so a crash
   leftover (an ``ingesting`` row) can be cleaned up safely by the next run;
 - every document is scanned for sensitive data (counts per kind stored) and the outcome of every
   uploaded file (ok, or the message saying what is wrong) is stored for the Corpora page.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from psycopg.types.json import Jsonb

from backend.corpus import index as vindex
from backend.corpus import store
from backend.errors import JobCancelled, LabError
from backend.jobs.registry import handler

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)
EMBED_BATCH = 32
Progress = Callable[..., None]


@dataclass
class DocumentOutcome:
    name: str
    outcome: str  # added / replaced / unchanged / failed
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None
    findings: dict[str, int] = field(default_factory=dict)
    note: str | None = None


@dataclass
class FileOutcome:
    file_name: str
    ok: bool
    message: str = ""
    documents: list[DocumentOutcome] = field(default_factory=list)


@dataclass
class IngestReport:
    batch_id: str
    corpus_id: str
    version: int
    files: list[FileOutcome]
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(d.outcome == outcome for f in self.files for d in f.documents)

    @property
    def embeddings_per_s(self) -> float:
        return self.chunks / self.embed_seconds if self.embed_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update({k: self.count(k) for k in ("added", "replaced", "unchanged", "failed")},
                   files_failed=sum(not f.ok for f in self.files),
                   embeddings_per_s=round(self.embeddings_per_s, 2))
        return out


@dataclass
class _Target:
    """One index a document is written to, with what writing to it needs."""

    info: store.IndexInfo
    embed: Any
    cfg: Any
    count_tokens: Callable[[str], int]
    vectors: Any


def _targets(lab: "Lab", corpus: store.Corpus, indexes: list[store.IndexInfo]) -> list[_Target]:
    from backend.corpus.chunking import ChunkingConfig
    from backend.models.embeddings import get_embedding, get_tokenizer_for_embedding

    out = []
    for idx in indexes:
        tok = get_tokenizer_for_embedding(idx.embed_spec, lab.settings)
        special = tok.count("")  # the chunker counts word pieces without [CLS]/[SEP], <s>/</s>
        out.append(_Target(idx, get_embedding(lab.settings, idx.embed_spec, language=corpus.language),
                           ChunkingConfig(**idx.chunking), lambda text, c=tok.count, s=special: c(text) - s,
                           vindex.vector_store(lab.db.url, idx.table_name, idx.dim,
                                               idx.text_search_config)))
    return out


@contextmanager
def corpus_lock(lab: "Lab", corpus_id: str, check_cancelled: Callable[[], None]) -> Iterator[None]:
    """Hold the corpus's advisory lock (own connection: a session lock must not go back to the
    pool) while the block runs; waits, checking for cancellation, while another job holds it."""
    import psycopg

    with psycopg.connect(lab.db.url, autocommit=True) as conn:
        while not conn.execute("SELECT pg_try_advisory_lock(7310003, hashtext(%s))",
                               (str(corpus_id),)).fetchone()[0]:
            check_cancelled()
            time.sleep(0.5)
        yield  # closing the connection releases the lock, even after a crash


def _clean_leftovers(lab: "Lab", corpus_id: str) -> None:
    """Remove what a crashed run left (rows still ``ingesting`` and their chunks)."""
    with lab.db.connect() as conn:
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s", (corpus_id,))]
        for doc_id in store.not_ready_document_ids(conn, corpus_id):
            vindex.delete_document_chunks(conn, tables, doc_id)
            conn.execute("DELETE FROM documents WHERE id = %s", (doc_id,))


def _embed_into(target: _Target, doc: Any, doc_id: str, check_cancelled: Callable[[], None],
                on_batch: Callable[[int, float], None]) -> int:
    """Chunk ``doc`` for one index, embed the chunks in batches and add them; returns the count."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    from backend.corpus.chunking import chunk_document
    from backend.corpus.sensitive import counts, scan

    chunks = chunk_document(doc, target.cfg, target.count_tokens)
    for start in range(0, len(chunks), EMBED_BATCH):
        check_cancelled()
        batch = chunks[start:start + EMBED_BATCH]
        began = time.perf_counter()
        vectors = target.embed.get_text_embedding_batch([c.text for c in batch])
        seconds = time.perf_counter() - began
        nodes = [TextNode(
            id_=str(uuid.uuid4()), text=c.text, embedding=list(v),
            metadata={"document_id": doc_id, "document_name": doc.name, "page": c.page,
                      "section": c.section, "position": c.position, "kind": doc.kind,
                      "tokens": c.token_count, "findings": counts(scan(c.text))},
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc_id)})
            for c, v in zip(batch, vectors)]
        target.vectors.add(nodes)
        on_batch(len(batch), seconds)
    return len(chunks)


def _document_findings(doc: Any) -> dict[str, int]:
    from backend.corpus.sensitive import counts, scan

    total: dict[str, int] = {}
    for section in doc.sections:  # sections, not chunks: overlapping chunks would count twice
        for kind, n in counts(scan(section.text)).items():
            total[kind] = total.get(kind, 0) + n
    return total


def ingest(lab: "Lab", corpus_id: str, files: list[tuple[str, bytes]], *,
           text_column: str | None = None, progress: Progress | None = None,
           check_cancelled: Callable[[], None] | None = None, job_id: int | None = None,
           batch_id: str | None = None) -> IngestReport:
    """Ingest uploaded ``files`` (name, bytes) into a corpus; returns what happened per file.

    Bad files do not stop the others: each gets its message in the report (and in
    ``ingestion_files``). ``progress(step, total, message=, unit=, metrics=)`` is called per file.
    """
    from backend.corpus.readers import UploadLimits, parse_upload

    check = check_cancelled or (lambda: None)
    report_progress = progress or (lambda *a, **k: None)
    corpus = store.get_corpus(lab, corpus_id)
    batch_id = batch_id or str(uuid.uuid4())
    began = time.perf_counter()
    report = IngestReport(batch_id, corpus.id, corpus.version, [])
    limits = UploadLimits.from_settings(lab.settings)
    with corpus_lock(lab, corpus.id, check):
        _clean_leftovers(lab, corpus.id)
        with lab.db.connect() as conn:
            live = set(store.live_tables(conn, corpus.id))
        targets = _targets(lab, corpus, [i for i in store.list_indexes(lab, corpus.id)
                                         if i.table_name in live])
        parsed = []
        for i, (name, data) in enumerate(files, start=1):
            check()
            report_progress(0, None, message=f"reading file {i}/{len(files)}", unit="files")
            parsed.extend(parse_upload(name, data, limits, text_column=text_column))
        total = len(parsed)
        report_progress(0, total, message=f"{total} file(s) to ingest", unit="files")
        seen: set[str] = set()

        def on_batch(n: int, seconds: float) -> None:
            report.chunks += n
            report.embed_seconds += seconds

        for done, result in enumerate(parsed, start=1):
            outcome = FileOutcome(result.name, result.ok, result.error or "")
            report.files.append(outcome)
            if result.ok:
                for doc in result.documents:
                    outcome.documents.append(_ingest_document(lab, corpus, targets, doc, seen,
                                                              check, on_batch))
                failed = [d for d in outcome.documents if d.outcome == "failed"]
                if failed:
                    outcome.ok = False
                    outcome.message = "; ".join(f"{d.name}: {d.error}" for d in failed)
                elif not outcome.documents:
                    outcome.message = "The file holds no documents."
                else:
                    outcome.message = _summary(outcome.documents) + (
                        " " + " ".join(result.warnings) if getattr(result, "warnings", None) else "")
            record_file_result(lab, batch_id, corpus.id, job_id, outcome)
            report_progress(done, total, message=f"{done}/{total} files · {report.chunks} chunks · "
                            f"{report.embeddings_per_s:.1f} embeddings/s", unit="files",
                            metrics={"chunks": report.chunks,
                                     "embeddings_per_s": round(report.embeddings_per_s, 2)})
    report.version = store.get_corpus(lab, corpus.id).version
    report.seconds = time.perf_counter() - began
    return report


def _summary(docs: list[DocumentOutcome]) -> str:
    parts = []
    for kind in ("added", "replaced", "unchanged"):
        n = sum(d.outcome == kind for d in docs)
        if n:
            parts.append(f"{n} {kind}")
    chunks = sum(d.chunks for d in docs)
    notes = sorted({d.note for d in docs if d.note})
    return (", ".join(parts) + (f" ({chunks} chunk{'s' if chunks != 1 else ''})" if chunks else "")
            + (": " + "; ".join(notes) if notes else "") + ".")


def _ingest_document(lab: "Lab", corpus: store.Corpus, targets: list[_Target], doc: Any,
                     seen: set[str], check: Callable[[], None], on_batch) -> DocumentOutcome:
    with lab.db.connect() as conn:
        same = conn.execute("SELECT id::text, name FROM documents WHERE corpus_id = %s AND "
                            "sha256 = %s AND status = 'ready'", (corpus.id, doc.sha256)).fetchone()
        if same or doc.sha256 in seen:
            note = (f"same content as {same['name']}" if same and same["name"] != doc.name
                    else None if same else "a duplicate within this upload")
            return DocumentOutcome(doc.name, "unchanged", same["id"] if same else None, note=note)
        old = conn.execute("SELECT id::text, version FROM documents WHERE corpus_id = %s AND "
                           "name = %s AND status = 'ready'", (corpus.id, doc.name)).fetchone()
        sections = [{"text": s.text, "page": s.page, "section": s.section} for s in doc.sections]
        doc_id = conn.execute(
            "INSERT INTO documents (corpus_id, name, kind, sha256, version, status, char_count, "
            "sections, metadata, warnings) VALUES (%s, %s, %s, %s, %s, 'ingesting', %s, %s, %s, %s) "
            "RETURNING id::text",
            (corpus.id, doc.name, doc.kind, doc.sha256, old["version"] + 1 if old else 1,
             sum(len(s["text"]) for s in sections), Jsonb(sections), Jsonb(doc.metadata or {}),
             Jsonb(list(doc.warnings or [])))).fetchone()["id"]
    seen.add(doc.sha256)
    try:
        chunks = 0
        for i, target in enumerate(targets):
            n = _embed_into(target, doc, doc_id, check, on_batch if i == 0 else lambda n, s: None)
            chunks = chunks or n
        findings = _document_findings(doc)
        with lab.db.connect() as conn:  # the swap: one transaction
            if old:
                vindex.delete_document_chunks(conn, [t.info.table_name for t in targets], old["id"])
                conn.execute("DELETE FROM documents WHERE id = %s", (old["id"],))
            conn.execute("UPDATE documents SET status = 'ready', updated_at = now() WHERE id = %s",
                         (doc_id,))
            for kind, n in findings.items():
                conn.execute("INSERT INTO document_findings (document_id, kind, count) "
                             "VALUES (%s, %s, %s)", (doc_id, kind, n))
            store.bump_version(conn, corpus.id)
    except BaseException as exc:
        seen.discard(doc.sha256)
        try:
            _abandon(lab, corpus.id, doc_id)
        except Exception:  # noqa: BLE001 - the row says 'ingesting': hidden, and the next run cleans it
            log.exception("could not clean up document %s after a failure", doc_id)
        if not isinstance(exc, Exception) or isinstance(exc, JobCancelled):
            raise
        message = exc.user_message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
        return DocumentOutcome(doc.name, "failed", None, error=message)
    return DocumentOutcome(doc.name, "replaced" if old else "added", doc_id, chunks, findings=findings)


def _abandon(lab: "Lab", corpus_id: str, doc_id: str) -> None:
    """Delete a document that did not finish, with every chunk it had inserted."""
    with lab.db.connect() as conn:
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s", (corpus_id,))]
        vindex.delete_document_chunks(conn, tables, doc_id)
        conn.execute("DELETE FROM documents WHERE id = %s", (doc_id,))


# --- per-file results ------------------------------------------------------------------------------
def record_file_result(lab: "Lab", batch_id: str, corpus_id: str, job_id: int | None,
                       outcome: FileOutcome) -> None:
    lab.db.execute(
        "INSERT INTO ingestion_files (batch_id, corpus_id, job_id, file_name, ok, message, documents)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (batch_id, corpus_id, job_id, outcome.file_name, outcome.ok, outcome.message,
         Jsonb([asdict(d) for d in outcome.documents])))


def file_results(lab: "Lab", corpus_id: str, batch_id: str | None = None) -> list[dict]:
    """Per-file results of one upload (default: the corpus's latest), in upload order."""
    if batch_id is None:
        row = lab.db.fetchone("SELECT batch_id::text FROM ingestion_files WHERE corpus_id = %s "
                              "ORDER BY id DESC LIMIT 1", (corpus_id,))
        if row is None:
            return []
        batch_id = row["batch_id"]
    return lab.db.fetchall("SELECT file_name, ok, message, documents, job_id, created_at "
                           "FROM ingestion_files WHERE batch_id = %s ORDER BY id", (batch_id,))


# --- jobs ------------------------------------------------------------------------------------------
def enqueue_ingest(lab: "Lab", corpus_id: str, files: list[tuple[str, bytes]], *,
                   text_column: str | None = None) -> int:
    """Store the uploaded bytes as artifacts and queue an ``ingest`` job; returns the job id."""
    from backend.jobs.service import enqueue
    from backend.storage import ArtifactStore

    corpus = store.get_corpus(lab, corpus_id)
    artifacts = ArtifactStore(lab.db, lab.settings.artifact_dir or None)
    ids = [artifacts.put_bytes("upload", name, data, {"corpus_id": corpus.id}) for name, data in files]
    return enqueue(lab, "ingest", {"corpus_id": corpus.id, "artifact_ids": ids,
                                   "text_column": text_column, "batch_id": str(uuid.uuid4())},
                   title=f"Ingest {len(files)} file(s) into {corpus.name}")


@handler("ingest")
def ingest_job(ctx, params: dict) -> dict:
    """Job ``ingest``: read the uploaded artifacts and run ``ingest``; the uploads are deleted
    once ingested (the documents keep their parsed text). A retry re-runs it safely: files
    already ingested come back as unchanged."""
    from backend.storage import ArtifactStore

    artifacts = ArtifactStore(ctx.lab.db, ctx.lab.settings.artifact_dir or None)
    files = [(artifacts.info(a).name, artifacts.get_bytes(a)) for a in params["artifact_ids"]]
    report = ingest(ctx.lab, params["corpus_id"], files, text_column=params.get("text_column"),
                    progress=ctx.progress, check_cancelled=ctx.check_cancelled, job_id=ctx.job_id,
                    batch_id=params.get("batch_id"))
    for art_id in params["artifact_ids"]:
        artifacts.delete(art_id)
    return report.as_dict()


def build_index(lab: "Lab", index_id: str, *, progress: Progress | None = None,
                check_cancelled: Callable[[], None] | None = None) -> dict:
    """Fill a (building) index with every ready document of its corpus, from the stored parsed
    text, and mark it ready (or failed, with the reason). Documents already in it are skipped,
    so a retried build resumes. The corpus's other indexes stay queryable meanwhile."""
    from backend.corpus.documents import ParsedDocument, ParsedSection

    check = check_cancelled or (lambda: None)
    report_progress = progress or (lambda *a, **k: None)
    idx = store.get_index(lab, index_id)
    corpus = store.get_corpus(lab, idx.corpus_id)
    began, chunks = time.perf_counter(), 0
    try:
        with corpus_lock(lab, corpus.id, check):
            target = _targets(lab, corpus, [idx])[0]
            docs = store.list_documents(lab, corpus.id)
            with lab.db.connect() as conn:
                present = vindex.documents_in_table(conn, idx.table_name)
            report_progress(0, len(docs), message=f"{len(docs)} documents to index", unit="documents")
            for done, info in enumerate(docs, start=1):
                if info.id not in present:
                    doc = ParsedDocument(info.name, info.kind, info.sha256, [
                        ParsedSection(**s) for s in store.document_sections(lab, info.id)])
                    chunks += _embed_into(target, doc, info.id, check, lambda n, s: None)
                report_progress(done, len(docs), message=f"{done}/{len(docs)} documents · {chunks} chunks")
    except BaseException as exc:
        if isinstance(exc, Exception) and not isinstance(exc, JobCancelled):
            message = exc.user_message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
            store.set_index_status(lab, idx.id, "failed", error=message)
        raise
    seconds = time.perf_counter() - began
    store.set_index_status(lab, idx.id, "ready", build_seconds=seconds)
    return {"index_id": idx.id, "documents": len(docs), "chunks": chunks, "seconds": round(seconds, 2)}


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
                     title=f"Build index ({idx.embed_name}, {idx.chunking_key})")
    store.set_index_status(lab, idx.id, "building", job_id=job_id)
    return store.get_index(lab, idx.id), job_id


@handler("build_index")
def build_index_job(ctx, params: dict) -> dict:
    """Job ``build_index``: ``build_index`` with the job's progress and cancellation."""
    return build_index(ctx.lab, params["index_id"], progress=ctx.progress,
                       check_cancelled=ctx.check_cancelled)
