"""Question sets: stored per corpus, versioned, split into train and held-out parts.

A set is created from rows (an upload, a generator, the page's edited table) and never changed in
place: :func:`save_version` stores edited rows as the next version of the same name. The split is
reproducible and stable: a fresh set holds out the ``round(n x fraction)`` questions that rank
first by a seeded hash of their normalised text; a new version keeps the part of every question its
parent had and only assigns new questions, so an edit never moves a held-out question into
training. A part given explicitly in the rows (a ``part`` column) wins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from psycopg.types.json import Jsonb

from backend.errors import InputError, NotFound
from backend.finetune.overlap import HeldOut, normalise
from backend.finetune.question_io import PARTS, QuestionRow, rows_from_records  # noqa: F401

SOURCES = ("upload", "ragas", "extractive", "llm", "edit")


@dataclass
class QuestionSet:
    id: int
    corpus_id: str
    name: str
    version: int
    parent_id: int | None
    source: str
    generator: dict
    split_seed: int
    held_out_fraction: float
    n_questions: int
    n_held_out: int
    corpus_version: int | None
    created_at: datetime
    language: str | None = None  # the corpus's: en, es or mixed
    rows: list[QuestionRow] = field(default_factory=list)

    def part(self, part: str) -> list[QuestionRow]:
        """The rows of one part, ``train`` or ``held_out``."""
        return [r for r in self.rows if r.part == part]


def _check_rows(rows: Iterable[QuestionRow | dict]) -> list[QuestionRow]:
    rows = [r if isinstance(r, QuestionRow) else rows_from_records([r])[0] for r in rows]
    if not rows:
        raise InputError("A question set needs at least one question.")
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=1):
        row.question = row.question.strip()
        if not row.question:
            raise InputError(f"Row {n} has no question.")
        if row.part is not None and row.part not in PARTS:
            raise InputError(f"Row {n}: part is {row.part!r}; use train or held_out.")
        key = normalise(row.question)
        if key in seen:
            # the same question in both parts would be a leak nobody could see
            raise InputError(f"Rows {seen[key]} and {n} ask the same question: "
                             f"\u201c{row.question}\u201d.", hint="Remove or reword one of them.")
        seen[key] = n
    return rows


def _rank(seed: int, question: str) -> str:
    return hashlib.sha256(f"{seed}\x00{normalise(question)}".encode()).hexdigest()


def assign_split(rows: list[QuestionRow], fraction: float, seed: int,
                 previous: dict[str, str] | None = None) -> list[str]:
    """The part of each row (see the module docstring); pure and reproducible."""
    if not 0 <= fraction < 1:
        raise InputError(f"The held-out share is {fraction}; it must be at least 0 and below 1.")
    previous = previous or {}
    parts: list[str | None] = []
    for row in rows:
        parts.append(row.part or previous.get(normalise(row.question)))
    target = int(round(len(rows) * fraction))
    if fraction > 0 and len(rows) >= 2:
        target = max(target, 1)
    need = max(0, target - parts.count("held_out"))
    free = sorted((i for i, p in enumerate(parts) if p is None),
                  key=lambda i: _rank(seed, rows[i].question))
    chosen = set(free[:need])
    return [p or ("held_out" if i in chosen else "train") for i, p in enumerate(parts)]


def create_set(lab, corpus_id: str, name: str, rows: Iterable[QuestionRow | dict], *,
               held_out_fraction: float = 0.2, seed: int = 0, source: str = "upload",
               generator: dict | None = None) -> QuestionSet:
    """Store a new question set (version 1) for a corpus, split into train and held-out parts."""
    name = (name or "").strip()
    if not name:
        raise InputError("Give the question set a name.")
    if lab.db.fetchone("SELECT 1 FROM question_sets WHERE corpus_id = %s AND name = %s",
                       (corpus_id, name)):
        raise InputError(f"This corpus already has a question set named {name!r}.",
                         hint="Pick another name, or edit that set to save a new version of it.")
    return _insert(lab, corpus_id, name, 1, None, _check_rows(rows), held_out_fraction, seed,
                   source, generator or {}, previous=None)


def save_version(lab, set_id: int, rows: Iterable[QuestionRow | dict], *,
                 held_out_fraction: float | None = None, seed: int | None = None) -> QuestionSet:
    """Store edited rows as the next version of the set ``set_id`` belongs to."""
    parent = get_set(lab, set_id)
    latest = lab.db.fetchone("SELECT max(version) AS v FROM question_sets WHERE corpus_id = %s "
                             "AND name = %s", (parent.corpus_id, parent.name))["v"]
    previous = {normalise(r.question): r.part for r in parent.rows}
    fraction = parent.held_out_fraction if held_out_fraction is None else held_out_fraction
    return _insert(lab, parent.corpus_id, parent.name, latest + 1, parent.id, _check_rows(rows),
                   fraction, parent.split_seed if seed is None else seed, "edit",
                   parent.generator, previous=previous if seed in (None, parent.split_seed) else None)


def _insert(lab, corpus_id, name, version, parent_id, rows, fraction, seed, source, generator,
            previous) -> QuestionSet:
    if source not in SOURCES:
        raise InputError(f"Unknown question-set source {source!r}.")
    parts = assign_split(rows, fraction, seed, previous)
    for row, part in zip(rows, parts):
        row.part = part
    with lab.db.connect() as conn:
        corpus = conn.execute("SELECT version FROM corpora WHERE id = %s", (corpus_id,)).fetchone()
        if corpus is None:
            raise NotFound(f"Corpus {corpus_id} does not exist.")
        set_id = conn.execute(
            "INSERT INTO question_sets (corpus_id, name, version, parent_id, source, generator,"
            " split_seed, held_out_fraction, n_questions, n_held_out, corpus_version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (corpus_id, name, version, parent_id, source, Jsonb(generator), seed, fraction,
             len(rows), parts.count("held_out"), corpus["version"])).fetchone()["id"]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO questions (set_id, position, question, reference, reference_contexts,"
                " tags, part, question_norm, metadata) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(set_id, i, r.question, r.reference, Jsonb(r.reference_contexts), r.tags, r.part,
                  normalise(r.question), Jsonb(r.metadata)) for i, r in enumerate(rows)])
    return get_set(lab, set_id)


_SET_COLUMNS = ("s.id, s.corpus_id::text AS corpus_id, s.name, s.version, s.parent_id, s.source,"
                " s.generator, s.split_seed, s.held_out_fraction, s.n_questions, s.n_held_out,"
                " s.corpus_version, s.created_at, c.language"
                " FROM question_sets s JOIN corpora c ON c.id = s.corpus_id")


def get_set(lab, set_id: int, *, with_rows: bool = True) -> QuestionSet:
    """One version of a question set, with its rows in order (NotFound if it is gone)."""
    row = lab.db.fetchone(f"SELECT {_SET_COLUMNS} WHERE s.id = %s", (set_id,))
    if row is None:
        raise NotFound(f"Question set {set_id} does not exist (it may have been deleted).")
    qs = QuestionSet(**row)
    if with_rows:
        qs.rows = set_rows(lab, qs.id)
    return qs


def set_rows(lab, set_id: int, *, part: str | None = None) -> list[QuestionRow]:
    """The rows of a set in order, all or only one part (``train`` or ``held_out``); each
    carries its ``position`` in the set."""
    if part is not None and part not in PARTS:
        raise InputError(f"Unknown part {part!r}; use train or held_out.")
    rows = lab.db.fetchall(
        "SELECT position, question, reference, reference_contexts, tags, part, metadata"
        " FROM questions WHERE set_id = %s AND (%s::text IS NULL OR part = %s)"
        " ORDER BY position", (set_id, part, part))
    return [QuestionRow(r["question"], r["reference"], list(r["reference_contexts"]),
                        list(r["tags"]), r["part"], dict(r["metadata"]), r["position"])
            for r in rows]


def list_sets(lab, corpus_id: str | None = None, *, latest_only: bool = False) -> list[QuestionSet]:
    """Question sets (without rows), newest name/version first; optionally only the latest
    version of each name."""
    where, params = ("WHERE s.corpus_id = %s", (corpus_id,)) if corpus_id else ("", ())
    rows = lab.db.fetchall(f"SELECT {_SET_COLUMNS} {where} ORDER BY s.name, s.version DESC", params)
    sets = [QuestionSet(**r) for r in rows]
    if latest_only:
        seen: set[tuple] = set()
        sets = [s for s in sets if (k := (s.corpus_id, s.name)) not in seen and not seen.add(k)]
    return sets


def delete_set(lab, set_id: int) -> None:
    """Delete one version of a question set (datasets built from it keep their examples)."""
    if not lab.db.execute("DELETE FROM question_sets WHERE id = %s", (set_id,)):
        raise NotFound(f"Question set {set_id} does not exist.")


def held_out_questions(lab, corpus_id: str) -> list[HeldOut]:
    """Every held-out question of every version of every question set of the corpus."""
    rows = lab.db.fetchall(
        "SELECT s.id, s.name, s.version, q.position, q.question FROM questions q"
        " JOIN question_sets s ON s.id = q.set_id WHERE s.corpus_id = %s AND q.part = 'held_out'"
        " ORDER BY s.name, s.version, q.position", (corpus_id,))
    return [HeldOut(r["id"], r["name"], r["version"], r["position"], r["question"]) for r in rows]


def export_set(lab, set_id: int, fmt: str = "ragas") -> bytes:
    """The set as a file (``ragas``, ``jsonl`` or ``csv``; see ``question_io.export_rows``)."""
    from backend.finetune.question_io import export_rows

    return export_rows(get_set(lab, set_id).rows, fmt)
