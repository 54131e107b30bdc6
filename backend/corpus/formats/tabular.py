"""CSV and JSONL readers: one document per row.

The text comes from the chosen ``text_column``; without a choice, a column with an obvious name
("text", "content", "body", "context", "description", Spanish "texto", ...) is used and a warning
says so. The other columns go to the document's metadata. A row is named after its title/name
column, else its id column, else its row number: "faq.csv · How do I reset my password?",
"items.jsonl #A-17", "notes.csv · row 3". Rows with no text are skipped with a file-level warning;
a malformed JSONL line refuses the whole file, naming the line.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable

from backend.corpus.documents import (ParsedDocument, ParsedSection, ReadOptions, clean_text, make_document,
                                      sha256_hex)
from backend.corpus.formats import register
from backend.corpus.formats.text import decoded
from backend.errors import InputError

_TEXT_GUESSES = ("text", "content", "body", "context", "passage", "document", "description",
                 "texto", "contenido", "cuerpo", "contexto", "descripcion", "descripción")
_TITLE_COLUMNS = ("title", "name", "titulo", "título", "nombre", "question", "pregunta", "subject", "asunto")
_ID_COLUMNS = ("id", "doc_id", "document_id", "uid", "identificador")
_MAX_META_CHARS = 5000
# Long documents in one cell exceed the csv module's default field limit (128 KB); the file-size
# limit already bounds memory, so lift it (process-wide, and only ever upwards).
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))

Rows = Iterable[tuple[int, dict[str, Any]]]


@register("csv", "CSV table", (".csv", ".tsv"))
def read_csv(name: str, data: bytes, options: ReadOptions) -> tuple[list[ParsedDocument], list[str]]:
    """One document per data row; the header row names the columns."""
    text, _, warnings = decoded(data)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(name, text))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise InputError("The CSV file has no header row naming its columns.",
                             hint="Add a first row with the column names (e.g. title,text).")
        columns = _unique_columns(header)
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            record = dict(zip(columns, row + [""] * (len(columns) - len(row))))
            if len(row) > len(columns):
                record["extra_values"] = row[len(columns):]
            rows.append((len(rows) + 1, record))
    except csv.Error as exc:
        raise InputError(f"The CSV file is malformed near line {reader.line_num}: {exc}.",
                         hint="Open it in a spreadsheet program and export it again as CSV (UTF-8).") from None
    docs, row_warnings = _row_documents(name, "csv", data, columns, rows, options.text_column, "row")
    return docs, warnings + row_warnings


@register("jsonl", "JSON Lines", (".jsonl", ".ndjson"))
def read_jsonl(name: str, data: bytes, options: ReadOptions) -> tuple[list[ParsedDocument], list[str]]:
    """One document per line holding a JSON object; blank lines are ignored."""
    text, _, warnings = decoded(data)
    rows, columns = [], {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"Line {number} of the JSONL file is not valid JSON ({exc.msg} at column {exc.colno}).",
                hint="Fix that line (each line must hold one JSON object) and upload again.") from None
        if not isinstance(value, dict):
            raise InputError(f"Line {number} of the JSONL file is a JSON {type(value).__name__}, not an "
                             "object with named fields.",
                             hint='Each line must look like {"title": "...", "text": "..."}.')
        columns.update(dict.fromkeys(value))
        rows.append((number, value))
    if not rows:
        raise InputError("The JSONL file has no lines with data.", hint="Check that it is the file you meant.")
    docs, row_warnings = _row_documents(name, "jsonl", data, list(columns), rows, options.text_column, "line")
    return docs, warnings + row_warnings


def _dialect(name: str, text: str) -> type[csv.Dialect] | csv.Dialect:
    if name.lower().endswith(".tsv"):
        return csv.excel_tab
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        return csv.excel
    # The sniffer sometimes settles on a delimiter the header does not even contain.
    first_line = text.split("\n", 1)[0]
    return dialect if dialect.delimiter in first_line else csv.excel


def _unique_columns(header: list[str]) -> list[str]:
    columns: list[str] = []
    for i, raw in enumerate(header):
        col = raw.strip().lstrip("\ufeff") or f"column_{i + 1}"
        base, n = col, 2
        while col in columns:
            col, n = f"{base}_{n}", n + 1
        columns.append(col)
    return columns


def _choose_column(columns: list[str], requested: str | None, label: str) -> tuple[str, list[str]]:
    listed = ", ".join(columns[:40]) + (" …" if len(columns) > 40 else "")
    if requested:
        if requested in columns:
            return requested, []
        folded = {c.strip().casefold(): c for c in columns}
        if requested.strip().casefold() in folded:
            return folded[requested.strip().casefold()], []
        raise InputError(f"The {label} has no column “{requested}”. Its columns are: {listed}.",
                         hint="Choose one of those as the text column.")
    folded = {c.strip().casefold(): c for c in columns}
    for guess in _TEXT_GUESSES:
        if guess in folded:
            column = folded[guess]
            return column, [f"The text was taken from the column “{column}”; choose another text "
                            "column if that is wrong."]
    raise InputError(f"Choose which column holds the text: the {label} has no column called text or "
                     f"content. Its columns are: {listed}.", hint="Pick one of them as the text column.")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(value)
    return json.dumps(value, ensure_ascii=False)


def _meta_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_META_CHARS:
        return value[:_MAX_META_CHARS] + "…"
    return value


def _naming_column(columns: list[str], rows: list[tuple[int, dict[str, Any]]]) -> tuple[str | None, str]:
    """The first title-like, else id-like column whose values tell every row apart."""
    folded = {str(c).casefold(): c for c in columns}
    for group, fmt in ((_TITLE_COLUMNS, "{file} · {value}"), (_ID_COLUMNS, "{file} #{value}")):
        for candidate in group:
            column = folded.get(candidate)
            if column is None:
                continue
            values = [" ".join(_as_text(record.get(column)).split()) for _, record in rows]
            if all(values) and len(set(values)) == len(values):
                return column, fmt
    return None, ""


def _row_name(file_name: str, record: dict[str, Any], number: int, unit: str, column: str | None,
              fmt: str) -> str:
    if column is None:
        return f"{file_name} · {unit} {number}"
    value = " ".join(_as_text(record.get(column)).split())
    return fmt.format(file=file_name, value=value[:100] + ("…" if len(value) > 100 else ""))


def _row_documents(name: str, kind: str, data: bytes, columns: list[str], rows: Rows, requested: str | None,
                   unit: str) -> tuple[list[ParsedDocument], list[str]]:
    label = "CSV file" if kind == "csv" else "JSONL file"
    column, warnings = _choose_column(columns, requested, label)
    with_text, skipped = [], []
    for number, record in rows:
        text = clean_text(_as_text(record.get(column)))
        if text:
            with_text.append((number, record, text))
        else:
            skipped.append(number)
    if not with_text:
        raise InputError(f"No {unit} of the {label} has any text in the column “{column}”.",
                         hint="Choose the column that holds the documents' text.")
    name_column, name_format = _naming_column(columns, [(n, r) for n, r, _ in with_text])
    file_sha = sha256_hex(data)
    docs = []
    for number, record, text in with_text:
        metadata = {str(k): _meta_value(v) for k, v in record.items() if k != column}
        metadata.update({"row": number, "source_file": name, "file_sha256": file_sha, "text_column": column})
        # A row's identity is its own content, so an unchanged row keeps its hash when others change.
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        docs.append(make_document(_row_name(name, record, number, unit, name_column, name_format), kind, raw,
                                  [ParsedSection(text)], metadata=metadata))
    if skipped:
        shown = ", ".join(map(str, skipped[:10])) + (" …" if len(skipped) > 10 else "")
        warnings.append(f"{len(skipped)} {unit}s with no text in “{column}” were skipped ({unit}s {shown}).")
    return docs, warnings
