"""Sentences from numbers: what an estimate or a paired comparison says, in English or Spanish.

A difference is only called a win when its confidence interval excludes zero; otherwise the
sentence says "no detectable difference" and still gives the numbers. Spanish uses the decimal
comma and "IC 95 %". Strategy names and metric labels come from the caller, already translated
(in Spanish with their article when they take one: "el híbrido"); the grammar around them is
handled here ("a" + "el" = "al", "y" before an i sound becomes "e").
"""

from __future__ import annotations

import unicodedata

from backend.errors import InputError
from backend.evaluate.stats import Estimate, PairedComparison

MINUS = "\u2212"  # a real minus sign: a hyphen looks like a range dash next to "–"
DASH = "\u2013"
MAX_DECIMALS = 4


def _lang(language: str) -> str:
    lang = (language or "").lower()[:2]
    if lang not in ("en", "es"):
        raise InputError(f"Language {language!r} is not supported.", hint="Use 'en' or 'es'.")
    return lang


def format_number(value: float, language: str, decimals: int = 2) -> str:
    """``0.07`` -> "0.07" (en) / "0,07" (es); negatives get a minus sign, never "-0.00"."""
    text = f"{abs(value):.{decimals}f}"
    negative = value < 0 and float(text) != 0
    if _lang(language) == "es":
        text = text.replace(".", ",")
    return MINUS + text if negative else text


def _confidence(confidence: float, lang: str) -> str:
    text = f"{confidence * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "es" else text


def _ci(low: float, high: float, confidence: float, lang: str, decimals: int) -> str:
    span = f"{format_number(low, lang, decimals)}{DASH}{format_number(high, lang, decimals)}"
    if lang == "es":
        return f"IC {_confidence(confidence, lang)} % {span}"
    return f"{_confidence(confidence, lang)}% CI {span}"


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _a(name: str) -> str:
    """Spanish "a" before a name: "a RAG", "al híbrido" (a + el)."""
    return "al " + name[3:] if name.lower().startswith("el ") else "a " + name


def _and(a: str, b: str, lang: str) -> str:
    if lang == "en":
        return f"{a} and {b}"
    folded = _fold(b)
    # "y" becomes "e" before an i sound ("RAG e híbrido"), but not before "hie" ("y hielo")
    conj = "e" if (folded.startswith("i") or folded.startswith("hi")) and not folded.startswith("hie") else "y"
    return f"{a} {conj} {b}"


def _decimals_for(amount: float, decimals: int) -> int:
    # a real (significant) difference should never read "by 0.00"
    while amount != 0 and round(abs(amount), decimals) == 0 and decimals < MAX_DECIMALS:
        decimals += 1
    return decimals


def describe_comparison(cmp: PairedComparison, metric_label: str, language: str, *,
                        higher_is_better: bool = True, decimals: int = 2) -> str:
    """One sentence saying who wins on ``metric_label`` and by how much, or that no difference
    was detected, always with the interval. E.g. "hybrid beats RAG on answer similarity by 0.07
    (95% CI 0.03–0.11)" / "el híbrido supera a RAG en similitud de respuesta por 0,07
    (IC 95 % 0,03–0,11)". ``higher_is_better`` says which direction of a - b is a win.
    """
    lang = _lang(language)
    d = cmp.diff
    if cmp.n == 0 or d.mean is None:
        if lang == "es":
            return f"ninguna pregunta tiene puntuación de {cmp.a} y de {cmp.b} en {metric_label}"
        return f"no question was scored for both {cmp.a} and {cmp.b} on {metric_label}"
    if not d.has_interval:
        if lang == "es":
            return (f"no hay preguntas suficientes para comparar {_and(cmp.a, cmp.b, lang)} "
                    f"en {metric_label} (n = {cmp.n})")
        return f"too few questions to compare {cmp.a} and {cmp.b} on {metric_label} (n = {cmp.n})"
    if cmp.significant:
        a_wins = (d.mean > 0) == higher_is_better
        winner, loser = (cmp.a, cmp.b) if a_wins else (cmp.b, cmp.a)
        # express the gap as a positive amount in the winner's favour, interval flipped to match
        sign = 1.0 if d.mean > 0 else -1.0
        low, high = sorted((sign * d.low, sign * d.high))
        places = _decimals_for(abs(d.mean), decimals)
        amount = format_number(abs(d.mean), lang, places)
        ci = _ci(low, high, d.confidence, lang, places)
        if lang == "es":
            return f"{winner} supera {_a(loser)} en {metric_label} por {amount} ({ci})"
        return f"{winner} beats {loser} on {metric_label} by {amount} ({ci})"
    mean = format_number(d.mean, lang, decimals)
    ci = _ci(d.low, d.high, d.confidence, lang, decimals)
    if lang == "es":
        return (f"no hay diferencia detectable entre {_and(cmp.a, cmp.b, lang)} en {metric_label} "
                f"(diferencia {mean}; {ci})")
    return (f"no detectable difference between {cmp.a} and {cmp.b} on {metric_label} "
            f"(difference {mean}, {ci})")


def describe_estimate(est: Estimate, language: str, *, decimals: int = 2) -> str:
    """A mean with its interval and sample count: "0.72 (95% CI 0.68–0.76, n = 60)" /
    "0,72 (IC 95 % 0,68–0,76; n = 60)"; "no scores" / "sin puntuaciones" when n is 0."""
    lang = _lang(language)
    if est.n == 0 or est.mean is None:
        return "sin puntuaciones" if lang == "es" else "no scores"
    mean = format_number(est.mean, lang, decimals)
    if not est.has_interval:
        return f"{mean} (n = {est.n})"
    ci = _ci(est.low, est.high, est.confidence, lang, decimals)
    sep = ";" if lang == "es" else ","
    return f"{mean} ({ci}{sep} n = {est.n})"
