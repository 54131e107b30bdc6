"""Launching an evaluation run: one form (question set, part, strategies, generation settings),
validated by the backend, then queued as a job; the page follows it with ``job_progress``.

All settings sit in one ``st.form`` so nothing reruns while the user fills it in (STYLE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import streamlit as st

from backend.evaluate import runner
from backend.evaluate.strategies import EVAL_MAX_NEW_TOKENS, MAX_K, RETRIEVAL_MODES, StrategyConfig
from ui.errors import show_error
from ui.evaluate_results import pick
from ui.i18n import t
from ui.sources import md_escape

if TYPE_CHECKING:
    from backend.lab import Lab

FORM_KEY = "evaluate.launch"
SET_KEY = "evaluate.launch.set"
PART_KEY = "evaluate.launch.part"
BASE_KEY = "evaluate.launch.base"
RAG_KEY = "evaluate.launch.rag"
MODE_KEY = "evaluate.launch.mode"
K_KEY = "evaluate.launch.k"
FINETUNED_KEY = "evaluate.launch.finetuned"
HYBRID_KEY = "evaluate.launch.hybrid"
TOKENS_KEY = "evaluate.launch.max_new_tokens"
NAME_KEY = "evaluate.launch.name"
SUBMIT_KEY = "evaluate.launch.submit"
RUN_KEY = "evaluate.run"              #: the run whose results are shown (its id)
FLASH_KEY = "evaluate.flash"          #: a confirmation shown once after a launch or a delete
PARTS = ("held_out", "train", "all")
MODES = tuple(m for m in ("hybrid", "vector", "text") if m in RETRIEVAL_MODES)  # best first


def flash(message: str) -> None:
    """Remember a confirmation to show once, on the next run."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def _set_label(qset, corpus_names: dict[str, str]) -> str:
    return t("evaluate.launch.set_option", name=qset.name, version=qset.version,
             corpus=corpus_names.get(qset.corpus_id, "?"), n=qset.n_questions,
             held_out=qset.n_held_out)


def strategy_configs(*, base: bool, rag: bool, mode: str, k: int, finetuned: Sequence,
                     hybrid: Sequence, max_new_tokens: int) -> list[StrategyConfig]:
    """The configurations the form asks for, in legend order. Fine-tuned strategies are labelled
    with their model's name, hybrids with "<model name> + RAG", so several stay apart."""
    generation = {"max_new_tokens": int(max_new_tokens)}
    configs = []
    if base:
        configs.append(StrategyConfig(kind="base", generation=generation))
    if rag:
        configs.append(StrategyConfig(kind="rag", mode=mode, k=int(k), generation=generation))
    for model in finetuned:
        configs.append(StrategyConfig(kind="finetuned", model_id=model.id, label=model.name,
                                      generation=generation))
    for model in hybrid:
        configs.append(StrategyConfig(kind="hybrid", model_id=model.id, mode=mode, k=int(k),
                                      label=f"{model.name} + RAG", generation=generation))
    return configs


def launch_form(lab: "Lab", sets: Sequence, models: Sequence, corpus_names: dict[str, str]) -> None:
    """The "new run" form; on submit the run is created and queued, and becomes the chosen run."""
    by_id = {s.id: s for s in sets}
    models_by_id = {m.id: m for m in models}
    with st.form(FORM_KEY):
        left, right = st.columns(2, gap="large")
        with left:
            set_id = pick(st.selectbox, t("evaluate.launch.set"), list(by_id), SET_KEY,
                          format_func=lambda i: _set_label(by_id[i], corpus_names),
                          help=t("evaluate.launch.set_help"))
            part = pick(st.radio, t("evaluate.launch.part"), PARTS, PART_KEY, default="held_out",
                        horizontal=True, format_func=lambda p: t(f"evaluate.part.{p}"),
                        help=t("evaluate.launch.part_help"))
            max_new_tokens = st.number_input(
                t("evaluate.launch.max_new_tokens"), min_value=1, max_value=512, step=8,
                value=EVAL_MAX_NEW_TOKENS, key=TOKENS_KEY, help=t("evaluate.launch.max_new_tokens_help"))
            name = st.text_input(t("evaluate.launch.name"), key=NAME_KEY, max_chars=120,
                                 placeholder=t("evaluate.launch.name_placeholder"))
        with right:
            st.markdown(f"**{t('evaluate.launch.strategies')}**")
            base = st.checkbox(t("evaluate.launch.base"), value=True, key=BASE_KEY,
                               help=t("evaluate.launch.base_help"))
            rag = st.checkbox(t("evaluate.launch.rag"), value=True, key=RAG_KEY,
                              help=t("evaluate.launch.rag_help"))
            mode_col, k_col = st.columns(2)
            mode = pick(mode_col.selectbox, t("evaluate.launch.mode"), MODES, MODE_KEY,
                        format_func=lambda m: t(f"evaluate.mode.{m}"),
                        help=t("evaluate.launch.mode_help"))
            k = k_col.number_input(t("evaluate.launch.k"), min_value=1, max_value=MAX_K, value=3,
                                   key=K_KEY, help=t("evaluate.launch.k_help"))
            model_ids = list(models_by_id)
            label = lambda i: models_by_id[i].name  # noqa: E731
            finetuned = st.multiselect(t("evaluate.launch.finetuned"), model_ids, key=FINETUNED_KEY,
                                       format_func=label, help=t("evaluate.launch.finetuned_help"),
                                       placeholder=t("evaluate.launch.pick_models"),
                                       disabled=not model_ids)
            hybrid = st.multiselect(t("evaluate.launch.hybrid"), model_ids, key=HYBRID_KEY,
                                    format_func=label, help=t("evaluate.launch.hybrid_help"),
                                    placeholder=t("evaluate.launch.pick_models"),
                                    disabled=not model_ids)
            if not model_ids:
                st.caption(t("evaluate.launch.no_models"))
        submitted = st.form_submit_button(t("evaluate.launch.submit"), type="primary",
                                          icon=":material/play_arrow:", key=SUBMIT_KEY)
    if not submitted:
        return
    try:
        configs = strategy_configs(
            base=base, rag=rag, mode=mode, k=k, max_new_tokens=max_new_tokens,
            finetuned=[models_by_id[i] for i in finetuned], hybrid=[models_by_id[i] for i in hybrid])
        if not configs:
            st.warning(t("evaluate.launch.no_strategy"), icon=":material/checklist:")
            return
        run = runner.create_run(lab, set_id, configs, part=part, name=name or None)
        runner.enqueue_run(lab, run.id)
    except Exception as exc:  # noqa: BLE001 - e.g. an empty part or a changed corpus: said once
        show_error(exc)
        return
    st.session_state[RUN_KEY] = run.id
    flash(t("evaluate.launch.started", name=md_escape(run.name), n=run.n_questions,
            strategies=len(run.strategies)))
    st.rerun()
