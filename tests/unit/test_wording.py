"""Sentences from numbers, in English and Spanish."""

from __future__ import annotations

import pytest

from backend.errors import InputError
from backend.evaluate.stats import Estimate, PairedComparison, compare_paired
from backend.evaluate.wording import describe_comparison, describe_estimate, format_number


def comparison(a, b, mean, low, high, significant, n=60):
    return PairedComparison(a=a, b=b, n=n, wins=30, ties=10, losses=20,
                            diff=Estimate(mean, low, high, n), p_value=0.01,
                            significant=significant, tie_tolerance=0.01)


def test_a_win_in_english_and_spanish():
    cmp = comparison("hybrid", "RAG", 0.07, 0.03, 0.11, True)
    assert describe_comparison(cmp, "answer similarity", "en") == (
        "hybrid beats RAG on answer similarity by 0.07 (95% CI 0.03–0.11)")
    es = comparison("el híbrido", "RAG", 0.07, 0.03, 0.11, True)
    assert describe_comparison(es, "similitud de respuesta", "es") == (
        "el híbrido supera a RAG en similitud de respuesta por 0,07 (IC 95 % 0,03–0,11)")


def test_the_winner_is_b_when_the_difference_is_negative():
    cmp = comparison("RAG", "el híbrido", -0.07, -0.11, -0.03, True)
    assert describe_comparison(cmp, "similitud", "es") == (
        "el híbrido supera a RAG en similitud por 0,07 (IC 95 % 0,03–0,11)")
    assert describe_comparison(comparison("RAG", "hybrid", -0.07, -0.11, -0.03, True), "x", "en") == (
        "hybrid beats RAG on x by 0.07 (95% CI 0.03–0.11)")
    # Spanish "a" + "el" contracts
    back = comparison("RAG", "el híbrido", 0.07, 0.03, 0.11, True)
    assert describe_comparison(back, "similitud", "es").startswith("RAG supera al híbrido en")


def test_lower_is_better_flips_the_winner():
    cmp = comparison("base", "RAG", 0.2, 0.1, 0.3, True)  # base declines answerable questions more
    assert describe_comparison(cmp, "false abstention", "en", higher_is_better=False) == (
        "RAG beats base on false abstention by 0.20 (95% CI 0.10–0.30)")


def test_no_detectable_difference():
    cmp = comparison("hybrid", "RAG", 0.01, -0.02, 0.04, False)
    assert describe_comparison(cmp, "answer similarity", "en") == (
        "no detectable difference between hybrid and RAG on answer similarity "
        "(difference 0.01, 95% CI −0.02–0.04)")
    es = comparison("RAG", "el híbrido", 0.01, -0.02, 0.04, False)
    assert describe_comparison(es, "similitud de respuesta", "es") == (
        "no hay diferencia detectable entre RAG y el híbrido en similitud de respuesta "
        "(diferencia 0,01; IC 95 % −0,02–0,04)")
    # "y" becomes "e" before an i sound
    assert "RAG e híbrido" in describe_comparison(comparison("RAG", "híbrido", 0.0, -0.01, 0.01, False), "x", "es")


def test_tiny_significant_differences_get_more_decimals():
    cmp = comparison("A", "B", 0.004, 0.002, 0.006, True)
    assert describe_comparison(cmp, "m", "en") == "A beats B on m by 0.004 (95% CI 0.002–0.006)"


def test_nothing_or_too_little_to_compare():
    empty = compare_paired({"q1": 0.5}, {"q2": 0.5}, a_name="A", b_name="B")
    assert "no question" in describe_comparison(empty, "m", "en")
    assert "ninguna pregunta" in describe_comparison(empty, "m", "es")
    single = compare_paired({"q1": 0.5}, {"q1": 0.2}, a_name="A", b_name="B")
    assert describe_comparison(single, "m", "en") == "too few questions to compare A and B on m (n = 1)"


def test_sentences_follow_real_comparisons():
    a = {f"q{i}": 0.5 + 0.01 * (i % 5) for i in range(40)}
    b = {q: v + 0.1 for q, v in a.items()}
    text = describe_comparison(compare_paired(b, a, a_name="hybrid", b_name="RAG"), "similarity", "en")
    assert text.startswith("hybrid beats RAG on similarity by 0.10")


def test_describe_estimate():
    est = Estimate(0.72, 0.68, 0.76, 60)
    assert describe_estimate(est, "en") == "0.72 (95% CI 0.68–0.76, n = 60)"
    assert describe_estimate(est, "es") == "0,72 (IC 95 % 0,68–0,76; n = 60)"
    assert describe_estimate(Estimate(0.5, None, None, 1), "en") == "0.50 (n = 1)"
    assert describe_estimate(Estimate(None, None, None, 0), "es") == "sin puntuaciones"
    assert describe_estimate(Estimate(0.5, 0.4, 0.6, 10, confidence=0.9), "en").startswith("0.50 (90% CI")


def test_numbers():
    assert format_number(-0.0004, "en") == "0.00"
    assert format_number(-0.25, "es") == "−0,25"
    with pytest.raises(InputError):
        format_number(1.0, "de")
