"""Ask: how does each strategy answer this? A question about a corpus, the answer streamed as it
is generated, its latency and tokens, and the sources it used. RAG for now; each strategy gets its
own column (the fine-tuned and hybrid ones join later)."""

from dataclasses import fields

import streamlit as st

from backend.corpus import store
from backend.models.llm import GenerationConfig
from backend.rag.retrieval import MODES
from ui.answers import rag_answer_stream, render_answer_column
from ui.corpora import corpus_picker
from ui.errors import guard, show_error
from ui.i18n import t
from ui.palette import color_for
from ui.state import lab_or_none

PICKER_KEY = "ask.corpus"
FORM_KEY = "ask.form"
QUESTION_KEY = "ask.question"
MODE_KEY = "ask.mode"
K_KEY = "ask.k"
MAX_TOKENS_KEY = "ask.max_new_tokens"
TEMPERATURE_KEY = "ask.temperature"
SUBMIT_KEY = "ask.submit"
RESULT_KEY = "ask.result"  #: the last question's answers, shown again on later reruns
ASK_MODES = ("hybrid", "vector", "text")  # hybrid first: the best default
GENERATION = {f.name: f for f in fields(GenerationConfig)}

with guard():
    st.title(t("ask.title"))
    st.caption(t("ask.intro"))
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
        with st.form(FORM_KEY):
            question = st.text_input(t("ask.question"), key=QUESTION_KEY, max_chars=1000,
                                     placeholder=t("ask.question_placeholder"))
            with st.expander(t("ask.settings"), icon=":material/tune:"):
                mode_col, k_col = st.columns(2)
                mode = mode_col.radio(t("ask.mode"), [m for m in ASK_MODES if m in MODES],
                                      key=MODE_KEY, horizontal=True, help=t("ask.mode_help"),
                                      format_func=lambda m: t(f"ask.mode.{m}"))
                k = k_col.slider(t("ask.k"), 1, 10, 3, key=K_KEY, help=t("ask.k_help"))
                tokens_col, temperature_col = st.columns(2)
                max_new_tokens = tokens_col.number_input(
                    t("ask.max_new_tokens"), min_value=1, max_value=1024, step=16, key=MAX_TOKENS_KEY,
                    value=GENERATION["max_new_tokens"].default, help=t("ask.max_new_tokens_help"))
                temperature = temperature_col.slider(
                    t("ask.temperature"), 0.0, 1.5, float(GENERATION["temperature"].default), 0.1,
                    key=TEMPERATURE_KEY, help=t("ask.temperature_help"))
            submitted = st.form_submit_button(t("ask.submit"), type="primary", key=SUBMIT_KEY,
                                              icon=":material/send:")

        # one column per strategy (only RAG for now); a lone answer keeps a readable width and
        # the second column says who joins it later
        strategies = [("rag", t("strategy.rag"))]
        columns = st.columns(max(len(strategies), 2), gap="large")
        if len(strategies) == 1:
            with columns[1]:
                st.caption(t("ask.more_strategies"))
        result = st.session_state.get(RESULT_KEY)
        if submitted:
            st.session_state.pop(RESULT_KEY, None)
            if not (question or "").strip():
                st.warning(t("ask.type_question"), icon=":material/edit:")
            else:
                answers = {}
                for column, (kind, label) in zip(columns, strategies):
                    with column:
                        try:
                            with st.spinner(t("ask.searching")):
                                stream = rag_answer_stream(
                                    lab, corpus.id, question, mode=mode, k=int(k),
                                    config=GenerationConfig(max_new_tokens=int(max_new_tokens),
                                                            temperature=float(temperature)))
                            answers[kind] = render_answer_column(label, color_for(kind), stream=stream,
                                                                 mode=mode)
                        except Exception as exc:  # noqa: BLE001 - one strategy failing leaves the others
                            show_error(exc)
                st.session_state[RESULT_KEY] = {"corpus_id": corpus.id, "mode": mode,
                                                "answers": answers}
        elif result and result["corpus_id"] == corpus.id:
            for column, (kind, label) in zip(columns, strategies):
                if result["answers"].get(kind) is not None:
                    with column:
                        render_answer_column(label, color_for(kind), result["answers"][kind],
                                             mode=result["mode"])
