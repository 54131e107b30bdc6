"""Ask: how does each strategy answer this? One question about a corpus, answered by every chosen
strategy side by side (base model, RAG, fine-tuned, hybrid), one column each: the answer streamed
as it is written, its latency and tokens, and its evidence (the sources, or "closed book").

Strategies answer one after another (one CPU), with the same prompts an evaluation run uses
(``backend.evaluate.ask.stream_strategy``), so what is read here is what Evaluate scores.
"""

from dataclasses import fields

import streamlit as st

from backend.corpus import store
from backend.evaluate.ask import models_for_corpus, stream_strategy
from backend.evaluate.strategies import EVAL_MAX_NEW_TOKENS, StrategyConfig
from backend.models.llm import GenerationConfig
from backend.rag.retrieval import MODES
from ui.answers import (NEEDS_MODEL, answer_heading, comparison_text, model_label,
                        render_answer_body, strategy_pills, waiting)
from ui.corpora import corpus_picker
from ui.errors import error_text, guard, show_error
from ui.i18n import t
from ui.palette import color_for
from ui.state import lab_or_none

PICKER_KEY = "ask.corpus"
FORM_KEY = "ask.form"
QUESTION_KEY = "ask.question"
STRATEGIES_KEY = "ask.strategies"
STRATEGIES_SEEN_KEY = "ask.strategies.available"  #: the choices offered last run (new ones join)
MODEL_KEY = "ask.model"
MODE_KEY = "ask.mode"
K_KEY = "ask.k"
MAX_TOKENS_KEY = "ask.max_new_tokens"
TEMPERATURE_KEY = "ask.temperature"
SUBMIT_KEY = "ask.submit"
RESULT_KEY = "ask.result"  #: the last question's answers, shown again on later reruns
ANSWER_PREFIX = "ask.answer."  #: + strategy kind: the container of a strategy's column
ASK_MODES = ("hybrid", "vector", "text")  # hybrid first: the best default
GENERATION = {f.name: f for f in fields(GenerationConfig)}


def plan_columns(kinds, model, *, corpus_id: str, mode: str, k: int, generation: dict) -> list[dict]:
    """One column per chosen kind: its heading, and its configuration or why it has none."""
    columns = []
    for kind in kinds:
        needs_model = kind in NEEDS_MODEL
        column = {"kind": kind,
                  "subtitle": model.name if needs_model and model is not None else None,
                  "mode": mode if kind in ("rag", "hybrid") else None,
                  "answer": None, "error": None, "cfg": None}
        if needs_model and model is None:  # deleted since the page was drawn
            column["error"] = t("ask.compare.no_model")
        else:
            try:
                column["cfg"] = StrategyConfig(kind=kind, model_id=model.id if needs_model else None,
                                               corpus_id=corpus_id, mode=mode, k=int(k),
                                               generation=generation)
            except Exception as exc:  # noqa: BLE001 - shown in its column; the others still answer
                column["error"] = error_text(exc)
        columns.append(column)
    return columns


def answer_all(lab, question: str, planned: list[dict]) -> None:
    """Headings and "waiting" slots first, then each strategy streams into its slot in turn."""
    slots = []
    for column, item in zip(st.columns(max(len(planned), 2), gap="large"), planned):
        with column, st.container(key=ANSWER_PREFIX + item["kind"]):
            answer_heading(t(f"strategy.{item['kind']}"), color_for(item["kind"]), item["subtitle"])
            slots.append(waiting())
    for slot, item in zip(slots, planned):
        with slot.container():
            if item["error"]:
                st.error(item["error"], icon=":material/error:")
                continue
            try:
                with st.spinner(t("ask.searching") if item["mode"] else t("ask.compare.preparing")):
                    stream = stream_strategy(lab, item["cfg"], question)
                item["answer"] = render_answer_body(stream=stream, mode=item["mode"], key=item["kind"])
            except Exception as exc:  # noqa: BLE001 - one strategy failing leaves the others
                show_error(exc)
                item["error"] = error_text(exc)
        item["cfg"] = None  # what is kept for reruns is what was shown


def show_saved(planned: list[dict]) -> None:
    """The last question's columns again, as they were answered (headings in today's language)."""
    for column, item in zip(st.columns(max(len(planned), 2), gap="large"), planned):
        with column, st.container(key=ANSWER_PREFIX + item["kind"]):
            answer_heading(t(f"strategy.{item['kind']}"), color_for(item["kind"]), item["subtitle"])
            if item["error"]:
                st.error(item["error"], icon=":material/error:")
            else:
                render_answer_body(item["answer"], mode=item["mode"], key=item["kind"])


def compare(planned: list[dict]) -> None:
    summary = comparison_text([(t(f"strategy.{i['kind']}"), i["answer"]) for i in planned
                               if i["answer"] is not None])
    if summary:
        st.caption(f":material/compare_arrows: {summary}")


with guard():
    st.title(t("ask.title"))
    st.caption(t("ask.compare.intro"))
    lab = lab_or_none()
    corpora = store.list_corpora(lab) if lab is not None else []
    if lab is not None and not corpora:
        st.info(t("corpora.empty"), icon=":material/folder_open:")
        st.page_link("pages/corpora.py", label=t("ask.open_corpora"), icon=":material/folder_open:")
    elif lab is not None:
        corpus = corpus_picker(corpora, PICKER_KEY)
        if corpus.document_count == 0:
            st.warning(t("ask.no_documents", name=corpus.name), icon=":material/upload_file:")
            st.page_link("pages/corpora.py", label=t("ask.open_corpora"), icon=":material/folder_open:")
        models = {m.id: m for m in models_for_corpus(lab, corpus.id)}
        corpus_names = {c.id: c.name for c in corpora}
        with st.form(FORM_KEY):
            question = st.text_input(t("ask.question"), key=QUESTION_KEY, max_chars=1000,
                                     placeholder=t("ask.question_placeholder"))
            choice_col, model_col = st.columns([3, 2], gap="large")
            with choice_col:
                kinds = strategy_pills(["base", "rag", *(NEEDS_MODEL if models else ())],
                                       STRATEGIES_KEY, STRATEGIES_SEEN_KEY)
            with model_col:
                if models:
                    model_id = st.selectbox(
                        t("ask.compare.model"), list(models), key=MODEL_KEY,
                        format_func=lambda i: model_label(models[i], corpus.id, corpus_names)
                        if i in models else str(i), help=t("ask.compare.model_help"))
                else:
                    model_id = None
                    st.caption(t("ask.compare.no_model"))
                    st.page_link("pages/finetune.py", label=t("ask.compare.open_finetune"),
                                 icon=":material/model_training:")
            with st.expander(t("ask.settings"), icon=":material/tune:"):
                mode_col, k_col = st.columns(2)
                mode = mode_col.radio(t("ask.mode"), [m for m in ASK_MODES if m in MODES],
                                      key=MODE_KEY, horizontal=True, help=t("ask.mode_help"),
                                      format_func=lambda m: t(f"ask.mode.{m}"))
                k = k_col.slider(t("ask.k"), 1, 10, 3, key=K_KEY, help=t("ask.k_help"))
                tokens_col, temperature_col = st.columns(2)
                max_new_tokens = tokens_col.number_input(
                    t("ask.max_new_tokens"), min_value=1, max_value=1024, step=16, key=MAX_TOKENS_KEY,
                    value=EVAL_MAX_NEW_TOKENS, help=t("ask.compare.max_new_tokens_help",
                                                      n=EVAL_MAX_NEW_TOKENS))
                temperature = temperature_col.slider(
                    t("ask.temperature"), 0.0, 1.5, float(GENERATION["temperature"].default), 0.1,
                    key=TEMPERATURE_KEY, help=t("ask.temperature_help"))
            submitted = st.form_submit_button(t("ask.submit"), type="primary", key=SUBMIT_KEY,
                                              icon=":material/send:")

        result = st.session_state.get(RESULT_KEY)
        if submitted:
            st.session_state.pop(RESULT_KEY, None)
            if not (question or "").strip():
                st.warning(t("ask.type_question"), icon=":material/edit:")
            elif not kinds:
                st.warning(t("ask.compare.pick_one"), icon=":material/checklist:")
            else:
                planned = plan_columns(kinds, models.get(model_id), corpus_id=corpus.id, mode=mode,
                                       k=int(k), generation={"max_new_tokens": int(max_new_tokens),
                                                             "temperature": float(temperature)})
                answer_all(lab, question, planned)
                compare(planned)
                st.session_state[RESULT_KEY] = {
                    "corpus_id": corpus.id, "question": question, "columns": planned,
                    "answers": {i["kind"]: i["answer"] for i in planned if i["answer"] is not None}}
        elif result and result["corpus_id"] == corpus.id:
            show_saved(result["columns"])
            compare(result["columns"])
