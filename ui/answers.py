"""Answers on screen, one column per strategy: the strategy's name in its palette colour, the
answer (streamed while it is generated), latency and tokens as small metrics, and the sources.

Built for several strategies side by side (base, RAG, fine-tuned, hybrid): a page makes one
column per strategy and calls ``render_answer_column`` in each. Only RAG exists for now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

import streamlit as st

from ui.i18n import t
from ui.sources import chunk_card, question_pattern

if TYPE_CHECKING:
    from backend.rag.answer import Answer

#: answer metrics are secondary to the answer: smaller than Streamlit's headline size
_SMALL_METRICS_CSS = ("<style>[class*='st-key-answer-metrics'] [data-testid='stMetricValue']"
                      "{font-size:1.5rem;}</style>")
#: how the score of a source reads, per retrieval mode
SCORE_NOTE = {"vector": "ask.score.vector", "text": "ask.score.text", "hybrid": "ask.score.hybrid"}


def rag_answer_stream(lab: Any, corpus_id: str, question: str, *, mode: str, k: int,
                      config: Any) -> Iterator[Any]:
    """Retrieve ``k`` chunks of the corpus (``mode``) and stream the cited answer: yields text
    pieces, then the ``Answer`` (``backend.rag.answer.stream_answer``). Runs in the app process
    with the process-wide cached generator: the one interactive exception to "long work is a job"."""
    from backend.models.registry import get_generator
    from backend.rag.answer import stream_answer
    from backend.rag.retrieval import retrieve

    chunks = retrieve(lab, corpus_id, question, mode=mode, k=k)
    generator = get_generator(lab.settings)  # loaded now (once per process), not mid-stream
    return stream_answer(lab, question, chunks, generator=generator, config=config)


def _heading(label: str, colour: str) -> None:
    st.markdown(
        f"<div style='border-top:6px solid {colour};padding-top:0.45rem;font-weight:600;"
        f"font-size:1.1rem;color:{colour}'>{label}</div>", unsafe_allow_html=True)


def _write_streamed(stream: Iterable[Any]) -> "Answer | None":
    """Write the text pieces of ``stream`` as they come; returns the final ``Answer``."""
    final: dict[str, Any] = {}

    def pieces() -> Iterator[str]:
        for item in stream:
            if isinstance(item, str):
                yield item
            else:
                final["answer"] = item

    st.write_stream(pieces())
    return final.get("answer")


def _metrics(answer: "Answer", key: str) -> None:
    st.markdown(_SMALL_METRICS_CSS, unsafe_allow_html=True)
    with st.container(key=f"answer-metrics-{key}"):
        _metric_row(answer)


def _metric_row(answer: "Answer") -> None:
    latency, tokens_in, tokens_out = st.columns(3)
    latency.metric(t("ask.metric.latency"), t("ask.seconds", s=f"{answer.latency_s:.1f}"),
                   help=t("ask.metric.latency_help"))
    tokens_in.metric(t("ask.metric.tokens_in"), f"{answer.tokens_in:,}",
                     help=t("ask.metric.tokens_in_help"))
    tokens_out.metric(t("ask.metric.tokens_out"), f"{answer.tokens_out:,}",
                      help=t("ask.metric.tokens_out_help"))


def sources_expander(answer: "Answer", *, mode: str | None = None, expanded: bool = False) -> None:
    """"Sources (n)": every chunk given to the model, numbered as in the answer, marked cited or
    not, with document, page or section, score and the text with the question's words marked."""
    contexts = list(answer.contexts)
    cited = {c.chunk.chunk_id for c in answer.citations}
    with st.expander(t("ask.sources", n=len(contexts)), expanded=expanded, icon=":material/article:"):
        if not contexts:
            st.caption(t("ask.no_sources"))
            return
        if mode in SCORE_NOTE:
            st.caption(t(SCORE_NOTE[mode]))
        pattern = question_pattern(answer.question)
        for number, chunk in enumerate(contexts, start=1):
            chunk_card(chunk, pattern, number=number, show_score=True, cited=chunk.chunk_id in cited)


def _answer_text(text: str) -> None:
    if text.strip():
        st.markdown(text)
    else:
        st.caption(t("ask.empty_answer"))


def render_answer_column(strategy_label: str, colour: str, answer: "Answer | None" = None, *,
                         stream: Iterable[Any] | None = None, mode: str | None = None) -> "Answer | None":
    """One strategy's answer in the current column: its name in ``colour``; the answer (written
    piece by piece from ``stream`` when given, else ``answer``'s text); latency and token metrics;
    what made it (model, search mode); and the "Sources (n)" expander. Returns the ``Answer``."""
    _heading(strategy_label, colour)
    if stream is not None:
        answer = _write_streamed(stream)
        if answer is None:
            return None
        if not answer.text.strip():
            st.caption(t("ask.empty_answer"))
    elif answer is None:
        return None
    else:
        _answer_text(answer.text)
    if answer.citations:
        st.caption(t("ask.cites", sources=", ".join(f"[{c.number}]" for c in answer.citations)))
    elif answer.contexts and answer.text.strip():
        st.caption(t("ask.no_citation"))
    _metrics(answer, strategy_label)
    made = [t("ask.made.model", model=answer.model_id or "?"),
            t("ask.made.tokens", n=answer.config.get("max_new_tokens", "?"))]
    if mode:
        made.append(t("ask.made.mode", mode=t(f"ask.mode.{mode}")))
    st.caption(" · ".join(made))
    sources_expander(answer, mode=mode)
    return answer
