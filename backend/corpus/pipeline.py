"""The throughput path of ingestion and index builds: the chunks of many documents embedded and
stored together (``backend.corpus.ingest`` keeps each document's life cycle around it).

Why waves: embedding one document at a time made many small calls (a two-chunk abstract cost a
forward pass of its own, padded to its longer chunk), and storing through ``PGVectorStore.add``
cost an ORM flush and a commit per document. Documents are gathered into waves of about
``WAVE_CHUNKS`` chunks; a wave's chunks are embedded together, longest first, so each forward pass
holds texts of nearly one length (least padding); then they are written with one binary COPY per
index table, in the transaction that makes the documents ready. ``Writer`` does that writing on a
thread of its own while the next wave is embedded: the database's share (HNSW insertion, the
commit's flush) overlaps the model's instead of following it.

Rows are exactly what ``PGVectorStore.add`` writes: ``text``, ``metadata_`` from LlamaIndex's
``node_to_metadata_dict``, ``node_id`` and ``embedding``, with ``id`` and the full-text column
filled by Postgres, so retrieval reads them through LlamaIndex as before.

Ingestion and index builds also share from here the indexes they write to (``targets``: model,
chunking, token count and store of each) and the corpus lock that runs them one at a time.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from psycopg import sql as pgsql
from psycopg.types.json import Jsonb

from backend.corpus import index as vindex
from backend.errors import JobCancelled, LabError

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)
#: chunks (over every index written to) gathered before a wave is embedded: enough for passes of
#: near-equal lengths, few enough that progress moves every few seconds
WAVE_CHUNKS = 256
#: texts per call to the embedding model (cancellation is checked between calls); the model splits
#: a call further into its own forward passes
EMBED_BATCH = 32
OnBatch = Callable[[int, float], None]


@dataclass
class Target:
    """One index a document is written to, with what writing to it needs."""

    info: Any  # store.IndexInfo
    embed: Any
    cfg: Any
    count_tokens: Callable[[str], int]
    vectors: Any


def targets(lab: "Lab", corpus: Any, indexes: list[Any]) -> list[Target]:
    """The indexes ``indexes`` of ``corpus`` as write targets: model, chunking, token count, store."""
    from backend.corpus.chunking import ChunkingConfig
    from backend.models.embeddings import get_embedding, get_tokenizer_for_embedding

    out = []
    for idx in indexes:
        tok = get_tokenizer_for_embedding(idx.embed_spec, lab.settings)
        special = tok.count("")  # the chunker counts word pieces without [CLS]/[SEP], <s>/</s>
        out.append(Target(idx, get_embedding(lab.settings, idx.embed_spec, language=corpus.language),
                          ChunkingConfig(**idx.chunking), lambda text, c=tok.count, s=special: c(text) - s,
                          vindex.vector_store(lab.db.url, idx.table_name, idx.dim,
                                              idx.text_search_config)))
    return out


@contextmanager
def corpus_lock(lab: "Lab", corpus_id: str, check_cancelled: Callable[[], None]) -> Iterator[None]:
    """Hold the corpus's advisory lock (own connection: a session lock must not go back to the
    pool) while the block runs; waits, checking for cancellation, while another job holds it."""
    import psycopg

    with psycopg.connect(lab.db.url, autocommit=True) as conn:
        while not conn.execute("SELECT pg_try_advisory_lock(7310003, hashtext(%s))",
                               (str(corpus_id),)).fetchone()[0]:
            check_cancelled()
            time.sleep(0.5)
        yield  # closing the connection releases the lock, even after a crash


def error_message(exc: BaseException) -> str:
    """What a per-file result says about a document that failed with ``exc``."""
    return exc.user_message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"


def ignore_batch(n: int, seconds: float) -> None:
    """An ``OnBatch`` for embedding that is not counted (a second index, an index build)."""
    return None


@dataclass
class Pending:
    """A document on its way into the index tables: its chunks and vectors per index written to
    (``chunks[i]`` for the i-th target), and the error that stopped it, if one did."""

    doc: Any
    doc_id: str
    chunks: list[list[Any]]
    vectors: list[list[Any] | None] = field(default_factory=list)
    rows: list[list[tuple]] = field(default_factory=list)
    error: BaseException | None = None
    stored: bool = False
    old: dict | None = None  # the ready version this document replaces
    findings: dict[str, int] = field(default_factory=dict)
    result: Any = None  # what became of it, for the caller

    @property
    def chunk_count(self) -> int:
        """Chunks of the first index that has any (what the per-file results report)."""
        return next((len(c) for c in self.chunks if c), 0)


def embed_wave(embed: Any, which: int, wave: list[Pending], check: Callable[[], None],
               on_batch: OnBatch) -> None:
    """Fill ``p.vectors[which]`` for each document of ``wave`` that has not failed.

    The chunks of all of them go to ``embed`` together, longest first, ``EMBED_BATCH`` per call,
    with ``check()`` before each call and ``on_batch(n, seconds)`` after it. If a call fails, the
    chunks still missing are embedded one document at a time, so only a document that fails on
    its own fails (its ``error`` is set); ``JobCancelled`` and non-``Exception`` errors propagate.
    """
    live = [p for p in wave if p.error is None]
    for p in live:
        while len(p.vectors) <= which:
            p.vectors.append(None)
        p.vectors[which] = [None] * len(p.chunks[which])
    items = sorted(((p, i) for p in live for i in range(len(p.chunks[which]))),
                   key=lambda item: -item[0].chunks[which][item[1]].token_count)
    try:
        _embed_items(embed, which, items, check, on_batch)
    except JobCancelled:
        raise
    except Exception:  # noqa: BLE001 - retried per document below, where it is reported
        log.warning("embedding %d documents together failed; embedding them one by one", len(live),
                    exc_info=True)
        for p in live:
            missing = [(p, i) for i, v in enumerate(p.vectors[which]) if v is None]
            try:
                _embed_items(embed, which, missing, check, on_batch)
            except JobCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - this document fails, the others go on
                p.error = exc


def _embed_items(embed: Any, which: int, items: list[tuple[Pending, int]],
                 check: Callable[[], None], on_batch: OnBatch) -> None:
    for start in range(0, len(items), EMBED_BATCH):
        check()
        batch = items[start:start + EMBED_BATCH]
        began = time.perf_counter()
        vectors = embed.get_text_embedding_batch([p.chunks[which][i].text for p, i in batch])
        on_batch(len(batch), time.perf_counter() - began)
        for (p, i), vector in zip(batch, vectors):
            p.vectors[which][i] = vector


def build_rows(p: Pending, which: int, *, flat_metadata: bool = False) -> list[tuple]:
    """The table rows of one document's chunks for the ``which``-th index, as ``PGVectorStore.add``
    would write them: ``(text, metadata_, node_id, embedding)``; each chunk's metadata carries the
    sensitive-data counts of its own text."""
    from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from pgvector import Vector

    from backend.corpus.sensitive import counts, scan

    rows = []
    for chunk, vector in zip(p.chunks[which], p.vectors[which]):
        # The embedding stays off the node: node_to_metadata_dict blanks it anyway, and the vector
        # goes to its own column.
        node = TextNode(
            id_=str(uuid.uuid4()), text=chunk.text,
            metadata={"document_id": p.doc_id, "document_name": p.doc.name, "page": chunk.page,
                      "section": chunk.section, "position": chunk.position, "kind": p.doc.kind,
                      "tokens": chunk.token_count, "findings": counts(scan(chunk.text))},
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.doc_id)})
        rows.append((node.get_content(metadata_mode=MetadataMode.NONE),
                     Jsonb(node_to_metadata_dict(node, remove_text=True, flat_metadata=flat_metadata)),
                     node.node_id, Vector(vector)))
    return rows


def copy_rows(conn: Any, table_name: str, rows: list[tuple]) -> None:
    """Append ``rows`` (from ``build_rows``) to an index table with one binary COPY, inside the
    caller's transaction; the table's HNSW and full-text indexes are updated by Postgres."""
    if not rows:
        return
    statement = pgsql.SQL("COPY {} (text, metadata_, node_id, embedding) FROM STDIN (FORMAT BINARY)").format(
        pgsql.Identifier(vindex.physical_table(table_name)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(["varchar", "jsonb", "varchar", "vector"])
        for row in rows:
            copy.write_row(row)


class Writer:
    """Runs one wave's storing at a time on a thread of its own, so the caller can embed the next
    wave meanwhile. ``submit`` hands over a wave; ``wait`` returns the wave last handed over once
    it is stored (re-raising what the storing function raised), or None."""

    def __init__(self, store: Callable[[list[Pending]], None]) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._inflight: tuple[list[Pending], Future] | None = None

    @property
    def inflight(self) -> list[Pending]:
        """The documents of the wave being stored (empty when none is)."""
        return self._inflight[0] if self._inflight else []

    def submit(self, wave: list[Pending]) -> None:
        if self._inflight is not None:
            raise RuntimeError("wait for the previous wave first")
        self._inflight = (wave, self._pool.submit(self._store, wave))

    def wait(self) -> list[Pending] | None:
        if self._inflight is None:
            return None
        wave, future = self._inflight
        self._inflight = None
        future.result()
        return wave

    def close(self) -> None:
        """Wait for the wave in flight (if any) and stop the thread."""
        self._pool.shutdown(wait=True)
