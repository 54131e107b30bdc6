"""The Ask page in AppTest against the real test database and the real bundled models: the empty
state; the strategy choice without a fine-tuned model (and the way to get one); a question about a
tiny ingested corpus answered by Base and RAG side by side (streamed, with metrics, the closed-book
note and the sources), kept across reruns; one strategy failing in its own column; and with a tiny
real LoRA model, all four strategies answering. Also the highlighting that marks the question's
words in a source, the comparison sentence and the model picker's labels."""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest

from tests.tiny_lora import train_tiny_lora
from tests.ui.conftest import open_page, tree_text
from ui.i18n import translate
from ui.sources import highlight_html, question_pattern, question_terms, substring_pattern

PAGE = "pages/ask.py"
RETURNS_MD = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
              b"refund, with the receipt.\n\n# Care\n\nClean the tent with lukewarm water and mild "
              b"soap. Never machine-wash it.\n")


pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread (tests/conftest.py)


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


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
    at = open_page(new_app, PAGE)
    assert not at.error
    assert at.title[0].value == en("ask.title")
    assert [i.value for i in at.info] == [en("corpora.empty")]
    assert not at.text_input  # nothing to ask yet


def test_a_corpus_without_documents_says_so(app_env, lab, new_app):
    from backend.corpus import store

    store.create_corpus(lab, "Empty one", "en")
    at = open_page(new_app, PAGE)
    assert en("ask.no_documents", name="Empty one") in [w.value for w in at.warning]


@pytest.fixture
def tiny_corpus(app_env, lab):
    from backend.corpus import store
    from backend.corpus.ingest import ingest

    corpus = store.create_corpus(lab, "Tents", "en")
    assert ingest(lab, corpus.id, [("returns-policy.md", RETURNS_MD)]).count("added") == 1
    return corpus



def answer_columns(at) -> dict:
    """The answer columns, by the strategy name in their heading, in page order."""
    columns = {}
    for column in at.columns:
        heads = [m.value for m in column.markdown if "border-top:6px" in m.value]
        if heads:
            columns[re.sub(r"<[^>]+>", "", heads[0])] = column
    return columns


def metric_values(column) -> dict[str, str]:
    return {m.label: m.value for m in column.metric}


def count(value: str) -> int:
    return int(value.replace(",", ""))


def closed_book(column) -> bool:
    return any(en("ask.compare.closed_book") in c.value for c in column.caption)


def ask(at, question: str, *, tokens: int, mode: str, k: int) -> None:
    at.text_input(key="ask.question").input(question)
    at.number_input(key="ask.max_new_tokens").set_value(tokens)
    at.radio(key="ask.mode").set_value(mode)
    at.slider(key="ask.k").set_value(k)
    at.button(key="ask.submit").click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]


# --- pure helpers ------------------------------------------------------------------------------------
def _answer(latency: float, retrieval: float, tokens_in: int):
    return SimpleNamespace(latency_s=latency, retrieval_s=retrieval, tokens_in=tokens_in)


def test_comparison_names_the_fastest_and_slowest_and_the_prompt_sizes():
    from ui.answers import comparison_text

    rows = [("Base model", _answer(1.0, 0.0, 40)), ("RAG", _answer(2.0, 0.5, 1350)),
            ("Hybrid", _answer(1.5, 0.4, 1300))]
    assert comparison_text(rows) == en(
        "ask.compare.summary", fastest="Base model", fast="1.0", slowest="RAG", slow="2.5",
        ratio="2.5", fewest="Base model", least="40", most="RAG", largest="1,350")
    assert comparison_text(rows[:1]) is None and comparison_text([]) is None


def test_model_label_says_name_method_date_and_another_corpus():
    from ui.answers import model_label

    model = SimpleNamespace(name="tent adapter", method="adapter", corpus_id="c1",
                            created_at=datetime(2025, 3, 1, 9), finished_at=datetime(2025, 3, 2, 10))
    assert model_label(model, "c1", {"c1": "Tents"}) == "tent adapter · Adapter (LoRA) · 2025-03-02"
    assert model_label(model, "c2", {"c1": "Tents"}) == (
        "tent adapter · Adapter (LoRA) · 2025-03-02 · " + en("ask.compare.model_other_corpus",
                                                             corpus="Tents"))


# --- choosing strategies -------------------------------------------------------------------------------
def test_without_a_model_base_and_rag_are_offered_and_the_way_to_a_model_is_shown(app_env, lab,
                                                                                 new_app):
    from backend.corpus import store

    store.create_corpus(lab, "Tents", "en")
    at = open_page(new_app, PAGE)
    pills = at.pills(key="ask.strategies")
    assert pills.options == [en("strategy.base"), en("strategy.rag")]
    assert pills.value == ["base", "rag"]  # both chosen to start with
    assert not [s for s in at.selectbox if s.key == "ask.model"]  # no model to pick
    assert en("ask.compare.no_model") in [c.value for c in at.caption]
    links = {link.value: link.proto.page for link in at.page_link}
    assert "finetune" in links[en("ask.compare.open_finetune")], links  # the Fine-tune page
    assert not answer_columns(at)  # nothing asked yet

    at.button(key="ask.submit").click().run()  # no question yet
    assert [w.value for w in at.warning][-1] == en("ask.type_question")
    at.text_input(key="ask.question").input("When can I return it?")
    at.pills(key="ask.strategies").set_value([])
    at.button(key="ask.submit").click().run()
    assert [w.value for w in at.warning][-1] == en("ask.compare.pick_one")
    assert not answer_columns(at) and not at.exception


# --- answering -----------------------------------------------------------------------------------------
def test_base_and_rag_answer_side_by_side_with_metrics_and_sources(app_env, lab, tiny_corpus,
                                                                  new_app):
    at = open_page(new_app, PAGE)
    assert not at.error and not at.warning
    ask(at, "How many days do I have to return the tent?", tokens=24, mode="vector", k=2)
    assert not at.error, [e.value for e in at.error]

    columns = answer_columns(at)
    assert list(columns) == [en("strategy.base"), en("strategy.rag")]  # legend order
    base, rag = columns.values()
    result = at.session_state["ask.result"]
    answers = result["answers"]
    for kind, column in (("base", base), ("rag", rag)):
        metrics = metric_values(column)
        assert set(metrics) == {en("ask.metric.latency"), en("ask.metric.tokens_in"),
                                en("ask.metric.tokens_out")}
        assert 0 < count(metrics[en("ask.metric.tokens_out")]) <= 24
        assert count(metrics[en("ask.metric.tokens_in")]) == answers[kind].tokens_in
        # the answer: what the model generated is in its own column (streamed, then kept)
        assert answers[kind].text.strip() and answers[kind].config["max_new_tokens"] == 24
        assert any(m.value.strip() == answers[kind].text.strip() for m in column.markdown)
    # Base is closed book: no sources, said in words; RAG read the two chunks of the policy
    assert answers["base"].contexts == [] and closed_book(base) and not base.expander
    assert not closed_book(rag)
    assert [c.document_name for c in answers["rag"].contexts] == ["returns-policy.md"] * 2
    assert [e.label for e in rag.expander] == [en("ask.sources", n=2)]
    assert answers["rag"].tokens_in > answers["base"].tokens_in + 20  # the sources went in
    text = tree_text(at)
    assert "returns\\\\-policy\\\\.md · Returns" in text and "45 days" in text
    assert ">returned</mark>" in text or ">return</mark>" in text
    from ui.answers import comparison_text

    summary = comparison_text([(en("strategy.base"), answers["base"]),
                               (en("strategy.rag"), answers["rag"])])
    assert f":material/compare_arrows: {summary}" in [c.value for c in at.caption]

    # the answers stay on screen on the next rerun (e.g. after the language changes)
    at.run()
    columns = answer_columns(at)
    assert list(columns) == [en("strategy.base"), en("strategy.rag")]
    assert [e.label for e in columns[en("strategy.rag")].expander] == [en("ask.sources", n=2)]
    assert any(m.value.strip() == answers["rag"].text.strip()
               for m in columns[en("strategy.rag")].markdown)
    assert closed_book(columns[en("strategy.base")]) and not at.exception


def test_one_strategy_failing_leaves_the_others_answering(app_env, lab, tiny_corpus, new_app):
    """The corpus has no active index any more: RAG says so in its column, Base still answers."""
    lab.db.execute("UPDATE corpus_indexes SET active = false WHERE corpus_id = %s", (tiny_corpus.id,))
    at = open_page(new_app, PAGE)
    ask(at, "How many days do I have to return the tent?", tokens=8, mode="hybrid", k=2)
    base, rag = answer_columns(at).values()
    assert [e.value for e in rag.error] == ["This corpus has no active index. Activate a ready index."]
    assert not rag.metric and not rag.expander
    assert not base.error and count(metric_values(base)[en("ask.metric.tokens_out")]) > 0
    assert set(at.session_state["ask.result"]["answers"]) == {"base"}
    at.run()
    base, rag = answer_columns(at).values()
    assert len(rag.error) == 1 and base.metric and not at.exception


def test_with_a_fine_tuned_model_all_four_strategies_answer(app_env, lab, tiny_corpus, new_app):
    from backend.evaluate.strategies import forget_finetuned

    model_id = train_tiny_lora(lab, tiny_corpus.id, [
        ("How long is the return period for the Altura 2?", "45 days from purchase."),
        ("How do I clean the tent?", "With lukewarm water and mild soap."),
        ("Can I machine-wash the tent?", "No, never machine-wash it."),
        ("What do I need for a refund?", "The receipt.")], name="tent adapter")
    try:
        at = open_page(new_app, PAGE)
        pills = at.pills(key="ask.strategies")
        assert pills.value == ["base", "rag", "finetuned", "hybrid"]  # every strategy to start with
        picker = at.selectbox(key="ask.model")
        assert picker.value == model_id and len(picker.options) == 1
        assert picker.options[0].startswith("tent adapter · Adapter (LoRA) · ")
        assert not at.page_link  # nothing to fetch: a model exists
        ask(at, "How many days do I have to return the tent?", tokens=16, mode="vector", k=1)
        assert not at.error, [e.value for e in at.error]

        columns = answer_columns(at)
        assert list(columns) == [en(f"strategy.{k}") for k in ("base", "rag", "finetuned", "hybrid")]
        base, rag, finetuned, hybrid = columns.values()
        answers = at.session_state["ask.result"]["answers"]
        assert set(answers) == {"base", "rag", "finetuned", "hybrid"}
        for column in columns.values():
            assert 0 < count(metric_values(column)[en("ask.metric.tokens_out")]) <= 16
        # the fine-tuned model answers in both of its columns, named under the heading
        for kind, column in (("finetuned", finetuned), ("hybrid", hybrid)):
            assert answers[kind].model_id.startswith(f"finetuned:{model_id}:")
            assert "tent adapter" in [c.value for c in column.caption]
        assert not answers["base"].model_id.startswith("finetuned:")
        # closed book: no sources; with retrieval: the policy's Returns chunk
        for kind, column in (("base", base), ("finetuned", finetuned)):
            assert answers[kind].contexts == [] and closed_book(column) and not column.expander
        for kind, column in (("rag", rag), ("hybrid", hybrid)):
            assert [e.label for e in column.expander] == [en("ask.sources", n=1)]
            assert [(c.document_name, c.section) for c in answers[kind].contexts] == [
                ("returns-policy.md", "Returns")] and not closed_book(column)
            assert answers[kind].tokens_in > answers["finetuned"].tokens_in
        # the fine-tuned model is asked as it was trained: the bare question
        assert answers["finetuned"].prompt == [{"role": "user", "content": answers["base"].question}]
        assert any(c.value.startswith(":material/compare_arrows: ") for c in at.caption)
    finally:
        forget_finetuned(model_id)
