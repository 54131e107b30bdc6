"""Corpus widgets: pick one (shared by the Corpora and Ask pages), create one, delete one (with a
confirmation), and a header with its figures.

The chosen corpus is remembered in ``CURRENT_CORPUS_KEY`` (plain session state, not a widget), so
a corpus picked on Corpora is the one Ask opens with, and each page keeps its own widget key.
Reads go straight to the backend: they are small, and the worker changes them behind our back
(a cache would show a finished upload as still missing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import streamlit as st

from backend.corpus import store
from backend.errors import LabError
from ui.errors import show_error
from ui.i18n import t
from ui.sources import findings_text, md_escape

if TYPE_CHECKING:
    from backend.corpus.store import Corpus, DocumentInfo
    from backend.lab import Lab

CURRENT_CORPUS_KEY = "lab.corpus"          #: id of the corpus last picked on any page
FLASH_KEY = "corpora.flash"                #: a confirmation shown once after a change
PICKER_KEY = "corpora.corpus"              #: the Corpora page's corpus selectbox
CREATE_FORM = "corpora.create"
CREATE_NAME_KEY = "corpora.create.name"
CREATE_LANGUAGE_KEY = "corpora.create.language"
CREATE_SUBMIT_KEY = "corpora.create.submit"
DELETE_CONFIRM_KEY = "corpora.delete.confirm"


# --- flash messages ---------------------------------------------------------------------------------
def flash(message: str) -> None:
    """Remember a confirmation to show once, at the top of the next run (after ``st.rerun``)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    """Show (and forget) the pending confirmation, if any."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")


# --- picking -----------------------------------------------------------------------------------------
def select_corpus(corpus_id: str, *widget_keys: str) -> None:
    """Make ``corpus_id`` the chosen corpus (call before the pickers of this run are drawn)."""
    st.session_state[CURRENT_CORPUS_KEY] = corpus_id
    for key in widget_keys:
        st.session_state[key] = corpus_id


def corpus_picker(corpora: Sequence["Corpus"], key: str, *, label: str | None = None) -> "Corpus":
    """A selectbox of the corpora by name; starts on the corpus chosen last (on any page)."""
    by_id = {c.id: c for c in corpora}
    ids = list(by_id)
    if st.session_state.get(key) not in by_id:  # first visit, or its corpus was deleted
        wanted = st.session_state.get(CURRENT_CORPUS_KEY)
        st.session_state[key] = wanted if wanted in by_id else ids[0]
    chosen = st.selectbox(label or t("corpora.pick"), ids, key=key,
                          format_func=lambda cid: by_id[cid].name if cid in by_id else cid)
    st.session_state[CURRENT_CORPUS_KEY] = chosen
    return by_id[chosen]


# --- creating ----------------------------------------------------------------------------------------
@st.cache_data(ttl=300, show_spinner=False)
def _model_name(spec: str, _settings) -> str:
    if spec.startswith("openai:"):  # asking the endpoint would cost a request on every render
        return spec
    from backend.models.embeddings import embedding_info

    try:
        return embedding_info(spec, _settings).name
    except LabError:
        return spec


def model_display_name(spec: str, settings) -> str:
    """An embedding model's display name ("all-MiniLM-L6-v2"), or its spec when unknown."""
    return _model_name(spec, settings)


def embedding_model_name(lab: "Lab", language: str) -> str:
    """The display name of the embedding model a new corpus in ``language`` gets."""
    from backend.models.embeddings import default_embedding_spec

    return model_display_name(default_embedding_spec(lab.settings, language), lab.settings)


def create_corpus_form(lab: "Lab") -> None:
    """Name and language of a new corpus; on success it becomes the chosen corpus (rerun)."""
    with st.form(CREATE_FORM, border=False):
        name = st.text_input(t("corpora.create.name"), key=CREATE_NAME_KEY, max_chars=120,
                             placeholder=t("corpora.create.name_placeholder"))
        language = st.radio(
            t("corpora.create.language"), store.LANGUAGES, key=CREATE_LANGUAGE_KEY,
            format_func=lambda code: t(f"corpora.language.{code}"),
            captions=[t(f"corpora.language_note.{code}", model=embedding_model_name(lab, code))
                      for code in store.LANGUAGES])
        submitted = st.form_submit_button(t("corpora.create.submit"), type="primary",
                                          icon=":material/add:", key=CREATE_SUBMIT_KEY)
    if submitted:
        try:
            corpus = store.create_corpus(lab, name, language)
        except Exception as exc:  # noqa: BLE001 - e.g. a taken name: said once, the form stays
            show_error(exc)
            return
        select_corpus(corpus.id, PICKER_KEY)
        flash(t("corpora.created", name=corpus.name))
        st.rerun()


# --- deleting ----------------------------------------------------------------------------------------
def delete_corpus_popover(lab: "Lab", corpus: "Corpus") -> None:
    """A "Delete corpus" button that opens a confirmation naming what will be lost."""
    with st.popover(t("corpora.delete"), icon=":material/delete:", width="stretch"):
        st.warning(t("corpora.delete_warning", name=corpus.name, documents=corpus.document_count),
                   icon=":material/warning:")
        if st.button(t("corpora.delete_confirm"), type="primary", key=DELETE_CONFIRM_KEY,
                     icon=":material/delete_forever:", width="stretch"):
            try:
                store.delete_corpus(lab, corpus.id)
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            st.session_state.pop(CURRENT_CORPUS_KEY, None)
            flash(t("corpora.deleted", name=corpus.name))
            st.rerun()


# --- header --------------------------------------------------------------------------------------------
def corpus_header(lab: "Lab", corpus: "Corpus", docs: Sequence["DocumentInfo"]) -> None:
    """The corpus's name, language and index in one line, its figures, and the delete button."""
    title, actions = st.columns([5, 1], vertical_alignment="bottom")
    with title:
        st.subheader(md_escape(corpus.name), anchor=False)
        idx = corpus.active_index
        facts = [t(f"corpora.language.{corpus.language}")]
        if idx is not None:
            facts.append(t("corpora.index_line", model=idx.embed_name, chunking=chunking_label(idx.chunking)))
        st.caption(" · ".join(md_escape(f) for f in facts))
    with actions:
        delete_corpus_popover(lab, corpus)
    findings: dict[str, int] = {}
    for doc in docs:
        for kind, n in (doc.findings or {}).items():
            findings[kind] = findings.get(kind, 0) + n
    flagged = sum(1 for d in docs if d.findings)
    cols = st.columns(4)
    cols[0].metric(t("corpora.metric.documents"), f"{len(docs):,}", border=True)
    cols[1].metric(t("corpora.metric.chunks"), f"{sum(d.chunk_count for d in docs):,}", border=True,
                   help=t("corpora.metric.chunks_help"))
    cols[2].metric(t("corpora.metric.version"), f"{corpus.version:,}", border=True,
                   help=t("corpora.metric.version_help"))
    cols[3].metric(t("corpora.metric.sensitive"), f"{flagged:,}", border=True,
                   help=findings_text(findings) or t("corpora.metric.sensitive_none"))


def chunking_label(chunking: dict) -> str:
    """"sentences · 200 tokens · 30 overlap" for an index's chunking settings."""
    return t("corpora.chunking", splitter=t(f"index.splitter.{chunking.get('splitter', 'sentence')}"),
             size=chunking.get("chunk_size", "?"), overlap=chunking.get("chunk_overlap", "?"))
