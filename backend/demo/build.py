"""The demo corpus: a fictional company's documents, question sets and freshness scenario.

Everything is generated at load time from the text files under ``content/``: the Markdown sources in
``content/docs`` (and their second versions in ``content/updates``) are rendered in memory to the
format listed in ``content/manifest.json``, so no binary file is committed and the upload still mixes
PDF, DOCX, HTML, TXT and Markdown. The company, Nortera Outdoor S.L., and every person named in the
documents are invented.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from backend.demo.render import parse_markdown, render, to_text

CONTENT_DIR = Path(__file__).parent / "content"
DEMO_CORPUS_NAME = "Nortera demo"
DEMO_LANGUAGE = "mixed"
#: the share of each (language, stratum) group held out from fine-tuning data
HELDOUT_SHARE = 0.3

_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
}


@dataclass(frozen=True)
class DemoFile:
    """One file of the demo upload: its file name, its bytes and its format (the extension)."""

    name: str
    data: bytes
    kind: str
    language: str = ""
    title: str = ""

    @property
    def mime_type(self) -> str:
        return _MIME[self.kind]


@functools.cache
def _manifest() -> dict:
    return json.loads((CONTENT_DIR / "manifest.json").read_text(encoding="utf-8"))


def _documents() -> list[dict]:
    return _manifest()["documents"]


def _file_name(doc: dict) -> str:
    return f"{doc['stem']}.{doc['format']}"


def _updated_stems() -> set[str]:
    return {u["stem"] for u in _manifest()["updates"]}


def _source_path(stem: str, version: int) -> Path:
    if version not in (1, 2):
        raise ValueError(f"the demo has versions 1 and 2, not {version}")
    if version == 2 and stem in _updated_stems():
        return CONTENT_DIR / "updates" / f"{stem}.md"
    return CONTENT_DIR / "docs" / f"{stem}.md"


def _doc_by_name(name: str) -> dict:
    for doc in _documents():
        if name in (_file_name(doc), doc["stem"], f"{doc['stem']}.md"):
            return doc
    raise KeyError(f"no demo document called {name!r}")


@functools.cache
def _render(stem: str, version: int) -> DemoFile:
    doc = _doc_by_name(stem)
    source = _source_path(stem, version).read_text(encoding="utf-8")
    data = render(source, doc["format"], doc["language"])
    title = parse_markdown(source)[0].text
    return DemoFile(_file_name(doc), data, doc["format"], doc["language"], title)


def demo_files(version: int = 1) -> list[DemoFile]:
    """The whole demo upload as in-memory files, in manifest order.

    ``version=1`` is the original corpus; ``version=2`` is the same corpus with the freshness
    scenario's changed documents substituted (same file names, so a re-upload replaces them).
    Rendering is deterministic: repeated calls give byte-identical files.
    """
    return [_render(doc["stem"], version) for doc in _documents()]


def demo_update_files() -> list[DemoFile]:
    """Only the documents that change in version 2 (the freshness scenario), rendered as in v1."""
    return [_render(doc["stem"], 2) for doc in _documents() if doc["stem"] in _updated_stems()]


def source_text(name: str, version: int = 1) -> str:
    """The plain text of a demo document (by file name or stem), as the renderers lay it out.

    This is the text the question set's ``reference_contexts`` are quoted from.
    """
    doc = _doc_by_name(name)
    return to_text(parse_markdown(_source_path(doc["stem"], version).read_text(encoding="utf-8")))


def document_info() -> list[dict]:
    """One row per demo document: name, format, language, topic and its translation (if any)."""
    rows = []
    for doc in _documents():
        translation = next(
            (_file_name(d) for d in _documents() if d["stem"] == doc["translation"]), None
        )
        rows.append({"name": _file_name(doc), "kind": doc["format"], "language": doc["language"],
                     "topic": doc["topic"], "translation": translation,
                     "updated_in_v2": doc["stem"] in _updated_stems()})
    return rows


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def demo_questions() -> list[dict]:
    """The evaluation questions in both languages, English first.

    Each dict has ``id, question, reference, reference_contexts (list of verbatim sentences),
    source (file name, None when unanswerable), language ("en"/"es"), tags, split
    ("train"/"heldout")``. Unanswerable questions carry the tag ``"unanswerable"``, no contexts and
    an abstention as reference. Returns fresh copies, so callers may mutate them.
    """
    questions: list[dict] = []
    for language in ("en", "es"):
        questions.extend(_read_jsonl(CONTENT_DIR / f"questions_{language}.jsonl"))
    return questions


def freshness_questions() -> list[dict]:
    """Questions whose answer changes between corpus versions 1 and 2.

    Each dict has ``id, question, reference_v1, reference_v2, reference_contexts_v1,
    reference_contexts_v2, language, source, tags``.
    """
    return _read_jsonl(CONTENT_DIR / "freshness.jsonl")


def planted_personal_data() -> list[dict]:
    """Every personal-data value planted in the demo (``document, kind, value``), for the guard.

    Kinds are ``email``, ``phone``, ``dni``, ``iban`` and ``card``; values are written exactly as
    they appear in the document. All of them belong to invented people.
    """
    return [dict(item) for item in _manifest()["planted_personal_data"]]


def split_stratum(question: dict) -> str:
    """The group a question is stratified by within its language: its topic, or "unanswerable"."""
    return "unanswerable" if "unanswerable" in question["tags"] else question["tags"][0]


def assign_splits(questions: list[dict], heldout_share: float = HELDOUT_SHARE) -> dict[str, str]:
    """The deterministic held-out split: id -> "train" | "heldout".

    Within each (language, stratum) group, questions are ordered by a hash of their id and the first
    ``round(share * n)`` are held out, so the split is stable and independent of file order. The
    stored ``split`` fields were produced with this function; a test keeps the two in step.
    """
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for question in questions:
        groups[(question["language"], split_stratum(question))].append(question)
    splits: dict[str, str] = {}
    for group in groups.values():
        group.sort(key=lambda q: hashlib.sha256(q["id"].encode()).hexdigest())
        held = math.floor(heldout_share * len(group) + 0.5)
        for index, question in enumerate(group):
            splits[question["id"]] = "heldout" if index < held else "train"
    return splits
