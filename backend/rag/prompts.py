"""Prompt templates for cited answers, in English and Spanish, and a simple language detector.

A template is a name and, per language, a system message, a worked example and a user message
with ``{sources}`` and ``{question}`` slots. Sources are numbered ``[1]``..``[n]``; the model is
asked to cite them and, when they do not hold the answer, to reply with the template's "I don't
know" sentence in the question's language (phrased so that ``backend.evaluate.abstention``
recognises it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from backend.rag.retrieval import RetrievedChunk

LANGUAGES = ("en", "es")

DONT_KNOW = {
    "en": "I don't know: the documents do not say.",
    "es": "No lo sé: los documentos no lo dicen.",
}


@dataclass(frozen=True)
class PromptTemplate:
    """A system message, an optional worked example (one user/assistant exchange showing the
    expected form: it makes small models cite far more reliably than instructions alone) and the
    user message, per language."""

    name: str
    system: dict[str, str]
    user: dict[str, str]
    example: dict[str, tuple[str, str]] = field(default_factory=dict)

    def conversation(self, question: str, sources: str, language: str) -> list[dict]:
        """The chat messages for ``question`` with the numbered ``sources`` text."""
        lang = language if language in LANGUAGES else "en"
        values = {"sources": sources, "question": question.strip(), "dont_know": DONT_KNOW[lang]}
        messages = [{"role": "system", "content": self.system[lang].format(**values)}]
        if lang in self.example:
            shown, reply = self.example[lang]
            messages += [{"role": "user", "content": shown}, {"role": "assistant", "content": reply}]
        messages.append({"role": "user", "content": self.user[lang].format(**values)})
        return messages


DEFAULT_TEMPLATE = PromptTemplate(
    name="cited-v1",
    system={
        "en": "Answer the question in one or two short sentences using only the numbered sources, "
              "and write the number of the source you used in square brackets, like [1]. If the "
              "sources do not contain the answer, reply: {dont_know}",
        "es": "Responde a la pregunta en una o dos frases cortas usando solo las fuentes numeradas, "
              "y escribe entre corchetes el número de la fuente que usaste, así: [1]. Si las fuentes "
              "no contienen la respuesta, responde: {dont_know}",
    },
    example={
        "en": ("Sources:\n[1] (opening-hours.txt) The shop opens at 9 am from Monday to Saturday.\n"
               "[2] (parking.txt) Parking is free for customers.\n\nQuestion: When does the shop open?",
               "The shop opens at 9 am, Monday to Saturday [1]."),
        "es": ("Fuentes:\n[1] (horario.txt) La tienda abre a las 9 de lunes a sábado.\n"
               "[2] (aparcamiento.txt) El aparcamiento es gratuito para los clientes.\n\n"
               "Pregunta: ¿A qué hora abre la tienda?",
               "La tienda abre a las 9, de lunes a sábado [1]."),
    },
    user={
        "en": "Sources:\n{sources}\n\nQuestion: {question}",
        "es": "Fuentes:\n{sources}\n\nPregunta: {question}",
    },
)

TEMPLATES = {DEFAULT_TEMPLATE.name: DEFAULT_TEMPLATE}
NO_SOURCES = {"en": "(no sources were found)", "es": "(no se encontraron fuentes)"}


def get_template(name: str) -> PromptTemplate:
    """A registered template by name (KeyError lists the known ones)."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"unknown prompt template {name!r}; known: {', '.join(TEMPLATES)}") from None


def format_sources(chunks: Sequence["RetrievedChunk"], language: str = "en") -> str:
    """One line per chunk, ``[1] (handbook.pdf, p. 2) <text>``, numbered in the order given
    (white space folded: the one-line form is the one the worked example shows)."""
    if not chunks:
        return NO_SOURCES.get(language, NO_SOURCES["en"])
    return "\n".join(f"[{i}] ({c.source_label}) {' '.join(c.text.split())}"
                     for i, c in enumerate(chunks, start=1))


# --- language ---------------------------------------------------------------------------------------
_ES_WORDS = {"el", "la", "los", "las", "de", "del", "que", "qué", "es", "en", "un", "una", "por",
             "para", "cuál", "cual", "cuándo", "cuando", "cómo", "como", "dónde", "donde", "cuánto",
             "cuántos", "cuantos", "quién", "quien", "se", "con", "son", "hay", "puedo", "sus", "su",
             "y", "o", "al", "lo", "le", "mi", "tiene", "está", "esta", "qué", "nuestra", "nuestro"}
_EN_WORDS = {"the", "a", "an", "of", "is", "are", "what", "which", "when", "how", "where", "who",
             "why", "can", "do", "does", "to", "in", "for", "with", "and", "or", "my", "i", "it",
             "on", "be", "there", "many", "much", "our", "your", "you", "this", "that", "have", "has"}
_WORD = re.compile(r"[a-záéíóúüñ]+")


def detect_language(text: str) -> str:
    """``"es"`` or ``"en"``: Spanish punctuation and letters, then common function words decide;
    English on a tie (the lab's default language)."""
    lowered = (text or "").lower()
    score = 3 * sum(lowered.count(ch) for ch in "¿¡ñ")
    score += sum(lowered.count(ch) for ch in "áéíóú")
    for word in _WORD.findall(lowered):
        score += (word in _ES_WORDS) - (word in _EN_WORDS)
    return "es" if score > 0 else "en"
