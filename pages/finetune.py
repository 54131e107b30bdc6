"""Fine-tune: teach the model a corpus. Question sets (upload, generate, edit, split), training
data (build, preview, leak checks), the training form with its estimate, runs with live progress
and loss curves, and the model registry with lineage, download and delete. Training runs in the
worker; this page enqueues and watches."""

import streamlit as st

from backend.corpus import store
from backend.finetune.datasets import list_datasets
from backend.finetune.questions import list_sets
from ui.corpora import corpus_picker, show_flash
from ui.errors import guard
from ui.finetune_data import data_tab, forget_pending_dataset
from ui.finetune_form import train_panel
from ui.finetune_models import models_tab
from ui.finetune_runs import runs_section
from ui.finetune_sets import forget_pending_set, question_sets_tab
from ui.i18n import t
from ui.state import lab_or_none

PICKER_KEY = "finetune.corpus"
TABS_KEY = "finetune.tabs"

with guard():
    st.title(t("finetune.title"))
    st.caption(t("finetune.intro"))
    with st.container():  # always drawn, so a message appearing does not move the tabs
        show_flash()
    lab = lab_or_none()
    corpora = store.list_corpora(lab) if lab is not None else []
    names = {c.id: c.name for c in corpora}
    if lab is not None and not corpora:
        st.info(t("finetune.empty.no_corpus"), icon=":material/folder_open:")
        st.page_link("pages/corpora.py", label=t("finetune.open_corpora"), icon=":material/folder_open:")
    elif lab is not None:
        corpus = corpus_picker(corpora, PICKER_KEY)
        sets = list_sets(lab, corpus.id)
        items = list_datasets(lab, corpus.id)
        # a keyed tab bar keeps the open tab across reruns (a build or a launch stays where it
        # was made); every tab is drawn on each run, so none waits for a click to be current
        sets_tab, data_tab_, train_tab, models_tab_ = st.tabs(
            [t("finetune.tab.sets"), t("finetune.tab.data"), t("finetune.tab.train"),
             t("finetune.tab.models")], key=TABS_KEY, on_change="rerun")
        with sets_tab:
            question_sets_tab(lab, corpus, sets)
        with data_tab_:
            data_tab(lab, corpus, sets, items)
        with train_tab:
            train_panel(lab, items)
            runs_section(lab, names)
        with models_tab_:
            models_tab(lab, names)
        # a set or dataset just made is chosen in every picker of this run; not in the next
        forget_pending_set()
        forget_pending_dataset()
