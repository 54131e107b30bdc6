"""The wave machinery of ingestion without a database or a model: chunks of several documents are
embedded together longest first and each vector lands on its own chunk; a failing call is retried
one document at a time so only the culprit fails; cancellation goes through; chunking measures
each distinct text once; the writer stores one wave at a time and re-raises what storing raised."""

from __future__ import annotations

import threading

import pytest

from backend.corpus import pipeline
from backend.corpus.chunking import Chunk, ChunkingConfig, chunk_document
from backend.corpus.documents import ParsedDocument, ParsedSection
from backend.corpus.pipeline import Pending, Writer, embed_wave
from backend.errors import JobCancelled


def chunk(text: str, position: int = 0) -> Chunk:
    return Chunk(text=text, position=position, page=None, section=None, token_count=len(text.split()))


def pending(name: str, *texts: str) -> Pending:
    doc = ParsedDocument(name, "txt", name * 8, [ParsedSection(" ".join(texts))])
    return Pending(doc, f"id-{name}", [[chunk(t, i) for i, t in enumerate(texts)]])


class FakeEmbedding:
    """Vectors that say which text they belong to; records every call; refuses poisoned batches."""

    def __init__(self, poison: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.poison = poison

    def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.poison and any(self.poison in t for t in texts):
            raise RuntimeError("poisoned input")
        return [[float(len(t)), float(sum(map(ord, t)))] for t in texts]


def vector_of(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)))]


def test_a_wave_is_embedded_together_longest_first_and_vectors_find_their_chunks(monkeypatch):
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 3)
    wave = [pending("a", "one two", "one two three four five"),
            pending("b", "x", "a b c d", "six words are in this text"),
            pending("c", "three small words")]
    fake, batches = FakeEmbedding(), []
    embed_wave(fake, 0, wave, lambda: None, lambda n, s: batches.append(n))
    sizes = [len(t.split()) for call in fake.calls for t in call]
    assert sizes == sorted(sizes, reverse=True)  # across documents, longest first
    assert batches == [3, 3] and len(fake.calls) == 2  # 6 chunks, 3 per call, counted per call
    for p in wave:
        assert p.error is None
        assert p.vectors[0] == [vector_of(c.text) for c in p.chunks[0]]


def test_a_failing_call_is_retried_per_document_and_only_the_culprit_fails(monkeypatch):
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 8)
    wave = [pending("good", "fine text here"), pending("bad", "POISON here", "clean part"),
            pending("also-good", "more fine text", "and more")]
    counted = []
    embed_wave(FakeEmbedding(poison="POISON"), 0, wave, lambda: None, lambda n, s: counted.append(n))
    assert [p.error is None for p in wave] == [True, False, True]
    assert "poisoned" in str(wave[1].error)
    assert wave[0].vectors[0] == [vector_of("fine text here")]
    assert wave[2].vectors[0] == [vector_of("more fine text"), vector_of("and more")]
    assert sum(counted) == 3  # the failed call counted nothing; each good chunk once


def test_cancellation_is_not_taken_for_a_document_failure(monkeypatch):
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 1)
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise JobCancelled()

    wave = [pending("a", "first chunk"), pending("b", "second chunk")]
    with pytest.raises(JobCancelled):
        embed_wave(FakeEmbedding(), 0, wave, check, lambda n, s: None)
    assert all(p.error is None for p in wave)


def test_documents_that_already_failed_are_not_embedded():
    wave = [pending("a", "kept"), pending("b", "skipped")]
    wave[1].error = ValueError("could not be chunked")
    fake = FakeEmbedding()
    embed_wave(fake, 0, wave, lambda: None, lambda n, s: None)
    assert fake.calls == [["kept"]]


def test_chunking_measures_each_distinct_text_once():
    text = ("The tent sleeps four. It weighs twelve pounds and packs small. " * 30).strip()
    doc = ParsedDocument("t.txt", "txt", "0" * 64, [ParsedSection(text), ParsedSection(text[:300])])
    seen: list[str] = []

    def count(piece: str) -> int:
        seen.append(piece)
        return len(piece.split())

    chunks = chunk_document(doc, ChunkingConfig(chunk_size=40, chunk_overlap=5), count)
    assert len(chunks) > 5 and all(c.token_count <= 40 for c in chunks)
    assert len(seen) == len(set(seen))


def test_the_writer_stores_one_wave_at_a_time_on_its_own_thread():
    threads, order = set(), []
    release = threading.Event()

    def store(wave):
        threads.add(threading.current_thread().name)
        release.wait(5)
        order.append([p.doc.name for p in wave])

    writer = Writer(store)
    first = [pending("a", "x")]
    writer.submit(first)
    with pytest.raises(RuntimeError):
        writer.submit([pending("b", "y")])  # the previous wave must be waited for first
    release.set()
    assert writer.wait() is first and writer.wait() is None
    writer.close()
    assert order == [["a"]] and threads and threading.current_thread().name not in threads


def test_the_writer_re_raises_what_storing_raised():
    def store(wave):
        raise ConnectionError("database went away")

    writer = Writer(store)
    writer.submit([pending("a", "x")])
    with pytest.raises(ConnectionError):
        writer.wait()
    writer.close()
