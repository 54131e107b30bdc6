"""Corpora and ingestion on real Postgres + pgvector with the real bundled MiniLM: create/delete,
a mixed upload (PDF made with reportlab, Markdown, TXT), re-upload, update, delete, failure
clean-up, sensitive-data counts, the ingest job through the real job runner, and index rebuilds."""

from __future__ import annotations

import io

import psycopg
import pytest

from backend.corpus import index as vindex
from backend.corpus import ingest as ingest_mod
from backend.corpus import store
from backend.corpus.ingest import enqueue_ingest, file_results, ingest, rebuild_index
from backend.corpus.sensitive import redact
from backend.errors import InputError, NotFound
from backend.jobs.runner import run_inline
from backend.jobs.service import get_job, job_events
from backend.rag.retrieval import browse_chunks, retrieve

pytestmark = pytest.mark.usefixtures("one_thread")  # one torch thread


def make_pdf(pages: list[str]) -> bytes:
    """A real PDF with one paragraph of text per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


PDF = make_pdf(["Trailhead Outfitters warranty.\n"
                "Every tent has a warranty of two years against seams that leak.",
                "Sleeping bags are rated for comfort down to minus five degrees Celsius.\n"
                "Store sleeping bags loose, never compressed, to keep the insulation lofty."])
MARKDOWN = (b"# Returns\n\nA tent can be returned within 30 days of purchase for a full refund.\n\n"
            b"# Shipping\n\nOrders ship within two business days from the Madrid warehouse.\n")
CARE_V1 = b"Clean the tent with lukewarm water and mild soap. Never machine-wash the tent fabric."
CARE_V2 = (b"Clean the tent with a damp sponge only. Soap strips the waterproof coating, so never "
           b"use any soap on the tent fabric.")
UPLOAD = [("warranty.pdf", PDF), ("policies.md", MARKDOWN), ("care.txt", CARE_V1)]


def chunk_rows(lab, corpus_id: str) -> list[dict]:
    idx = store.active_index(lab, corpus_id)
    return lab.db.fetchall(f"SELECT node_id, text, metadata_ FROM {vindex.physical_table(idx.table_name)}")


def test_create_list_and_delete_corpora(lab):
    en = store.create_corpus(lab, "Handbook", "en")
    es = store.create_corpus(lab, "Manual", "es")
    assert (en.active_index.embed_spec, en.active_index.dim) == ("bundled:all-minilm-l6-v2", 384)
    assert en.active_index.text_search_config == "english" and en.active_index.status == "ready"
    assert (es.active_index.embed_spec, es.active_index.dim) == ("bundled:use-multilingual", 512)
    assert es.active_index.text_search_config == "spanish"
    mixed = store.create_corpus(lab, "Both", "mixed")
    assert (mixed.active_index.dim, mixed.active_index.text_search_config) == (512, "simple")
    store.delete_corpus(lab, "Both")
    assert [c.name for c in store.list_corpora(lab)] == ["Handbook", "Manual"]
    assert store.get_corpus(lab, "Handbook").id == store.get_corpus(lab, en.id).id
    with lab.db.connect() as conn:
        assert vindex.table_exists(conn, en.active_index.table_name)
        # the table has the declared dimension, a tsvector in the corpus language and an HNSW index
        ddl = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                           (vindex.physical_table(en.active_index.table_name),)).fetchall()
        assert any("hnsw" in r["indexdef"] and "vector_cosine_ops" in r["indexdef"] for r in ddl)
    with pytest.raises(InputError, match="already exists"):
        store.create_corpus(lab, "Handbook", "en")
    with pytest.raises(InputError, match="language"):
        store.create_corpus(lab, "Other", "fr")
    with pytest.raises(InputError, match="256"):  # the chunk size is checked against MiniLM's limit
        store.create_corpus(lab, "Big chunks", "en", chunking={"chunk_size": 400, "chunk_overlap": 0})
    store.delete_corpus(lab, en.id)
    with lab.db.connect() as conn:
        assert not vindex.table_exists(conn, en.active_index.table_name)
    assert [c.name for c in store.list_corpora(lab)] == ["Manual"]
    with pytest.raises(NotFound):
        store.get_corpus(lab, "Handbook")


def test_mixed_upload_reupload_update_and_delete(lab):
    corpus = store.create_corpus(lab, "Outfitters", "en")
    report = ingest(lab, corpus.id, UPLOAD)
    assert [f.ok for f in report.files] == [True, True, True], report.files
    assert report.count("added") == 3 and report.version == 3
    docs = {d.name: d for d in store.list_documents(lab, corpus.id)}
    assert set(docs) == {"warranty.pdf", "policies.md", "care.txt"}
    assert all(d.chunk_count >= 1 and d.version == 1 for d in docs.values())
    rows = chunk_rows(lab, corpus.id)
    assert len(rows) == report.chunks == sum(d.chunk_count for d in docs.values())
    pdf_pages = {r["metadata_"]["page"] for r in rows if r["metadata_"]["document_name"] == "warranty.pdf"}
    assert pdf_pages == {1, 2}
    sections = {r["metadata_"]["section"] for r in rows if r["metadata_"]["kind"] == "markdown"}
    assert sections == {"Returns", "Shipping"}
    bag = retrieve(lab, corpus.id, "What temperature are sleeping bags rated for?", k=1)[0]
    assert (bag.document_name, bag.page) == ("warranty.pdf", 2) and "minus five" in bag.text
    # the chunk browser: one document's chunks in order, or the chunks containing some text
    pdf_chunks = browse_chunks(lab, corpus.id, document_id=docs["warranty.pdf"].id)
    assert [c.page for c in pdf_chunks] == [1, 2] and [c.position for c in pdf_chunks] == [0, 1]
    assert [c.document_name for c in browse_chunks(lab, corpus.id, contains="MINUS five")] == ["warranty.pdf"]
    assert browse_chunks(lab, corpus.id, contains="100%") == []

    # the same files again: nothing added, nothing changed
    again = ingest(lab, corpus.id, UPLOAD)
    assert again.count("unchanged") == 3 and again.chunks == 0
    assert len(chunk_rows(lab, corpus.id)) == len(rows)
    assert store.get_corpus(lab, corpus.id).version == 3

    # a changed care.txt replaces the old one: its old chunks are gone, answers change
    question = "How should I clean the tent?"
    before = retrieve(lab, corpus.id, question, k=1)[0]
    assert "lukewarm water" in before.text
    update = ingest(lab, corpus.id, [("care.txt", CARE_V2)])
    assert update.count("replaced") == 1 and update.version == 4
    care = store.get_document(lab, corpus.id, "care.txt")
    assert care.version == 2 and care.id != docs["care.txt"].id
    texts = [r["text"] for r in chunk_rows(lab, corpus.id)]
    assert not any("lukewarm" in t for t in texts) and any("damp sponge" in t for t in texts)
    after = retrieve(lab, corpus.id, question, k=1)[0]
    assert "damp sponge" in after.text and after.document_id == care.id

    # deleting a document removes its chunks and bumps the version
    store.delete_document(lab, corpus.id, care.id)
    assert "care.txt" not in {d.name for d in store.list_documents(lab, corpus.id)}
    assert not any(r["metadata_"]["ref_doc_id"] == care.id for r in chunk_rows(lab, corpus.id))
    assert store.get_corpus(lab, corpus.id).version == 5
    assert all(c.document_id != care.id for c in retrieve(lab, corpus.id, question, k=5))


def test_bad_file_is_reported_and_the_others_still_ingest(lab):
    corpus = store.create_corpus(lab, "Mixed", "en")
    report = ingest(lab, corpus.id, [("empty.txt", b""), ("care.txt", CARE_V1),
                                     ("photo.exe", b"MZ\x90\x00binary")])
    by_name = {f.file_name: f for f in report.files}
    assert by_name["care.txt"].ok and not by_name["empty.txt"].ok and not by_name["photo.exe"].ok
    assert by_name["empty.txt"].message and by_name["photo.exe"].message
    stored = {r["file_name"]: r for r in file_results(lab, corpus.id)}
    assert stored["care.txt"]["ok"] and not stored["empty.txt"]["ok"]
    assert stored["empty.txt"]["message"] == by_name["empty.txt"].message
    assert [d.name for d in store.list_documents(lab, corpus.id)] == ["care.txt"]


def test_a_document_that_fails_leaves_nothing_behind(lab, monkeypatch):
    corpus = store.create_corpus(lab, "Fragile", "en")

    def broken(doc):  # runs after the document's chunks were inserted, before the swap
        if doc.name == "policies.md":
            raise RuntimeError("disk full")
        return {}

    monkeypatch.setattr(ingest_mod, "_document_findings", broken)
    report = ingest(lab, corpus.id, [("policies.md", MARKDOWN), ("care.txt", CARE_V1)])
    failed = report.files[0]
    assert not failed.ok and "disk full" in failed.message
    assert report.files[1].ok
    rows = chunk_rows(lab, corpus.id)
    assert rows and all(r["metadata_"]["document_name"] == "care.txt" for r in rows)
    assert lab.db.fetchone("SELECT count(*) AS n FROM documents WHERE name = 'policies.md'")["n"] == 0
    assert retrieve(lab, corpus.id, "refund within 30 days", mode="text") == []


def test_sensitive_identifiers_are_counted_per_document(lab):
    corpus = store.create_corpus(lab, "Customers", "en")
    text = ("Customer record. Write to ana.garcia@example.com or maria@example.org. "
            "Refunds go to IBAN ES91 2100 0418 4502 0005 1332. Her DNI is 12345678Z.")
    ingest(lab, corpus.id, [("record.txt", text.encode()), ("care.txt", CARE_V1)])
    docs = {d.name: d for d in store.list_documents(lab, corpus.id)}
    assert docs["record.txt"].findings == {"email": 2, "iban": 1, "dni": 1}
    assert docs["care.txt"].findings == {}
    chunk = next(r for r in chunk_rows(lab, corpus.id) if r["metadata_"]["document_name"] == "record.txt")
    assert chunk["metadata_"]["findings"]["email"] == 2
    cleaned = redact(chunk["text"])
    assert "example.com" not in cleaned and "12345678Z" not in cleaned and "[EMAIL]" in cleaned


def test_ingest_job_runs_through_the_job_system(lab):
    corpus = store.create_corpus(lab, "Queued", "en")
    job_id = enqueue_ingest(lab, corpus.id, [("policies.md", MARKDOWN), ("empty.txt", b"")])
    artifact_ids = get_job(lab, job_id).params["artifact_ids"]
    job = run_inline(lab, job_id)  # the real runner: a JobContext, progress rows, the result
    assert job.status == "succeeded", job.error
    assert job.result["added"] == 1 and job.result["files_failed"] == 1 and job.result["chunks"] >= 2
    assert job.step == job.total == 2 and job.unit == "files"
    events = job_events(lab, job_id)
    assert any(e["metrics"] and "embeddings_per_s" in e["metrics"] for e in events)
    results = file_results(lab, corpus.id)
    assert {r["file_name"]: r["ok"] for r in results} == {"policies.md": True, "empty.txt": False}
    assert all(r["job_id"] == job_id for r in results)
    assert lab.db.fetchone("SELECT count(*) AS n FROM artifacts WHERE id = ANY(%s::uuid[])",
                           (artifact_ids,))["n"] == 0  # the uploads are not kept once ingested
    assert store.get_document(lab, corpus.id, "policies.md").chunk_count >= 2


def test_rebuild_keeps_the_old_index_queryable_then_switches(lab):
    corpus = store.create_corpus(lab, "Rebuilt", "en")
    ingest(lab, corpus.id, UPLOAD)
    old = store.active_index(lab, corpus.id)
    old_chunks = len(chunk_rows(lab, corpus.id))
    with pytest.raises(InputError, match="256"):
        rebuild_index(lab, corpus.id, chunking={"chunk_size": 300, "chunk_overlap": 0})

    new, job_id = rebuild_index(lab, corpus.id, chunking={"chunk_size": 12, "chunk_overlap": 0})
    assert new.status == "building" and not new.active and job_id is not None
    with pytest.raises(InputError, match="building"):
        retrieve(lab, corpus.id, "refund", index_id=new.id)
    assert retrieve(lab, corpus.id, "refund period for tents", k=1)  # the old one still answers
    with pytest.raises(InputError, match="ready"):
        store.activate_index(lab, new.id)

    job = run_inline(lab, job_id)
    assert job.status == "succeeded", job.error
    built = store.get_index(lab, new.id)
    assert built.status == "ready" and built.build_seconds is not None
    assert job.result["chunks"] > old_chunks  # smaller chunks: more of them
    # a document added now goes into both indexes
    ingest(lab, corpus.id, [("extra.txt", b"Tent pegs are made of aluminium and weigh nine grams.")])
    with lab.db.connect() as conn:
        counts_new = vindex.chunk_counts(conn, built.table_name)
    assert store.get_document(lab, corpus.id, "extra.txt").id in counts_new

    store.activate_index(lab, new.id)
    assert store.active_index(lab, corpus.id).id == new.id
    hit = retrieve(lab, corpus.id, "How much does a tent peg weigh?", k=1)[0]
    assert "nine grams" in hit.text
    with pytest.raises(InputError, match="active"):
        store.delete_index(lab, new.id)
    store.delete_index(lab, old.id)
    with lab.db.connect() as conn:
        assert not vindex.table_exists(conn, old.table_name)
    assert [i.id for i in store.list_indexes(lab, corpus.id)] == [new.id]


def test_sqlalchemy_url_from_psycopg_urls(db_url):
    import sqlalchemy as sa

    assert vindex.sqlalchemy_url("postgresql://u:p%40ss@db.example:6543/lab") == \
        "postgresql+psycopg://u:p%40ss@db.example:6543/lab"
    socket_url = vindex.sqlalchemy_url("postgresql://postgres:@/lab?host=/tmp/pg")
    assert socket_url.startswith("postgresql+psycopg://postgres@/lab?") and "host=%2Ftmp%2Fpg" in socket_url
    # the conftest hands out key=value conninfo for a unix socket: both engines must connect
    engine, async_engine = vindex.engines(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar() == \
            psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]

    import asyncio

    async def ping():
        async with async_engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT 1"))).scalar()

    assert asyncio.run(ping()) == 1
    vindex.dispose_engines(db_url)
