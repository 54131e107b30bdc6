"""The decision: which strategy to use, from measured results and the user's priorities.

Pure logic on small dataclasses, so it is tested with synthetic results. The rule, in order:

1. Answer quality decides when the numbers say so: the quality leader is recommended when its
   paired difference with every other strategy has a 95% interval that excludes zero.
2. Strategies whose difference with the leader is not detectable (the interval spans zero, or
   too few questions) are tied with it. Among tied strategies the user's other priorities decide
   (cost, update frequency, privacy, latency), each criterion scored from the measured numbers;
   a remaining tie goes to the simpler strategy (base < RAG < fine-tuned < hybrid).
3. A user who gives answer quality no weight gets the choice of priorities among all strategies.

The sentence that says it, in English or Spanish, comes from ``recommendation_sentence``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from backend.errors import InputError
from backend.evaluate.stats import Estimate, PairedComparison
from backend.evaluate.wording import describe_comparison, describe_estimate
from backend.report.phrases import capital, join, metric_label, say, strategy_name

CRITERIA = ("quality", "cost", "updates", "privacy", "latency")
#: simpler first: what a tie goes to when nothing else separates the strategies
SIMPLICITY = ("base", "rag", "finetuned", "hybrid")
MAX_WEIGHT = 5
#: privacy risk by where a strategy keeps your documents (lower is better)
_PRIVACY_RISK = {"base": 0, "rag": 1, "finetuned": 2, "hybrid": 2}
_GUARD_RISK = {"clean": 2, "redact": 2, "acknowledge": 3}


@dataclass(frozen=True)
class Priorities:
    """How much each criterion matters to the user, 0 (not at all) to 5 (most)."""

    quality: int = 3
    cost: int = 3
    updates: int = 3
    privacy: int = 3
    latency: int = 3

    def __post_init__(self) -> None:
        for name in CRITERIA:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 <= value <= MAX_WEIGHT):
                raise InputError(f"The priority {name!r} must be a number from 0 to {MAX_WEIGHT}, "
                                 f"not {value!r}.")

    def weight(self, criterion: str) -> float:
        """The weight (0-5) of ``criterion``, one of ``CRITERIA``."""
        return float(getattr(self, criterion))


@dataclass(frozen=True)
class StrategyEvidence:
    """What was measured for one strategy. ``quality`` is the headline metric's estimate;
    ``update_seconds`` the measured time until a changed document showed in its answers (freshness
    test; ``math.inf`` when it never did), None when not measured; ``guard`` the sensitive-data
    decision of its fine-tuned model (clean / redact / acknowledge), None for the others."""

    key: str
    label: str
    kind: str
    quality: Estimate
    cost_per_1k: float | None = None
    build_seconds: float | None = None
    latency_p95: float | None = None
    update_seconds: float | None = None
    guard: str | None = None

    def name(self, language: str, *, title: bool = False) -> str:
        """How the memo names it (see ``phrases.strategy_name``)."""
        return strategy_name(self.label, self.kind, language, title=title)


@dataclass(frozen=True)
class Evidence:
    """Every strategy's measurements on ``metric`` and their paired comparisons (``a``/``b`` are
    strategy keys; the difference is a - b)."""

    metric: str
    strategies: list[StrategyEvidence]
    comparisons: list[PairedComparison] = field(default_factory=list)
    higher_is_better: bool = True

    def strategy(self, key: str) -> StrategyEvidence:
        """The strategy with ``key`` (StopIteration when there is none: keys come from here)."""
        return next(s for s in self.strategies if s.key == key)

    def comparison(self, a: str, b: str) -> PairedComparison | None:
        """The comparison of ``a`` with ``b`` oriented as a - b, or None when not measured."""
        for cmp in self.comparisons:
            if (cmp.a, cmp.b) == (a, b):
                return cmp
            if (cmp.a, cmp.b) == (b, a):
                return flip(cmp)
        return None


def flip(cmp: PairedComparison) -> PairedComparison:
    """The same comparison read the other way round (b - a)."""
    d = cmp.diff
    diff = Estimate(None if d.mean is None else -d.mean, None if d.high is None else -d.high,
                    None if d.low is None else -d.low, d.n, d.method, d.confidence)
    return replace(cmp, a=cmp.b, b=cmp.a, wins=cmp.losses, losses=cmp.wins, diff=diff)


@dataclass(frozen=True)
class Recommendation:
    """The decision and what it rests on.

    ``outcome``: ``clear`` (the choice answers measurably better than every other), ``tied``
    (no detectable difference with ``contenders``; priorities decided), ``quality_ignored``,
    ``single`` (one strategy was scored) or ``none``. ``against`` holds the comparisons of the
    choice with each other scored strategy (choice - other); ``deciding`` the criteria, most
    weighted first, on which the choice beat ``runner_up`` (the next contender, or the closest
    rival of a clear winner); ``scores`` each criterion's 0-1 score per contender (1 = best)."""

    outcome: str
    choice: str | None
    leader: str | None = None
    contenders: tuple[str, ...] = ()
    against: tuple[PairedComparison, ...] = ()
    deciding: tuple[str, ...] = ()
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    runner_up: str | None = None


# --- scoring the other criteria ---------------------------------------------------------------------
def _risk(s: StrategyEvidence) -> float:
    risk = _PRIVACY_RISK.get(s.kind, 2)
    return float(max(risk, _GUARD_RISK.get(s.guard or "", 0)) if s.kind in ("finetuned", "hybrid")
                 else risk)


def _update_seconds(s: StrategyEvidence) -> float | None:
    """Measured time to reflect a change, else inferred: retrieval reads the new text once it is
    ingested, a fine-tuned model needs a retrain as long as its training, base never learns it."""
    if s.update_seconds is not None:
        return s.update_seconds
    if s.kind in ("rag", "hybrid"):
        return 0.0
    if s.kind == "finetuned":
        return s.build_seconds
    return math.inf


def _lower_is_better(values: dict[str, float | None]) -> dict[str, float]:
    """0-1 scores, 1 for the lowest value; infinite values score 0, unknown ones 0.5, and all
    equal values 1 (the criterion does not separate them)."""
    known = {k: v for k, v in values.items() if v is not None and not math.isnan(v)}
    finite = [v for v in known.values() if math.isfinite(v)]
    if not known:
        return {k: 1.0 for k in values}
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    out = {}
    for key, value in values.items():
        if key not in known:
            out[key] = 0.5
        elif not math.isfinite(value):
            out[key] = 0.0 if finite else 1.0
        elif high == low:
            out[key] = 1.0
        else:
            out[key] = 1.0 - (value - low) / (high - low)
    return out


def criterion_scores(strategies: list[StrategyEvidence]) -> dict[str, dict[str, float]]:
    """Per non-quality criterion, each strategy's 0-1 score (1 = best among ``strategies``).
    Cost averages the running cost per 1,000 questions and the one-off build time."""
    keys = [s.key for s in strategies]
    running = _lower_is_better({s.key: s.cost_per_1k for s in strategies})
    build = _lower_is_better({s.key: s.build_seconds or 0.0 for s in strategies})
    return {
        "cost": {k: (running[k] + build[k]) / 2 for k in keys},
        "updates": _lower_is_better({s.key: _update_seconds(s) for s in strategies}),
        "privacy": _lower_is_better({s.key: _risk(s) for s in strategies}),
        "latency": _lower_is_better({s.key: s.latency_p95 for s in strategies}),
    }


def _simplicity(kind: str) -> int:
    return SIMPLICITY.index(kind) if kind in SIMPLICITY else len(SIMPLICITY)


def _by_priorities(pool: list[StrategyEvidence], priorities: Priorities
                   ) -> tuple[StrategyEvidence, StrategyEvidence, tuple[str, ...],
                              dict[str, dict[str, float]]]:
    """``(best, runner-up, deciding criteria, scores)`` among ``pool`` (two or more)."""
    scores = criterion_scores(pool)
    weights = {c: priorities.weight(c) for c in scores}
    total = sum(weights.values())

    def rank(s: StrategyEvidence) -> tuple:
        value = sum(weights[c] * scores[c][s.key] for c in scores) / total if total else 0.0
        # best weighted score; then the simpler strategy; then the better measured quality
        return round(value, 9), -_simplicity(s.kind), s.quality.mean or 0.0

    best, runner = sorted(pool, key=rank, reverse=True)[:2]
    gains = {c: weights[c] * (scores[c][best.key] - scores[c][runner.key]) for c in scores}
    deciding = tuple(sorted((c for c in scores if gains[c] > 1e-9), key=lambda c: -gains[c]))
    if not deciding:  # nothing measured separates them: the tie went to the simpler strategy
        deciding = ("simplicity",)
    return best, runner, deciding, scores


# --- the decision -----------------------------------------------------------------------------------
def _better(cmp: PairedComparison | None, higher_is_better: bool) -> bool:
    """True when ``cmp`` (a - b) shows ``a`` measurably better than ``b``."""
    if cmp is None or not cmp.significant or cmp.diff.mean is None:
        return False
    return (cmp.diff.mean > 0) == higher_is_better


def decide(evidence: Evidence, priorities: Priorities = Priorities()) -> Recommendation:
    """The recommended strategy for ``evidence`` under ``priorities`` (see the module doc)."""
    scored = [s for s in evidence.strategies if s.quality.n > 0 and s.quality.mean is not None]
    if not scored:
        return Recommendation("none", None)
    sign = 1 if evidence.higher_is_better else -1
    leader = max(scored, key=lambda s: (sign * s.quality.mean, -_simplicity(s.kind)))
    if len(scored) == 1:
        return Recommendation("single", leader.key, leader.key, (leader.key,))
    if priorities.quality == 0:
        outcome, pool = "quality_ignored", scored
    else:
        # the strategies no other strategy measurably beats; the leader normally is one of them
        pool = [s for s in scored if not any(
            _better(evidence.comparison(o.key, s.key), evidence.higher_is_better)
            for o in scored if o.key != s.key)] or [leader]
        outcome = "clear" if len(pool) == 1 else "tied"
    against = {s.key: evidence.comparison(pool[0].key, s.key) for s in scored}
    if len(pool) == 1:
        choice, deciding, scores = pool[0], (), {}
        rivals = [c for k, c in against.items() if k != choice.key and c is not None
                  and c.diff.mean is not None]
        runner = min(rivals, key=lambda c: abs(c.diff.mean)).b if rivals else None
    else:
        choice, second, deciding, scores = _by_priorities(pool, priorities)
        runner = second.key
    against_choice = tuple(c for c in (evidence.comparison(choice.key, s.key) for s in scored
                                       if s.key != choice.key) if c is not None)
    return Recommendation(outcome, choice.key, leader.key, tuple(s.key for s in pool),
                          against_choice, deciding, scores, runner)


# --- the sentence -----------------------------------------------------------------------------------
def named(cmp: PairedComparison, evidence: Evidence, language: str) -> PairedComparison:
    """``cmp`` with strategy keys replaced by their names in ``language`` (for wording)."""
    return replace(cmp, a=evidence.strategy(cmp.a).name(language),
                   b=evidence.strategy(cmp.b).name(language))


def comparison_sentence(cmp: PairedComparison, evidence: Evidence, language: str) -> str:
    """"hybrid beats RAG on answer similarity by 0.07 (95% CI 0.03–0.11)" or "no detectable
    difference between ...", in ``language``."""
    return describe_comparison(named(cmp, evidence, language), metric_label(evidence.metric, language),
                               language, higher_is_better=evidence.higher_is_better)


def versus(rec: Recommendation, other: str | None) -> PairedComparison | None:
    """The comparison of the choice with ``other`` (choice - other), when it was measured."""
    return next((c for c in rec.against if c.b == other), None)


def recommendation_sentence(rec: Recommendation, evidence: Evidence, language: str) -> str:
    """The recommendation in one sentence, with the numbers behind it, in ``language``."""
    if rec.outcome == "none" or rec.choice is None:
        return say(language, "rec.none")
    choice = evidence.strategy(rec.choice)
    name = choice.name(language)
    metric = metric_label(evidence.metric, language)
    if rec.outcome == "single":
        return capital(say(language, "rec.single", choice=name, metric=metric,
                           estimate=describe_estimate(choice.quality, language)))
    why = join([say(language, f"why.{c}") for c in rec.deciding[:2]], language)
    if rec.outcome == "quality_ignored":
        return say(language, "rec.quality_ignored", choice=name, why=why)
    cmp = versus(rec, rec.runner_up)
    if cmp is None:  # tied for lack of a paired comparison: give the estimate and its n instead
        evidence_text = f"{name}: {describe_estimate(choice.quality, language)}"
    else:
        evidence_text = comparison_sentence(cmp, evidence, language)
    key = "rec.clear" if rec.outcome == "clear" else "rec.tied"
    return say(language, key, choice=name, why=why, evidence=evidence_text)
