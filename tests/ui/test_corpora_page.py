"""The Corpora page in AppTest against the real test database, empty and with real ingested data:
create a corpus through the form, upload through the page (the job then runs inline), see the
document list, a chunk in the chunk browser, sensitive-data flags, the index panel, and delete."""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import open_page, tree_text
from ui.i18n import translate

PAGE = "pages/corpora.py"
RETURNS_MD = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
              b"refund. Write to returns@nortera.example to start a return.\n\n"
              b"# Care\n\nClean the tent with lukewarm water and mild soap.\n")
FAQ_TXT = (b"Shipping takes three working days within the peninsula. Orders placed before noon "
           b"leave the warehouse the same day.\n")


pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread (tests/conftest.py)


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


def shown(at) -> str:
    """The text of the page's Markdown and captions as a reader sees it (Markdown escapes removed)."""
    values = [e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.success]]
    return re.sub(r"\\([^\w\s])", r"\1", "\n".join(values))


def problems(at) -> list:
    return [e.value for e in at.exception] + [e.value for e in at.error]


@pytest.fixture
def filled(app_env, lab):
    """A corpus with one Markdown document ingested inline (the real embedding model)."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest

    corpus = store.create_corpus(lab, "Nortera handbook", "en")
    report = ingest(lab, corpus.id, [("returns-policy.md", RETURNS_MD)])
    assert report.count("added") == 1
    return corpus


def test_empty_state_invites_to_create_a_corpus(app_env, new_app):
    at = open_page(new_app, PAGE)
    assert not problems(at)
    assert at.title[0].value == en("corpora.title")
    assert [i.value for i in at.info] == [en("corpora.empty")]
    assert at.text_input(key="corpora.create.name")
    assert at.button(key="corpora.create.submit")


def test_create_a_corpus_through_the_form(app_env, lab, new_app):
    from backend.corpus import store

    at = open_page(new_app, PAGE)
    at.text_input(key="corpora.create.name").input("Manuales")
    at.radio(key="corpora.create.language").set_value("es")
    at.button(key="corpora.create.submit").click().run()
    assert not problems(at)
    corpus = store.get_corpus(lab, "Manuales")
    assert corpus.language == "es"
    assert en("corpora.created", name="Manuales") in [s.value for s in at.success]
    assert at.selectbox(key="corpora.corpus").value == corpus.id
    text = tree_text(at)
    assert en("corpora.empty") not in text
    assert "Universal Sentence Encoder" in text  # the language's embedding model, in the header
    assert en("corpora.documents.empty") in text

    # the same name again is refused in words, nothing else is created
    at.text_input(key="corpora.create.name").input("Manuales")
    at.button(key="corpora.create.submit").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert len(store.list_corpora(lab)) == 1


def test_page_with_data_shows_the_document_its_chunks_and_flags(app_env, lab, filled, new_app):
    from backend.corpus import store

    doc = store.list_documents(lab, filled.id)[0]
    at = open_page(new_app, PAGE)
    assert not problems(at)
    table = at.dataframe[0].value
    assert table["name"].tolist() == ["returns-policy.md"]
    assert table["chunks"].tolist() == [doc.chunk_count] and doc.chunk_count >= 2
    assert "1 e-mail address" in table["sensitive"].iloc[0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("corpora.metric.documents")] == "1"
    assert metrics[en("corpora.metric.chunks")] == str(doc.chunk_count)
    text = tree_text(at)
    # the chunk browser shows the chunks' own text, with their section
    assert "returned within 45 days of purchase" in text
    assert "Clean the tent with lukewarm water" in text
    assert "returns-policy.md · Care" in shown(at)
    # the index panel: the model in use and its chunking
    assert "all-MiniLM-L6-v2" in text and en("index.in_use") in text


def test_chunk_search_narrows_and_marks_the_words(app_env, lab, filled, new_app):
    at = open_page(new_app, PAGE)
    at.text_input(key="corpora.chunks.search").input("lukewarm").run()
    assert not problems(at)
    cards = [m.value for m in at.markdown if "Clean the tent" in m.value or "45 days" in m.value]
    assert len(cards) == 1 and "<mark" in cards[0] and ">lukewarm</mark>" in cards[0]
    at.text_input(key="corpora.chunks.search").input("no such words anywhere").run()
    assert en("corpora.chunks.none") in [i.value for i in at.info]


def test_upload_queues_a_job_then_shows_per_file_results(app_env, lab, filled, new_app):
    from backend.corpus import store
    from backend.corpus.ingest import file_results
    from backend.jobs.runner import run_inline
    from backend.jobs.service import list_jobs
    from ui.state import LANG_KEY

    at = open_page(new_app, PAGE)
    at.file_uploader(key="corpora.upload.files").set_value([
        ("shipping-faq.txt", FAQ_TXT, "text/plain"),
        ("empty.txt", b"", "text/plain"),
        ("tool.exe", b"MZ\x90\x00", "application/octet-stream")])
    at.button(key="corpora.upload.submit").click().run()
    assert not problems(at)
    jobs = list_jobs(lab, kind="ingest")
    assert len(jobs) == 1 and jobs[0].params["corpus_id"] == filled.id
    assert jobs[0].status == "queued"
    assert "Ingest 3 file(s) into Nortera handbook" in tree_text(at)  # the live progress panel
    assert en("corpora.upload.no_worker") in [w.value for w in at.warning]

    assert run_inline(lab, jobs[0].id).status == "succeeded"
    at.run()
    assert not [e.value for e in at.exception]
    text = tree_text(at)
    assert en("corpora.results.title", files=3, ok=1, failed=2) in text
    lines = {line.split("**")[1]: line for line in shown(at).splitlines() if " — " in line}
    assert ":green[" in lines["shipping-faq.txt"] and "1 added" in lines["shipping-faq.txt"]
    # each failure says what is wrong, in words
    assert ":red[" in lines["empty.txt"] and "empty" in lines["empty.txt"].split("—")[1].lower()
    assert ":red[" in lines["tool.exe"] and ".exe" in lines["tool.exe"].split("—")[1]
    assert sorted(at.dataframe[0].value["name"]) == ["returns-policy.md", "shipping-faq.txt"]
    assert {d.name for d in store.list_documents(lab, filled.id)} == {"returns-policy.md",
                                                                      "shipping-faq.txt"}
    # the stored English result is what an English reader sees, word for word; Spanish words it
    stored = {r["file_name"]: r["message"] for r in file_results(lab, filled.id)}
    assert lines["shipping-faq.txt"].endswith(stored["shipping-faq.txt"])
    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    spanish = {line.split("**")[1]: line for line in shown(at).splitlines() if " — " in line}
    assert re.search(r"— nuevos: 1 \(\d+ fragmentos?\)\.$", spanish["shipping-faq.txt"])
    # and so is what went wrong, with what to do
    assert spanish["empty.txt"].endswith(translate("es", "backend.upload.empty"))
    assert "Los archivos de tipo .exe no se admiten" in spanish["tool.exe"]


def test_delete_a_document_then_the_corpus(app_env, lab, filled, new_app):
    from backend.corpus import store

    at = open_page(new_app, PAGE)
    at.button(key="corpora.doc.delete").click().run()
    assert not problems(at)
    assert store.list_documents(lab, filled.id) == []
    assert en("corpora.documents.deleted", name="returns-policy.md") in [s.value for s in at.success]
    assert en("corpora.documents.empty") in tree_text(at)

    at.button(key="corpora.delete.confirm").click().run()
    assert not problems(at)
    assert store.list_corpora(lab) == []
    assert en("corpora.empty") in [i.value for i in at.info]


def test_rebuild_refuses_a_chunk_size_over_the_model_limit_and_builds_a_valid_one(
        app_env, lab, filled, new_app):
    from backend.corpus import store

    at = open_page(new_app, PAGE)
    size_key = f"corpora.index.size.{filled.id}"
    at.number_input(key=size_key).set_value(400)
    at.button(key=f"corpora.index.submit.{filled.id}").click().run()
    assert any("reads at most 256 word pieces" in e.value for e in at.error)
    assert len(store.list_indexes(lab, filled.id)) == 1

    at.number_input(key=size_key).set_value(120)
    at.button(key=f"corpora.index.submit.{filled.id}").click().run()
    assert not problems(at)
    indexes = store.list_indexes(lab, filled.id)
    assert len(indexes) == 2
    new = next(i for i in indexes if not i.active)
    assert new.status == "building" and new.chunking["chunk_size"] == 120 and new.job_id
    assert en("index.rebuild.queued") in [s.value for s in at.success]
    assert en("index.status.building") in tree_text(at)


def test_the_page_speaks_spanish(app_env, lab, filled, new_app):
    from ui.state import LANG_KEY

    at = open_page(new_app, PAGE)
    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    assert not problems(at)
    assert at.title[0].value == translate("es", "corpora.title")
    text = shown(at)
    assert translate("es", "corpora.upload.title") in [h.value for h in at.subheader]
    assert "returns-policy.md · Care" in text  # the data does not change with the language
    assert "1 correo electrónico" in at.dataframe[0].value["sensitive"].iloc[0]
    assert translate("en", "corpora.upload.title") not in text


@pytest.mark.parametrize("docs", [
    [{"outcome": "added", "chunks": 1}],
    [{"outcome": "added", "chunks": 3}, {"outcome": "unchanged", "chunks": 2,
                                         "note": "same content as a.md"}],
    [{"outcome": "replaced", "chunks": 0}],
])
def test_a_file_result_reads_as_stored_in_english_and_in_spanish_words(docs, monkeypatch):
    import ui.documents as documents
    from backend.corpus.ingest import DocumentOutcome, summary

    rows = [{"name": f"d{i}", "document_id": None, "error": None, "findings": {}, "note": None,
             **d} for i, d in enumerate(docs)]
    english = summary([DocumentOutcome(**r) for r in rows])
    row = {"ok": True, "message": english + " Page 3 had no text.", "documents": rows}
    assert documents.file_result_text(row) == row["message"]  # outside a page: English, verbatim
    monkeypatch.setattr(documents, "t", lambda key, **fmt: translate("es", key, **fmt))
    spanish = documents.file_result_text(row)
    assert spanish.endswith(". Page 3 had no text.") and "added" not in spanish
    assert spanish.startswith("nuevos: " if docs[0]["outcome"] == "added" else "reemplazados: ")


def test_a_failed_file_or_a_row_of_another_version_shows_its_stored_message():
    from ui.documents import file_result_text

    assert file_result_text({"ok": False, "message": "The PDF is encrypted.", "documents": []}) \
        == "The PDF is encrypted."
    odd = {"ok": True, "message": "2 added.", "documents": [{"name": "a", "outcome": "added",
                                                             "from_the_future": 1}]}
    assert file_result_text(odd) == "2 added."
