"""A corpus's documents on screen: the upload form (ingestion runs as a job in the worker), the
last upload's progress and per-file results, the document list with delete, and the chunk browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.corpus import store
from backend.corpus.ingest import DocumentOutcome, enqueue_ingest, file_results, summary
from backend.corpus.readers import supported_extensions
from backend.rag.retrieval import browse_chunks
from ui.corpora import flash
from ui.errors import show_error
from ui.i18n import backend_text, t
from ui.jobs import job_progress
from ui.sources import FINDING_ICON, chunk_card, findings_text, md_escape, substring_pattern
from ui.status import check

if TYPE_CHECKING:
    from backend.corpus.store import Corpus, DocumentInfo
    from backend.lab import Lab

UPLOAD_FORM = "corpora.upload"
UPLOAD_FILES_KEY = "corpora.upload.files"
TEXT_COLUMN_KEY = "corpora.upload.text_column"
UPLOAD_SUBMIT_KEY = "corpora.upload.submit"
DOC_PICK_KEY = "corpora.doc.pick"
DOC_DELETE_KEY = "corpora.doc.delete"
CHUNK_SEARCH_KEY = "corpora.chunks.search"
CHUNK_DOC_KEY = "corpora.chunks.document"
CHUNK_MORE_KEY = "corpora.chunks.more"
CHUNK_LIMIT_KEY = "corpora.chunks.limit"   #: how many chunks the browser shows (grows with "more")
CHUNK_PAGE = 20
RESULTS_EXPANDED_UP_TO = 12  # longer per-file lists (a big ZIP) start collapsed unless one failed


# --- upload ------------------------------------------------------------------------------------------
def latest_ingest_job(lab: "Lab", corpus_id: str) -> Any:
    """The corpus's most recent ingestion job (any status), or None."""
    from backend.jobs.service import list_jobs

    return next((job for job in list_jobs(lab, kind="ingest", limit=50)
                 if (job.params or {}).get("corpus_id") == corpus_id), None)


def upload_form(lab: "Lab", corpus: "Corpus") -> None:
    """Several files at once (ZIP too) and the text column for CSV/JSONL; Submit queues one
    ingestion job, whose progress and results ``last_upload`` shows."""
    formats = " ".join(ext for ext in supported_extensions())
    with st.form(UPLOAD_FORM, clear_on_submit=True):
        files = st.file_uploader(t("corpora.upload.files"), accept_multiple_files=True,
                                 key=UPLOAD_FILES_KEY, help=t("corpora.upload.files_help"),
                                 max_upload_size=int(lab.settings.max_upload_mb))
        st.caption(t("corpora.upload.formats", formats=formats, mb=lab.settings.max_upload_mb))
        text_column = st.text_input(t("corpora.upload.text_column"), key=TEXT_COLUMN_KEY,
                                    placeholder=t("corpora.upload.text_column_placeholder"),
                                    help=t("corpora.upload.text_column_help"))
        submitted = st.form_submit_button(t("corpora.upload.submit"), type="primary",
                                          icon=":material/upload:", key=UPLOAD_SUBMIT_KEY)
    if submitted:
        if not files:
            st.warning(t("corpora.upload.pick_files"), icon=":material/info:")
        else:
            try:
                enqueue_ingest(lab, corpus.id, [(f.name, f.getvalue()) for f in files],
                               text_column=(text_column or "").strip() or None)
            except Exception as exc:  # noqa: BLE001 - said once; nothing was queued
                show_error(exc)
    if not check("worker", lab).get("alive"):
        st.warning(t("corpora.upload.no_worker"), icon=":material/warning:")


def last_upload(lab: "Lab", corpus: "Corpus") -> None:
    """The latest ingestion job's live progress; once it has finished, each file's outcome."""
    from backend.jobs.service import get_job

    job = latest_ingest_job(lab, corpus.id)
    if job is None:
        return
    job_progress(job.id, lab=lab)
    job = get_job(lab, job.id)  # it may have finished while the panel was drawn
    if job.is_active:
        return
    rows = file_results(lab, corpus.id, batch_id=(job.params or {}).get("batch_id"))
    if not rows:
        return
    failed = sum(not r["ok"] for r in rows)
    label = t("corpora.results.title", files=len(rows), ok=len(rows) - failed, failed=failed)
    with st.expander(label, expanded=bool(failed) or len(rows) <= RESULTS_EXPANDED_UP_TO,
                     icon=":material/error:" if failed else ":material/task_alt:"):
        for row in rows:
            icon = ":green[:material/check_circle:]" if row["ok"] else ":red[:material/cancel:]"
            st.markdown(f"{icon} **{md_escape(row['file_name'])}** — {md_escape(file_result_text(row))}")


def file_result_text(row: dict) -> str:
    """What one uploaded file came to, in the reader's language. A file whose documents went in
    is worded again from its documents by ``ingest.summary`` (the stored text is that summary in
    English, then any reader warnings); a failure shows its stored message, translated when it
    has a key."""
    stored = backend_text(row.get("message_i18n"), row.get("message") or "")
    docs = row.get("documents") or []
    try:
        outcomes = [DocumentOutcome(**d) for d in docs]
    except TypeError:  # a row written by another version of the lab: show it as stored
        return stored
    english = summary(outcomes)
    if not row.get("ok") or not docs or not stored.startswith(english):
        return stored
    worded = summary(outcomes, say=lambda key, **values: t("backend." + key, **values))
    return worded + stored[len(english):]


# --- documents ---------------------------------------------------------------------------------------
def documents_panel(lab: "Lab", corpus: "Corpus", docs: Sequence["DocumentInfo"]) -> None:
    """The document list (name, kind, version, chunks, sensitive data) and deleting one."""
    if not docs:
        st.info(t("corpora.documents.empty"), icon=":material/upload_file:")
        return
    rows = [{"name": d.name, "kind": d.kind, "version": d.version, "chunks": d.chunk_count,
             "chars": d.char_count,
             "sensitive": f"{FINDING_ICON} {findings_text(d.findings)}" if d.findings else "",
             "notes": " ".join(str(w) for w in d.warnings or []),
             "updated": d.updated_at.strftime("%Y-%m-%d %H:%M") if d.updated_at else ""} for d in docs]
    col = st.column_config
    shown = [c for c in rows[0] if c != "notes" or any(r["notes"] for r in rows)]
    st.dataframe(rows, hide_index=True, column_order=shown, column_config={
        "name": col.TextColumn(t("corpora.documents.col.name"), width="medium"),
        "kind": col.TextColumn(t("corpora.documents.col.kind")),
        "version": col.NumberColumn(t("corpora.documents.col.version"),
                                    help=t("corpora.documents.col.version_help")),
        "chunks": col.NumberColumn(t("corpora.documents.col.chunks")),
        "chars": col.NumberColumn(t("corpora.documents.col.chars"), format="localized"),
        "sensitive": col.TextColumn(t("corpora.documents.col.sensitive"), width="large",
                                    help=t("corpora.documents.col.sensitive_help")),
        "notes": col.TextColumn(t("corpora.documents.col.notes")),
        "updated": col.TextColumn(t("corpora.documents.col.updated")),
    })
    by_id = {d.id: d for d in docs}
    pick, action = st.columns([3, 1], vertical_alignment="bottom")
    doc_id = pick.selectbox(t("corpora.documents.pick"), list(by_id), key=DOC_PICK_KEY,
                            format_func=lambda i: by_id[i].name if i in by_id else i)
    with action, st.popover(t("corpora.documents.delete"), icon=":material/delete:", width="stretch"):
        st.warning(t("corpora.documents.delete_warning", name=by_id[doc_id].name),
                   icon=":material/warning:")
        if st.button(t("corpora.documents.delete_confirm"), type="primary", key=DOC_DELETE_KEY,
                     icon=":material/delete_forever:", width="stretch"):
            try:
                store.delete_document(lab, corpus.id, doc_id)
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            flash(t("corpora.documents.deleted", name=by_id[doc_id].name))
            st.rerun()


# --- chunk browser -----------------------------------------------------------------------------------
def _more() -> None:
    st.session_state[CHUNK_LIMIT_KEY] = st.session_state.get(CHUNK_LIMIT_KEY, CHUNK_PAGE) + CHUNK_PAGE


def chunk_browser(lab: "Lab", corpus: "Corpus", docs: Sequence["DocumentInfo"]) -> None:
    """Chunks of the active index in document order: search their text, pick one document, see
    each chunk with its document, page or section, position and the search words marked."""
    if not docs:
        st.info(t("corpora.chunks.empty"), icon=":material/upload_file:")
        return
    by_id = {d.id: d for d in docs}
    search_col, doc_col = st.columns([3, 2])
    search = search_col.text_input(t("corpora.chunks.search"), key=CHUNK_SEARCH_KEY,
                                   placeholder=t("corpora.chunks.search_placeholder"),
                                   icon=":material/search:")
    doc_id = doc_col.selectbox(t("corpora.chunks.document"), [None, *by_id], key=CHUNK_DOC_KEY,
                               format_func=lambda i: t("corpora.chunks.all_documents") if i is None
                               else by_id[i].name if i in by_id else i)
    limit = st.session_state.get(CHUNK_LIMIT_KEY, CHUNK_PAGE)
    found = browse_chunks(lab, corpus.id, document_id=doc_id if doc_id in by_id else None,
                          contains=(search or "").strip() or None, limit=limit + 1)
    if not found:
        st.info(t("corpora.chunks.none"), icon=":material/search_off:")
        return
    more = len(found) > limit
    shown = found[:limit]
    st.caption(t("corpora.chunks.count_more" if more else "corpora.chunks.count", n=len(shown)))
    pattern = substring_pattern(search or "")
    for chunk in shown:
        chunk_card(chunk, pattern)
    if more:
        st.button(t("corpora.chunks.more", n=CHUNK_PAGE), key=CHUNK_MORE_KEY, on_click=_more,
                  icon=":material/expand_more:")
