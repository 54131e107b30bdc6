"""Answers on screen, one column per strategy: the strategy's name in its palette colour (and the
fine-tuned model's name), the answer (streamed while it is generated), latency and tokens as small
metrics, and the evidence: the "Sources (n)" expander, or for a closed-book strategy a line saying
the answer comes from the model's weights only.

A page makes one column per strategy, puts ``answer_heading`` and a ``waiting`` slot in each, then
fills the slots one after another with ``render_answer_body`` (one CPU: strategies answer in turn).
``comparison_text`` sums the columns up in one sentence. The strategy choice (``strategy_pills``)
and the fine-tuned model picker's labels (``model_label``) live here too.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import streamlit as st

from ui.i18n import t
from ui.palette import LEGEND_ORDER, color_for
from ui.sources import chunk_card, md_escape, question_pattern

if TYPE_CHECKING:
    from backend.finetune.registry import TrainedModel
    from backend.rag.answer import Answer

#: answer metrics are secondary to the answer: smaller than Streamlit's headline size
_SMALL_METRICS_CSS = ("<style>[class*='st-key-answer-metrics'] [data-testid='stMetricValue']"
                      "{font-size:1.5rem;}</style>")
#: how the score of a source reads, per retrieval mode
SCORE_NOTE = {"vector": "ask.score.vector", "text": "ask.score.text", "hybrid": "ask.score.hybrid"}
NEEDS_MODEL = ("finetuned", "hybrid")


# --- choosing strategies -----------------------------------------------------------------------------
def _pills_css(key: str, kinds: Sequence[str]) -> str:
    """Each strategy's pill marked with a dot of its palette colour; a chosen pill is tinted."""
    scope = ".st-key-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in key)
    rules = []
    for position, kind in enumerate(kinds, start=1):
        colour = color_for(kind)
        pill = f"{scope} button:nth-of-type({position})"
        rules.append(f"{pill} p::before{{content:'\\25CF';color:{colour};margin-right:0.4em}}"
                     f"{pill}[aria-pressed='true']{{border-color:{colour};"
                     f"background-color:{colour}22;color:inherit}}")
    return "<style>" + "".join(rules) + "</style>"


def strategy_pills(available: Sequence[str], key: str, seen_key: str) -> list[str]:
    """A multi-choice of the ``available`` strategy kinds, each pill in its palette colour.

    Starts with every available strategy chosen; when a strategy becomes available later (the
    first fine-tuned model appeared), it joins the choice. Returns the chosen kinds in legend order.
    """
    available = [k for k in LEGEND_ORDER if k in available]
    seen = st.session_state.get(seen_key)
    if key not in st.session_state or seen is None:
        st.session_state[key] = list(available)
    elif list(seen) != available:
        chosen = set(st.session_state.get(key) or ()) | (set(available) - set(seen))
        st.session_state[key] = [k for k in available if k in chosen]
    st.session_state[seen_key] = available
    st.markdown(_pills_css(key, available), unsafe_allow_html=True)
    chosen = st.pills(t("ask.compare.strategies"), available, selection_mode="multi", key=key,
                      format_func=lambda kind: t(f"strategy.{kind}"),
                      help=t("ask.compare.strategies_help"))
    return [k for k in LEGEND_ORDER if k in (chosen or ())]


def model_label(model: "TrainedModel", corpus_id: str | None, corpus_names: dict[str, str]) -> str:
    """"tent adapter · Adapter (LoRA) · 2025-03-02", plus the corpus it learnt from when that is
    not ``corpus_id``."""
    when = model.finished_at or model.created_at
    parts = [model.name, t(f"finetune.method.{model.method}"), f"{when:%Y-%m-%d}" if when else ""]
    if model.corpus_id != corpus_id:
        parts.append(t("ask.compare.model_other_corpus",
                       corpus=corpus_names.get(model.corpus_id or "", "?")))
    return " · ".join(p for p in parts if p)


# --- one column ----------------------------------------------------------------------------------------
def answer_heading(label: str, colour: str, subtitle: str | None = None) -> None:
    """The column's title: the strategy's name in its colour over a bar of it; ``subtitle`` (e.g.
    the fine-tuned model's name) underneath."""
    st.markdown(
        f"<div style='border-top:6px solid {colour};padding-top:0.45rem;font-weight:600;"
        f"font-size:1.1rem;color:{colour}'>{html.escape(label)}</div>", unsafe_allow_html=True)
    if subtitle:
        st.caption(md_escape(subtitle))


def waiting() -> Any:
    """A slot for an answer still to come, saying so quietly; fill it with ``slot.container()``."""
    slot = st.empty()
    slot.caption(f":material/hourglass_empty: {t('ask.compare.waiting')}")
    return slot


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


def total_latency(answer: "Answer") -> float:
    """Seconds from question to complete answer: the search (if any) plus the writing."""
    return answer.latency_s + getattr(answer, "retrieval_s", 0.0)


def _metrics(answer: "Answer", key: str) -> None:
    st.markdown(_SMALL_METRICS_CSS, unsafe_allow_html=True)
    with st.container(key=f"answer-metrics-{key}"):
        latency, tokens_in, tokens_out = st.columns(3)
        latency.metric(t("ask.metric.latency"), t("ask.seconds", s=f"{total_latency(answer):.1f}"),
                       help=t("ask.metric.latency_total_help"))
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


def render_answer_body(answer: "Answer | None" = None, *, stream: Iterable[Any] | None = None,
                       mode: str | None = None, key: str = "answer") -> "Answer | None":
    """One strategy's answer under its heading: the text (written piece by piece from ``stream``
    when given, else ``answer``'s), its citations, latency and token metrics, what made it (model,
    search), then the evidence. ``mode`` is the retrieval mode; None means closed book, which says
    so instead of listing sources. ``key`` tells columns apart. Returns the ``Answer``."""
    if stream is not None:
        answer = _write_streamed(stream)
        if answer is None:
            return None
        if not answer.text.strip():
            st.caption(t("ask.empty_answer"))
    elif answer is None:
        return None
    elif answer.text.strip():
        st.markdown(answer.text)
    else:
        st.caption(t("ask.empty_answer"))
    if answer.citations:
        st.caption(t("ask.cites", sources=", ".join(f"[{c.number}]" for c in answer.citations)))
    elif answer.contexts and answer.text.strip():
        st.caption(t("ask.no_citation"))
    _metrics(answer, key)
    made = [t("ask.made.model", model=answer.model_id or "?"),
            t("ask.made.tokens", n=answer.config.get("max_new_tokens", "?"))]
    if mode:
        made.append(t("ask.made.search", mode=t(f"ask.mode.{mode}"),
                      s=f"{getattr(answer, 'retrieval_s', 0.0):.2f}"))
    st.caption(md_escape(" · ".join(made)))
    if mode:
        sources_expander(answer, mode=mode)
    else:
        st.caption(f":material/book: {t('ask.compare.closed_book')}")
    return answer


def render_answer_column(strategy_label: str, colour: str, answer: "Answer | None" = None, *,
                         stream: Iterable[Any] | None = None, mode: str | None = None,
                         subtitle: str | None = None, key: str | None = None) -> "Answer | None":
    """``answer_heading`` then ``render_answer_body`` in the current column."""
    answer_heading(strategy_label, colour, subtitle)
    return render_answer_body(answer, stream=stream, mode=mode, key=key or strategy_label)


# --- all columns ---------------------------------------------------------------------------------------
def comparison_text(rows: Sequence[tuple[str, "Answer"]]) -> str | None:
    """One sentence comparing the answered strategies (``(label, Answer)`` pairs): the fastest and
    the slowest with how many times as long it took, and the range of prompt sizes. None with
    fewer than two answers."""
    if len(rows) < 2:
        return None
    fast = min(rows, key=lambda r: total_latency(r[1]))
    slow = max(rows, key=lambda r: total_latency(r[1]))
    least = min(rows, key=lambda r: r[1].tokens_in)
    most = max(rows, key=lambda r: r[1].tokens_in)
    fast_s, slow_s = total_latency(fast[1]), total_latency(slow[1])
    ratio = slow_s / fast_s if fast_s > 0 else 1.0
    return t("ask.compare.summary", fastest=fast[0], fast=f"{fast_s:.1f}", slowest=slow[0],
             slow=f"{slow_s:.1f}", ratio=f"{ratio:.1f}", fewest=least[0],
             least=f"{least[1].tokens_in:,}", most=most[0], largest=f"{most[1].tokens_in:,}")
