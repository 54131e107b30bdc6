"""The ``paraphrase`` builder: question-answer pairs with several rewordings of each question.

A model that saw a fact under one wording often cannot recall it under another; a few rewordings
per question help it learn the fact. Each train question of the set gives its original pair (when
``include_original``) and up to ``n_variants`` pairs with a reworded question and the same answer
(or, with ``paraphrase_answers``, an answer reworded with every number and name kept).

Who rewords is recorded with the dataset and with every example (``paraphraser``):
- ``rules``: the deterministic rule-based paraphraser of ``paraphrase_rules`` (the choice with the
  bundled small model, which cannot paraphrase reliably), labelled as such;
- ``llm``: a generator model (``model``, default the configured one) asked for rewordings, one a
  line; replies that are unusable (empty, the question itself, not a question) are counted, and
  rules top up the missing variants (labelled per example);
- ``auto`` (default): ``llm`` when the model is an OpenAI-compatible endpoint, else ``rules``.
No variant may equal or contain a held-out question of the corpus: those are dropped here (and
counted), and the run-time leak check sees the augmented set again before training.
"""

from __future__ import annotations

import re
from typing import Sequence

from backend.errors import InputError
from backend.finetune.datasets import NO_ANSWER, Built, builder
from backend.finetune.overlap import HeldOut, find_leaks, normalise
from backend.finetune.paraphrase_rules import (RULES_LABEL, facts, paraphrase_answer,
                                               paraphrase_question)

PARAPHRASERS = ("auto", "rules", "llm")
MAX_VARIANTS = 10
LLM_PROMPT = {
    "en": "Rewrite the question below in {n} different ways. Keep its meaning, every name and "
          "number, and its language; change the wording. Write one question per line and nothing "
          "else.\n\nQuestion: {question}",
    "es": "Reescribe la pregunta de abajo de {n} formas distintas. Mantén su significado, todos los "
          "nombres y números y el idioma; cambia la redacción. Escribe una pregunta por línea y "
          "nada más.\n\nPregunta: {question}",
}
LLM_ANSWER_PROMPT = {
    "en": "Reword this answer in one sentence, keeping every fact, name and number. Reply with the "
          "reworded answer only.\n\nAnswer: {answer}",
    "es": "Reescribe esta respuesta en una frase, manteniendo todos los datos, nombres y números. "
          "Responde solo con la respuesta reescrita.\n\nRespuesta: {answer}",
}
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|\(\d{1,2}\))\s*")


def parse_variants(reply: str, question: str, n: int) -> list[str]:
    """Usable rewordings in a model's reply: one per line, list marks and quotes removed; each a
    question (ends with "?") that keeps every name and number of ``question``, not the question
    itself, without repeats; at most ``n``."""
    seen, out, needed = {normalise(question)}, [], facts(question)
    for line in reply.splitlines():
        text = _LIST_MARK.sub("", line).strip().strip("\"'“”«»").strip()
        key = normalise(text)
        if len(key.split()) < 2 or key in seen or not text.endswith("?") or \
                not needed <= facts(text) | {text.split()[0].lstrip("¿")}:
            continue
        seen.add(key)
        out.append(text)
    return out[:n]


def llm_variants(generator, questions: Sequence[str], n: int, languages: Sequence[str], *,
                 seed: int = 0) -> tuple[list[list[str]], int]:
    """Rewordings of each question written by ``generator`` (a ``backend.models.llm.Generator``),
    and how many replies gave fewer than ``n`` usable ones."""
    from backend.models.llm import GenerationConfig

    config = GenerationConfig(max_new_tokens=48 * n, temperature=0.0, seed=seed)
    prompts = [[{"role": "user", "content": LLM_PROMPT.get(lang, LLM_PROMPT["en"]).format(
        n=n, question=q)}] for q, lang in zip(questions, languages)]
    out, short = [], 0
    for start in range(0, len(prompts), 8):
        for q, gen in zip(questions[start:start + 8],
                          generator.generate(prompts[start:start + 8], config)):
            variants = parse_variants(gen.text, q, n)
            short += len(variants) < n
            out.append(variants)
    return out, short


def llm_answer(generator, answer: str, language: str, *, seed: int = 0) -> str | None:
    """A model's rewording of ``answer``, or None when it lost a number or name (or said nothing)."""
    from backend.models.llm import GenerationConfig

    prompt = [{"role": "user", "content": LLM_ANSWER_PROMPT.get(language, LLM_ANSWER_PROMPT["en"])
               .format(answer=answer)}]
    text = generator.generate([prompt], GenerationConfig(max_new_tokens=160, seed=seed))[0].text
    text = text.strip().strip("\"'“”").strip()
    if not text or normalise(text) == normalise(answer) or not facts(answer) <= facts(text):
        return None
    return text


def paraphrase_pairs(rows, *, n_variants: int = 3, include_original: bool = True,
                     paraphrase_answers: bool = False, generator=None, seed: int = 0,
                     language: str = "en", system_prompt: str = "",
                     include_unanswerable: bool = True, held_out: Sequence[HeldOut] = ()
                     ) -> tuple[list[tuple[dict, dict]], dict]:
    """Chat examples from ``rows`` (``(position, QuestionRow)`` of a train part) with their
    sources, and counts for the dataset's parameters. ``generator`` None: rules only."""
    from backend.rag.prompts import detect_language

    if not 1 <= int(n_variants) <= MAX_VARIANTS:
        raise InputError(f"n_variants is {n_variants}; ask for 1 to {MAX_VARIANTS} rewordings.")
    pairs, skipped = [], 0
    for position, row in rows:
        answer = row.reference.strip()
        lang = language if language in ("en", "es") else detect_language(row.question)
        if row.unanswerable:
            if not include_unanswerable:
                skipped += 1
                continue
            answer = answer or NO_ANSWER[lang]
        if not answer:
            skipped += 1
            continue
        pairs.append((position, row, answer, lang))
    from_llm: list[list[str]] = [[] for _ in pairs]
    short = 0
    if generator is not None and pairs:
        from_llm, short = llm_variants(generator, [p[1].question for p in pairs], n_variants,
                                       [p[3] for p in pairs], seed=seed)
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    out, counts = [], {"variants": 0, "by_llm": 0, "by_rules": 0, "dropped_held_out": 0,
                       "skipped_no_answer": skipped, "llm_short_replies": short}
    for (position, row, answer, lang), llm_texts in zip(pairs, from_llm):
        wanted = [(text, "llm", "llm") for text in llm_texts]
        if len(wanted) < n_variants:  # rules top up what the model did not give
            taken = {normalise(t) for t, _, _ in wanted}
            more = [(t, "rules", rule) for t, rule in paraphrase_question(
                row.question, lang, n_variants + len(wanted), seed=seed) if normalise(t) not in taken]
            wanted += more[:n_variants - len(wanted)]
        chosen = [(row.question, "original", "original")] if include_original else []
        chosen += wanted
        for variant, (question, by, rule) in enumerate(chosen, start=0 if include_original else 1):
            reply = answer
            if paraphrase_answers and by != "original" and not row.unanswerable:
                reworded = llm_answer(generator, answer, lang, seed=seed) if by == "llm" else None
                reply = reworded or paraphrase_answer(answer, lang, variant)
            example = {"messages": system + [{"role": "user", "content": question},
                                             {"role": "assistant", "content": reply}]}
            if by != "original" and find_leaks(held_out, [example]):
                counts["dropped_held_out"] += 1
                continue
            if by != "original":
                counts["variants"] += 1
                counts["by_llm" if by == "llm" else "by_rules"] += 1
            out.append((example, {"question_position": position, "variant": variant,
                                  "paraphraser": by, "rule": rule}))
    return out, counts


def choose_paraphraser(paraphraser: str, spec: str) -> str:
    """``rules`` or ``llm`` for the asked ``paraphraser`` and generator ``spec`` (see the module
    docstring for ``auto``)."""
    from backend.models.specs import parse_spec

    if paraphraser not in PARAPHRASERS:
        raise InputError(f"Unknown paraphraser {paraphraser!r}.",
                         hint=f"Use one of {', '.join(PARAPHRASERS)}.")
    if paraphraser == "auto":
        return "llm" if parse_spec(spec).kind == "openai" else "rules"
    return paraphraser


@builder("paraphrase")
def _build_paraphrase(lab, corpus_id, question_set_id, *, n_variants: int = 3,
                      include_original: bool = True, paraphrase_answers: bool = False,
                      paraphraser: str = "auto", model: str | None = None, seed: int = 0,
                      system_prompt: str = "", include_unanswerable: bool = True) -> Built:
    from backend.finetune.corpus_text import corpus_info
    from backend.finetune.questions import get_set, held_out_questions

    if question_set_id is None:
        raise InputError("Pick the question set whose train part is to be paraphrased.")
    qs = get_set(lab, question_set_id)
    if qs.corpus_id != corpus_id:
        raise InputError("That question set belongs to another corpus.")
    spec = model or lab.settings.llm_model
    used = choose_paraphraser(paraphraser, spec)
    generator, info = None, {"paraphraser": "rules", "label": RULES_LABEL}
    if used == "llm":
        from backend.models.registry import get_generator

        generator = get_generator(lab.settings, spec)
        info = {"paraphraser": "llm", "label": f"Written by the model {generator.name}",
                "model": generator.name, "model_id": generator.model_id}
    rows = [(i, r) for i, r in enumerate(qs.rows) if r.part == "train"]
    examples, counts = paraphrase_pairs(
        rows, n_variants=n_variants, include_original=include_original,
        paraphrase_answers=paraphrase_answers, generator=generator, seed=seed,
        language=corpus_info(lab, corpus_id)["language"], system_prompt=system_prompt,
        include_unanswerable=include_unanswerable, held_out=held_out_questions(lab, corpus_id))
    for _, source in examples:
        source["question_set_id"] = qs.id
    return examples, {"question_set": f"{qs.name} v{qs.version}", "train_questions": len(rows),
                      **info, **counts}
