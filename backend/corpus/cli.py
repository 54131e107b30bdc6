"""Corpus and RAG commands for ``./lab cli``: create, list and delete corpora; ingest files;
list and delete documents; manage indexes; search; ask a question with cited sources.

Examples::

    ./lab cli corpus-create handbook --language en
    ./lab cli ingest handbook docs/*.pdf notes.md
    ./lab cli search handbook "refund period" --mode hybrid --k 5
    ./lab cli ask handbook "How long do I have to return a tent?"
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend.cli import _print_json, command
from backend.errors import InputError


def _corpus_arg(p):
    p.add_argument("corpus", help="corpus name or id")


def _chunking_args(p):
    p.add_argument("--embed-model", default=None, help="embedding model spec (default: by language)")
    p.add_argument("--splitter", default=None, help="sentence, token or markdown")
    p.add_argument("--chunk-size", type=int, default=None, help="chunk size in the model's tokens")
    p.add_argument("--chunk-overlap", type=int, default=None, help="overlap in tokens")


def _chunking(ns) -> dict | None:
    values = {k: v for k, v in (("splitter", ns.splitter), ("chunk_size", ns.chunk_size),
                                ("chunk_overlap", ns.chunk_overlap)) if v is not None}
    if not values:
        return None
    from dataclasses import asdict

    from backend.corpus.chunking import ChunkingConfig

    return {**asdict(ChunkingConfig()), **values}


@command("corpus-create", "Create a corpus (with its default index).",
         lambda p: (p.add_argument("name"), p.add_argument("--language", default="en",
                                                           choices=("en", "es", "mixed")),
                    _chunking_args(p)))
def corpus_create(ns, lab) -> int:
    from backend.corpus.store import create_corpus

    corpus = create_corpus(lab, ns.name, ns.language, embed_spec=ns.embed_model, chunking=_chunking(ns))
    idx = corpus.active_index
    print(f"✓ corpus {corpus.name} ({corpus.language}) id {corpus.id}; index: {idx.embed_name}, "
          f"{idx.chunking_key}")
    return 0


@command("corpus-list", "List corpora with their document counts and versions.")
def corpus_list(ns, lab) -> int:
    from backend.corpus.store import list_corpora

    corpora = list_corpora(lab)
    if not corpora:
        print("No corpora yet: create one with corpus-create.")
    for c in corpora:
        idx = c.active_index
        print(f"{c.name:<24} {c.language:<5} {c.document_count:>5} docs  v{c.version:<4} "
              f"{idx.embed_name if idx else '-'}  {c.id}")
    return 0


@command("corpus-delete", "Delete a corpus, its documents and its vector tables.", _corpus_arg)
def corpus_delete(ns, lab) -> int:
    from backend.corpus.store import delete_corpus, get_corpus

    corpus = get_corpus(lab, ns.corpus)
    delete_corpus(lab, corpus.id)
    print(f"✓ deleted corpus {corpus.name}")
    return 0


def _files(paths: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files.extend((str(p.relative_to(path)), p.read_bytes())
                         for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            files.append((path.name, path.read_bytes()))
        else:
            raise InputError(f"{raw} is not a file or folder.")
    return files


@command("ingest", "Ingest files or folders into a corpus (inline, or --job for the worker).",
         lambda p: (_corpus_arg(p), p.add_argument("paths", nargs="+"),
                    p.add_argument("--job", action="store_true", help="queue a job instead"),
                    p.add_argument("--text-column", default=None, help="CSV/JSONL text column")))
def ingest_cmd(ns, lab) -> int:
    from backend.corpus.ingest import enqueue_ingest, ingest
    from backend.corpus.store import get_corpus

    corpus = get_corpus(lab, ns.corpus)
    files = _files(ns.paths)
    if ns.job:
        job_id = enqueue_ingest(lab, corpus.id, files, text_column=ns.text_column)
        print(f"✓ queued job {job_id}: ingest {len(files)} file(s) into {corpus.name}")
        return 0

    def progress(step, total=None, *, message=None, **_):
        print(f"\r  {message or step}".ljust(78), end="", file=sys.stderr, flush=True)

    report = ingest(lab, corpus.id, files, text_column=ns.text_column, progress=progress)
    print(file=sys.stderr)
    for f in report.files:
        print(f"{'✓' if f.ok else '✗'} {f.file_name}: {f.message}")
    print(f"{report.count('added')} added, {report.count('replaced')} replaced, "
          f"{report.count('unchanged')} unchanged, {report.count('failed')} failed; "
          f"{report.chunks} chunks in {report.seconds:.1f} s "
          f"({report.embeddings_per_s:.1f} embeddings/s); corpus version {report.version}")
    return 0 if all(f.ok for f in report.files) else 1


@command("docs", "List the documents of a corpus.", _corpus_arg)
def docs_cmd(ns, lab) -> int:
    from backend.corpus.store import get_corpus, list_documents

    corpus = get_corpus(lab, ns.corpus)
    for d in list_documents(lab, corpus.id):
        flags = ", ".join(f"{k}×{n}" for k, n in sorted(d.findings.items()))
        print(f"{d.name:<40} {d.kind:<9} v{d.version:<3} {d.chunk_count:>5} chunks  {d.id}"
              + (f"  ⚠ {flags}" if flags else ""))
    return 0


@command("doc-delete", "Delete a document (by name or id) and its chunks.",
         lambda p: (_corpus_arg(p), p.add_argument("document")))
def doc_delete(ns, lab) -> int:
    from backend.corpus.store import delete_document, get_corpus, get_document

    corpus = get_corpus(lab, ns.corpus)
    doc = get_document(lab, corpus.id, ns.document)
    delete_document(lab, corpus.id, doc.id)
    print(f"✓ deleted {doc.name} from {corpus.name}")
    return 0


@command("index-list", "List a corpus's indexes (model, chunking, status, active).", _corpus_arg)
def index_list(ns, lab) -> int:
    from backend.corpus.store import get_corpus, list_indexes

    for i in list_indexes(lab, get_corpus(lab, ns.corpus).id):
        print(f"{'*' if i.active else ' '} {i.id}  {i.status:<8} {i.embed_name:<40} {i.chunking_key}"
              + (f"  ({i.error})" if i.error else ""))
    return 0


@command("index-rebuild", "Build a new index with other chunking or embedding model (a job).",
         lambda p: (_corpus_arg(p), _chunking_args(p)))
def index_rebuild(ns, lab) -> int:
    from backend.corpus.ingest import rebuild_index
    from backend.corpus.store import get_corpus

    idx, job_id = rebuild_index(lab, get_corpus(lab, ns.corpus).id, embed_spec=ns.embed_model,
                                chunking=_chunking(ns))
    print(f"✓ index {idx.id} ({idx.status})" + (f"; job {job_id} queued" if job_id else ""))
    return 0


@command("index-activate", "Make a ready index the one questions go to.",
         lambda p: p.add_argument("index_id"))
def index_activate(ns, lab) -> int:
    from backend.corpus.store import activate_index

    idx = activate_index(lab, ns.index_id)
    print(f"✓ index {idx.id} is active")
    return 0


@command("index-delete", "Delete an inactive index and its vector table.",
         lambda p: p.add_argument("index_id"))
def index_delete(ns, lab) -> int:
    from backend.corpus.store import delete_index

    delete_index(lab, ns.index_id)
    print(f"✓ index {ns.index_id} deleted")
    return 0


def _search_args(p, k: int) -> None:
    p.add_argument("--mode", default="hybrid", choices=("vector", "text", "hybrid"))
    p.add_argument("--k", type=int, default=k)
    p.add_argument("--json", action="store_true", help="print JSON")


@command("search", "Search a corpus and print the top chunks.",
         lambda p: (_corpus_arg(p), p.add_argument("query"), _search_args(p, 5)))
def search_cmd(ns, lab) -> int:
    from dataclasses import asdict

    from backend.corpus.store import get_corpus
    from backend.rag.retrieval import retrieve

    chunks = retrieve(lab, get_corpus(lab, ns.corpus).id, ns.query, mode=ns.mode, k=ns.k)
    if ns.json:
        _print_json([asdict(c) for c in chunks])
        return 0
    for c in chunks:
        text = " ".join(c.text.split())
        print(f"{c.rank}. [{c.score:.4f}] {c.source_label}\n   {text[:300]}")
    if not chunks:
        print("No matching chunks.")
    return 0


@command("ask", "Ask a question: print the cited answer and its numbered sources.",
         lambda p: (_corpus_arg(p), p.add_argument("question"), _search_args(p, 3),
                    p.add_argument("--max-new-tokens", type=int, default=256),
                    p.add_argument("--temperature", type=float, default=0.0)))
def ask_cmd(ns, lab) -> int:
    from backend.corpus.store import get_corpus
    from backend.models.llm import GenerationConfig
    from backend.rag.answer import ask

    result = ask(lab, get_corpus(lab, ns.corpus).id, ns.question, mode=ns.mode, k=ns.k,
                 config=GenerationConfig(max_new_tokens=ns.max_new_tokens, temperature=ns.temperature))
    if ns.json:
        _print_json(result.as_dict())
        return 0
    print(result.text)
    print(f"\n({result.latency_s:.1f} s, {result.tokens_in} tokens in, {result.tokens_out} out; "
          f"{result.model_id})\nSources:")
    cited = {c.number for c in result.citations}
    for i, c in enumerate(result.contexts, start=1):
        print(f" {'*' if i in cited else ' '}[{i}] {c.source_label} (score {c.score:.4f})")
    return 0
