"""Cited answers with the real bundled SmolLM2 (greedy, short answers): the citation parser, the
prompt (numbered sources, "I don't know" in the question's language), an answer that cites the
chunk it used, streaming, retrieval + answer in one call, and the command line end to end."""

from __future__ import annotations

import pytest

from backend import config
from backend.models import registry
from backend.models.llm import GenerationConfig
from backend.rag.answer import answer, ask, build_prompt, cut_echo, parse_citations, stream_answer
from backend.rag.prompts import DEFAULT_TEMPLATE, DONT_KNOW, detect_language
from backend.rag.retrieval import RetrievedChunk

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread
SHORT = GenerationConfig(max_new_tokens=40)


@pytest.fixture(scope="module")
def generator(lab_home):
    return registry.get_generator(config.build({"LAB_DATA_DIR": str(lab_home)}))


def chunk(n: int, text: str, name: str, page: int | None = None, section: str | None = None):
    return RetrievedChunk(f"chunk-{n}", text, 0.5, f"doc-{n}", name, page, section, n, n)


RETURNS = chunk(1, "The Trailhead 2 tent can be returned within 30 days of purchase for a full refund.",
                "returns.pdf", page=2)
CARE = chunk(2, "Clean the tent with lukewarm water and mild soap. Never machine-wash it.", "care.md",
             section="Care")


def test_parse_citations_accepts_the_forms_models_write():
    assert parse_citations("Thirty days [1].", 3) == [1]
    assert parse_citations("Yes [2][1], see also [2].", 3) == [2, 1]
    assert parse_citations("Both [1, 3] and [2-3].", 3) == [1, 3, 2]
    assert parse_citations("As (Source 2) says; fuente 1 también.", 2) == [2, 1]
    assert parse_citations("[Sources 1 and 2]", 2) == [1, 2]
    assert parse_citations("Out of range [7], [0] or a year (2024).", 3) == []
    assert parse_citations("No citation at all.", 3) == []


def test_cut_echo_stops_where_the_model_repeats_the_prompt():
    assert cut_echo("Thirty days [1].\n\n[2] (care.md) Clean the tent") == "Thirty days [1]."
    assert cut_echo("Thirty days [1].\nQuestion: When?") == "Thirty days [1]."
    assert cut_echo("Steps:\n1. Rinse.\n2. Dry [1].") == "Steps:\n1. Rinse.\n2. Dry [1]."


def test_detect_language():
    assert detect_language("¿Cuántos días tengo para devolver una tienda?") == "es"
    assert detect_language("Cuanto dura la garantia de la tienda") == "es"
    assert detect_language("How long is the warranty on a tent?") == "en"
    assert detect_language("Trailhead 2") == "en"


def test_prompt_numbers_the_sources_and_says_how_to_decline_in_the_question_language():
    prompt, kept = build_prompt("How long do I have?", [RETURNS, CARE], template=DEFAULT_TEMPLATE,
                                language="en")
    last = prompt[-1]["content"]
    assert "[1] (returns.pdf, p. 2) The Trailhead 2 tent" in last and "[2] (care.md › Care) Clean" in last
    assert last.endswith("Question: How long do I have?") and kept == [RETURNS, CARE]
    assert DONT_KNOW["en"] in prompt[0]["content"]
    es, _ = build_prompt("¿Cuánto tiempo tengo?", [RETURNS], template=DEFAULT_TEMPLATE, language="es")
    assert DONT_KNOW["es"] in es[0]["content"] and es[-1]["content"].startswith("Fuentes:\n[1]")
    # the context budget keeps the best-ranked chunks that fit, and always the first one
    _, fitted = build_prompt("q", [RETURNS, CARE], template=DEFAULT_TEMPLATE, language="en",
                             count_tokens=lambda t: len(t.split()), max_context_tokens=16)
    assert fitted == [RETURNS]


def test_answer_cites_the_chunk_it_used(generator):
    question = "Within how many days can the Trailhead 2 tent be returned?"
    result = answer(None, question, [RETURNS], generator=generator, config=SHORT)
    assert "30" in result.text
    assert [(c.number, c.chunk) for c in result.citations] == [(1, RETURNS)]
    assert result.contexts == [RETURNS] and result.language == "en"
    assert result.config == SHORT.as_dict() and result.template == DEFAULT_TEMPLATE.name
    assert result.model_id == generator.model_id and result.latency_s > 0
    assert 0 < result.tokens_out <= SHORT.max_new_tokens and result.tokens_in > 50
    assert RETURNS.text in result.prompt[-1]["content"]
    record = result.as_dict()
    assert record["citations"] == [{"number": 1, "chunk_id": RETURNS.chunk_id}]
    assert record["config"]["max_new_tokens"] == 40 and record["prompt"] == result.prompt
    # with several sources a 135M model cites unreliably (it was seen citing the wrong number):
    # only what the parser promises is checked, that every citation maps to a source given
    several = answer(None, question, [CARE, RETURNS], generator=generator, config=SHORT)
    assert all(c.chunk is several.contexts[c.number - 1] for c in several.citations)


def test_stream_answer_yields_the_text_then_the_answer(generator):
    question = "Within how many days can the Trailhead 2 tent be returned?"
    parts = list(stream_answer(None, question, [RETURNS], generator=generator, config=SHORT))
    final = parts[-1]
    pieces = parts[:-1]
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == final.text
    assert final.text == answer(None, question, [RETURNS], generator=generator, config=SHORT).text
    assert [c.chunk for c in final.citations] == [RETURNS] and final.tokens_out > 0


def test_ask_retrieves_then_answers_from_the_corpus(lab, generator):
    from backend.corpus import store
    from backend.corpus.ingest import ingest

    corpus = store.create_corpus(lab, "Shop", "en")
    ingest(lab, corpus.id, [("returns.txt", RETURNS.text.encode()), ("care.txt", CARE.text.encode())])
    result = ask(lab, corpus.id, "Within how many days can the Trailhead 2 tent be returned?",
                 mode="hybrid", k=1, generator=generator, config=SHORT)
    assert [c.document_name for c in result.contexts] == ["returns.txt"]
    assert [(c.number, c.chunk) for c in result.citations] == [(1, result.contexts[0])]
    assert "30" in result.text


def test_command_line_journey(lab_env, monkeypatch, capsys, tmp_path, generator):
    from backend.cli import main

    for key, value in lab_env.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "returns.txt").write_text(RETURNS.text)
    (tmp_path / "care.md").write_text("# Care\n\n" + CARE.text)

    def run(*argv: str) -> str:
        code = main(list(argv))
        out = capsys.readouterr().out
        assert code == 0, out
        return out

    assert "corpus Shop (en)" in run("corpus-create", "Shop", "--language", "en")
    out = run("ingest", "Shop", str(tmp_path / "docs"), str(tmp_path / "care.md"))
    assert "2 added" in out and "✓ returns.txt" in out
    assert "Shop" in run("corpus-list")
    docs = run("docs", "Shop")
    assert "returns.txt" in docs and "care.md" in docs
    found = run("search", "Shop", "machine-wash", "--mode", "text", "--k", "1")
    assert found.startswith("1. [") and "care.md › Care" in found
    said = run("ask", "Shop", "Within how many days can the Trailhead 2 tent be returned?",
               "--max-new-tokens", "40")
    assert "30" in said and "[1] returns.txt" in said
    assert "deleted care.md" in run("doc-delete", "Shop", "care.md")
    assert "care.md" not in run("docs", "Shop")
    assert "* " in run("index-list", "Shop")
    assert main(["ask", "Nowhere", "hello"]) == 2  # a LabError: one line, exit status 2
    assert "There is no corpus" in capsys.readouterr().err
    assert "deleted corpus Shop" in run("corpus-delete", "Shop")
