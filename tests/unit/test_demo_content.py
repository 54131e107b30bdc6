"""The demo corpus: documents render to real files, questions quote them verbatim, planted data is valid."""

from __future__ import annotations

import io
import re
from collections import Counter

import docx
import pypdf
import pytest
from bs4 import BeautifulSoup

from backend.demo import build
from backend.demo.build import (
    DEMO_CORPUS_NAME,
    DEMO_LANGUAGE,
    assign_splits,
    demo_files,
    demo_questions,
    demo_update_files,
    freshness_questions,
    planted_personal_data,
    source_text,
)
from backend.demo.render import parse_markdown

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def extract_text(demo_file: build.DemoFile) -> str:
    """The text a reader would get out of the file, with the libraries the lab's readers use."""
    if demo_file.kind == "pdf":
        reader = pypdf.PdfReader(io.BytesIO(demo_file.data))
        return "\n".join(page.extract_text() for page in reader.pages)
    if demo_file.kind == "docx":
        return "\n".join(p.text for p in docx.Document(io.BytesIO(demo_file.data)).paragraphs)
    if demo_file.kind == "html":
        return BeautifulSoup(demo_file.data.decode("utf-8"), "html.parser").get_text(" ")
    return demo_file.data.decode("utf-8")


@pytest.fixture(scope="module")
def files_v1() -> dict[str, build.DemoFile]:
    return {f.name: f for f in demo_files(1)}


@pytest.fixture(scope="module")
def extracted_v1(files_v1) -> dict[str, str]:
    return {name: norm(extract_text(f)) for name, f in files_v1.items()}


def test_corpus_identity():
    assert DEMO_CORPUS_NAME == "Nortera demo"
    assert DEMO_LANGUAGE == "mixed"


def test_corpus_has_the_promised_mix_of_formats_and_languages(files_v1):
    assert 15 <= len(files_v1) <= 25
    kinds = Counter(f.kind for f in files_v1.values())
    assert kinds["pdf"] >= 3 and kinds["docx"] >= 2 and kinds["html"] >= 1
    assert kinds["txt"] >= 1 and kinds["md"] >= 1
    languages = Counter(f.language for f in files_v1.values())
    assert set(languages) == {"en", "es"} and min(languages.values()) >= 5
    assert all(f.name.endswith("." + f.kind) for f in files_v1.values())


def test_documents_have_a_title_and_a_reasonable_length(files_v1):
    for name, demo_file in files_v1.items():
        text = source_text(name)
        assert text.splitlines()[0] == demo_file.title, name
        assert 150 <= len(text.split()) <= 600, (name, len(text.split()))


def test_translated_documents_point_at_each_other():
    rows = {row["name"]: row for row in build.document_info()}
    pairs = [(name, row["translation"]) for name, row in rows.items() if row["translation"]]
    assert len(pairs) >= 4  # at least two documents exist in both languages
    for name, other in pairs:
        assert rows[other]["translation"] == name
        assert rows[other]["language"] != rows[name]["language"]


def test_rendered_files_really_contain_every_sentence_of_their_source(files_v1, extracted_v1):
    for name in files_v1:
        blocks = parse_markdown((build.CONTENT_DIR / "docs" / f"{name.rsplit('.', 1)[0]}.md").read_text())
        pieces = [b.text for b in blocks if b.text] + [i for b in blocks for i in b.items]
        for piece in pieces:
            assert norm(piece) in extracted_v1[name], (name, piece)


def test_known_sentences_survive_pdf_and_docx_extraction(extracted_v1):
    assert "Passwords must have at least 14 characters" in extracted_v1["information-security-policy.pdf"]
    assert "Lucía Ferrándiz Oyarzun" in extracted_v1["expenses-policy.pdf"]
    assert "23 días laborables de vacaciones retribuidas" in extracted_v1["vacaciones-y-festivos.docx"]
    assert "resoled at the Nortera workshop in Bilbao for 59 euros" in extracted_v1["product-boots-roca-mid.docx"]


def test_rendering_is_deterministic():
    build._render.cache_clear()
    first = {f.name: f.data for f in demo_files(1)}
    build._render.cache_clear()
    second = {f.name: f.data for f in demo_files(1)}
    assert first == second


def test_questions_have_the_documented_shape(files_v1):
    questions = demo_questions()
    assert 60 <= len(questions) <= 80
    for q in questions:
        assert set(q) >= {"id", "question", "reference", "reference_contexts", "source", "language",
                          "tags", "split"}
        assert q["language"] in {"en", "es"} and q["split"] in {"train", "heldout"}
        assert q["question"].strip() and q["reference"].strip() and q["tags"]
        if "unanswerable" not in q["tags"]:
            assert q["source"] in files_v1 and q["reference_contexts"]
    ids = [q["id"] for q in questions] + [q["id"] for q in freshness_questions()]
    assert len(ids) == len(set(ids))
    assert {q["language"] for q in questions} == {"en", "es"}


def test_reference_contexts_appear_verbatim_in_the_source(extracted_v1):
    for q in demo_questions():
        for context in q["reference_contexts"]:
            assert norm(context) in norm(source_text(q["source"])), (q["id"], context)
            assert norm(context) in extracted_v1[q["source"]], (q["id"], "lost in rendering")


def test_main_questions_stay_valid_after_the_update():
    # the freshness scenario must not silently invalidate the main question set
    updated = {f.name for f in demo_update_files()}
    for q in demo_questions():
        if q["source"] in updated:
            for context in q["reference_contexts"]:
                assert norm(context) in norm(source_text(q["source"], version=2)), q["id"]


def test_unanswerable_share_and_form():
    questions = demo_questions()
    unanswerable = [q for q in questions if "unanswerable" in q["tags"]]
    assert 0.05 <= len(unanswerable) / len(questions) <= 0.15
    assert {q["language"] for q in unanswerable} == {"en", "es"}
    for q in unanswerable:
        assert q["source"] is None and q["reference_contexts"] == []
        assert q["reference"] in {"The documents do not say.", "Los documentos no lo indican."}


def test_split_is_about_70_30_per_language_and_matches_the_rule():
    questions = demo_questions()
    for language in ("en", "es"):
        subset = [q for q in questions if q["language"] == language]
        heldout = sum(q["split"] == "heldout" for q in subset) / len(subset)
        assert 0.22 <= heldout <= 0.38, (language, heldout)
    assert {q["id"]: q["split"] for q in questions} == assign_splits(questions)
    strata = Counter((q["language"], build.split_stratum(q), q["split"]) for q in questions)
    for (language, stratum, _), _count in strata.items():
        if sum(n for k, n in strata.items() if k[:2] == (language, stratum)) >= 3:
            assert strata[(language, stratum, "train")] and strata[(language, stratum, "heldout")]


def test_assign_splits_is_stable_under_reordering():
    questions = demo_questions()
    assert assign_splits(list(reversed(questions))) == assign_splits(questions)


def _iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def test_planted_personal_data_is_valid_and_present(extracted_v1):
    planted = planted_personal_data()
    assert {p["kind"] for p in planted} >= {"email", "phone", "dni", "iban", "card"}
    assert 2 <= len({p["document"] for p in planted}) <= 3
    for item in planted:
        value = item["value"]
        assert norm(value) in extracted_v1[item["document"]], item
        others = [n for n in extracted_v1 if n != item["document"]]
        assert not any(norm(value) in extracted_v1[n] for n in others), item
        if item["kind"] == "iban":
            assert value.startswith("ES") and len(value.replace(" ", "")) == 24 and _iban_ok(value)
        elif item["kind"] == "dni":
            assert DNI_LETTERS[int(value[:8]) % 23] == value[8]
        elif item["kind"] == "card":
            assert len(value.replace(" ", "")) == 16 and _luhn_ok(value)
        elif item["kind"] == "phone":
            assert re.fullmatch(r"\+34 [67]\d{2} \d{3} \d{3}", value)
        elif item["kind"] == "email":
            assert re.fullmatch(r"[\w.]+@[\w.]+\.example", value)


def test_checksum_helpers_reject_corrupted_values():
    # guards against a checksum helper that accepts anything
    assert not _iban_ok("ES14 2095 0611 0391 0284 7365")
    assert not _luhn_ok("4539 1488 0343 6468")


def test_freshness_update_changes_the_planted_facts(files_v1):
    updates = {f.name: f for f in demo_update_files()}
    assert updates and set(updates) <= set(files_v1)
    files_v2 = {f.name: f for f in demo_files(2)}
    assert set(files_v2) == set(files_v1)
    changed = {n for n in files_v1 if files_v1[n].data != files_v2[n].data}
    assert changed == set(updates)
    assert all(files_v2[n].data == updates[n].data for n in updates)
    assert "30 calendar days" in source_text("returns-policy.pdf", 1)
    assert "45 calendar days" in source_text("returns-policy.pdf", 2)
    assert "30 calendar days" not in source_text("returns-policy.pdf", 2)


def test_freshness_questions_have_both_answers():
    questions = freshness_questions()
    assert 3 <= len(questions) <= 5
    assert {q["language"] for q in questions} == {"en", "es"}
    for q in questions:
        assert q["reference_v1"] != q["reference_v2"]
        v1, v2 = norm(source_text(q["source"], 1)), norm(source_text(q["source"], 2))
        for context in q["reference_contexts_v1"]:
            assert norm(context) in v1 and norm(context) not in v2, q["id"]
        for context in q["reference_contexts_v2"]:
            assert norm(context) in v2 and norm(context) not in v1, q["id"]


def test_unknown_version_or_document_is_refused():
    with pytest.raises(ValueError):
        demo_files(3)
    with pytest.raises(KeyError):
        source_text("no-such-document.pdf")


def test_parse_markdown_subset():
    blocks = parse_markdown("# T\n\nOne\nline.\n\n- a\n- b\n\n1. x\n2. y\n\n## H\nTail.")
    assert [b.kind for b in blocks] == ["title", "paragraph", "bullets", "numbered", "heading", "paragraph"]
    assert blocks[1].text == "One line." and blocks[3].items == ("x", "y")
    with pytest.raises(ValueError):
        parse_markdown("no title here")
