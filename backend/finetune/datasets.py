"""Training-data builders: each turns a question set or a corpus into stored, previewable examples.

- ``qa_pairs``: one chat example per question of a set's TRAIN part (user: the question,
  assistant: the reference answer). Unanswerable questions teach the model to say so.
- ``continued_pretraining``: one plain-text example per corpus chunk, scored on every token (the
  causal-LM objective the model was pretrained with).

A dataset is stored with its parameters and every example (``training_examples``), so a run can say
exactly what it learnt from, even after the question set or corpus changes. Builders register
themselves by name (STYLE habit 9); paraphrase and RAFT builders are added the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from psycopg.types.json import Jsonb

from backend.errors import InputError, NotFound
from backend.finetune.overlap import Leak, find_leaks

#: what an unanswerable question without a reference teaches the model to say
NO_ANSWER = {"en": "The documents do not say.", "es": "Los documentos no lo dicen."}

Example = dict  # {"messages": [...]} or {"text": "..."}
Built = tuple[list[tuple[Example, dict]], dict]  # (example, source) pairs, facts for params
_BUILDERS: dict[str, Callable[..., Built]] = {}


def builder(name: str):
    """Register ``fn(lab, corpus_id, question_set_id, **params) -> Built`` under ``name``."""
    def deco(fn):
        _BUILDERS[name] = fn
        return fn
    return deco


def builders() -> list[str]:
    return sorted(_BUILDERS)


@dataclass
class Dataset:
    id: int
    corpus_id: str
    name: str
    builder: str
    question_set_id: int | None
    params: dict
    corpus_version: int | None
    n_examples: int
    n_chars: int
    created_at: datetime


def qa_pair_examples(rows, *, language: str = "en", system_prompt: str = "",
                     include_unanswerable: bool = True) -> tuple[list[tuple[Example, dict]], int]:
    """Chat examples from question rows (the caller passes the train part); returns the
    examples with their source and how many rows were skipped (no reference answer)."""
    out, skipped = [], 0
    for position, row in rows:
        answer = row.reference.strip()
        if row.unanswerable:
            if not include_unanswerable:
                skipped += 1
                continue
            answer = answer or NO_ANSWER.get(language, NO_ANSWER["en"])
        if not answer:
            skipped += 1
            continue
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
            {"role": "user", "content": row.question}, {"role": "assistant", "content": answer}]
        out.append(({"messages": messages}, {"question_position": position}))
    return out, skipped


@builder("qa_pairs")
def _build_qa_pairs(lab, corpus_id, question_set_id, *, system_prompt: str = "",
                    include_unanswerable: bool = True, with_chunks: bool = False) -> Built:
    """``with_chunks``: the corpus's chunks follow the pairs as plain-text examples (continued
    pretraining), so the model reads the documents themselves, not only the train answers."""
    from backend.finetune.corpus_text import corpus_info
    from backend.finetune.questions import get_set

    if question_set_id is None:
        raise InputError("Pick the question set whose train part the pairs come from.")
    qs = get_set(lab, question_set_id)
    if qs.corpus_id != corpus_id:
        raise InputError("That question set belongs to another corpus.")
    language = corpus_info(lab, corpus_id)["language"]
    rows = [(i, r) for i, r in enumerate(qs.rows) if r.part == "train"]
    examples, skipped = qa_pair_examples(rows, language=language, system_prompt=system_prompt,
                                         include_unanswerable=include_unanswerable)
    for _, source in examples:
        source["question_set_id"] = qs.id
    facts = {"question_set": f"{qs.name} v{qs.version}", "skipped_no_answer": skipped,
             "train_questions": len(rows)}
    if with_chunks:
        chunk_examples, chunk_facts = _build_cpt(lab, corpus_id, None)
        examples += chunk_examples
        facts.update(chunk_facts)
    return examples, facts


@builder("continued_pretraining")
def _build_cpt(lab, corpus_id, question_set_id, *, max_chunks: int | None = None,
               min_chars: int = 40) -> Built:
    from backend.finetune.corpus_text import corpus_chunks

    chunks = corpus_chunks(lab, corpus_id, limit=max_chunks)
    examples = [({"text": c.text}, {"document_id": c.document_id, "document_name": c.document_name,
                                    "chunk_id": c.id, "page": c.page})
                for c in chunks if len(c.text.strip()) >= min_chars]
    return examples, {"chunks": len(chunks), "skipped_short": len(chunks) - len(examples)}


def build_dataset(lab, builder_name: str, corpus_id: str, *, question_set_id: int | None = None,
                  name: str | None = None, **params: Any) -> Dataset:
    """Run a builder and store its examples; InputError when it produced none."""
    from backend.finetune.corpus_text import corpus_info

    if builder_name not in _BUILDERS:
        raise InputError(f"Unknown training-data builder {builder_name!r}.",
                         hint=f"Use one of {', '.join(builders())}.")
    corpus = corpus_info(lab, corpus_id)
    examples, facts = _BUILDERS[builder_name](lab, corpus_id, question_set_id, **params)
    if not examples:
        raise InputError("The builder produced no training examples.",
                         hint="Questions need reference answers; chunks need text.")
    name = (name or "").strip() or f"{builder_name} \u00b7 {corpus['name']}"
    n_chars = sum(len(_text(e)) for e, _ in examples)
    with lab.db.connect() as conn:
        ds_id = conn.execute(
            "INSERT INTO training_datasets (corpus_id, name, builder, question_set_id, params,"
            " corpus_version, n_examples, n_chars) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id", (corpus_id, name, builder_name, question_set_id,
                              Jsonb({**params, **facts}), corpus["version"], len(examples),
                              n_chars)).fetchone()["id"]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO training_examples (dataset_id, position, kind, content, source)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(ds_id, i, "chat" if "messages" in e else "text", Jsonb(e), Jsonb(src))
                 for i, (e, src) in enumerate(examples)])
    return get_dataset(lab, ds_id)


def _text(example: Example) -> str:
    if "messages" in example:
        return "".join(m["content"] for m in example["messages"])
    return example.get("text", "")


_COLUMNS = ("id, corpus_id::text AS corpus_id, name, builder, question_set_id, params,"
            " corpus_version, n_examples, n_chars, created_at")


def get_dataset(lab, dataset_id: int) -> Dataset:
    """One dataset's description (NotFound if it is gone)."""
    row = lab.db.fetchone(f"SELECT {_COLUMNS} FROM training_datasets WHERE id = %s", (dataset_id,))
    if row is None:
        raise NotFound(f"Training dataset {dataset_id} does not exist (it may have been deleted).")
    return Dataset(**row)


def list_datasets(lab, corpus_id: str | None = None) -> list[Dataset]:
    """Datasets, newest first (optionally of one corpus)."""
    where, params = ("WHERE corpus_id = %s", (corpus_id,)) if corpus_id else ("", ())
    return [Dataset(**r) for r in lab.db.fetchall(
        f"SELECT {_COLUMNS} FROM training_datasets {where} ORDER BY id DESC", params)]


def dataset_examples(lab, dataset_id: int, *, limit: int | None = None,
                     offset: int = 0) -> list[Example]:
    """The stored examples in order (a page of them with ``limit``/``offset``, for previews)."""
    get_dataset(lab, dataset_id)
    rows = lab.db.fetchall("SELECT content FROM training_examples WHERE dataset_id = %s"
                           " ORDER BY position LIMIT %s OFFSET %s", (dataset_id, limit, offset))
    return [r["content"] for r in rows]


def delete_dataset(lab, dataset_id: int) -> None:
    """Delete a dataset and its examples (trained models keep a summary of it)."""
    if not lab.db.execute("DELETE FROM training_datasets WHERE id = %s", (dataset_id,)):
        raise NotFound(f"Training dataset {dataset_id} does not exist.")


def dataset_leaks(lab, dataset_id: int) -> list[Leak]:
    """Held-out questions of the dataset's corpus that appear in its examples."""
    from backend.finetune.questions import held_out_questions

    ds = get_dataset(lab, dataset_id)
    return find_leaks(held_out_questions(lab, ds.corpus_id), dataset_examples(lab, dataset_id))


def dataset_sources(lab, dataset_id: int) -> list[dict]:
    """Where each example came from (question position, document, chunk), in example order."""
    return [r["source"] for r in lab.db.fetchall(
        "SELECT source FROM training_examples WHERE dataset_id = %s ORDER BY position",
        (dataset_id,))]


def dataset_near_duplicates(lab, dataset_id: int, *, threshold: float | None = None) -> list[Leak]:
    """Held-out questions whose embedding is within cosine ``threshold`` (default 0.95) of a
    training question of the dataset: flagged for the user to look at, not refused. Uses the
    embedding model of the corpus's language."""
    from backend.finetune.corpus_text import corpus_info
    from backend.finetune.overlap import NEAR_DUPLICATE_COSINE, near_duplicates
    from backend.finetune.questions import held_out_questions
    from backend.models.embeddings import get_embedding

    ds = get_dataset(lab, dataset_id)
    embedder = get_embedding(lab.settings, language=corpus_info(lab, ds.corpus_id)["language"])
    return near_duplicates(held_out_questions(lab, ds.corpus_id), dataset_examples(lab, dataset_id),
                           embedder.get_text_embedding_batch,
                           NEAR_DUPLICATE_COSINE if threshold is None else threshold)


# The other builders live in their own modules and register themselves on import.
from backend.finetune import builders_raft, paraphrase  # noqa: E402,F401
