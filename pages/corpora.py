"""Corpora: what is in my corpus? Create and delete corpora, upload documents (ingested by a job in
the worker, with live progress and per-file results), the document list, a chunk browser and the
index settings with rebuild."""

import streamlit as st

from backend.corpus import store
from ui.corpora import PICKER_KEY, corpus_header, corpus_picker, create_corpus_form, show_flash
from ui.corpus_index import index_panel
from ui.documents import chunk_browser, documents_panel, last_upload, upload_form
from ui.errors import guard
from ui.i18n import t
from ui.state import lab_or_none

TABS_KEY = "corpora.tabs"

with guard():
    st.title(t("corpora.title"))
    st.caption(t("corpora.intro"))
    show_flash()
    lab = lab_or_none()
    if lab is not None:
        corpora = store.list_corpora(lab)
        if not corpora:
            st.info(t("corpora.empty"), icon=":material/folder_open:")
            with st.container(border=True):
                st.markdown(f"**{t('corpora.create.title')}**")
                create_corpus_form(lab)
        else:
            pick_col, new_col = st.columns([4, 1], vertical_alignment="bottom")
            with new_col, st.popover(t("corpora.create.title"), icon=":material/add:", width="stretch"):
                create_corpus_form(lab)  # first: a new corpus is chosen before the picker is drawn
            with pick_col:
                corpus = corpus_picker(corpora, PICKER_KEY)
            docs = store.list_documents(lab, corpus.id)
            corpus_header(lab, corpus, docs)

            st.subheader(t("corpora.upload.title"), anchor=False)
            upload_form(lab, corpus)
            last_upload(lab, corpus)

            documents_tab, chunks_tab, index_tab = st.tabs(
                [t("corpora.tab.documents"), t("corpora.tab.chunks"), t("corpora.tab.index")],
                key=TABS_KEY, on_change="rerun")
            with documents_tab:
                documents_panel(lab, corpus, docs)
            with chunks_tab:
                chunk_browser(lab, corpus, docs)
            with index_tab:
                index_panel(lab, corpus, docs)
