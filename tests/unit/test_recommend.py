"""The recommendation follows the numbers: synthetic results where fine-tuning wins, where RAG
wins and where there is no detectable difference, in English and Spanish; priorities decide a
tie, never a measured quality gap (unless the user gives quality no weight)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.errors import InputError
from backend.evaluate.stats import compare_paired, mean_ci
from backend.report import phrases
from backend.report.recommend import (Evidence, Priorities, StrategyEvidence, criterion_scores,
                                      decide, flip, recommendation_sentence)

N = 40
#: measured facts of each kind, as an evaluation on a small corpus gives them: RAG reads long
#: prompts (slower, dearer per question), a fine-tune costs a 2-minute training up front
FACTS = {
    "base": dict(label="Base", cost_per_1k=0.02, build_seconds=None, latency_p95=0.9),
    "rag": dict(label="RAG", cost_per_1k=0.08, build_seconds=12.0, latency_p95=2.4),
    "finetuned": dict(label="Fine-tuned", cost_per_1k=0.03, build_seconds=125.0, latency_p95=1.0),
    "hybrid": dict(label="Hybrid", cost_per_1k=0.09, build_seconds=137.0, latency_p95=2.6),
}


def synthetic(means: dict[str, float], *, noise: float = 0.05, seed: int = 7,
              guard: dict[str, str] | None = None, update_seconds: dict[str, float] | None = None
              ) -> Evidence:
    """Evidence from per-question scores: each strategy's score on question q is its mean plus a
    shared question difficulty plus its own noise (paired, as in a real run)."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0, 0.15, N)
    per_q = {k: {f"q{i}": float(np.clip(m + difficulty[i] + rng.normal(0, noise), -1, 1))
                 for i in range(N)} for k, m in means.items()}
    strategies = [StrategyEvidence(key=k, kind=k, quality=mean_ci(per_q[k].values(), seed=0),
                                   guard=(guard or {}).get(k),
                                   update_seconds=(update_seconds or {}).get(k), **FACTS[k])
                  for k in means]
    keys = list(means)
    comparisons = [compare_paired(per_q[a], per_q[b], a_name=a, b_name=b)
                   for i, a in enumerate(keys) for b in keys[i + 1:]]
    return Evidence("semantic_similarity", strategies, comparisons)


def sentences(rec, ev) -> tuple[str, str]:
    return recommendation_sentence(rec, ev, "en"), recommendation_sentence(rec, ev, "es")


# --- a measured winner ---------------------------------------------------------------------------
def test_fine_tuning_wins():
    ev = synthetic({"rag": 0.45, "finetuned": 0.62})
    rec = decide(ev)
    assert (rec.outcome, rec.choice) == ("clear", "finetuned")
    en, es = sentences(rec, ev)
    assert en.startswith("Use the fine-tuned model: it gives the best answers on this corpus")
    assert "the fine-tuned model beats RAG on answer similarity by 0.1" in en and "95% CI" in en
    assert es.startswith("Usa el modelo con ajuste fino: da las mejores respuestas")
    assert "el modelo con ajuste fino supera a RAG en similitud de respuesta por 0,1" in es
    assert "IC 95 %" in es
    # the gap is the one measured: the sentence's number is the paired mean difference
    gap = ev.comparison("finetuned", "rag").diff.mean
    assert f"by {gap:.2f}" in en


def test_rag_wins_even_when_priorities_favour_the_fine_tune():
    ev = synthetic({"rag": 0.66, "finetuned": 0.41})
    cheap_and_fast = Priorities(quality=1, cost=5, updates=0, privacy=5, latency=5)
    for priorities in (Priorities(), cheap_and_fast):
        rec = decide(ev, priorities)
        assert (rec.outcome, rec.choice) == ("clear", "rag")
        en, es = sentences(rec, ev)
        assert en.startswith("Use RAG: it gives the best answers") and "RAG beats the fine-tuned model" in en
        assert es.startswith("Usa RAG: da las mejores respuestas")
        assert "RAG supera al modelo con ajuste fino en similitud de respuesta" in es


def test_lower_is_better_metrics_pick_the_lower_score():
    ev = synthetic({"rag": 0.10, "finetuned": 0.40})
    ev = Evidence("false_abstention", ev.strategies, ev.comparisons, higher_is_better=False)
    rec = decide(ev)
    assert (rec.outcome, rec.choice) == ("clear", "rag")
    assert "RAG beats the fine-tuned model on declining answerable questions" in (
        recommendation_sentence(rec, ev, "en"))


# --- no detectable difference -------------------------------------------------------------------
def test_no_detectable_difference_prefers_what_the_priorities_ask_and_says_so():
    ev = synthetic({"rag": 0.50, "finetuned": 0.505}, noise=0.08)
    assert not ev.comparison("rag", "finetuned").significant
    frequent_updates = Priorities(quality=5, cost=1, updates=5, privacy=1, latency=0)
    rec = decide(ev, frequent_updates)
    assert (rec.outcome, rec.choice, rec.deciding[0]) == ("tied", "rag", "updates")
    en, es = sentences(rec, ev)
    assert en.startswith("Use RAG: no detectable difference between RAG and the fine-tuned model on "
                         "answer similarity (difference ")
    assert "so the option that is faster to update" in en and "as your priorities ask" in en
    assert es.startswith("Usa RAG: no hay diferencia detectable entre RAG y el modelo con ajuste fino")
    assert "se prefiere la opción más rápida de actualizar" in es

    # same numbers, other priorities: answers fast and cheap per question -> the fine-tune
    fast_and_cheap = Priorities(quality=5, cost=2, updates=0, privacy=0, latency=5)
    rec = decide(ev, fast_and_cheap)
    assert (rec.outcome, rec.choice, rec.deciding[0]) == ("tied", "finetuned", "latency")
    en, es = sentences(rec, ev)
    assert en.startswith("Use the fine-tuned model: no detectable difference")
    assert "faster to answer" in en and "más rápida en responder" in es


def test_a_tie_of_three_goes_to_rag_on_privacy_and_never_to_the_beaten_base():
    ev = synthetic({"base": 0.20, "rag": 0.55, "finetuned": 0.56, "hybrid": 0.555}, noise=0.08)
    rec = decide(ev, Priorities(quality=5, cost=0, updates=0, privacy=5, latency=0))
    assert rec.outcome == "tied" and set(rec.contenders) == {"rag", "finetuned", "hybrid"}
    assert rec.choice == "rag" and rec.deciding == ("privacy",)
    assert "more private" in recommendation_sentence(rec, ev, "en")
    # a base model that answers measurably worse is out, however private or cheap it is
    for priorities in (Priorities(privacy=5, cost=5, quality=1), Priorities(latency=5)):
        assert decide(ev, priorities).choice != "base"
    # the reasons compare the choice with every other strategy, base included
    assert {c.b for c in rec.against} == {"base", "finetuned", "hybrid"}


def test_a_measured_freshness_result_overrides_the_inferred_one():
    ev = synthetic({"rag": 0.55, "hybrid": 0.55}, noise=0.08)
    updates = Priorities(quality=5, cost=0, updates=5, privacy=0, latency=0)
    # inferred: both retrieve, so both reflect a change at once; the simpler one wins the tie
    assert decide(ev, updates).deciding == ("simplicity",) and decide(ev, updates).choice == "rag"
    measured = synthetic({"rag": 0.55, "hybrid": 0.55}, noise=0.08,
                         update_seconds={"rag": math.inf, "hybrid": 3.0})
    rec = decide(measured, updates)
    assert (rec.choice, rec.deciding) == ("hybrid", ("updates",))


def test_redacted_training_data_is_still_less_private_than_retrieval_and_acknowledged_is_worst():
    ev = synthetic({"finetuned": 0.5, "hybrid": 0.5}, guard={"finetuned": "acknowledge",
                                                           "hybrid": "redact"})
    scores = criterion_scores(ev.strategies)["privacy"]
    assert scores["hybrid"] > scores["finetuned"]
    rag = synthetic({"rag": 0.5, "finetuned": 0.5}, guard={"finetuned": "clean"})
    assert criterion_scores(rag.strategies)["privacy"] == {"rag": 1.0, "finetuned": 0.0}


def test_no_weight_on_quality_lets_the_other_priorities_choose_among_all():
    ev = synthetic({"rag": 0.70, "finetuned": 0.40})
    rec = decide(ev, Priorities(quality=0, cost=0, updates=0, privacy=0, latency=5))
    assert (rec.outcome, rec.choice) == ("quality_ignored", "finetuned")
    en, es = sentences(rec, ev)
    assert "you gave answer quality no weight" in en and "faster to answer" in en
    assert "no diste peso a la calidad" in es


# --- edge cases ---------------------------------------------------------------------------------
def test_one_strategy_or_none_scored():
    ev = synthetic({"rag": 0.5})
    rec = decide(ev)
    assert (rec.outcome, rec.choice) == ("single", "rag")
    en, es = sentences(rec, ev)
    assert en.startswith("Only RAG was evaluated (0.") and "n = 40" in en
    assert es.startswith("Solo se evaluó RAG (0,")
    empty = Evidence("semantic_similarity", [StrategyEvidence("rag", "RAG", "rag", mean_ci([]))])
    rec = decide(empty)
    assert rec.outcome == "none" and rec.choice is None
    assert "No recommendation yet" in recommendation_sentence(rec, empty, "en")
    assert "Aún no hay recomendación" in recommendation_sentence(rec, empty, "es")


def test_unscored_strategies_are_left_out_and_too_few_questions_is_a_tie():
    ev = synthetic({"rag": 0.5, "finetuned": 0.9})
    unscored = StrategyEvidence("hybrid", "Hybrid", "hybrid", mean_ci([]))
    rec = decide(Evidence(ev.metric, ev.strategies + [unscored], ev.comparisons))
    assert rec.choice == "finetuned" and "hybrid" not in rec.contenders
    tiny = Evidence("semantic_similarity", [
        StrategyEvidence("rag", "RAG", "rag", mean_ci([0.9]), cost_per_1k=0.1),
        StrategyEvidence("finetuned", "Fine-tuned", "finetuned", mean_ci([0.2]), cost_per_1k=0.05)],
        [compare_paired({"q": 0.9}, {"q": 0.2}, a_name="rag", b_name="finetuned")])
    rec = decide(tiny, Priorities(cost=5, updates=0, privacy=0, latency=0))
    assert rec.outcome == "tied" and rec.choice == "finetuned"  # one question proves nothing
    assert "too few questions to compare" in recommendation_sentence(rec, tiny, "en")


def test_flip_reads_a_comparison_the_other_way():
    cmp = compare_paired({"a": 0.9, "b": 0.8, "c": 0.7}, {"a": 0.5, "b": 0.6, "c": 0.4},
                         a_name="x", b_name="y")
    back = flip(cmp)
    assert (back.a, back.b, back.wins, back.losses) == ("y", "x", cmp.losses, cmp.wins)
    assert back.diff.mean == pytest.approx(-cmp.diff.mean)
    assert (back.diff.low, back.diff.high) == (-cmp.diff.high, -cmp.diff.low)


def test_priorities_are_checked():
    for bad in (-1, 6, "high", True):
        with pytest.raises(InputError):
            Priorities(cost=bad)


# --- the words ----------------------------------------------------------------------------------
def test_both_languages_have_the_same_phrases_and_fields():
    from string import Formatter

    assert set(phrases.EN) == set(phrases.ES)
    for key in phrases.EN:
        fields = [{f for _, f, _, _ in Formatter().parse(c[key]) if f} for c in (phrases.EN, phrases.ES)]
        assert fields[0] == fields[1], key
    assert set(phrases.METRIC_LABELS["en"]) == set(phrases.METRIC_LABELS["es"])
    assert set(phrases.SENSITIVE_KINDS["en"]) == set(phrases.SENSITIVE_KINDS["es"])


def test_numbers_times_and_money():
    assert phrases.duration(125, "en") == "2 min 5 s" and phrases.duration(3.25, "es") == "3,2 s"
    assert phrases.duration(3720, "en") == "1 h 2 min" and phrases.duration(None, "es") == "n/d"
    assert phrases.money(0.12, "en") == "$0.12" and phrases.money(0.0041, "es") == "0,0041 US$"
    assert phrases.strategy_name("Fine-tuned", "finetuned", "es") == "el modelo con ajuste fino"
    assert phrases.strategy_name("LoRA r=8", "finetuned", "es") == "LoRA r=8"
    assert phrases.join(["a", "b", "c"], "es") == "a, b y c"
