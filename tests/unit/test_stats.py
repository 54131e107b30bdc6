"""Bootstrap intervals and paired comparisons: planted differences are found, noise is not."""

from __future__ import annotations

import numpy as np
import pytest

from backend.evaluate.stats import Estimate, compare_paired, mean_ci


def noisy_pair(shift: float, seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    a = np.clip(rng.normal(0.6, 0.15, n), 0, 1)
    b = a + shift + rng.normal(0, 0.02, n)
    return ({f"q{i}": float(x) for i, x in enumerate(a)}, {f"q{i}": float(x) for i, x in enumerate(b)})


def test_mean_ci_covers_the_mean_and_ignores_missing_scores():
    est = mean_ci([0.2, None, 0.4, float("nan"), 0.6, 0.8])
    assert est.n == 4
    assert est.mean == pytest.approx(0.5)
    assert est.low < 0.5 < est.high
    assert 0.2 <= est.low and est.high <= 0.8
    assert est.method == "bootstrap" and est.confidence == 0.95


def test_mean_ci_of_nothing_and_of_one_value():
    assert mean_ci([None, None]) == Estimate(None, None, None, 0)
    single = mean_ci([0.7])
    assert (single.mean, single.low, single.high, single.n) == (0.7, None, None, 1)


def test_mean_ci_is_reproducible_and_depends_on_the_seed():
    values = list(np.random.default_rng(3).uniform(0, 1, 40))
    assert mean_ci(values, seed=7) == mean_ci(values, seed=7)
    assert mean_ci(values, seed=7) != mean_ci(values, seed=8)


def test_wider_confidence_gives_a_wider_interval():
    values = list(np.random.default_rng(4).uniform(0, 1, 40))
    narrow, wide = mean_ci(values, confidence=0.8), mean_ci(values, confidence=0.99)
    assert wide.low < narrow.low and narrow.high < wide.high


def test_planted_difference_is_detected():
    a, b = noisy_pair(0.1, seed=11)
    cmp = compare_paired(a, b, a_name="RAG", b_name="hybrid")
    assert cmp.n == 60
    # the difference is a - b, so a planted +0.1 for b reads -0.1
    assert cmp.diff.low <= -0.1 <= cmp.diff.high
    assert cmp.diff.mean == pytest.approx(-0.1, abs=0.01)
    assert cmp.significant
    assert cmp.p_value is not None and cmp.p_value < 0.001
    assert cmp.losses > 50
    reverse = compare_paired(b, a, a_name="hybrid", b_name="RAG")
    assert reverse.diff.low <= 0.1 <= reverse.diff.high and reverse.significant
    assert (reverse.wins, reverse.losses) == (cmp.losses, cmp.wins)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_distribution_is_not_significant(seed):
    rng = np.random.default_rng(seed)
    a = {f"q{i}": float(x) for i, x in enumerate(rng.uniform(0, 1, 60))}
    b = {f"q{i}": float(x) for i, x in enumerate(rng.uniform(0, 1, 60))}
    cmp = compare_paired(a, b, a_name="a", b_name="b")
    assert not cmp.significant
    assert cmp.diff.low < 0 < cmp.diff.high
    assert cmp.p_value > 0.05


def test_same_seed_same_numbers_whatever_the_dict_order():
    a, b = noisy_pair(0.05, seed=5)
    first = compare_paired(a, b, a_name="a", b_name="b", seed=42)
    shuffled_a = dict(reversed(list(a.items())))
    assert compare_paired(shuffled_a, b, a_name="a", b_name="b", seed=42) == first
    assert compare_paired(a, b, a_name="a", b_name="b", seed=43).diff != first.diff


def test_wins_ties_losses_by_hand():
    a = {"q1": 0.9, "q2": 0.5, "q3": 0.30, "q4": 0.2, "q5": 0.7, "q6": None, "q7": 0.4}
    b = {"q1": 0.6, "q2": 0.5, "q3": 0.31, "q4": 0.6, "q5": 0.2, "q6": 0.9, "q8": 0.1}
    cmp = compare_paired(a, b, a_name="A", b_name="B", tie_tolerance=0.01)
    # shared and scored: q1..q5. a - b = +0.3, 0, -0.01 (a tie at tolerance 0.01), -0.4, +0.5
    assert cmp.n == 5
    assert (cmp.wins, cmp.ties, cmp.losses) == (2, 2, 1)
    assert cmp.diff.mean == pytest.approx((0.3 + 0 - 0.01 - 0.4 + 0.5) / 5)
    assert (cmp.a, cmp.b, cmp.tie_tolerance) == ("A", "B", 0.01)
    strict = compare_paired(a, b, a_name="A", b_name="B", tie_tolerance=0.0)
    assert (strict.wins, strict.ties, strict.losses) == (2, 1, 2)


def test_identical_scores_have_no_p_value_and_are_not_significant():
    a = {"q1": 0.5, "q2": 0.7, "q3": 0.1}
    cmp = compare_paired(a, dict(a), a_name="A", b_name="B")
    assert cmp.p_value is None
    assert not cmp.significant
    assert cmp.ties == 3 and cmp.diff.mean == 0


def test_nothing_shared():
    cmp = compare_paired({"q1": 0.5}, {"q2": 0.5}, a_name="A", b_name="B")
    assert cmp.n == 0 and cmp.diff.mean is None and cmp.p_value is None and not cmp.significant
