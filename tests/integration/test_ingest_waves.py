"""Ingestion in waves on real Postgres + pgvector with the real bundled MiniLM: documents embedded
and stored together give the same chunks, rows and outcomes as one document at a time; duplicates
and replacements inside one upload; a document that fails to embed or to store fails alone and
leaves nothing; cancelling keeps the finished documents only; the rows are the ones LlamaIndex's
``PGVectorStore.add`` writes; index builds go in waves too."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import numpy as np
import pytest

from backend.corpus import index as vindex
from backend.corpus import ingest as ingest_mod
from backend.corpus import pipeline, store
from backend.corpus.build import build_index
from backend.corpus.chunking import chunk_document
from backend.corpus.ingest import file_results, ingest, rebuild_index
from backend.corpus.readers import UploadLimits, parse_upload
from backend.errors import JobCancelled
from backend.rag.retrieval import retrieve

pytestmark = pytest.mark.usefixtures("one_thread")  # one torch thread

SMALL_CHUNKS = {"chunk_size": 24, "chunk_overlap": 4}
TEXTS = {
    "tent.txt": "The TrailMaster tent sleeps four people and weighs twelve pounds. Its fly resists "
                "light rain. Pitch it on the footprint, connect the poles, clip the body and stake "
                "the corners at forty-five degrees.",
    "stove.txt": "The Ember stove burns butane cartridges and boils a litre of water in four minutes.",
    "bag.txt": "Sleeping bags are rated for comfort down to minus five degrees Celsius. Store them "
               "loose, never compressed, so the insulation stays lofty for years.",
    "boots.txt": "Hiking boots need a week of short walks before a long trail.",
    "lamp.txt": "The headlamp runs forty hours on three batteries and has a red night mode to keep "
                "your eyes used to the dark. It is waterproof to one metre.",
    "pegs.txt": "Tent pegs are made of aluminium and weigh nine grams each.",
}


def upload(names=None) -> list[tuple[str, bytes]]:
    return [(n, TEXTS[n].encode()) for n in (names or TEXTS)]


def stored(lab, corpus_id: str, table: str | None = None) -> list[dict]:
    table = table or store.active_index(lab, corpus_id).table_name
    return lab.db.fetchall(f"SELECT id, text, metadata_, node_id, embedding FROM "
                           f"{vindex.physical_table(table)} ORDER BY id")


def leftovers(lab, corpus_id: str) -> int:
    return lab.db.fetchone("SELECT count(*) AS n FROM documents WHERE corpus_id = %s AND "
                           "status <> 'ready'", (corpus_id,))["n"]


def expected_chunks(lab, corpus_id: str, name: str) -> list:
    target = pipeline.targets(lab, store.get_corpus(lab, corpus_id),
                              [store.active_index(lab, corpus_id)])[0]
    doc = parse_upload(name, TEXTS[name].encode(), UploadLimits())[0].documents[0]
    return chunk_document(doc, target.cfg, target.count_tokens)


def test_waves_store_what_one_document_at_a_time_stored(lab, monkeypatch):
    monkeypatch.setattr(pipeline, "WAVE_CHUNKS", 5)  # several waves, several documents in each
    corpus = store.create_corpus(lab, "Waves", "en", chunking=SMALL_CHUNKS)
    progress = []
    report = ingest(lab, corpus.id, upload(), progress=lambda *a, **k: progress.append((a, k)))
    assert all(f.ok for f in report.files) and [f.file_name for f in report.files] == list(TEXTS)
    assert report.count("added") == len(TEXTS) and report.version == len(TEXTS)
    rows = stored(lab, corpus.id)
    assert len(rows) == report.chunks > len(TEXTS)
    docs = {d.name: d for d in store.list_documents(lab, corpus.id)}
    embed = pipeline.targets(lab, corpus, [corpus.active_index])[0].embed
    for name in TEXTS:
        mine = [r for r in rows if r["metadata_"]["document_name"] == name]
        chunks = expected_chunks(lab, corpus.id, name)
        # the same chunks, in order, with the same metadata as before waves
        assert [r["text"] for r in mine] == [c.text for c in chunks]
        assert [r["metadata_"]["position"] for r in mine] == list(range(len(chunks)))
        assert [r["metadata_"]["tokens"] for r in mine] == [c.token_count for c in chunks]
        assert {r["metadata_"]["ref_doc_id"] for r in mine} == {docs[name].id}
        assert docs[name].chunk_count == len(chunks)
        # and the vectors a chunk gets on its own (bf16 batches differ in the last bits only)
        alone = np.asarray(embed.get_text_embedding_batch([c.text for c in chunks]), dtype=np.float32)
        got = np.stack([r["embedding"].to_numpy() for r in mine])
        assert np.min(np.sum(alone * got, axis=1)) > 0.999
    results = file_results(lab, corpus.id)
    assert [r["file_name"] for r in results] == list(TEXTS)  # in upload order, whatever the waves
    assert all(r["message"].startswith("1 added (") for r in results)
    steps = [a[0] for a, k in progress if k.get("metrics")]
    assert steps == sorted(steps) and steps[-1] == len(TEXTS) and len(steps) > 1
    hit = retrieve(lab, corpus.id, "How much does a tent peg weigh?", k=1)[0]
    assert hit.document_name == "pegs.txt"


def test_duplicates_and_replacements_inside_one_upload(lab):
    corpus = store.create_corpus(lab, "Dupes", "en")
    tent, stove = TEXTS["tent.txt"].encode(), TEXTS["stove.txt"].encode()
    report = ingest(lab, corpus.id, [("a.txt", tent), ("b.txt", tent), ("a.txt", stove),
                                     ("c.txt", stove + b" Extra."), ("c.txt", stove + b" Extra.")])
    outcomes = [(d.name, d.outcome, d.note) for f in report.files for d in f.documents]
    assert outcomes == [("a.txt", "added", None), ("b.txt", "unchanged", "same content as a.txt"),
                        ("a.txt", "replaced", None), ("c.txt", "added", None),
                        ("c.txt", "unchanged", None)]
    docs = {d.name: d for d in store.list_documents(lab, corpus.id)}
    assert set(docs) == {"a.txt", "c.txt"} and docs["a.txt"].version == 2
    texts = [r["text"] for r in stored(lab, corpus.id)]
    assert not any("TrailMaster" in t for t in texts) and any("butane" in t for t in texts)
    assert report.version == 3 and leftovers(lab, corpus.id) == 0  # added, replaced, added


class Poisoned:
    """The real embedding, refusing any call that holds a poisoned text."""

    def __init__(self, real):
        self.real = real

    def get_text_embedding_batch(self, texts):
        if any("POISON" in t for t in texts):
            raise RuntimeError("the model refused this text")
        return self.real.get_text_embedding_batch(texts)


def test_a_document_that_fails_to_embed_fails_alone(lab, monkeypatch):
    real_targets = ingest_mod.targets

    def poisoned_targets(*args):
        found = real_targets(*args)
        for target in found:
            target.embed = Poisoned(target.embed)
        return found

    monkeypatch.setattr(ingest_mod, "targets", poisoned_targets)
    corpus = store.create_corpus(lab, "Poison", "en")
    files = upload(["tent.txt", "stove.txt"]) + [("bad.txt", b"POISON in the middle of a text.")] \
        + upload(["bag.txt"])
    report = ingest(lab, corpus.id, files)
    assert [f.ok for f in report.files] == [True, True, False, True]
    assert "RuntimeError: the model refused this text" in report.files[2].message
    assert {d.name for d in store.list_documents(lab, corpus.id)} == {"tent.txt", "stove.txt", "bag.txt"}
    assert not any("POISON" in r["text"] for r in stored(lab, corpus.id))
    assert leftovers(lab, corpus.id) == 0 and report.version == 3


def test_a_document_that_fails_to_store_fails_alone(lab, monkeypatch):
    real_copy = pipeline.copy_rows

    def copy_rows(conn, table, rows):
        if any("BADROW" in r[0] for r in rows):
            raise RuntimeError("row refused")
        return real_copy(conn, table, rows)

    monkeypatch.setattr(pipeline, "copy_rows", copy_rows)
    corpus = store.create_corpus(lab, "Refused", "en")
    files = upload(["tent.txt"]) + [("bad.txt", b"A BADROW the table refuses.")] + upload(["pegs.txt"])
    report = ingest(lab, corpus.id, files)
    assert [f.ok for f in report.files] == [True, False, True]
    assert report.files[1].message == "bad.txt: RuntimeError: row refused"
    assert [r["file_name"] for r in file_results(lab, corpus.id)] == ["tent.txt", "bad.txt", "pegs.txt"]
    assert {d.name for d in store.list_documents(lab, corpus.id)} == {"tent.txt", "pegs.txt"}
    assert not any("BADROW" in r["text"] for r in stored(lab, corpus.id))
    assert leftovers(lab, corpus.id) == 0 and store.get_corpus(lab, corpus.id).version == 2


def test_cancelling_keeps_the_finished_documents_and_nothing_else(lab, monkeypatch):
    monkeypatch.setattr(pipeline, "WAVE_CHUNKS", 2)
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 1)
    corpus = store.create_corpus(lab, "Cancelled", "en")
    calls = []

    def check():
        calls.append(1)
        if len(calls) == len(TEXTS) + 5:  # after reading the files: in the third wave's embedding
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        ingest(lab, corpus.id, upload(), check_cancelled=check)
    kept = [d.name for d in store.list_documents(lab, corpus.id)]
    assert kept and len(kept) < len(TEXTS)
    assert set(kept) == set(list(TEXTS)[:len(kept)])  # the first ones, in upload order
    assert {r["metadata_"]["document_name"] for r in stored(lab, corpus.id)} == set(kept)
    assert [r["file_name"] for r in file_results(lab, corpus.id)] == list(TEXTS)[:len(kept)]
    assert leftovers(lab, corpus.id) == 0
    assert store.get_corpus(lab, corpus.id).version == len(kept)
    # the rest arrives with the next upload; the finished ones are unchanged
    again = ingest(lab, corpus.id, upload())
    assert again.count("unchanged") == len(kept) and again.count("added") == len(TEXTS) - len(kept)


def test_rows_are_what_pgvectorstore_add_writes(lab, monkeypatch):
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    from backend.corpus.sensitive import counts, scan

    corpus = store.create_corpus(lab, "Layout", "en")
    reference = store.add_index(lab, corpus.id, chunking={"chunk_size": 100, "chunk_overlap": 0})
    fixed = uuid.UUID("12345678-1234-5678-1234-567812345678")
    monkeypatch.setattr(pipeline, "uuid", SimpleNamespace(uuid4=lambda: fixed))  # the same node id
    target = pipeline.targets(lab, corpus, [corpus.active_index])[0]
    doc = parse_upload("record.txt", b"Write to ana.garcia@example.com about the tent.", UploadLimits())[0].documents[0]
    p = pipeline.Pending(doc, str(uuid.uuid4()), [chunk_document(doc, target.cfg, target.count_tokens)])
    pipeline.embed_wave(target.embed, 0, [p], lambda: None, lambda n, s: None)
    with lab.db.connect() as conn:
        pipeline.copy_rows(conn, target.info.table_name, pipeline.build_rows(p, 0))
    (c,), (v,) = p.chunks[0], p.vectors[0]
    node = TextNode(id_=str(fixed), text=c.text, embedding=list(v),
                    metadata={"document_id": p.doc_id, "document_name": doc.name, "page": c.page,
                              "section": c.section, "position": c.position, "kind": doc.kind,
                              "tokens": c.token_count, "findings": counts(scan(c.text))},
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.doc_id)})
    vindex.vector_store(lab.db.url, reference.table_name, 384, "english").add([node])
    ours, theirs = stored(lab, corpus.id, target.info.table_name), stored(lab, corpus.id, reference.table_name)
    assert len(ours) == len(theirs) == 1
    for key in ("text", "metadata_", "node_id"):
        assert ours[0][key] == theirs[0][key]
    assert np.array_equal(ours[0]["embedding"].to_numpy(), theirs[0]["embedding"].to_numpy())
    assert ours[0]["metadata_"]["findings"] == {"email": 1}
    tsv = f"SELECT text_search_tsv::text AS t FROM {{}}"
    assert (lab.db.fetchone(tsv.format(vindex.physical_table(target.info.table_name)))
            == lab.db.fetchone(tsv.format(vindex.physical_table(reference.table_name))))


def test_an_index_build_in_waves_holds_every_chunk_once(lab, monkeypatch):
    monkeypatch.setattr(pipeline, "WAVE_CHUNKS", 3)
    corpus = store.create_corpus(lab, "Built", "en")
    ingest(lab, corpus.id, upload())
    new, _ = rebuild_index(lab, corpus.id, chunking=SMALL_CHUNKS)
    steps = []
    result = build_index(lab, new.id, progress=lambda step, total, **k: steps.append((step, total)))
    assert store.get_index(lab, new.id).status == "ready"
    rows = stored(lab, corpus.id, new.table_name)
    assert result["chunks"] == len(rows) and steps[-1] == (len(TEXTS), len(TEXTS)) and len(steps) > 2
    target = pipeline.targets(lab, corpus, [store.get_index(lab, new.id)])[0]
    for info in store.list_documents(lab, corpus.id):
        doc = parse_upload(info.name, TEXTS[info.name].encode(), UploadLimits())[0].documents[0]
        texts = [r["text"] for r in rows if r["metadata_"]["ref_doc_id"] == info.id]
        assert texts == [c.text for c in chunk_document(doc, target.cfg, target.count_tokens)]
    assert build_index(lab, new.id)["chunks"] == 0  # a second build finds everything there
