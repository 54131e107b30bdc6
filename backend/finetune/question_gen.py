"""Generating a question set from a corpus: the one generator the lab has (evaluation reuses it).

Two ways, chosen by :func:`generate_rows`:
- ``extractive`` (no model; the default with the bundled small model, which cannot write good
  questions): picks informative sentences from the chunks and wraps each in a question template
  ("What is X?", "What does <document> say about <key words>?"), with the sentence as the
  reference answer and its chunk as the reference context. Deterministic for a seed. Labelled as
  such wherever it is shown: the questions are templates, not paraphrases.
- ``llm``: a configured generator model (an OpenAI-compatible endpoint or a local model) reads a
  chunk and writes one question and its answer as JSON. Chunks whose reply is not usable are
  skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from typing import Sequence

from backend.errors import InputError
from backend.finetune.corpus_text import Chunk
from backend.finetune.question_io import QuestionRow

EXTRACTIVE_LABEL = "Extractive (no model): template questions around sentences taken from the text"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'“¿¡(]?[A-ZÁÉÍÓÚÑÜ0-9])")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_COPULA = {"en": re.compile(r"^(?P<subj>(?:the |a |an )?[^,;:()]{3,60}?) (?P<verb>is|are) (?P<rest>.{8,})$",
                            re.IGNORECASE),
           "es": re.compile(r"^(?P<subj>(?:el |la |los |las |un |una )?[^,;:()]{3,60}?) "
                            r"(?P<verb>es|son) (?P<rest>.{8,})$", re.IGNORECASE)}
_STOP = {
    "en": set("""a an the and or but if of to in on at by for with from as is are was were be been
        being it its this that these those there their they them he she his her we our you your i
        not no can could will would shall should may might must do does did has have had than then
        so such also which who whom whose what when where why how all any each more most other
        some into over under about after before between up out only own same very just""".split()),
    "es": set("""el la los las un una unos unas y o u pero si de del a al en por para con sin sobre
        como es son fue fueron ser era eran está están este esta estos estas ese esa esos esas que
        quien cuyo cual cuales cuando donde cómo qué no ni se su sus lo le les nos mi tu muy más
        menos también ya hay ha han había entre hasta desde durante cada todo toda todos todas""".split()),
}
_TEMPLATES = {
    "en": {"what": "What {verb} {subj}?", "about": "What does {doc} say about {key}?"},
    "es": {"what": "¿Qué {verb} {subj}?", "about": "¿Qué dice {doc} sobre {key}?"},
}


_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+[^\n]*$")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (a light splitter: periods before a capital or digit). Markdown
    heading lines are left out: a chunk starting "# Returns" would glue the heading to its first
    sentence ("# Returns The tent can be returned ...")."""
    flat = re.sub(r"\s+", " ", _HEADING.sub(" ", text)).strip()
    return [s.strip() for s in _SENTENCE.split(flat) if s.strip()]


def _language(language: str, texts: Sequence[str]) -> str:
    if language in ("en", "es"):
        return language
    words = Counter(w.lower() for t in texts[:50] for w in _WORD.findall(t))
    es = sum(words[w] for w in ("el", "la", "de", "que", "los", "y", "en", "es"))
    en = sum(words[w] for w in ("the", "of", "and", "to", "is", "in", "that", "for"))
    return "es" if es > en else "en"


def _idf(chunks: Sequence[Chunk]) -> dict[str, float]:
    df: Counter = Counter()
    for c in chunks:
        df.update({w.lower() for w in _WORD.findall(c.text)})
    n = len(chunks)
    return {w: math.log((1 + n) / (1 + k)) + 1 for w, k in df.items()}


def _score(sentence: str, idf: dict[str, float], stop: set[str]) -> float:
    words = _WORD.findall(sentence)
    if not 6 <= len(words) <= 45 or sentence.endswith(("?", ":")) or not sentence.endswith((".", "!")):
        return 0.0
    letters = sum(ch.isalpha() for ch in sentence)
    if letters < 0.6 * len(sentence):  # tables, lists of numbers, code
        return 0.0
    content = [w for w in words if w.lower() not in stop]
    informative = sum(idf.get(w.lower(), 1.0) for w in content) / math.sqrt(len(words))
    facts = sum(1 for w in words if any(ch.isdigit() for ch in w)) + sum(
        1 for w in words[1:] if w[:1].isupper())
    return informative + 0.5 * min(facts, 4)


def _key_phrase(sentence: str, idf: dict[str, float], stop: set[str], width: int = 3) -> str:
    words = _WORD.findall(sentence)
    best, best_score = "", -1.0
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + width) + 1):
            span = words[i:j]
            if span[0].lower() in stop or span[-1].lower() in stop:
                continue
            score = sum(idf.get(w.lower(), 1.0) for w in span if w.lower() not in stop)
            if score > best_score:
                best, best_score = " ".join(span), score
    return best


def _question(sentence: str, chunk: Chunk, lang: str, idf: dict[str, float]) -> str:
    stop = _STOP[lang]
    m = _COPULA[lang].match(sentence.rstrip(".!"))
    if m and len(m.group("subj").split()) <= 8:
        subj = m.group("subj")
        if subj.split()[0].lower() in stop:  # "The warranty" -> "the warranty" mid-sentence
            subj = subj[0].lower() + subj[1:]
        return _TEMPLATES[lang]["what"].format(verb=m.group("verb").lower(), subj=subj)
    doc = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", chunk.document_name) or chunk.document_name
    return _TEMPLATES[lang]["about"].format(doc=doc, key=_key_phrase(sentence, idf, stop))


def extractive_rows(chunks: Sequence[Chunk], n: int, *, seed: int = 0,
                    language: str = "en", per_chunk: int = 1) -> list[QuestionRow]:
    """Up to ``n`` template questions from the most informative sentences, spread over the
    chunks (at most ``per_chunk`` each) and the documents; deterministic for ``seed``."""
    if n < 1:
        raise InputError("Ask for at least one question.")
    lang = _language(language, [c.text for c in chunks])
    idf, stop = _idf(chunks), _STOP[lang]
    candidates = []
    for c in chunks:
        scored = sorted(((s, _score(s, idf, stop)) for s in split_sentences(c.text)),
                        key=lambda x: -x[1])
        for rank, (sentence, score) in enumerate(x for x in scored if x[1] > 0):
            if rank >= per_chunk:
                break
            tie = hashlib.sha256(f"{seed}\x00{sentence}".encode()).hexdigest()
            candidates.append((-score, tie, c, sentence))
    candidates.sort(key=lambda x: (x[0], x[1]))
    # round-robin over documents so one long document does not supply every question
    by_doc: dict[str, list] = {}
    for cand in candidates:
        by_doc.setdefault(cand[2].document_id, []).append(cand)
    picked, seen = [], set()
    while len(picked) < n and any(by_doc.values()):
        for doc_id in sorted(by_doc, key=lambda d: (by_doc[d][0][:2] if by_doc[d] else (0, ""))):
            if by_doc[doc_id] and len(picked) < n:
                _, _, chunk, sentence = by_doc[doc_id].pop(0)
                question = _question(sentence, chunk, lang, idf)
                if question.lower() not in seen:
                    seen.add(question.lower())
                    picked.append(QuestionRow(question, sentence, [chunk.text], metadata={
                        "document_id": chunk.document_id, "document_name": chunk.document_name,
                        "chunk_id": chunk.id, "page": chunk.page, "generator": "extractive"}))
    if not picked:
        raise InputError("No sentence in this corpus looks like a fact to ask about.",
                         hint="Upload a question set instead, or use a generator model.")
    return picked


LLM_PROMPT = {
    "en": "Read the passage and write ONE question that it answers, and the answer, using only the "
          "passage. Reply with JSON only: {{\"question\": \"...\", \"answer\": \"...\"}}\n\n"
          "Passage:\n{text}",
    "es": "Lee el texto y escribe UNA pregunta que responda, y la respuesta, usando solo el texto. "
          "Responde solo con JSON: {{\"question\": \"...\", \"answer\": \"...\"}}\n\nTexto:\n{text}",
}


def llm_rows(chunks: Sequence[Chunk], n: int, generator, *, seed: int = 0, language: str = "en",
             max_chars: int = 3000) -> tuple[list[QuestionRow], int]:
    """Up to ``n`` questions written by ``generator`` (a ``backend.models.llm.Generator``), one
    per chunk, chunks taken in a seeded order. Returns the rows and how many replies were unusable."""
    from backend.models.llm import GenerationConfig

    lang = _language(language, [c.text for c in chunks])
    order = sorted(chunks, key=lambda c: hashlib.sha256(f"{seed}\x00{c.id}".encode()).hexdigest())
    rows, failed, seen = [], 0, set()
    config = GenerationConfig(max_new_tokens=200, temperature=0.0, seed=seed)
    for start in range(0, len(order), 8):
        if len(rows) >= n:
            break
        batch = order[start:start + min(8, n - len(rows))]
        prompts = [[{"role": "user", "content": LLM_PROMPT[lang].format(text=c.text[:max_chars])}]
                   for c in batch]
        for chunk, gen in zip(batch, generator.generate(prompts, config)):
            pair = parse_pair(gen.text)
            if pair is None or pair[0].lower() in seen:
                failed += 1
                continue
            seen.add(pair[0].lower())
            rows.append(QuestionRow(pair[0], pair[1], [chunk.text], metadata={
                "document_id": chunk.document_id, "document_name": chunk.document_name,
                "chunk_id": chunk.id, "page": chunk.page, "generator": "llm"}))
    return rows[:n], failed


def parse_pair(text: str) -> tuple[str, str] | None:
    """``(question, answer)`` from a model's reply holding a JSON object, or None."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    q, a = str(obj.get("question", "")).strip(), str(obj.get("answer", "")).strip()
    return (q, a) if len(q) > 5 and a else None


GENERATORS = ("extractive", "llm")


def generate_set(lab, corpus_id: str, name: str, n: int = 20, *, generator: str = "extractive",
                 model: str | None = None, seed: int = 0, held_out_fraction: float = 0.2,
                 per_chunk: int = 1):
    """Generate a question set from a corpus's chunks and store it (version 1).

    ``generator="extractive"`` needs no model; ``"llm"`` uses ``model`` (default: the configured
    generation model), an ``openai:`` endpoint or a local model. The set records which generator
    made it, so pages can label extractive sets as such.
    """
    from backend.finetune.corpus_text import corpus_chunks, corpus_info
    from backend.finetune.questions import create_set

    if generator not in GENERATORS:
        raise InputError(f"Unknown question generator {generator!r}.",
                         hint=f"Use one of {', '.join(GENERATORS)}.")
    corpus = corpus_info(lab, corpus_id)
    chunks = corpus_chunks(lab, corpus_id)
    if generator == "extractive":
        rows = extractive_rows(chunks, n, seed=seed, language=corpus["language"], per_chunk=per_chunk)
        info = {"generator": "extractive", "label": EXTRACTIVE_LABEL, "seed": seed, "asked": n}
    else:
        from backend.models.registry import get_generator

        gen = get_generator(lab.settings, model)
        rows, failed = llm_rows(chunks, n, gen, seed=seed, language=corpus["language"])
        if not rows:
            raise InputError(f"The model {gen.name} wrote no usable question ({failed} replies "
                             "were not the JSON asked for).",
                             hint="Use a larger generator model, or the extractive generator.")
        info = {"generator": "llm", "model": gen.name, "model_id": gen.model_id, "seed": seed,
                "asked": n, "unusable_replies": failed}
    return create_set(lab, corpus_id, name, rows, held_out_fraction=held_out_fraction, seed=seed,
                      source=generator, generator=info)
