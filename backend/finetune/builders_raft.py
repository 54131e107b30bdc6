"""The ``raft`` builder: retrieval-augmented fine-tuning examples for the hybrid arm.

RAFT (Zhang et al., 2024) trains a model to answer from retrieved context that is partly noise:
each example is a question, its gold chunk and ``k_distractors`` other chunks, in a shuffled
order, and the reference answer citing the gold chunk. A share of the examples
(``no_gold_share``, e.g. 20%) holds only the distractors, and its answer is the reference given
from memory (no citation), so the model also learns the facts themselves and does not trust
whatever it is shown. Unanswerable questions get distractors and the prompt's "I don't know"
sentence.

The prompt is the RAG prompt itself (``backend.rag.answer.build_prompt`` with the same template,
numbered sources and worked example), so a RAFT model sees at inference what it saw in training.

- the gold chunk: the chunk holding the question's reference context (found by searching the
  index for the context and checking the words overlap), else the chunk retrieval returns for
  the reference answer (``gold_by`` says which, per example);
- the distractors: the chunks retrieval ranks highest for the question, the gold excluded (hard
  negatives, as the model will meet at inference), and never a chunk that holds a held-out
  question of the corpus (it would make the dataset leak);
- these examples are long (a few chunks each): the dataset records their token lengths and a
  ``suggested_max_length`` so that training does not cut them, and ``estimate_run`` counts them.
"""

from __future__ import annotations

import hashlib
import math
import random
from statistics import mean

from backend.errors import InputError, LabError
from backend.finetune.datasets import Built, builder
from backend.finetune.overlap import MIN_CONTAINED_WORDS, normalise

RAFT_LABEL = ("RAFT: question + gold chunk + distractor chunks in the RAG prompt; some examples "
              "without the gold chunk, answered from memory")
MAX_DISTRACTORS = 20
#: share of the reference context's (or the chunk's) words the gold chunk must hold
MIN_CONTEXT_OVERLAP = 0.6


def word_overlap(context: str, chunk: str) -> float:
    """How much of ``context`` is in ``chunk`` (or of ``chunk`` in ``context``, for a context
    longer than a chunk), as a share of distinct normalised words, 0..1."""
    a, b = set(normalise(context).split()), set(normalise(chunk).split())
    if not a or not b:
        return 0.0
    common = len(a & b)
    return max(common / len(a), common / len(b) if len(a) > len(b) else 0.0)


def cite(answer: str, number: int) -> str:
    """``answer`` with ``[number]`` before its final full stop, as the worked example cites."""
    answer = answer.strip()
    if answer.endswith("."):
        return f"{answer[:-1]} [{number}]."
    return f"{answer} [{number}]"


def _hash_rank(seed: int, salt: str, text: str) -> str:
    return hashlib.sha256(f"{seed}\x00{salt}\x00{normalise(text)}".encode()).hexdigest()


def no_gold_questions(questions: list[str], share: float, seed: int) -> set[str]:
    """The ``round(share x n)`` questions (normalised) whose examples leave the gold chunk out:
    the first by a seeded hash, so the choice is reproducible and independent of row order."""
    k = int(round(share * len(questions)))
    ranked = sorted({normalise(q) for q in questions}, key=lambda q: _hash_rank(seed, "nogold", q))
    return set(ranked[:k])


def find_gold(lab, corpus_id: str, row) -> tuple[object | None, str]:
    """``(chunk, how)``: the chunk holding a reference context, else the one retrieval returns
    for the reference answer (the question added when the answer is a few words only)."""
    from backend.rag.retrieval import retrieve

    for context in row.reference_contexts[:3]:
        if not context.strip():
            continue
        found = retrieve(lab, corpus_id, context[:2000], mode="hybrid", k=5)
        scored = sorted(((word_overlap(context, c.text), c.rank, c) for c in found),
                        key=lambda x: (-x[0], x[1]))
        if scored and scored[0][0] >= MIN_CONTEXT_OVERLAP:
            return scored[0][2], "reference_contexts"
    answer = row.reference.strip()
    query = answer if len(answer.split()) >= 4 else f"{row.question} {answer}"
    found = retrieve(lab, corpus_id, query, mode="hybrid", k=1)
    return (found[0], "retrieval") if found else (None, "none")


def _contains_held_out(text: str, long_keys: list[str]) -> bool:
    padded = f" {normalise(text)} "
    return any(f" {key} " in padded for key in long_keys)


def token_counter(lab):
    """``(count(text), length(messages))`` with the tokenizer of the configured local model, or
    estimates (4 characters a token) when it cannot be loaded (an endpoint model)."""
    try:
        from transformers import AutoTokenizer

        from backend.models.registry import resolve_model_path

        tok = AutoTokenizer.from_pretrained(resolve_model_path(lab.settings.llm_model, lab.settings),
                                            local_files_only=True)
    except (LabError, OSError, ValueError):
        return (lambda text: len(text) // 4), (lambda msgs: sum(len(m["content"]) // 4 + 4
                                                                for m in msgs))

    def length(messages: list[dict]) -> int:
        if tok.chat_template:
            return len(tok.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
        return len(tok("\n".join(m["content"] for m in messages))["input_ids"])
    return (lambda text: len(tok.encode(text, add_special_tokens=False))), length


@builder("raft")
def _build_raft(lab, corpus_id, question_set_id, *, k_distractors: int = 3,
                no_gold_share: float = 0.2, mode: str = "hybrid", seed: int = 0,
                include_unanswerable: bool = True, template: str = "cited-v1") -> Built:
    from backend.corpus import store
    from backend.errors import NotFound
    from backend.finetune.corpus_text import corpus_info
    from backend.finetune.questions import get_set, held_out_questions
    from backend.rag.answer import MAX_CONTEXT_TOKENS, build_prompt
    from backend.rag.prompts import DONT_KNOW, detect_language, get_template
    from backend.rag.retrieval import MODES, retrieve

    if question_set_id is None:
        raise InputError("Pick the question set whose train part the RAFT examples come from.")
    if not 1 <= int(k_distractors) <= MAX_DISTRACTORS:
        raise InputError(f"k_distractors is {k_distractors}; use 1 to {MAX_DISTRACTORS}.")
    if not 0.0 <= float(no_gold_share) <= 1.0:
        raise InputError(f"no_gold_share is {no_gold_share}; it is a share between 0 and 1.")
    if mode not in MODES:
        raise InputError(f"Unknown search mode {mode!r}.", hint="Use vector, text or hybrid.")
    try:
        prompt_template = get_template(template)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    qs = get_set(lab, question_set_id)
    if qs.corpus_id != corpus_id:
        raise InputError("That question set belongs to another corpus.")
    try:
        if store.active_index(lab, corpus_id).status != "ready":
            raise NotFound("The corpus's index is not ready.")
    except NotFound:
        raise InputError("RAFT examples are built from the corpus's search index, and it has no "
                         "ready index yet.", hint="Build (or activate) the corpus index first.") from None
    k = int(k_distractors)
    language = corpus_info(lab, corpus_id)["language"]
    long_keys = [key for key in (normalise(h.question) for h in held_out_questions(lab, corpus_id))
                 if len(key.split()) >= MIN_CONTAINED_WORDS]
    count, length = token_counter(lab)
    rows = [(i, r) for i, r in enumerate(qs.rows) if r.part == "train"]
    no_gold = no_gold_questions([r.question for _, r in rows if not r.unanswerable
                                 and r.reference.strip()], float(no_gold_share), seed)
    facts = {"with_gold": 0, "without_gold": 0, "unanswerable": 0, "gold_by_reference_contexts": 0,
             "gold_by_retrieval": 0, "skipped_no_answer": 0, "skipped_no_gold": 0,
             "skipped_gold_holds_held_out": 0, "short_of_distractors": 0}
    out = []
    for position, row in rows:
        lang = language if language in ("en", "es") else detect_language(row.question)
        answer = row.reference.strip()
        if (row.unanswerable and not include_unanswerable) or not (answer or row.unanswerable):
            facts["skipped_no_answer"] += 1
            continue
        gold, how = (None, "none") if row.unanswerable else find_gold(lab, corpus_id, row)
        if not row.unanswerable:
            if gold is None:
                facts["skipped_no_gold"] += 1
                continue
            if _contains_held_out(gold.text, long_keys):
                facts["skipped_gold_holds_held_out"] += 1
                continue
            facts[f"gold_by_{how}"] += 1
        gold_text = normalise(gold.text) if gold is not None else None
        distractors = [c for c in retrieve(lab, corpus_id, row.question, mode=mode, k=min(100, k + 6))
                       if (gold is None or c.chunk_id != gold.chunk_id)
                       and normalise(c.text) != gold_text and not _contains_held_out(c.text, long_keys)][:k]
        facts["short_of_distractors"] += len(distractors) < k
        with_gold = gold is not None and normalise(row.question) not in no_gold
        chunks = list(distractors)
        rng = random.Random(_hash_rank(seed, "order", row.question))
        if with_gold:
            chunks.insert(rng.randint(0, len(chunks)), gold)
        messages, kept = build_prompt(row.question, chunks, template=prompt_template, language=lang,
                                      count_tokens=count, max_context_tokens=MAX_CONTEXT_TOKENS)
        if with_gold and gold not in kept:  # the budget cut it off: put it among what fits
            chunks.remove(gold)
            chunks.insert(rng.randint(0, max(0, len(kept) - 1)), gold)
            messages, kept = build_prompt(row.question, chunks, template=prompt_template,
                                          language=lang, count_tokens=count,
                                          max_context_tokens=MAX_CONTEXT_TOKENS)
        if row.unanswerable:
            reply = answer or DONT_KNOW[lang]
            facts["unanswerable"] += 1
        elif with_gold:
            reply = cite(answer, kept.index(gold) + 1)
            facts["with_gold"] += 1
        else:
            reply = answer  # from memory: nothing in the sources to cite
            facts["without_gold"] += 1
        messages = messages + [{"role": "assistant", "content": reply}]
        out.append(({"messages": messages, "question": row.question}, {
            "question_set_id": qs.id, "question_position": position, "gold_included": with_gold,
            "gold_chunk_id": gold.chunk_id if gold is not None else None,
            "gold_document": gold.document_name if gold is not None else None, "gold_by": how,
            "gold_number": kept.index(gold) + 1 if with_gold else None,
            "distractor_chunk_ids": [c.chunk_id for c in kept if c is not gold],
            "unanswerable": row.unanswerable, "tokens": length(messages)}))
    tokens = [src["tokens"] for _, src in out]
    longest = max(tokens, default=0)
    return out, {"question_set": f"{qs.name} v{qs.version}", "train_questions": len(rows),
                 "label": RAFT_LABEL, **facts, "longest_tokens": longest,
                 "mean_tokens": round(mean(tokens), 1) if tokens else 0,
                 "suggested_max_length": int(math.ceil(longest / 64) * 64) if longest else 0}
