"""The Ask page in AppTest against the real test database and the real bundled models: the empty
state, and a question about a tiny ingested corpus answered (streamed) with its metrics and the
sources it used. Also the highlighting that marks the question's words in a source."""

from __future__ import annotations

import pytest

from tests.ui.conftest import tree_text
from ui.i18n import translate
from ui.sources import highlight_html, question_pattern, question_terms, substring_pattern

PAGE = "pages/ask.py"
RETURNS_MD = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
              b"refund, with the receipt.\n\n# Care\n\nClean the tent with lukewarm water and mild "
              b"soap. Never machine-wash it.\n")


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def open_page(new_app):
    at = new_app()
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- highlighting (pure) ---------------------------------------------------------------------------
def test_question_terms_drop_stopwords_and_fold_accents():
    assert question_terms("How many days do I have to return the tent?") == ["return", "days", "many", "tent"]
    assert question_terms("¿Cuántos días tengo para la devolución?") == ["devolucion", "tengo", "dias"]
    assert question_terms("the and of") == [] and question_pattern("the and of") is None


def test_highlight_marks_words_and_their_longer_forms_and_escapes_html():
    text = "Returns: <b>tents</b> returned\nwithin 45 días."
    out = highlight_html(text, question_pattern("Can a tent be returned in 45 dias?"))
    assert "<b>" not in out and "&lt;b&gt;" in out  # the chunk's own markup is shown, not run
    assert "<mark" in out and ">tents</mark>" in out and ">returned</mark>" in out
    assert ">días</mark>" in out  # accent-insensitive, original spelling kept
    assert ">Returns</mark>" not in out  # "return" was not asked: "returned" was; prefix of it only
    assert "<br>" in out and "\n" not in out


def test_substring_highlight_and_no_pattern():
    assert highlight_html("Lukewarm water", substring_pattern("kewa")).count("<mark") == 1
    assert highlight_html("a & b", None) == "a &amp; b"


# --- the page -----------------------------------------------------------------------------------------
def test_empty_state_points_to_corpora(app_env, new_app):
    at = open_page(new_app)
    assert not at.error
    assert at.title[0].value == en("ask.title")
    assert [i.value for i in at.info] == [en("corpora.empty")]
    assert not at.text_input  # nothing to ask yet


def test_a_corpus_without_documents_says_so(app_env, lab, new_app):
    from backend.corpus import store

    store.create_corpus(lab, "Empty one", "en")
    at = open_page(new_app)
    assert en("ask.no_documents", name="Empty one") in [w.value for w in at.warning]


@pytest.fixture
def tiny_corpus(app_env, lab):
    from backend.corpus import store
    from backend.corpus.ingest import ingest

    corpus = store.create_corpus(lab, "Tents", "en")
    assert ingest(lab, corpus.id, [("returns-policy.md", RETURNS_MD)]).count("added") == 1
    return corpus


def test_a_question_is_answered_with_metrics_and_sources(app_env, lab, tiny_corpus, new_app):
    at = open_page(new_app)
    assert not at.error and not at.warning
    at.text_input(key="ask.question").input("How many days do I have to return the tent?")
    at.number_input(key="ask.max_new_tokens").set_value(24)
    at.radio(key="ask.mode").set_value("vector")
    at.slider(key="ask.k").set_value(2)
    at.button(key="ask.submit").click().run(timeout=240)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    text = tree_text(at)
    assert en("strategy.rag") in text  # the strategy's column heading
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) >= {en("ask.metric.latency"), en("ask.metric.tokens_in"),
                            en("ask.metric.tokens_out")}
    assert 0 < int(metrics[en("ask.metric.tokens_out")].replace(",", "")) <= 24
    assert int(metrics[en("ask.metric.tokens_in")].replace(",", "")) > 20  # the sources went in
    # the answer: what the model generated is on the page (streamed, then kept for reruns)
    answer = at.session_state["ask.result"]["answers"]["rag"]
    assert answer.text.strip() and en("ask.empty_answer") not in text
    assert any(m.value.strip() == answer.text.strip() for m in at.markdown)
    assert answer.config["max_new_tokens"] == 24 and [c.document_name for c in answer.contexts] == [
        "returns-policy.md", "returns-policy.md"]
    # the sources: both chunks given to the model, named by their document, the question's words marked
    assert [e.label for e in at.expander if e.label.startswith("Sources")] == [en("ask.sources", n=2)]
    assert "returns\\\\-policy\\\\.md · Returns" in text
    assert ">returned</mark>" in text or ">return</mark>" in text
    assert "45 days" in text

    # the answer stays on screen on the next rerun (e.g. after the language changes)
    at.run()
    assert en("ask.sources", n=2) in [e.label for e in at.expander]
    assert any(m.value.strip() == answer.text.strip() for m in at.markdown)
    assert not at.exception
