"""Question sets and training datasets on a real Postgres: upload, split reproducibility, versions,
export/import, generation from a corpus (its real index, and documents without one), the data
builders and the held-out leak check."""

from __future__ import annotations

import hashlib
import json

import pytest
from psycopg.types.json import Jsonb

from backend.errors import InputError, NotFound
from backend.finetune import datasets, questions
from backend.finetune.question_gen import EXTRACTIVE_LABEL, generate_set
from backend.finetune.question_io import parse_upload

DOCS = {
    "warranty.md": "The Zorblat warranty is a 27-month promise covering every moving part.\n\n"
                   "Repairs under warranty are free of charge when the receipt is shown.",
    "history.txt": "Acme Lamps was founded by Ingrid Halvorsen in 1987 in Tromsø, Norway.\n\n"
                   "The company now ships lamps to 40 countries across Europe and Asia.",
}
CSV = ("question,reference,reference_contexts,tags\n"
       + "".join(f"What is fact number {i}?,Fact {i} is {i * 7}.,[\"ctx {i}\"],{'unanswerable' if i == 3 else ''}\n"
                 for i in range(10))).encode()


def make_corpus(lab, name: str = "acme", docs: dict[str, str] = DOCS, language: str = "en") -> str:
    """A corpus with ready documents (their parsed sections), without a vector index."""
    with lab.db.connect() as conn:
        corpus_id = conn.execute("INSERT INTO corpora (name, language, version) VALUES (%s, %s, 3)"
                                 " RETURNING id::text AS id", (name, language)).fetchone()["id"]
    for doc, text in docs.items():
        add_document(lab, corpus_id, doc, text)
    return corpus_id


def add_document(lab, corpus_id: str, name: str, text: str) -> None:
    lab.db.execute("INSERT INTO documents (corpus_id, name, kind, sha256, status, char_count, sections)"
                   " VALUES (%s, %s, 'txt', %s, 'ready', %s, %s)",
                   (corpus_id, name, hashlib.sha256(text.encode()).hexdigest(), len(text),
                    Jsonb([{"text": text, "page": None, "section": None}])))


def test_upload_split_is_stored_and_reproducible(lab):
    corpus_id = make_corpus(lab)
    rows = parse_upload(CSV, "facts.csv")
    a = questions.create_set(lab, corpus_id, "facts", rows, held_out_fraction=0.3, seed=5)
    assert (a.version, a.n_questions, a.n_held_out, a.source, a.corpus_version) == (1, 10, 3, "upload", 3)
    assert a.language == "en" and [r.position for r in a.rows] == list(range(10))
    stored = questions.get_set(lab, a.id)
    assert [r.question for r in stored.rows] == [r.question for r in rows]
    assert stored.rows[3].tags == ["unanswerable"] and stored.rows[0].reference_contexts == ["ctx 0"]
    # the same rows and seed give the same split, in another corpus too
    b = questions.create_set(lab, make_corpus(lab, "other"), "facts", parse_upload(CSV, "facts.csv"),
                             held_out_fraction=0.3, seed=5)
    assert [r.part for r in b.rows] == [r.part for r in a.rows]
    assert [r.question for r in questions.set_rows(lab, a.id, part="held_out")] == \
        [r.question for r in a.rows if r.part == "held_out"]
    with pytest.raises(InputError, match="already has a question set named"):
        questions.create_set(lab, corpus_id, "facts", rows)
    with pytest.raises(InputError, match="ask the same question"):
        questions.create_set(lab, corpus_id, "dupes", [{"question": "Why?"}, {"question": "why"}])


def test_edit_saves_a_new_version_keeping_every_part(lab):
    corpus_id = make_corpus(lab)
    v1 = questions.create_set(lab, corpus_id, "facts", parse_upload(CSV, "facts.csv"),
                              held_out_fraction=0.3, seed=1)
    edited = [r.as_dict() for r in v1.rows[:8]] + [{"question": "A brand new question?",
                                                   "reference": "Yes."}]
    edited[0]["reference"] = "An edited reference."
    v2 = questions.save_version(lab, v1.id, edited)
    assert (v2.name, v2.version, v2.parent_id, v2.source) == ("facts", 2, v1.id, "edit")
    assert [r.part for r in v2.rows[:8]] == [r.part for r in v1.rows[:8]]
    assert v2.rows[0].reference == "An edited reference."
    assert questions.get_set(lab, v1.id).rows[0].reference == "Fact 0 is 0."  # v1 untouched
    latest = questions.list_sets(lab, corpus_id, latest_only=True)
    assert [(s.name, s.version) for s in latest] == [("facts", 2)]
    assert len(questions.list_sets(lab, corpus_id)) == 2
    held = questions.held_out_questions(lab, corpus_id)
    assert {(h.set_name, h.version) for h in held} == {("facts", 1), ("facts", 2)}
    questions.delete_set(lab, v2.id)
    with pytest.raises(NotFound):
        questions.get_set(lab, v2.id)


def test_export_import_roundtrip_through_the_database(lab):
    corpus_id = make_corpus(lab)
    original = questions.create_set(lab, corpus_id, "facts", parse_upload(CSV, "facts.csv"))
    for fmt, filename in (("ragas", "x.jsonl"), ("jsonl", "x.jsonl"), ("csv", "x.csv")):
        data = questions.export_set(lab, original.id, fmt)
        again = questions.create_set(lab, corpus_id, f"again-{fmt}", parse_upload(data, filename),
                                     source="ragas" if fmt == "ragas" else "upload")
        assert [(r.question, r.reference, r.reference_contexts) for r in again.rows] == \
            [(r.question, r.reference, r.reference_contexts) for r in original.rows]
        if fmt != "ragas":  # Ragas records have no tags or parts; the lab's formats keep them
            assert [(r.tags, r.part) for r in again.rows] == [(r.tags, r.part) for r in original.rows]
    first = json.loads(questions.export_set(lab, original.id, "ragas").decode().splitlines()[0])
    assert set(first) == {"user_input", "reference", "reference_contexts"}


def test_extractive_generation_from_documents_without_an_index(lab):
    corpus_id = make_corpus(lab)
    qs = generate_set(lab, corpus_id, "generated", 4, seed=3, held_out_fraction=0.25)
    assert qs.source == "extractive" and qs.generator["label"] == EXTRACTIVE_LABEL
    assert 2 <= qs.n_questions <= 4 and qs.n_held_out >= 1
    texts = " ".join(DOCS.values())
    for row in qs.rows:
        assert row.reference in texts and row.reference_contexts[0] in texts
        assert row.metadata["document_name"] in DOCS
    again = generate_set(lab, corpus_id, "generated again", 4, seed=3, held_out_fraction=0.25)
    assert [(r.question, r.part) for r in again.rows] == [(r.question, r.part) for r in qs.rows]


def test_extractive_generation_reads_the_real_index_chunks(lab):
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus
    from backend.finetune.corpus_text import corpus_chunks

    corpus = create_corpus(lab, "indexed", "en")
    ingest(lab, corpus.id, [(name, text.encode()) for name, text in DOCS.items()])
    chunks = corpus_chunks(lab, corpus.id)
    assert chunks and all(":" not in c.id for c in chunks)  # node ids of the index, not fallbacks
    assert {c.document_name for c in chunks} == set(DOCS)
    qs = generate_set(lab, corpus.id, "from index", 3)
    assert {r.metadata["chunk_id"] for r in qs.rows} <= {c.id for c in chunks}
    cpt = datasets.build_dataset(lab, "continued_pretraining", corpus.id)
    assert cpt.n_examples == len(chunks)


def test_builders_use_only_the_train_part_and_store_their_examples(lab):
    corpus_id = make_corpus(lab)
    qs = questions.create_set(lab, corpus_id, "facts", parse_upload(CSV, "facts.csv"),
                              held_out_fraction=0.3, seed=2)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=qs.id, name="pairs")
    train = [r for r in qs.rows if r.part == "train"]
    assert ds.n_examples == len(train) and ds.params["question_set"] == "facts v1"
    examples = datasets.dataset_examples(lab, ds.id)
    assert [e["messages"][0]["content"] for e in examples] == [r.question for r in train]
    assert datasets.dataset_examples(lab, ds.id, limit=2, offset=1) == examples[1:3]
    unanswerable = [e for e, r in zip(examples, train) if r.unanswerable]
    assert all(e["messages"][-1]["content"] == r.reference for e, r in zip(examples, train))
    assert len(unanswerable) == (1 if qs.rows[3].part == "train" else 0)
    assert datasets.dataset_leaks(lab, ds.id) == []

    cpt = datasets.build_dataset(lab, "continued_pretraining", corpus_id)
    texts = [e["text"] for e in datasets.dataset_examples(lab, cpt.id)]
    assert texts == [DOCS["history.txt"], DOCS["warranty.md"]]  # document order, whole paragraphs
    assert datasets.dataset_sources(lab, cpt.id)[0]["document_name"] == "history.txt"
    assert [d.id for d in datasets.list_datasets(lab, corpus_id)] == [cpt.id, ds.id]
    with pytest.raises(InputError, match="Unknown training-data builder"):
        datasets.build_dataset(lab, "magic", corpus_id)


def test_a_dataset_holding_held_out_questions_is_flagged(lab):
    corpus_id = make_corpus(lab)
    qs = questions.create_set(lab, corpus_id, "facts", parse_upload(CSV, "facts.csv"),
                              held_out_fraction=0.3, seed=2)
    held = {r.question for r in qs.rows if r.part == "held_out"}
    one = sorted(held)[0]
    add_document(lab, corpus_id, "faq.md", f"FAQ. {one} {one.replace('What is', 'It is')}.")
    # a second set that trains on everything, held-out questions of the first set included
    everything = questions.create_set(lab, corpus_id, "all", parse_upload(CSV, "facts.csv"),
                                      held_out_fraction=0.0)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=everything.id)
    leaks = datasets.dataset_leaks(lab, ds.id)
    assert {x.question for x in leaks} == held and all(x.how == "same question" for x in leaks)
    cpt = datasets.build_dataset(lab, "continued_pretraining", corpus_id)
    cpt_leaks = datasets.dataset_leaks(lab, cpt.id)
    assert [(x.question, x.how) for x in cpt_leaks] == [(one, "contained in the text")]


def test_near_duplicates_of_held_out_questions_are_flagged_with_the_real_embedding(lab):
    corpus_id = make_corpus(lab)
    questions.create_set(lab, corpus_id, "eval", [
        {"question": "How long does the Zorblat warranty last?", "reference": "27 months.",
         "part": "held_out"},
        {"question": "Who founded Acme Lamps?", "reference": "Ingrid Halvorsen.", "part": "held_out"}])
    train = questions.create_set(lab, corpus_id, "train", [
        {"question": "How long does the Zorblat's warranty last?", "reference": "27 months."},
        {"question": "Which countries does Acme ship lamps to?", "reference": "40 countries."}],
        held_out_fraction=0.0)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus_id, question_set_id=train.id)
    assert datasets.dataset_leaks(lab, ds.id) == []  # not the same question after normalising
    flagged = datasets.dataset_near_duplicates(lab, ds.id)
    assert [(x.question, x.example) for x in flagged] == [("How long does the Zorblat warranty last?", 0)]
    assert flagged[0].how.startswith("near duplicate (") and float(flagged[0].how[16:20]) >= 0.95
