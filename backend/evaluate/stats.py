"""Confidence intervals and paired comparisons, seeded so the same scores give the same numbers.

Scores are bounded, often skewed, sometimes 0/1, and test sets are small (tens of questions), so
intervals come from the bootstrap (percentile method) rather than a normal approximation. Two
strategies answer the same questions, so they are compared question by question: the paired
bootstrap of the mean difference gives the interval, and the Wilcoxon signed-rank test a p-value.
Missing scores (None, NaN: not applicable or failed) are left out, never counted as zero.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping

import numpy as np

# Resampling n_resamples x n indices at once is fast; past this many cells, resample in chunks.
_MAX_CELLS = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """A mean with its confidence interval; all None when there was nothing to average.

    ``low``/``high`` are None when n < 2 (one number has no spread to resample).
    """

    mean: float | None
    low: float | None
    high: float | None
    n: int
    method: str = "bootstrap"
    confidence: float = 0.95

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class PairedComparison:
    """Strategy ``a`` against ``b`` on the questions both were scored on.

    ``diff`` estimates mean(a - b); ``wins`` counts questions where a - b > ``tie_tolerance``,
    ``losses`` where a - b < -``tie_tolerance``, ``ties`` the rest. ``significant`` is True when
    the confidence interval of the difference excludes 0. ``p_value`` (Wilcoxon signed-rank) is
    None when every difference is zero or no question was shared.
    """

    a: str
    b: str
    n: int
    wins: int
    ties: int
    losses: int
    diff: Estimate
    p_value: float | None
    significant: bool
    tie_tolerance: float


def _clean(values: Iterable[float | None]) -> np.ndarray:
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return np.asarray(kept, dtype=float)


def _check(confidence: float, n_resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, not {n_resamples}")


def _bootstrap_means(x: np.ndarray, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    n = len(x)
    per_chunk = max(1, _MAX_CELLS // n)
    means = []
    for start in range(0, n_resamples, per_chunk):
        size = min(per_chunk, n_resamples - start)
        means.append(x[rng.integers(0, n, size=(size, n))].mean(axis=1))
    return np.concatenate(means)


def _estimate(x: np.ndarray, *, seed: int, n_resamples: int, confidence: float) -> Estimate:
    n = len(x)
    if n == 0:
        return Estimate(None, None, None, 0, confidence=confidence)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, None, None, 1, confidence=confidence)
    means = _bootstrap_means(x, np.random.default_rng(seed), n_resamples)
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    # the percentile interval of a constant sample is exactly [mean, mean]; keep it tidy
    return Estimate(mean, min(float(low), mean), max(float(high), mean), n, confidence=confidence)


def mean_ci(values: Iterable[float | None], *, seed: int = 0, n_resamples: int = 2000,
            confidence: float = 0.95) -> Estimate:
    """Mean of ``values`` with a percentile-bootstrap confidence interval.

    None and NaN are ignored. The same values and seed always give the same interval.
    """
    _check(confidence, n_resamples)
    return _estimate(_clean(values), seed=seed, n_resamples=n_resamples, confidence=confidence)


def _wilcoxon_p(d: np.ndarray) -> float | None:
    if len(d) == 0 or not np.any(d != 0):
        return None
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():  # small samples with ties warn about the normal approximation
        warnings.simplefilter("ignore")
        # with ties or zero differences scipy falls back to a slow permutation method (~0.7 s);
        # the normal approximation is what the textbook test uses there anyway
        has_ties = len(np.unique(np.abs(d))) < len(d) or np.any(d == 0)
        p = float(wilcoxon(d, method="approx" if has_ties else "auto").pvalue)
    return p if math.isfinite(p) else None


def compare_paired(a_scores: Mapping[Hashable, float | None], b_scores: Mapping[Hashable, float | None],
                   *, a_name: str, b_name: str, seed: int = 0, tie_tolerance: float = 0.01,
                   n_resamples: int = 2000, confidence: float = 0.95) -> PairedComparison:
    """Compare two strategies' per-question scores (``{question id: score}``), paired by question.

    Only questions with a number for both are used. The difference is a - b, so a positive
    difference favours ``a`` when higher is better. Same inputs and seed, same result.
    """
    _check(confidence, n_resamples)
    if tie_tolerance < 0:
        raise ValueError(f"tie_tolerance must not be negative, not {tie_tolerance}")
    shared = [q for q in a_scores if q in b_scores
              and _clean([a_scores[q]]).size and _clean([b_scores[q]]).size]
    # a stable order, so the resampling (and hence the interval) does not depend on dict order
    shared.sort(key=repr)
    d = np.asarray([float(a_scores[q]) - float(b_scores[q]) for q in shared], dtype=float)
    edge = tie_tolerance + 1e-12  # 0.31 - 0.30 is a tie at tolerance 0.01, floating error or not
    wins = int(np.sum(d > edge))
    losses = int(np.sum(d < -edge))
    diff = _estimate(d, seed=seed, n_resamples=n_resamples, confidence=confidence)
    significant = bool(diff.has_interval and (diff.low > 0 or diff.high < 0))
    return PairedComparison(a=a_name, b=b_name, n=len(d), wins=wins, ties=len(d) - wins - losses,
                            losses=losses, diff=diff, p_value=_wilcoxon_p(d),
                            significant=significant, tie_tolerance=tie_tolerance)
