"""``stream_strategy`` with the real bundled models on a tiny ingested corpus: every strategy streams
its answer and ends with an ``Answer``; closed-book strategies get the evaluation's closed-book
prompts and no sources, retrieving ones the corpus's passages; and each answers what an evaluation
run (``answer_batch``) answers for the same question. Unusable strategies fail before streaming;
a stream abandoned half way frees the model. Plus the fine-tuned models offered for a corpus."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.errors import InputError, NotFound
from backend.evaluate.ask import models_for_corpus, stream_strategy
from backend.evaluate.strategies import CLOSED_BOOK, StrategyConfig, answer_batch, forget_finetuned
from tests.tiny_lora import train_tiny_lora

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread
RETURNS_MD = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
              b"refund, with the receipt.\n\n# Care\n\nClean the tent with lukewarm water and mild "
              b"soap. Never machine-wash it.\n")
QUESTION = "How many days do I have to return the Altura 2 tent?"
SHORT = {"max_new_tokens": 12}


@pytest.fixture
def corpus_id(lab) -> str:
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus

    corpus = create_corpus(lab, "Tents", "en")
    assert ingest(lab, corpus.id, [("returns-policy.md", RETURNS_MD)]).count("added") == 1
    return corpus.id


def run(lab, cfg: StrategyConfig, question: str = QUESTION, **kw):
    """(text pieces, final Answer) of one streamed answer."""
    items = list(stream_strategy(lab, cfg, question, **kw))
    pieces, final = items[:-1], items[-1]
    assert pieces and all(isinstance(p, str) for p in pieces) and not isinstance(final, str)
    assert "".join(pieces).strip() == final.text  # what streamed is what the answer holds
    return pieces, final


def same_as_evaluation(lab, cfg: StrategyConfig, answer) -> None:
    """The evaluation runner, asked the same, writes the same answer from the same passages."""
    scored = answer_batch(lab, cfg, [QUESTION], batch_size=1)[0]
    assert scored.error is None
    assert scored.text.split()[:6] == answer.text.split()[:6], (scored.text, answer.text)
    if cfg.retrieves:
        assert scored.chunk_ids == [c.chunk_id for c in answer.contexts]
    else:
        assert scored.contexts is None


def test_base_and_rag_stream_as_evaluation_asks_them(lab, corpus_id):
    base_cfg = StrategyConfig(kind="base", generation=SHORT)
    _, base = run(lab, base_cfg)
    assert base.contexts == [] and base.citations == [] and base.retrieval_s == 0.0
    assert base.template == CLOSED_BOOK.name == "closed-book-v1"
    assert base.prompt == [{"role": "system", "content": CLOSED_BOOK.system["en"]},
                           {"role": "user", "content": QUESTION}]
    assert 0 < base.tokens_out <= 12 and base.config["max_new_tokens"] == 12
    same_as_evaluation(lab, base_cfg, base)

    rag_cfg = StrategyConfig(kind="rag", mode="vector", k=2, generation=SHORT)
    _, rag = run(lab, rag_cfg, corpus_id=corpus_id)  # the corpus given by the caller
    assert [c.document_name for c in rag.contexts] == ["returns-policy.md", "returns-policy.md"]
    assert rag.contexts[0].section == "Returns" and "45 days" in rag.contexts[0].text
    assert rag.template == "cited-v1" and rag.retrieval_s > 0
    assert "45 days" in rag.prompt[-1]["content"] and QUESTION in rag.prompt[-1]["content"]
    assert rag.tokens_in > base.tokens_in  # the passages went in
    assert all(c.chunk in rag.contexts for c in rag.citations)
    same_as_evaluation(lab, StrategyConfig(kind="rag", mode="vector", k=2, generation=SHORT,
                                           corpus_id=corpus_id), rag)


def test_finetuned_and_hybrid_stream_with_a_registered_model(lab, corpus_id):
    model_id = train_tiny_lora(lab, corpus_id, [
        ("How long is the return period for the Altura 2?", "45 days from purchase."),
        ("How do I clean the tent?", "With lukewarm water and mild soap."),
        ("Can I machine-wash the tent?", "No, never machine-wash it."),
        ("What do I need for a refund?", "The receipt.")], name="tent adapter")
    assert [m.id for m in models_for_corpus(lab, corpus_id)] == [model_id]
    try:
        ft_cfg = StrategyConfig(kind="finetuned", model_id=model_id, generation=SHORT)
        _, finetuned = run(lab, ft_cfg)
        # asked as it was trained: the bare question, no (empty) system message, no sources
        assert finetuned.prompt == [{"role": "user", "content": QUESTION}]
        assert finetuned.template == "question-only" and finetuned.contexts == []
        assert finetuned.citations == [] and finetuned.model_id.startswith(f"finetuned:{model_id}:")
        same_as_evaluation(lab, ft_cfg, finetuned)

        hy_cfg = StrategyConfig(kind="hybrid", model_id=model_id, corpus_id=corpus_id, mode="text",
                                k=1, generation=SHORT)
        _, hybrid = run(lab, hy_cfg)
        assert [c.document_name for c in hybrid.contexts] == ["returns-policy.md"]
        assert "45 days" in hybrid.contexts[0].text and hybrid.template == "cited-v1"
        assert hybrid.model_id == finetuned.model_id and hybrid.tokens_in > finetuned.tokens_in
        same_as_evaluation(lab, hy_cfg, hybrid)
    finally:
        forget_finetuned(model_id)

    # a model deleted since it was picked: said at once, before anything streams
    from backend.finetune.registry import delete_model

    delete_model(lab, model_id)
    assert models_for_corpus(lab, corpus_id) == []
    with pytest.raises(NotFound):
        stream_strategy(lab, StrategyConfig(kind="finetuned", model_id=model_id), QUESTION)


def test_unusable_strategies_fail_before_streaming_and_an_abandoned_stream_frees_the_model(
        lab, corpus_id):
    with pytest.raises(InputError, match="Type a question"):
        stream_strategy(lab, StrategyConfig(kind="base"), "   ")
    with pytest.raises(InputError, match="no corpus"):
        stream_strategy(lab, StrategyConfig(kind="rag"), QUESTION)
    with pytest.raises(NotFound):  # a corpus deleted since it was picked
        stream_strategy(lab, StrategyConfig(kind="rag"), QUESTION,
                        corpus_id="00000000-0000-0000-0000-000000000000")

    stream = stream_strategy(lab, StrategyConfig(kind="base", generation={"max_new_tokens": 200}),
                             QUESTION)
    assert isinstance(next(stream), str)
    stream.close()  # the page moved on: the model stops and is free for the next question
    _, again = run(lab, StrategyConfig(kind="base", generation={"max_new_tokens": 4}))
    assert again.tokens_out <= 4


def test_models_for_corpus_lists_this_corpus_first_newest_first(monkeypatch, lab):
    from backend.finetune import registry

    rows = [SimpleNamespace(id=5, corpus_id="b"), SimpleNamespace(id=4, corpus_id="a"),
            SimpleNamespace(id=3, corpus_id="b"), SimpleNamespace(id=2, corpus_id=None),
            SimpleNamespace(id=1, corpus_id="a")]  # as the registry lists them: newest first
    asked = {}

    def fake_list_models(_lab, *, status=None):
        asked["status"] = status
        return rows

    monkeypatch.setattr(registry, "list_models", fake_list_models)
    assert [m.id for m in models_for_corpus(lab, "a")] == [4, 1, 5, 3, 2]
    assert [m.id for m in models_for_corpus(lab, None)] == [5, 4, 3, 2, 1]
    assert asked["status"] == "ready"  # a model still training or failed cannot answer
