"""One question, any strategy, streamed: what the Ask page shows side by side.

``stream_strategy`` answers the way an evaluation run asks a ``StrategyConfig`` (the same model,
prompt template, retrieval and generation settings: ``backend.evaluate.strategies``), but one
question at a time and streamed, with the cited-answer machinery of ``backend.rag.answer``. So
what a user reads on Ask is what Evaluate scores. ``models_for_corpus`` lists the fine-tuned models
a page can offer, the ones trained on the corpus at hand first.

Like ``backend.rag.answer``, this runs in the caller's process with the process-wide cached
generators: the one interactive exception to "long work is a job".
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterator

from backend.errors import InputError
from backend.evaluate.strategies import (CLOSED_BOOK_TEMPLATES, TEMPLATES, StrategyConfig,
                                         get_strategy)

if TYPE_CHECKING:
    from backend.finetune.registry import TrainedModel
    from backend.lab import Lab
    from backend.rag.answer import Answer


def stream_strategy(lab: "Lab", cfg: StrategyConfig, question: str, *,
                    corpus_id: str | None = None) -> Iterator["str | Answer"]:
    """Answer ``question`` with the strategy ``cfg``: an iterator of text pieces as the model
    writes them, then the ``Answer``.

    Retrieving strategies (RAG, hybrid) search ``cfg.corpus_id`` (else ``corpus_id``) with the
    configured mode, k and index; their ``Answer`` numbers the passages given to the model and
    maps its ``[n]`` citations to them. Closed-book strategies (base, fine-tuned) get the closed-
    book prompt of ``cfg.template``; their ``Answer`` has no contexts and no citations.
    ``Answer.retrieval_s`` is the search time (0 closed book), ``latency_s`` the writing time.

    The work before the first piece happens in this call (the question checked, passages
    retrieved, the model loaded once per process), so an unusable strategy (no corpus, no index,
    a deleted or unloadable model) raises here, before anything is shown.
    """
    from backend.rag.answer import stream_answer

    impl = get_strategy(cfg.kind)
    text = (question or "").strip()
    if not text:
        raise InputError("Type a question.")
    chunks: list = []
    retrieval_s = 0.0
    if impl.retrieves:
        corpus = cfg.corpus_id or corpus_id
        if not corpus:
            raise InputError(f"The {cfg.label} strategy retrieves passages but has no corpus.",
                             hint="Pick the corpus to retrieve from.")
        from backend.rag.retrieval import retrieve

        began = time.perf_counter()
        chunks = retrieve(lab, corpus, text, mode=cfg.mode, k=cfg.k, index_id=cfg.index_id)
        retrieval_s = time.perf_counter() - began
    generator = impl.generator(lab, cfg)  # loaded now, not in the middle of the stream
    template = (TEMPLATES if impl.retrieves else CLOSED_BOOK_TEMPLATES)[cfg.template]
    stream = stream_answer(lab, text, chunks, generator=generator, config=cfg.generation_config(),
                           template=template)
    return _timed(stream, retrieval_s)


def _timed(stream: Iterator["str | Answer"], retrieval_s: float) -> Iterator["str | Answer"]:
    """``stream`` with the search time recorded on its final ``Answer``."""
    try:
        for item in stream:
            if not isinstance(item, str):
                item.retrieval_s = retrieval_s
            yield item
    finally:
        stream.close()  # abandoned early (the page moved on): stop the model too


def models_for_corpus(lab: "Lab", corpus_id: str | None) -> list["TrainedModel"]:
    """The fine-tuned models that can answer (status ready), those trained on ``corpus_id``'s
    data first, newest first within each group."""
    from backend.finetune.registry import list_models

    ready = list_models(lab, status="ready")  # newest first
    return ([m for m in ready if corpus_id and m.corpus_id == corpus_id]
            + [m for m in ready if not (corpus_id and m.corpus_id == corpus_id)])
