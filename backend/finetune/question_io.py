"""Question-set files: reading uploads (CSV, JSONL, JSON, Ragas ``EvaluationDataset`` records) and
writing them back (the lab's JSONL and CSV, Ragas JSONL).

Columns are matched by name, case-insensitively, with common aliases (``user_input`` is Ragas'
name for the question, ``ground_truth`` an older one for the reference). In CSV, a list cell
(reference contexts, tags) may be JSON (``["a", "b"]``), a Python-style list as Ragas writes it
(``['a', 'b']``), or separated by ``||`` (contexts) or ``;`` / ``,`` (tags).
"""

from __future__ import annotations

import ast
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from backend.errors import InputError

PARTS = ("train", "held_out")
UNANSWERABLE = "unanswerable"
_ALIASES = {
    "question": ("question", "user_input", "query", "pregunta"),
    "reference": ("reference", "answer", "reference_answer", "ground_truth", "respuesta",
                  "referencia"),
    "reference_contexts": ("reference_contexts", "contexts", "context", "contextos"),
    "tags": ("tags", "tag", "etiquetas"),
    "part": ("part", "split", "parte"),
}
#: Ragas fields that a question set keeps (in metadata) so an export gives them back
_RAGAS_EXTRA = ("response", "retrieved_contexts")
_PART_ALIASES = {"train": "train", "training": "train", "held_out": "held_out",
                 "held-out": "held_out", "heldout": "held_out", "test": "held_out",
                 "eval": "held_out", "validation": "held_out"}


@dataclass
class QuestionRow:
    """One question with its reference answer; ``part`` None means "let the split decide"."""

    question: str
    reference: str = ""
    reference_contexts: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    part: str | None = None
    metadata: dict = field(default_factory=dict)
    #: its place in a stored set (a stable id for pairing scores across strategies); None before
    position: int | None = None

    @property
    def unanswerable(self) -> bool:
        return UNANSWERABLE in self.tags

    def as_dict(self) -> dict:
        return {"question": self.question, "reference": self.reference,
                "reference_contexts": list(self.reference_contexts), "tags": list(self.tags),
                "part": self.part, "metadata": dict(self.metadata)}


def rows_from_records(records: Iterable[dict]) -> list[QuestionRow]:
    """Rows from dicts (an upload's records, a page's edited table, Ragas samples)."""
    rows = []
    for n, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise InputError(f"Row {n} is not an object with named fields.")
        lower = {str(k).strip().lower(): v for k, v in record.items()}
        pick = {name: next((lower[a] for a in aliases if a in lower), None)
                for name, aliases in _ALIASES.items()}
        question = _text(pick["question"])
        if not question:
            if not any(_text(v) for v in lower.values()):
                continue  # an empty line of a spreadsheet
            raise InputError(f"Row {n} has no question.",
                             hint="Each row needs a `question` (or Ragas `user_input`) column.")
        metadata = dict(lower.get("metadata") or {}) if isinstance(lower.get("metadata"), dict) else {}
        for key in _RAGAS_EXTRA:
            if lower.get(key) not in (None, "", []):
                metadata[key] = lower[key] if key == "response" else _list(lower[key], "||")
        rows.append(QuestionRow(
            question=question, reference=_text(pick["reference"]),
            reference_contexts=_list(pick["reference_contexts"], "||"),
            tags=sorted({t.lower() for t in _list(pick["tags"], ";,")}),
            part=_part(pick["part"], n), metadata=metadata))
    if not rows:
        raise InputError("The file has no questions.")
    return rows


def parse_upload(data: bytes, filename: str, *, max_mb: float | None = None) -> list[QuestionRow]:
    """Rows of an uploaded question-set file (``.csv``, ``.jsonl``, ``.json``)."""
    if max_mb is not None and len(data) > max_mb * 1024 * 1024:
        raise InputError(f"{filename} is larger than {max_mb} MB.",
                         hint="Split it, or raise the upload limit in Settings.")
    text = _decode(data, filename)
    lower = filename.lower()
    if lower.endswith(".csv") or lower.endswith(".tsv"):
        return rows_from_records(_csv_records(text))
    if lower.endswith(".jsonl"):
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{filename}, line {n}, is not valid JSON ({exc.msg}).") from None
        return rows_from_records(records)
    if lower.endswith(".json"):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{filename} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
        if isinstance(payload, dict):  # {"samples": [...]} as Ragas' to_dict/model_dump gives it
            payload = payload.get("samples") or payload.get("questions") or []
        return rows_from_records(payload)
    raise InputError(f"{filename}: question sets are read from .csv, .jsonl or .json files.")


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise InputError(f"{filename} is not a text file.") from None
        return str(best)


def _csv_records(text: str) -> list[dict]:
    # the delimiter is the one the header line uses most (cells may hold any of them)
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return ""
    return str(value).strip()


def _list(value: Any, separators: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [s for v in value if (s := _text(v))]
    text = _text(value)
    if text.startswith("[") and text.endswith("]"):
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(parsed, list):
                return [s for v in parsed if (s := _text(v))]
    if separators == "||":
        return [s for part in text.split("||") if (s := part.strip())]
    for sep in separators:
        text = text.replace(sep, "\x00")
    return [s for part in text.split("\x00") if (s := part.strip())]


def _part(value: Any, n: int) -> str | None:
    text = _text(value).lower()
    if not text:
        return None
    if text not in _PART_ALIASES:
        raise InputError(f"Row {n}: part is {text!r}; use train or held_out (or leave it empty).")
    return _PART_ALIASES[text]


# --- export -------------------------------------------------------------------------------------
def to_ragas_records(rows: Iterable[QuestionRow]) -> list[dict]:
    """Ragas ``SingleTurnSample`` fields: ``EvaluationDataset.from_list`` accepts these."""
    out = []
    for r in rows:
        record: dict[str, Any] = {"user_input": r.question, "reference": r.reference,
                                  "reference_contexts": list(r.reference_contexts)}
        for key in _RAGAS_EXTRA:
            if key in r.metadata:
                record[key] = r.metadata[key]
        out.append(record)
    return out


def export_rows(rows: list[QuestionRow], fmt: str) -> bytes:
    """The rows as a file: ``jsonl`` (the lab's, with tags and parts), ``csv`` or ``ragas``
    (JSONL of Ragas EvaluationDataset records)."""
    if fmt == "ragas":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n"
                       for r in to_ragas_records(rows)).encode()
    if fmt == "jsonl":
        return "".join(json.dumps({k: v for k, v in r.as_dict().items() if k != "metadata" or v},
                                  ensure_ascii=False) + "\n" for r in rows).encode()
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["question", "reference", "reference_contexts", "tags", "part"])
        for r in rows:
            writer.writerow([r.question, r.reference, json.dumps(r.reference_contexts,
                                                                 ensure_ascii=False),
                             ";".join(r.tags), r.part or ""])
        return buf.getvalue().encode("utf-8")
    raise InputError(f"Unknown export format {fmt!r}; use jsonl, csv or ragas.")
