"""Ingestion: uploaded files -> parsed documents -> chunks -> embeddings -> the corpus's vector
tables, as a service function (``ingest``) and as the job kind ``ingest``. Index rebuilds (the job
kind ``build_index``) live in ``backend.corpus.build`` and are re-exported here.

Promises:
 - a document is stored once per corpus, keyed by its content hash: the same file again adds
   nothing; a changed file with the same name replaces that document (its old chunks go); every
   change bumps the corpus version;
 - stage and swap: a document's row is inserted as ``ingesting`` (retrieval does not see it) before
   its chunks are embedded; one transaction then inserts its chunks, marks it ``ready``, deletes the
   version it replaces and bumps the corpus version. A document that fails has its row (and any
   chunk of it) removed: nothing of it stays visible, and the other documents go on. A cancelled
   job keeps the documents it finished;
 - ingestions (and builds) of one corpus run one at a time (a Postgres advisory lock), so a crash
   leftover (an ``ingesting`` row) can be cleaned up safely by the next run;
 - every document is scanned for sensitive data (counts per kind stored) and the outcome of every
   uploaded file (ok, or the message saying what is wrong) is stored for the Corpora page.

For speed, documents travel in waves (``backend.corpus.pipeline``): the chunks of several
documents are embedded together and stored with one COPY, by a writer thread while the next wave
is embedded. A document that might duplicate or replace one still on its way waits for it, so the
outcomes are those of ingesting the documents one at a time, in upload order.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from psycopg.types.json import Jsonb

from backend.corpus import index as vindex
from backend.corpus import pipeline, store
from backend.corpus.build import build_index, build_index_job, rebuild_index  # noqa: F401 - their home was here
from backend.corpus.pipeline import Pending, Target, corpus_lock, error_message, ignore_batch, targets
from backend.jobs.registry import handler
from backend.messages import as_jsonb, msg

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)
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


def _clean_leftovers(lab: "Lab", corpus_id: str) -> None:
    """Remove what a crashed run left (rows still ``ingesting`` and their chunks)."""
    with lab.db.connect() as conn:
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM corpus_indexes WHERE corpus_id = %s", (corpus_id,))]
        for doc_id in store.not_ready_document_ids(conn, corpus_id):
            vindex.delete_document_chunks(conn, tables, doc_id)
            conn.execute("DELETE FROM documents WHERE id = %s", (doc_id,))


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
    ``ingestion_files``, in upload order). ``progress(step, total, message=, unit=, metrics=)`` is
    called as files finish. ``check_cancelled`` is called between embedding calls; what it raises
    stops the ingestion, keeping the documents already stored.
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
        writes = targets(lab, corpus, [i for i in store.list_indexes(lab, corpus.id)
                                       if i.table_name in live])
        parsed = []
        for i, (name, data) in enumerate(files, start=1):
            check()
            report_progress(0, None, message=msg("ingest.reading", number=i, files=len(files)),
                            unit="files")
            parsed.extend(parse_upload(name, data, limits, text_column=text_column))
        report_progress(0, len(parsed), message=msg("ingest.to_ingest", files=len(parsed)),
                        unit="files")
        run = _Ingestion(lab, corpus, writes, report, check, report_progress, job_id, len(parsed))
        try:
            for result in parsed:
                outcome = FileOutcome(result.name, result.ok, result.error or "")
                report.files.append(outcome)
                run.add_file(outcome, result)
            run.finish()
        except BaseException:
            run.abort()
            raise
        finally:
            run.close()
    report.version = store.get_corpus(lab, corpus.id).version
    report.seconds = time.perf_counter() - began
    return report


def summary(docs: list[DocumentOutcome], say: Callable[..., str] = msg) -> str:
    """A file's result from its documents: "2 added, 1 unchanged (14 chunks)." plus the
    documents' notes. ``say(key, **values)`` words each part (``backend.messages`` keys): in
    English by default; the interface passes its own, to word it in the reader's language."""
    parts = []
    for kind in ("added", "replaced", "unchanged"):
        n = sum(d.outcome == kind for d in docs)
        if n:
            parts.append(say(f"ingest.{kind}", n=n))
    chunks = sum(d.chunks for d in docs)
    notes = sorted({d.note for d in docs if d.note})
    return (", ".join(parts)
            + (" " + say("ingest.chunks_one" if chunks == 1 else "ingest.chunks", n=chunks)
               if chunks else "")
            + (": " + "; ".join(notes) if notes else "") + ".")


@dataclass
class _FileEntry:
    """An uploaded file whose documents are on their way: an outcome, or a ``Pending``, each."""

    outcome: FileOutcome
    warnings: list[str]
    slots: list[Any] = field(default_factory=list)
    complete: bool = False  # every document of the file has been handed in

    def settled(self) -> bool:
        # a document settles when the main thread has its outcome (not when the writer is done)
        return self.complete and all(not isinstance(s, Pending) or s.result is not None
                                     for s in self.slots)


class _Ingestion:
    """One ``ingest`` call's documents, moving through waves: prepared (duplicate check, chunks,
    sensitive-data counts) one by one, then embedded together and stored by the writer thread;
    per-file results are recorded in upload order as their documents settle."""

    def __init__(self, lab: "Lab", corpus: store.Corpus, targets: list[Target], report: IngestReport,
                 check: Callable[[], None], progress: Progress, job_id: int | None, total: int) -> None:
        self.lab, self.corpus, self.targets, self.report = lab, corpus, targets, report
        self.check, self.progress, self.job_id, self.total = check, progress, job_id, total
        self.tables = [t.info.table_name for t in targets]
        self.wave: list[Pending] = []
        self.wave_chunks = 0
        self.staged: dict[str, Pending] = {}  # rows inserted as 'ingesting', not settled yet
        self.unsettled: set[tuple[str, str]] = set()  # ("sha", ...) and ("name", ...) of those
        self.seen: set[str] = set()
        self.files: deque[_FileEntry] = deque()
        self.done = 0
        self.writer = pipeline.Writer(self._store)

    # --- the flow ----------------------------------------------------------------------------------
    def add_file(self, outcome: FileOutcome, result: Any) -> None:
        entry = _FileEntry(outcome, list(getattr(result, "warnings", None) or []))
        self.files.append(entry)
        if result.ok:
            for doc in result.documents:
                entry.slots.append(self._add_document(doc))
        entry.complete = True
        self._finish_files()

    def finish(self) -> None:
        self._flush()
        self._settle()
        self._finish_files()

    def abort(self) -> None:
        """After an error or a cancellation: the wave being stored finishes (its documents are
        done and stay, with their files' results); every other document begun is removed."""
        try:
            self._settle(progress=False)
        except BaseException:  # noqa: BLE001 - already failing: the first error is the one raised
            log.exception("could not finish the documents being stored")
        for p in list(self.staged.values()):
            if not p.stored:
                self._remove(p)
        self.staged.clear()

    def close(self) -> None:
        self.writer.close()

    def _add_document(self, doc: Any) -> DocumentOutcome | Pending:
        if ("sha", doc.sha256) in self.unsettled or ("name", doc.name) in self.unsettled:
            # It may duplicate or replace a document still on its way: that one settles first, so
            # the checks below see what one-at-a-time ingestion saw.
            self._flush()
            self._settle()
        found = self._prepare(doc)
        if isinstance(found, Pending):
            self.wave.append(found)
            self.unsettled |= {("sha", doc.sha256), ("name", doc.name)}
            self.wave_chunks += sum(len(c) for c in found.chunks)
            if self.wave_chunks >= pipeline.WAVE_CHUNKS:
                self._flush()
        return found

    def _prepare(self, doc: Any) -> DocumentOutcome | Pending:
        """The outcome of a document that needs no embedding (unchanged, or failed to chunk), or
        its chunks and sensitive-data counts, ready for a wave."""
        from backend.corpus.chunking import chunk_document

        with self.lab.db.connect() as conn:
            rows = conn.execute("SELECT id::text, name, sha256, version FROM documents WHERE corpus_id = %s"
                                " AND status = 'ready' AND (sha256 = %s OR name = %s)",
                                (self.corpus.id, doc.sha256, doc.name)).fetchall()
        same = next((r for r in rows if r["sha256"] == doc.sha256), None)
        if same or doc.sha256 in self.seen:
            note = (f"same content as {same['name']}" if same and same["name"] != doc.name
                    else None if same else "a duplicate within this upload")
            return DocumentOutcome(doc.name, "unchanged", same["id"] if same else None, note=note)
        old = next((r for r in rows if r["name"] == doc.name), None)
        try:
            chunks = [chunk_document(doc, t.cfg, t.count_tokens) for t in self.targets]
            findings = _document_findings(doc)
        except Exception as exc:  # noqa: BLE001 - this document fails, the others go on
            return DocumentOutcome(doc.name, "failed", None, error=error_message(exc))
        self.seen.add(doc.sha256)
        return Pending(doc, str(uuid.uuid4()), chunks, old=old, findings=findings)

    def _on_batch(self, n: int, seconds: float) -> None:
        self.report.chunks += n
        self.report.embed_seconds += seconds

    def _flush(self) -> None:
        """Embed the wave gathered so far and hand it to the writer (once the previous one is
        stored)."""
        wave, self.wave, self.wave_chunks = self.wave, [], 0
        if not wave:
            return
        self._stage(wave)
        for which, target in enumerate(self.targets):
            pipeline.embed_wave(target.embed, which, wave, self.check,
                                self._on_batch if which == 0 else ignore_batch)
        for p in wave:
            if p.error is None:
                try:
                    p.rows = [pipeline.build_rows(p, which, flat_metadata=t.vectors.flat_metadata)
                              for which, t in enumerate(self.targets)]
                except Exception as exc:  # noqa: BLE001 - this document fails, the others go on
                    p.error = exc
        self._settle()
        self.writer.submit(wave)

    def _settle(self, *, progress: bool = True) -> None:
        """Wait for the wave being stored, turn its documents into outcomes and record the files
        that are then complete (``progress``: and report them)."""
        wave = self.writer.wait()
        for p in wave or []:
            self.staged.pop(p.doc_id, None)
            self.unsettled -= {("sha", p.doc.sha256), ("name", p.doc.name)}
            if p.error is not None:
                self.seen.discard(p.doc.sha256)
                p.result = DocumentOutcome(p.doc.name, "failed", None, error=error_message(p.error))
            else:
                p.result = DocumentOutcome(p.doc.name, "replaced" if p.old else "added", p.doc_id,
                                           p.chunk_count, findings=p.findings)
            p.chunks, p.vectors, p.rows = [], [], []  # a big CSV keeps its slots until its last row
        if wave:
            self._finish_files(progress=progress)

    def _finish_files(self, *, progress: bool = True) -> None:
        """Record the results of the files at the head of the upload whose documents all settled."""
        finished = []
        while self.files and self.files[0].settled():
            entry = self.files.popleft()
            outcome = entry.outcome
            outcome.documents = [s.result if isinstance(s, Pending) else s for s in entry.slots]
            if outcome.ok:
                failed = [d for d in outcome.documents if d.outcome == "failed"]
                if failed:
                    outcome.ok = False
                    outcome.message = "; ".join(f"{d.name}: {d.error}" for d in failed)
                elif not outcome.documents:
                    outcome.message = "The file holds no documents."
                else:
                    outcome.message = summary(outcome.documents) + (
                        " " + " ".join(entry.warnings) if entry.warnings else "")
            finished.append(outcome)
        if not finished:
            return
        record_file_results(self.lab, self.report.batch_id, self.corpus.id, self.job_id, finished)
        self.done += len(finished)
        if progress:
            report = self.report
            self.progress(self.done, self.total, message=msg(
                "ingest.progress", done=self.done, files=self.total, chunks=report.chunks,
                rate=f"{report.embeddings_per_s:.1f}"),
                          unit="files", metrics={"chunks": report.chunks,
                                                 "embeddings_per_s": round(report.embeddings_per_s, 2)})

    # --- the database ------------------------------------------------------------------------------
    def _stage(self, wave: list[Pending]) -> None:
        """Insert the wave's document rows as 'ingesting' (one transaction)."""
        params = []
        for p in wave:
            doc = p.doc
            sections = [{"text": s.text, "page": s.page, "section": s.section} for s in doc.sections]
            params.append((p.doc_id, self.corpus.id, doc.name, doc.kind, doc.sha256,
                           p.old["version"] + 1 if p.old else 1, sum(len(s["text"]) for s in sections),
                           Jsonb(sections), Jsonb(doc.metadata or {}), Jsonb(list(doc.warnings or []))))
        with self.lab.db.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO documents (id, corpus_id, name, kind, sha256, version, status, char_count, "
                "sections, metadata, warnings) VALUES (%s, %s, %s, %s, %s, %s, 'ingesting', %s, %s, %s, %s)",
                params)
        self.staged.update((p.doc_id, p) for p in wave)

    def _store(self, wave: list[Pending]) -> None:
        """(The writer thread.) Insert the chunks of the wave's documents and swap them in, in one
        transaction; if that fails, one document at a time, so only a document that fails on its
        own fails. Failed documents are removed."""
        ok = [p for p in wave if p.error is None]
        if ok:
            try:
                with self.lab.db.connect() as conn:
                    self._swap_in(conn, ok)
                for p in ok:
                    p.stored = True
            except Exception:  # noqa: BLE001 - retried per document below, where it is reported
                log.warning("storing %d documents together failed; storing them one by one", len(ok),
                            exc_info=True)
                for p in ok:
                    try:
                        with self.lab.db.connect() as conn:
                            self._swap_in(conn, [p])
                        p.stored = True
                    except Exception as exc:  # noqa: BLE001 - this document fails, the others go on
                        p.error = exc
        for p in wave:
            if p.error is not None:
                self._remove(p)

    def _swap_in(self, conn: Any, docs: list[Pending]) -> None:
        for which, table in enumerate(self.tables):
            pipeline.copy_rows(conn, table, [row for p in docs for row in p.rows[which]])
        for p in docs:
            if p.old:
                vindex.delete_document_chunks(conn, self.tables, p.old["id"])
                conn.execute("DELETE FROM documents WHERE id = %s", (p.old["id"],))
        conn.execute("UPDATE documents SET status = 'ready', updated_at = now() WHERE id = ANY(%s::uuid[])",
                     ([p.doc_id for p in docs],))
        findings = [(p.doc_id, kind, n) for p in docs for kind, n in p.findings.items()]
        if findings:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO document_findings (document_id, kind, count) "
                                "VALUES (%s, %s, %s)", findings)
        store.bump_version(conn, self.corpus.id, len(docs))

    def _remove(self, p: Pending) -> None:
        """Delete a document that did not finish (its row, and any chunk of it)."""
        try:
            _abandon(self.lab, self.corpus.id, p.doc_id)
        except Exception:  # noqa: BLE001 - the row says 'ingesting': hidden, and the next run cleans it
            log.exception("could not clean up document %s after a failure", p.doc_id)


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
    record_file_results(lab, batch_id, corpus_id, job_id, [outcome])


def record_file_results(lab: "Lab", batch_id: str, corpus_id: str, job_id: int | None,
                        outcomes: list[FileOutcome]) -> None:
    """Store the outcomes of uploaded files (in this order) in one transaction."""
    with lab.db.connect() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ingestion_files (batch_id, corpus_id, job_id, file_name, ok, message,"
            " message_i18n, documents) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(batch_id, corpus_id, job_id, o.file_name, o.ok, o.message, as_jsonb(o.message),
              Jsonb([asdict(d) for d in o.documents])) for o in outcomes])


def file_results(lab: "Lab", corpus_id: str, batch_id: str | None = None) -> list[dict]:
    """Per-file results of one upload (default: the corpus's latest), in upload order."""
    if batch_id is None:
        row = lab.db.fetchone("SELECT batch_id::text FROM ingestion_files WHERE corpus_id = %s "
                              "ORDER BY id DESC LIMIT 1", (corpus_id,))
        if row is None:
            return []
        batch_id = row["batch_id"]
    return lab.db.fetchall("SELECT file_name, ok, message, message_i18n, documents, job_id, created_at "
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
                   title=msg("title.ingest", files=len(files), corpus=corpus.name))


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
