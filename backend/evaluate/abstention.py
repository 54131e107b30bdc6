"""Detect answers that decline to answer ("I don't know", "el contexto no menciona ...").

An unanswerable question is answered well by declining, so the evaluation needs to tell a refusal
from an answer. This is a phrase-based detector for English and Spanish: an answer counts as an
abstention when it contains a declining phrase. It is tuned to be conservative on look-alikes
("I know that ...", "no se permiten devoluciones", "you cannot return opened items"), which are
answers, not refusals. Accents are optional ("no lo se" == "no lo sé"), and so are typographic
apostrophes ("don’t").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from backend.errors import InputError

LANGUAGES = ("en", "es")

# Written against text that is lower-cased, accent-free, with straight apostrophes and single
# spaces (see ``_fold``). Each pattern needs a first-person subject or a named source (context,
# documents) so that ordinary negative statements about the subject matter do not match.
_EN = [
    r"\bi (?:really |honestly )?(?:do not|don't|dont) know\b",
    r"\bi (?:do not|don't|dont) have (?:enough |any |sufficient |the )?(?:information|info|details|data|knowledge)\b",
    r"\bi have no (?:information|info|details|data|knowledge|way of knowing)\b",
    r"\bi (?:cannot|can't|cant|can not|am unable to|'m unable to|am not able to|'m not able to)"
    r" (?:answer|determine|find|say|tell|provide|confirm|help|know|give)\b",
    r"\bunable to (?:answer|determine) (?:this|that|the|your)\b",
    r"\bit is not possible to (?:answer|determine|say|tell)\b",
    r"\b(?:the |this )?(?:provided |given )?(?:context|text|documents?|passages?|sources?|excerpts?)"
    r" (?:does not|doesn't|doesnt|do not|don't|dont) (?:contain|mention|include|provide|say|specify|state"
    r"|address|answer)\b",
    r"\bnot (?:mentioned|specified|stated|provided|covered|addressed|found|available|given)"
    r" in the (?:provided |given )?(?:context|text|documents?|passages?|sources?|information)\b",
    r"\bthere (?:is|'s) no (?:information|mention|data|details?)\b",
    r"\b(?:not enough|insufficient|no relevant) information\b",
    r"\bno information (?:about|on|regarding|is (?:available|given|provided)|was provided)\b",
]

_ES = [
    r"\bno lo se\b",
    # "no se" without the accent is usually the impersonal "no se permiten ...": only count it when
    # nothing follows, or when it is followed by words that make it "I do not know".
    r"\b(?:yo )?no se(?:\s*[.!,;:]|\s*$| (?:la respuesta|nada|si |que responder|como responder|cual|exactamente))",
    r"\b(?:no tengo|no dispongo de|no cuento con|carezco de) (?:(?:la|suficiente|ninguna|mas|esa|esta) )?"
    r"(?:informacion|datos|detalles|conocimiento)\b",
    r"\bdesconozco\b",
    r"\bno (?:puedo|podria) (?:responder|contestar|determinar|decir|confirmar|encontrar|proporcionar|dar"
    r"|ayudar|saber)\b",
    r"\bno (?:es posible|se puede) (?:responder|contestar|determinar|saber|confirmar)\b",
    r"\b(?:el |los |este )?(?:contexto|texto|documentos?|fragmentos?|pasajes?|fuentes?)"
    r"(?: proporcionados?| dados?)? no (?:menciona|mencionan|contiene|contienen|incluye|incluyen|proporciona"
    r"|proporcionan|dice|dicen|especifica|especifican|indica|indican|aborda|abordan|trata|tratan|responde)\b",
    r"\bno (?:se )?(?:menciona|especifica|indica|encuentra|proporciona|incluye)[n]? en (?:el|los|la|las) "
    r"(?:contexto|texto|documentos?|fragmentos?|informacion)\b",
    r"\bno hay (?:suficiente |ninguna )?(?:informacion|mencion)\b",
    r"\b(?:informacion insuficiente|sin informacion suficiente)\b",
]

_EN_RE = [re.compile(p) for p in _EN]
_ES_RE = [re.compile(p) for p in _ES]
# With its accent, "no sé" is unambiguous; checked on the text before accents are removed.
_ES_ACCENTED = re.compile(r"\bno (?:lo )?sé\b")


def _fold(text: str) -> str:
    """Lower case, accents removed, straight apostrophes, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


def _check_language(language: str) -> str:
    lang = (language or "").lower()[:2]
    if lang not in LANGUAGES:
        raise InputError(f"Language {language!r} is not supported for abstention detection.",
                         hint="Use 'en' or 'es'.")
    return lang


def is_abstention(answer: str, language: str) -> bool:
    """True when ``answer`` declines to answer (in ``language``, 'en' or 'es').

    Patterns of both languages are tried whatever ``language`` says, because small models often
    decline in English to a Spanish question; ``language`` is still validated so that a typo in a
    test set is caught. An empty answer counts as an abstention: nothing was asserted.
    """
    _check_language(language)
    if answer is None or not answer.strip():
        return True
    if _ES_ACCENTED.search(unicodedata.normalize("NFC", answer.lower())):
        return True
    folded = _fold(answer)
    return any(p.search(folded) for p in _EN_RE) or any(p.search(folded) for p in _ES_RE)


def abstention_rate(answers: Iterable[str], languages: Iterable[str] | str) -> float | None:
    """Share of ``answers`` that decline, in [0, 1]; None when there are no answers.

    ``languages`` is one language for all answers or one per answer (same length).
    """
    answers = list(answers)
    if isinstance(languages, str):
        langs = [languages] * len(answers)
    else:
        langs = list(languages)
        if len(langs) != len(answers):
            raise InputError(f"{len(answers)} answers but {len(langs)} languages were given.")
    if not answers:
        return None
    return sum(is_abstention(a, lang) for a, lang in zip(answers, langs)) / len(answers)
