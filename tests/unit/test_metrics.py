"""Offline metrics against values computed by hand or by the underlying libraries called directly.

The embedding here is a tiny deterministic bag-of-words model that implements llama-index's
``BaseEmbedding``; the real models are exercised in tests/integration/test_metrics_models.py.
"""

from __future__ import annotations

import asyncio
import math
import zlib

import numpy as np
import pytest
import sacrebleu
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr
from rapidfuzz.distance import Levenshtein
from rouge_score import rouge_scorer

from backend.errors import InputError
from backend.evaluate import metrics as m
from backend.evaluate.metrics import Sample, score_sample, score_samples

DIM = 32


class BagOfWords(BaseEmbedding):
    """Word counts hashed into DIM buckets; records the batches it was asked to embed."""

    _batches: list = PrivateAttr(default_factory=list)
    _zero_for: set = PrivateAttr(default_factory=set)
    _short_for: set = PrivateAttr(default_factory=set)

    @classmethod
    def class_name(cls) -> str:
        return "BagOfWords"

    def vector(self, text: str) -> list[float]:
        v = [0.0] * DIM
        for word in text.lower().replace(".", " ").split():
            v[zlib.crc32(word.encode()) % DIM] += 1.0
        if text in self._zero_for:
            v = [0.0] * DIM
        if text in self._short_for:  # a broken model: wrong dimension for this one text
            v = v[: DIM // 2]
        return v

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self.vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self._batches.append(list(texts))
        return [self.vector(t) for t in texts]


class Broken(BagOfWords):
    def _get_text_embeddings(self, texts):
        raise RuntimeError("model file is corrupt")


def cosine(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def one(key, answer, reference, language="en", **kw):
    score = score_sample(Sample("q?", answer, reference, language=language, **kw), [key],
                         embedding=BagOfWords())[key]
    assert score.status == "ok", score
    return score.value


# --- exact match and token F1, by hand ------------------------------------------------------------
@pytest.mark.parametrize("answer, reference, language, expected", [
    ("The return window is 30 days.", "return window is 30 days", "en", 1.0),
    ("An   apple!", "apple", "en", 1.0),
    ("¿El plazo? ¡Es de 30 días!", "plazo es de 30 días", "es", 1.0),
    ("Los días son 30", "días son 30", "es", 1.0),
    ("30 días", "30 dias", "es", 0.0),  # accents are content, not noise
    ("The window is 31 days", "The window is 30 days", "en", 0.0),
    ("la ventana", "ventana", "en", 0.0),  # Spanish articles are only dropped for Spanish samples
])
def test_exact_match_normalises_case_punctuation_articles_spaces(answer, reference, language, expected):
    assert one("exact_match", answer, reference, language) == expected


def test_token_f1_matches_squad_by_hand():
    # normalised: answer "window is thirty days" (4), reference "return window is 30 days" (5);
    # shared: window, is, days -> P = 3/4, R = 3/5, F1 = 2PR / (P + R) = 2/3
    assert one("token_f1", "The window is thirty days.", "The return window is 30 days") == pytest.approx(2 / 3)
    # repeated words count once per occurrence on each side: "a a b" vs "a b b" -> shared a, b
    assert one("token_f1", "x x y", "x y y") == pytest.approx(2 / 3)
    assert one("token_f1", "nothing shared", "completely different") == 0.0
    assert m.token_f1("the", "a", "en") == 1.0  # both empty after normalisation


# --- Ragas string metrics vs the libraries ----------------------------------------------------------
def test_rouge_l_by_hand_and_by_rouge_score():
    # LCS of "the cat sat on the mat" and "the cat lay on the mat" is 5 of 6 words each side
    assert one("rouge_l", "the cat lay on the mat", "the cat sat on the mat") == pytest.approx(5 / 6)
    ref, ans = "Returns are accepted within 30 days of delivery.", "Items can be returned within 30 days."
    direct = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(ref, ans)["rougeL"].fmeasure
    assert one("rouge_l", ans, ref) == pytest.approx(direct)
    assert 0 < direct < 1


def test_bleu_equals_sacrebleu():
    assert one("bleu", "the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    ref, ans = "Returns are accepted within 30 days of delivery", "Returns are accepted within thirty days"
    direct = sacrebleu.corpus_bleu([ans], [[ref]]).score / 100
    assert one("bleu", ans, ref) == pytest.approx(direct)
    assert 0 < direct < 1


def test_chrf_equals_sacrebleu():
    ref, ans = "El plazo de devolución es de 30 días.", "Tienes 30 días para devolverlo."
    direct = sacrebleu.corpus_chrf([ans], [[ref]]).score / 100
    assert one("chrf", ans, ref, "es") == pytest.approx(direct)
    assert 0 < direct < 1


def test_string_similarity_is_one_minus_normalised_levenshtein():
    # kitten -> sitting: 3 edits, longest string 7 characters
    assert one("string_similarity", "sitting", "kitten") == pytest.approx(1 - 3 / 7)
    ref, ans = "Returns within 30 days", "Return within thirty days"
    assert one("string_similarity", ans, ref) == pytest.approx(1 - Levenshtein.normalized_distance(ref, ans))


# --- semantic similarity ------------------------------------------------------------------------------
def test_semantic_similarity_is_cosine_and_embeds_each_text_once_in_batches():
    emb = BagOfWords()
    reference = "returns are accepted within 30 days"
    answers = ["returns accepted within 30 days", "the cafeteria opens at noon", "30 days", "returns are accepted"]
    samples = [Sample("q", a, reference) for a in answers]
    results = score_samples(samples, ["semantic_similarity"], embedding=emb, batch_size=2)
    for answer, result in zip(answers, results):
        assert result["semantic_similarity"].value == pytest.approx(cosine(emb.vector(reference), emb.vector(answer)))
    embedded = [t for batch in emb._batches for t in batch]
    assert sorted(embedded) == sorted(set(answers) | {reference})  # the shared reference only once
    assert max(len(b) for b in emb._batches) <= 2
    values = [r["semantic_similarity"].value for r in results]
    assert values[0] > values[1]


def test_a_zero_embedding_fails_instead_of_recording_nan():
    emb = BagOfWords()
    score = score_sample(Sample("q", "", "thirty days"), ["semantic_similarity"], embedding=emb)
    # Ragas embeds " " for an empty text; the bag of words of " " is the zero vector -> cosine NaN
    assert score["semantic_similarity"].status == "failed"
    assert "nan" in score["semantic_similarity"].reason.lower()


# --- context metrics -------------------------------------------------------------------------------------
POLICY = "Returns are accepted within 30 days of delivery."
SHIPPING = "Shipping is free for orders over 50 euros."
WARRANTY = "The warranty covers manufacturing defects for two years."


def test_context_precision_and_recall_by_hand():
    keys = ["context_precision", "context_recall"]
    first = score_sample(Sample("q", "a", "r", contexts=[POLICY, SHIPPING], reference_contexts=[POLICY]), keys)
    # verdicts [1, 0]: average precision = (1/1 * 1) / 1
    assert first["context_precision"].value == pytest.approx(1.0)
    assert first["context_recall"].value == pytest.approx(1.0)
    second = score_sample(Sample("q", "a", "r", contexts=[SHIPPING, POLICY],
                                 reference_contexts=[POLICY, WARRANTY]), keys)
    # verdicts [0, 1]: (1/2 * 1) / 1; recall: POLICY found, WARRANTY not -> 1/2
    assert second["context_precision"].value == pytest.approx(0.5)
    assert second["context_recall"].value == pytest.approx(0.5)


def test_closed_book_context_metrics_are_not_applicable_not_zero():
    result = score_sample(Sample("q", "30 days", "30 days", contexts=None, reference_contexts=[POLICY]),
                          ["context_precision", "context_recall", "exact_match"])
    for key in ("context_precision", "context_recall"):
        assert result[key].status == "not_applicable"
        assert result[key].value is None
        assert result[key].reason == "no context: closed-book strategy"
    assert result["exact_match"].value == 1.0


def test_empty_retrieval_scores_zero_and_missing_reference_passages_not_applicable():
    keys = ["context_precision", "context_recall"]
    nothing = score_sample(Sample("q", "a", "r", contexts=[], reference_contexts=[POLICY]), keys)
    assert [s.value for s in nothing.values()] == [0.0, 0.0]
    no_refs = score_sample(Sample("q", "a", "r", contexts=[POLICY], reference_contexts=None), keys)
    assert {s.status for s in no_refs.values()} == {"not_applicable"}


# --- unanswerable questions and abstention ------------------------------------------------------------
def test_unanswerable_questions_score_only_abstention():
    keys = m.offline_keys()
    declined, invented = score_samples([
        Sample("¿Color del logo?", "No lo sé.", None, contexts=[POLICY], unanswerable=True, language="es"),
        Sample("Logo colour?", "The logo is blue.", None, contexts=[POLICY], unanswerable=True),
    ], keys, embedding=BagOfWords())
    assert declined["abstention"].value == 1.0
    assert invented["abstention"].value == 0.0
    for result in (declined, invented):
        for key in keys:
            if key != "abstention":
                assert result[key].status == "not_applicable", key
                assert result[key].reason == "unanswerable question"


def test_answerable_questions_track_false_abstention():
    result = score_sample(Sample("q", "I don't know.", "30 days"), ["abstention", "false_abstention"])
    assert result["abstention"].status == "not_applicable"
    assert result["false_abstention"].value == 1.0


# --- failures never sink the run and never become NaN -------------------------------------------------
def test_failing_embedding_fails_similarity_only():
    results = score_samples([Sample("q", "30 days", "30 days")] * 2, ["semantic_similarity", "exact_match"],
                            embedding=Broken())
    for result in results:
        assert result["semantic_similarity"].status == "failed"
        assert "model file is corrupt" in result["semantic_similarity"].reason
        assert result["exact_match"].value == 1.0


def test_a_metric_raising_on_one_sample_is_recorded_and_the_rest_goes_on():
    emb = BagOfWords()
    emb._short_for.add("bad answer")  # a vector of the wrong size: Ragas' dot product raises
    results = score_samples([Sample("q", "bad answer", "good answer"), Sample("q", "good answer", "good answer")],
                            ["semantic_similarity", "token_f1"], embedding=emb)
    bad, good = results
    assert bad["semantic_similarity"].status == "failed"
    assert "ValueError" in bad["semantic_similarity"].reason
    assert bad["token_f1"].value == pytest.approx(0.5)
    assert good["semantic_similarity"].value == pytest.approx(1.0)
    for result in results:
        for score in result.values():
            assert score.value is None or math.isfinite(score.value)


def test_bad_requests_are_refused_before_scoring():
    sample = Sample("q", "a", "r")
    with pytest.raises(InputError):
        score_sample(sample, ["faithfulness"])
    with pytest.raises(InputError):
        score_sample(sample, ["no_such_metric"])
    with pytest.raises(InputError):
        score_sample(sample, ["semantic_similarity"], embedding=None)
    with pytest.raises(InputError):
        Sample("q", "a", "r", language="fr")


def test_scoring_works_inside_a_running_event_loop():
    async def inside():
        return score_sample(Sample("q", "the cat", "the cat"), ["rouge_l", "exact_match"])

    result = asyncio.run(inside())
    assert result["rouge_l"].value == pytest.approx(1.0)


def test_registry_declares_every_metric_the_brief_names():
    offline = {"semantic_similarity", "rouge_l", "bleu", "chrf", "string_similarity", "exact_match",
               "token_f1", "context_precision", "context_recall", "abstention"}
    judged = {"faithfulness", "response_relevancy", "llm_context_precision", "llm_context_recall",
              "factual_correctness"}
    assert offline <= set(m.offline_keys())
    assert set(m.judge_keys()) == judged
    assert m.HEADLINE_METRIC == "semantic_similarity"
    for spec in m.METRICS.values():
        assert spec.help and spec.label_key == f"metric.{spec.key}"
    assert m.METRICS["context_recall"].needs_context and not m.METRICS["rouge_l"].needs_context
    assert m.METRICS["exact_match"].short_answer_only
    assert not m.METRICS["false_abstention"].higher_is_better


def test_score_refuses_nan_as_a_value():
    assert m.Score.of(float("nan")).status == "failed"
    with pytest.raises(ValueError):
        m.Score(float("nan"))


def test_context_metrics_match_a_reference_passage_inside_a_longer_chunk():
    from backend.evaluate.metrics import Sample, passage_overlap, score_samples

    reference = "Customers may return any item within 30 days of purchase."
    chunk = ("Returns policy. " + reference + " Items must be unused and in their original "
             "packaging; refunds are made to the original payment method within 14 days.")
    unrelated = "Employees get 23 working days of paid holiday per calendar year."
    assert passage_overlap(reference, chunk) == 1.0
    assert passage_overlap(reference, unrelated) < 0.8
    sample = Sample(question="How long to return?", answer="30 days.", reference="30 days.",
                    contexts=[chunk, unrelated], reference_contexts=[reference])
    scores = score_samples([sample], ["context_precision", "context_recall"])[0]
    assert scores["context_recall"].value == 1.0
    assert scores["context_precision"].value > 0.99  # the match is ranked first
    later = Sample(question="q", answer="a", reference="a", contexts=[unrelated, chunk],
                   reference_contexts=[reference])
    late = score_samples([later], ["context_precision"])[0]["context_precision"].value
    assert 0.4 < late < 0.6  # average precision: the only match at rank 2 scores 1/2
