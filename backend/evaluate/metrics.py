"""Offline answer metrics: one ``Score`` per sample and metric, never NaN.

``METRICS`` describes every metric the lab knows (label key, range, what it needs, a plain-words
explanation). ``score_samples`` computes the offline ones: Ragas' non-LLM metrics (semantic
similarity, ROUGE-L, BLEU, chrF, string similarity, context precision and recall), the classic QA
scores exact match and token F1, and abstention. The LLM-judged metrics are declared here so the
UI can list them, and are computed elsewhere.

A score is ``ok`` (a finite number), ``not_applicable`` (the metric means nothing for this sample:
an unanswerable question, a closed-book strategy that retrieves nothing) or ``failed`` (the metric
raised; the reason is kept and the run goes on). Not applicable is not zero.

Ragas is imported lazily, so reading the registry (pages, reports) stays cheap.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import string
import unicodedata
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from backend.errors import InputError
from backend.evaluate.abstention import is_abstention

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

# Ragas sends usage analytics unless told not to; the lab runs offline. Read when ragas first
# tracks something, so setting it here (before the lazy imports below) is enough.
os.environ["RAGAS_DO_NOT_TRACK"] = "true"


# --- the registry ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricSpec:
    """What a metric is: how to label it, what it needs, which way is better, what it means."""

    key: str
    label_key: str
    needs_context: bool = False
    needs_judge: bool = False
    higher_is_better: bool = True
    range: tuple[float, float] = (0.0, 1.0)
    help: str = ""
    short_answer_only: bool = False
    #: which questions it is scored on: "answerable", "unanswerable" (abstention) or "all"
    applies_to: str = "answerable"


HEADLINE_METRIC = "semantic_similarity"


def _spec(key: str, help: str, **kw: Any) -> MetricSpec:
    return MetricSpec(key=key, label_key=f"metric.{key}", help=help, **kw)


METRICS: dict[str, MetricSpec] = {s.key: s for s in [
    _spec("semantic_similarity",
          "How close the answer's meaning is to the reference answer: the cosine similarity of their "
          "sentence embeddings, from an embedding model suited to the test set's language (Ragas "
          "SemanticSimilarity). 1 means the same meaning; unrelated sentences score near 0.",
          range=(-1.0, 1.0)),
    _spec("rouge_l",
          "Longest sequence of words that answer and reference share in the same order, as an "
          "F-measure (ROUGE-L, Ragas RougeScore). Rewards reusing the reference's wording. Its "
          "tokenizer keeps only a-z and digits and stems English, so it undercounts accented words."),
    _spec("bleu",
          "Overlap of 1- to 4-word sequences with the reference, with a penalty for short answers "
          "(BLEU, Ragas BleuScore). Made for translation: strict with free-form answers."),
    _spec("chrf",
          "Overlap of character sequences with the reference (chrF, Ragas ChrfScore). Tolerant of "
          "word endings and order; works for Spanish as well as English."),
    _spec("string_similarity",
          "One minus the normalised edit distance between answer and reference (Levenshtein, Ragas "
          "NonLLMStringSimilarity). 1 means identical text."),
    _spec("exact_match",
          "1 when the answer equals the reference once case, punctuation, articles (a, an, the; el, "
          "la, los, las, un, una, unos, unas) and extra spaces are ignored; otherwise 0. Only "
          "meaningful for short factual answers.", short_answer_only=True),
    _spec("token_f1",
          "Word overlap with the reference as in the SQuAD benchmark: the balance (F1) between the "
          "share of answer words found in the reference and the share of reference words found in "
          "the answer, after the same clean-up as exact match."),
    _spec("context_precision",
          "Share of the retrieved passages that hold a reference passage, counting the top ranks "
          "most (Ragas NonLLMContextPrecisionWithReference, where a retrieved chunk matches when a "
          "reference passage appears in it almost verbatim: partial string match of 0.8 or more). "
          "Needs reference passages; not applicable to closed-book strategies.",
          needs_context=True),
    _spec("context_recall",
          "Share of the reference passages found among the retrieved passages (Ragas "
          "NonLLMContextRecall with the same partial string match of 0.8 or more). Not applicable "
          "to closed-book strategies.", needs_context=True),
    _spec("abstention",
          "On questions the documents cannot answer: 1 when the strategy declines (\"I don't "
          "know\", \"no lo sé\"), 0 when it answers anyway. Its mean is the share of unanswerable "
          "questions correctly declined.", applies_to="unanswerable"),
    _spec("false_abstention",
          "On answerable questions: 1 when the strategy declines anyway. Lower is better.",
          higher_is_better=False),
    # LLM-judged: declared for the UI, computed by the judge step (needs a judge endpoint).
    _spec("faithfulness",
          "Share of the answer's claims that the retrieved passages support (Ragas Faithfulness, "
          "LLM judge).", needs_context=True, needs_judge=True),
    _spec("response_relevancy",
          "How directly the answer addresses the question (Ragas ResponseRelevancy, LLM judge).",
          needs_judge=True),
    _spec("llm_context_precision",
          "Share of retrieved passages the judge finds useful for the reference answer, top ranks "
          "counting most (Ragas LLMContextPrecisionWithReference).", needs_context=True,
          needs_judge=True),
    _spec("llm_context_recall",
          "Share of the reference answer's claims that the retrieved passages support (Ragas "
          "LLMContextRecall).", needs_context=True, needs_judge=True),
    _spec("factual_correctness",
          "Overlap of the factual claims in answer and reference, as an F1 (Ragas "
          "FactualCorrectness, LLM judge).", needs_judge=True),
]}


def offline_keys() -> list[str]:
    """Keys of the metrics ``score_samples`` computes (no judge model needed)."""
    return [k for k, s in METRICS.items() if not s.needs_judge]


def judge_keys() -> list[str]:
    """Keys of the LLM-judged metrics."""
    return [k for k, s in METRICS.items() if s.needs_judge]


# --- scores and samples ---------------------------------------------------------------------------
OK, NOT_APPLICABLE, FAILED = "ok", "not_applicable", "failed"
STATUSES = (OK, NOT_APPLICABLE, FAILED)

# Why a score is not applicable: stable strings, so the UI can translate them.
REASON_UNANSWERABLE = "unanswerable question"
REASON_ANSWERABLE = "answerable question"
REASON_CLOSED_BOOK = "no context: closed-book strategy"
REASON_NO_REFERENCE = "no reference answer"
REASON_NO_REFERENCE_CONTEXTS = "no reference passages for this question"
REASON_NOTHING_RETRIEVED = "nothing was retrieved"


@dataclass(frozen=True)
class Score:
    """One metric on one sample: a finite ``value`` when ``status`` is ok, else None and a reason."""

    value: float | None
    status: str = OK
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown score status {self.status!r}")
        if self.status == OK and (self.value is None or not math.isfinite(self.value)):
            raise ValueError("an ok score needs a finite value")
        if self.status != OK and self.value is not None:
            raise ValueError("only ok scores carry a value")

    @classmethod
    def of(cls, value: float, reason: str | None = None) -> "Score":
        """An ok score; a NaN or infinite value becomes a failed score instead."""
        value = float(value)
        if not math.isfinite(value):
            return cls.failed(f"the metric returned {value}")
        return cls(value, OK, reason)

    @classmethod
    def not_applicable(cls, reason: str) -> "Score":
        return cls(None, NOT_APPLICABLE, reason)

    @classmethod
    def failed(cls, reason: str) -> "Score":
        return cls(None, FAILED, reason)

    @property
    def is_ok(self) -> bool:
        return self.status == OK


@dataclass
class Sample:
    """One answered question. ``contexts`` None means closed book: nothing retrieved, by design."""

    question: str
    answer: str
    reference: str | None = None
    contexts: list[str] | None = None
    reference_contexts: list[str] | None = None
    unanswerable: bool = False
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in ("en", "es"):
            raise InputError(f"Sample language {self.language!r} is not supported.",
                             hint="Use 'en' or 'es'.")
        self.answer = self.answer or ""


# --- exact match and token F1 (SQuAD-style) -------------------------------------------------------
_ARTICLES = {"en": re.compile(r"\b(?:a|an|the)\b"),
             "es": re.compile(r"\b(?:el|la|los|las|un|una|unos|unas)\b")}


def normalize_answer(text: str, language: str) -> str:
    """Lower case, no punctuation (ASCII or Unicode, e.g. ¿¡«»), no articles, single spaces."""
    text = unicodedata.normalize("NFC", text or "").lower()
    text = "".join(ch for ch in text
                   if ch not in string.punctuation and not unicodedata.category(ch).startswith("P"))
    text = _ARTICLES[language].sub(" ", text)
    return " ".join(text.split())


def exact_match(answer: str, reference: str, language: str) -> float:
    """1.0 when the normalised answer equals the normalised reference, else 0.0."""
    return float(normalize_answer(answer, language) == normalize_answer(reference, language))


def token_f1(answer: str, reference: str, language: str) -> float:
    """SQuAD token F1 between the normalised answer and reference (1.0 when both are empty)."""
    pred = normalize_answer(answer, language).split()
    gold = normalize_answer(reference, language).split()
    if not pred or not gold:
        return float(pred == gold)
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


# --- scoring --------------------------------------------------------------------------------------
def _not_applicable_reason(key: str, sample: Sample) -> str | None:
    """Why metric ``key`` means nothing for ``sample``; None when it applies."""
    if key == "abstention":
        return None if sample.unanswerable else REASON_ANSWERABLE
    if sample.unanswerable:
        return REASON_UNANSWERABLE
    if key == "false_abstention":
        return None
    if METRICS[key].needs_context:
        if sample.contexts is None:
            return REASON_CLOSED_BOOK
        return None if sample.reference_contexts else REASON_NO_REFERENCE_CONTEXTS
    return None if (sample.reference or "").strip() else REASON_NO_REFERENCE


def _check_keys(metric_keys: Sequence[str]) -> list[str]:
    keys = list(dict.fromkeys(metric_keys))
    unknown = [k for k in keys if k not in METRICS]
    if unknown:
        raise InputError(f"Unknown metric(s): {', '.join(unknown)}.",
                         hint=f"Offline metrics: {', '.join(offline_keys())}.")
    judged = [k for k in keys if METRICS[k].needs_judge]
    if judged:
        raise InputError(f"{', '.join(judged)} need a judge model and are not computed offline.",
                         hint="Score them with the judge step, or leave them out here.")
    return keys


def score_sample(sample: Sample, metric_keys: Sequence[str], *,
                 embedding: "BaseEmbedding | None" = None) -> dict[str, Score]:
    """The scores of one sample; see ``score_samples``."""
    return score_samples([sample], metric_keys, embedding=embedding)[0]


def score_samples(samples: Sequence[Sample], metric_keys: Sequence[str], *,
                  embedding: "BaseEmbedding | None" = None,
                  batch_size: int = 32) -> list[dict[str, Score]]:
    """One ``{metric key: Score}`` per sample, in order, keys in the order asked for.

    Semantic similarity embeds each distinct answer and reference once, ``batch_size`` texts per
    call to ``embedding`` (a llama-index embedding, required only for that metric), then applies
    Ragas' SemanticSimilarity to the stored vectors. A metric that raises on a sample is recorded
    as failed with the error as reason; if embedding itself fails, semantic similarity fails for
    every sample and the other metrics still run. Unknown or judge-only keys raise ``InputError``
    before anything is computed.
    """
    keys = _check_keys(metric_keys)
    if "semantic_similarity" in keys and embedding is None:
        raise InputError("Semantic similarity needs an embedding model, and none was given.")
    results: list[dict[str, Score]] = [{} for _ in samples]
    todo: list[tuple[int, str]] = []
    for i, sample in enumerate(samples):
        for key in keys:
            reason = _not_applicable_reason(key, sample)
            if reason is None:
                todo.append((i, key))
            else:
                results[i][key] = Score.not_applicable(reason)

    vectors = None
    similar = [i for i, key in todo if key == "semantic_similarity"]
    if similar:
        texts = [t for i in similar for t in (samples[i].reference, samples[i].answer)]
        try:
            vectors = _embed_all(embedding, texts, batch_size)
        except Exception as exc:  # the model failed: similarity fails everywhere, the rest goes on
            for i in similar:
                results[i]["semantic_similarity"] = Score.failed(f"embedding failed: {_describe(exc)}")
            todo = [(i, k) for i, k in todo if k != "semantic_similarity"]

    for (i, key), score in zip(todo, _run(_score_all(samples, todo, embedding, vectors))):
        results[i][key] = score
    return [{k: r[k] for k in keys} for r in results]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ragas_text(text: str | None) -> str:
    # Ragas' SemanticSimilarity embeds " " in place of an empty text; store vectors under that key.
    return text or " "


def _embed_all(embedding: "BaseEmbedding", texts: list[str], batch_size: int) -> dict[str, list[float]]:
    distinct = list(dict.fromkeys(_ragas_text(t) for t in texts))
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(distinct), max(1, batch_size)):
        chunk = distinct[start:start + batch_size]
        vectors.update(zip(chunk, embedding.get_text_embedding_batch(chunk)))
    return vectors


def _stored_embeddings(embedding: "BaseEmbedding", vectors: dict[str, list[float]]):
    """A Ragas embedding that answers from ``vectors`` (embedding only what is missing)."""
    from ragas.embeddings.base import BaseRagasEmbedding

    class StoredEmbeddings(BaseRagasEmbedding):
        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            if text not in vectors:
                vectors[text] = embedding.get_text_embedding(text)
            return vectors[text]

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            return self.embed_text(text)

    return StoredEmbeddings()


_PAIR_METRICS = ("semantic_similarity", "rouge_l", "bleu", "chrf", "string_similarity")


class _Calculators:
    """The Ragas metric objects, each built on first use (a metric that cannot even be built fails
    its own scores, not the run)."""

    def __init__(self, embedding: Any, vectors: dict[str, list[float]] | None) -> None:
        self.embedding, self.vectors = embedding, vectors
        self.built: dict[str, Any] = {}

    def _metric(self, key: str) -> Any:
        if key not in self.built:
            self.built[key] = self._build(key)
        return self.built[key]

    def _build(self, key: str) -> Any:
        from ragas.metrics import collections as rc

        if key == "semantic_similarity":
            return rc.SemanticSimilarity(embeddings=_stored_embeddings(self.embedding, self.vectors))
        if key == "rouge_l":
            return rc.RougeScore(rouge_type="rougeL", mode="fmeasure")
        if key == "bleu":
            return rc.BleuScore()
        if key == "chrf":
            return rc.CHRFScore()
        if key == "string_similarity":
            return rc.NonLLMStringSimilarity()
        with warnings.catch_warnings():  # the non-LLM context metrics only exist in the legacy API
            warnings.simplefilter("ignore", DeprecationWarning)
            from ragas import metrics as legacy

            # Ragas' default compares whole strings by edit distance, so a reference sentence
            # inside a 200-token chunk never matches; a chunk *containing* the passage should.
            if key == "context_precision":
                return legacy.NonLLMContextPrecisionWithReference(
                    distance_measure=_passage_overlap(), threshold=PASSAGE_MATCH_THRESHOLD)
            metric = legacy.NonLLMContextRecall(threshold=PASSAGE_MATCH_THRESHOLD)
            metric._distance_measure = _passage_overlap()
            return metric

    async def compute(self, key: str, s: Sample) -> Score:
        if key in _PAIR_METRICS:
            reference, answer = s.reference or "", s.answer
            if key == "semantic_similarity":
                reference, answer = _ragas_text(reference), _ragas_text(answer)
            with np.errstate(divide="ignore", invalid="ignore"):  # a zero vector: NaN, failed below
                result = await self._metric(key).ascore(reference=reference, response=answer)
            return Score.of(result.value)
        if key in ("context_precision", "context_recall"):
            if not s.contexts:  # Ragas' recall raises on an empty list; nothing retrieved scores 0
                return Score.of(0.0, REASON_NOTHING_RETRIEVED)
            from ragas.dataset_schema import SingleTurnSample

            row = SingleTurnSample(retrieved_contexts=list(s.contexts),
                                   reference_contexts=list(s.reference_contexts or []))
            return Score.of(await self._metric(key).single_turn_ascore(row))
        if key == "exact_match":
            return Score.of(exact_match(s.answer, s.reference or "", s.language))
        if key == "token_f1":
            return Score.of(token_f1(s.answer, s.reference or "", s.language))
        if key in ("abstention", "false_abstention"):
            return Score.of(float(is_abstention(s.answer, s.language)))
        raise InputError(f"No offline calculation for metric {key!r}.")


PASSAGE_MATCH_THRESHOLD = 0.8


def passage_overlap(a: str, b: str) -> float:
    """How well the shorter text appears inside the longer one (rapidfuzz partial ratio, 0..1),
    after folding case and spaces; 1.0 when one contains the other verbatim."""
    from rapidfuzz import fuzz

    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if short in long_:
        return 1.0
    return fuzz.partial_ratio(short, long_) / 100.0


def _passage_overlap() -> Any:
    """``passage_overlap`` as a Ragas single-turn metric (the distance the context metrics use)."""
    from dataclasses import dataclass as _dc, field as _field

    from ragas.metrics.base import MetricType, SingleTurnMetric

    @_dc
    class PassageOverlap(SingleTurnMetric):
        name: str = "passage_overlap"
        _required_columns: dict = _field(
            default_factory=lambda: {MetricType.SINGLE_TURN: {"reference", "response"}})

        def init(self, run_config: Any) -> None:
            pass

        async def _single_turn_ascore(self, sample: Any, callbacks: Any) -> float:
            return passage_overlap(sample.reference or "", sample.response or "")

        async def _ascore(self, row: dict, callbacks: Any) -> float:
            return passage_overlap(row.get("reference") or "", row.get("response") or "")

    return PassageOverlap()


async def _score_all(samples: Sequence[Sample], todo: list[tuple[int, str]], embedding: Any,
                     vectors: dict[str, list[float]] | None) -> list[Score]:
    calculators = _Calculators(embedding, vectors)
    scores = []
    for i, key in todo:
        try:
            scores.append(await calculators.compute(key, samples[i]))
        except Exception as exc:  # one bad sample must not sink the run
            scores.append(Score.failed(_describe(exc)))
    return scores


def _run(coro: Any) -> Any:
    """Run a coroutine from sync code, also when this thread already runs an event loop
    (Ragas' metrics are async; a worker or a notebook may already be inside asyncio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
