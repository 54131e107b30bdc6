"""A corpus's indexes on screen: the one in use (embedding model, chunking, chunk count), the
others with their build progress, "use this one" and delete, and the form that builds a new index
with other chunking or another embedding model as a job while the current one keeps answering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import streamlit as st

from backend.corpus import store
from backend.corpus.chunking import MIN_CHUNK_SIZE, SPLITTERS
from backend.corpus.ingest import rebuild_index
from backend.models.specs import BUNDLED_MINILM, BUNDLED_USE
from ui.corpora import chunking_label, flash, model_display_name
from ui.errors import show_error
from ui.i18n import t
from ui.jobs import job_progress
from ui.sources import md_escape

if TYPE_CHECKING:
    from backend.corpus.store import Corpus, DocumentInfo, IndexInfo
    from backend.lab import Lab

REBUILD_FORM = "corpora.index.rebuild"
PREFIX = "corpora.index."  # + what + corpus or index id: keys never collide between corpora
STATUS_COLOURS = {"building": "blue", "ready": "green", "failed": "red"}


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _index_row(lab: "Lab", idx: "IndexInfo", chunks: int | None) -> None:
    with st.container(border=True):
        info, chip, actions = st.columns([5, 2, 2], vertical_alignment="center")
        info.markdown(f"**{md_escape(idx.embed_name)}** · {md_escape(chunking_label(idx.chunking))}")
        facts = [t("index.dims", dim=idx.dim), t("index.created", when=_when(idx.created_at))]
        if idx.build_seconds:
            facts.append(t("index.build_time", s=f"{idx.build_seconds:.0f}"))
        if chunks is not None:
            facts.insert(0, t("index.chunks", n=f"{chunks:,}"))
        info.caption(" · ".join(facts))
        with chip:
            if idx.active:
                st.badge(t("index.in_use"), color="primary", icon=":material/radio_button_checked:")
            else:
                st.badge(t(f"index.status.{idx.status}"), color=STATUS_COLOURS.get(idx.status, "gray"))
        if not idx.active:
            with actions:
                if idx.status == "ready" and st.button(
                        t("index.activate"), key=f"{PREFIX}activate.{idx.id}", type="primary",
                        icon=":material/swap_horiz:", help=t("index.activate_help")):
                    try:
                        store.activate_index(lab, idx.id)
                    except Exception as exc:  # noqa: BLE001
                        show_error(exc)
                    else:
                        flash(t("index.activated", model=idx.embed_name))
                        st.rerun()
                with st.popover(t("index.delete"), icon=":material/delete:"):
                    st.warning(t("index.delete_warning"), icon=":material/warning:")
                    if st.button(t("index.delete_confirm"), key=f"{PREFIX}delete.{idx.id}",
                                 type="primary", icon=":material/delete_forever:"):
                        try:
                            store.delete_index(lab, idx.id)
                        except Exception as exc:  # noqa: BLE001
                            show_error(exc)
                        else:
                            flash(t("index.deleted"))
                            st.rerun()
        if idx.status == "building" and idx.job_id is not None:
            job_progress(idx.job_id, lab=lab)
        if idx.status == "failed" and idx.error:
            st.error(idx.error, icon=":material/error:")


def _model_choices(lab: "Lab", current: str) -> list[str]:
    specs = [current, lab.settings.embed_model_en, lab.settings.embed_model_multi, BUNDLED_MINILM,
             BUNDLED_USE]
    return list(dict.fromkeys(s for s in specs if s))


def rebuild_form(lab: "Lab", corpus: "Corpus", current: "IndexInfo | None") -> None:
    """Another embedding model or chunking -> a new index built by a job (checked first against
    the model's input limit: a refused size says why)."""
    chunking = dict(current.chunking) if current else {}
    spec_now = current.embed_spec if current else lab.settings.embed_model_en
    key = f"{PREFIX}{{}}.{corpus.id}"
    with st.form(REBUILD_FORM):
        st.markdown(f"**{t('index.rebuild.title')}**")
        st.caption(t("index.rebuild.intro"))
        choices = _model_choices(lab, spec_now)
        model = st.selectbox(t("index.rebuild.model"), choices, key=key.format("model"),
                             format_func=lambda s: f"{model_display_name(s, lab.settings)} ({s})",
                             help=t("index.rebuild.model_help"))
        other = st.text_input(t("index.rebuild.other"), key=key.format("other"),
                              placeholder=t("index.rebuild.other_placeholder"),
                              help=t("index.rebuild.other_help"))
        splitter_col, size_col, overlap_col = st.columns(3)
        splitter_now = chunking.get("splitter", SPLITTERS[0])
        splitter = splitter_col.selectbox(
            t("index.rebuild.splitter"), SPLITTERS, key=key.format("splitter"),
            index=SPLITTERS.index(splitter_now) if splitter_now in SPLITTERS else 0,
            format_func=lambda s: t(f"index.splitter.{s}"), help=t("index.help.splitter"))
        size = size_col.number_input(t("index.rebuild.size"), min_value=MIN_CHUNK_SIZE, step=10,
                                     value=int(chunking.get("chunk_size", 200)),
                                     key=key.format("size"), help=t("index.help.chunk_size"))
        overlap = overlap_col.number_input(t("index.rebuild.overlap"), min_value=0, step=5,
                                           value=int(chunking.get("chunk_overlap", 30)),
                                           key=key.format("overlap"), help=t("index.help.chunk_overlap"))
        submitted = st.form_submit_button(t("index.rebuild.submit"), icon=":material/build:",
                                          key=key.format("submit"))
    if not submitted:
        return
    try:
        idx, job_id = rebuild_index(lab, corpus.id, embed_spec=(other or "").strip() or model,
                                    chunking={"splitter": splitter, "chunk_size": int(size),
                                              "chunk_overlap": int(overlap)})
    except Exception as exc:  # noqa: BLE001 - e.g. a chunk size over the model's limit: says why
        show_error(exc)
        return
    flash(t("index.rebuild.queued") if job_id is not None
          else t("index.rebuild.exists", status=t(f"index.status.{idx.status}")))
    st.rerun()


def index_panel(lab: "Lab", corpus: "Corpus", docs: Sequence["DocumentInfo"]) -> None:
    """The index in use, the other indexes of the corpus, and the rebuild form."""
    indexes = store.list_indexes(lab, corpus.id)
    current = next((i for i in indexes if i.active), None)
    st.caption(t("index.intro"))
    if current is None:
        st.warning(t("index.none_active"), icon=":material/warning:")
    ordered = ([current] if current else []) + sorted(
        (i for i in indexes if not i.active), key=lambda i: i.created_at, reverse=True)
    for idx in ordered:
        _index_row(lab, idx, sum(d.chunk_count for d in docs) if idx.active else None)
    rebuild_form(lab, corpus, current)
