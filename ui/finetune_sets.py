"""Question sets on the Fine-tune page: upload a file (preview and edit the rows before saving),
generate with the extractive generator, list sets with their versions and split sizes, edit a set
as a new version, export it (Ragas JSONL, CSV) and delete it.

Rows are edited in ``st.data_editor`` as plain text: reference contexts separated by ``||`` and
tags by ``;``, the separators ``question_io`` reads back, so an edited row round-trips unchanged.
A set created or saved here becomes the selected one on the next run (``PENDING_SET_KEY``: a
widget's value cannot change after it was drawn in the same run).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.finetune import question_gen, question_io, questions
from ui.corpora import flash
from ui.errors import show_error
from ui.finetune_widgets import remembered_select
from ui.i18n import has_key, t
from ui.sources import md_escape

if TYPE_CHECKING:
    from backend.corpus.store import Corpus
    from backend.finetune.questions import QuestionSet
    from backend.lab import Lab

SET_KEY = "finetune.set"                      #: the selected question set (remembered select)
PENDING_SET_KEY = "finetune.set.pending"      #: a set to select on the next run
UPLOAD_PREFIX = "finetune.upload.file."       #: + a counter: a fresh uploader after each save
UPLOAD_COUNT_KEY = "finetune.upload.count"
UPLOAD_NAME_KEY = "finetune.upload.name"
UPLOAD_FRACTION_KEY = "finetune.upload.held_out"
UPLOAD_SEED_KEY = "finetune.upload.seed"
UPLOAD_SAVE_KEY = "finetune.upload.save"
GEN_FORM = "finetune.generate"
GEN_NAME_KEY = "finetune.generate.name"
GEN_N_KEY = "finetune.generate.n"
GEN_FRACTION_KEY = "finetune.generate.held_out"
GEN_SEED_KEY = "finetune.generate.seed"
GEN_SUBMIT_KEY = "finetune.generate.submit"
SAVE_VERSION_KEY = "finetune.set.save"
EXPORT_PREFIX = "finetune.set.export."        #: + format
DELETE_KEY = "finetune.set.delete"
COLUMNS = ("question", "reference", "reference_contexts", "tags", "part")


# --- rows <-> editable records (pure) ---------------------------------------------------------------
def rows_to_records(rows: Sequence[question_io.QuestionRow]) -> list[dict[str, str]]:
    """Rows as flat text records for the editor (contexts joined by `` || ``, tags by ``; ``)."""
    return [{"question": r.question, "reference": r.reference,
             "reference_contexts": " || ".join(r.reference_contexts), "tags": "; ".join(r.tags),
             "part": r.part or ""} for r in rows]


def records_to_rows(records: Sequence[dict[str, Any]]) -> list[question_io.QuestionRow]:
    """The editor's records back as rows (empty lines dropped, the separators parsed)."""
    return question_io.rows_from_records([{k: v for k, v in r.items() if k in COLUMNS}
                                          for r in records])


def source_label(qs: "QuestionSet") -> str:
    """How a set was made, in words ("Extractive generator (no model)", "Uploaded file", ...)."""
    key = f"finetune.source.{qs.source}"
    return t(key) if has_key(key) else qs.source


def set_label(qs: "QuestionSet") -> str:
    """"name v2 · 20 questions" for pickers."""
    return t("finetune.set.label", name=qs.name, version=qs.version, n=qs.n_questions)


# --- widgets -----------------------------------------------------------------------------------------
def _frame(rows: Sequence[question_io.QuestionRow]):
    import pandas as pd

    return pd.DataFrame(rows_to_records(rows), columns=list(COLUMNS))


def rows_editor(rows: Sequence[question_io.QuestionRow], key: str):
    """An editable table of question rows (rows can be added and deleted); returns the edited
    table as a DataFrame."""
    col = st.column_config
    return st.data_editor(_frame(rows), key=key, num_rows="dynamic", hide_index=True,
                          width="stretch", column_config={
        "question": col.TextColumn(t("finetune.col.question"), required=True, width="large"),
        "reference": col.TextColumn(t("finetune.col.reference"), width="large"),
        "reference_contexts": col.TextColumn(t("finetune.col.contexts"),
                                             help=t("finetune.col.contexts_help")),
        "tags": col.TextColumn(t("finetune.col.tags"), help=t("finetune.col.tags_help")),
        "part": col.SelectboxColumn(t("finetune.col.part"), options=list(question_io.PARTS),
                                    help=t("finetune.col.part_help")),
    })


def _records(frame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if hasattr(frame, "to_dict") else list(frame)


def _select_next_run(set_id: int) -> None:
    st.session_state[PENDING_SET_KEY] = set_id


def upload_panel(lab: "Lab", corpus: "Corpus") -> None:
    """Upload a CSV / JSONL / JSON set, preview and edit its rows, save it with a held-out share."""
    count = st.session_state.get(UPLOAD_COUNT_KEY, 0)
    upload = st.file_uploader(t("finetune.upload.file"), type=["csv", "jsonl", "json"],
                              key=f"{UPLOAD_PREFIX}{count}", help=t("finetune.upload.file_help"))
    if upload is None:
        return
    data = upload.getvalue()
    try:
        rows = question_io.parse_upload(data, upload.name, max_mb=lab.settings.max_upload_mb)
    except Exception as exc:  # noqa: BLE001 - a bad file is said in words, the page goes on
        show_error(exc)
        return
    st.caption(t("finetune.upload.parsed", n=len(rows), name=md_escape(upload.name)))
    digest = hashlib.sha1(data).hexdigest()[:12]
    edited = rows_editor(rows, key=f"finetune.upload.editor.{digest}")
    name_col, fraction_col, seed_col = st.columns([3, 2, 1])
    stem = upload.name.rsplit(".", 1)[0]
    name = name_col.text_input(t("finetune.set.name"), value=stem, key=UPLOAD_NAME_KEY, max_chars=120)
    fraction = fraction_col.slider(t("finetune.set.held_out"), 0.0, 0.5, 0.2, 0.05,
                                   key=UPLOAD_FRACTION_KEY, help=t("finetune.set.held_out_help"))
    seed = seed_col.number_input(t("finetune.set.seed"), 0, 2**31 - 1, 0, key=UPLOAD_SEED_KEY,
                                 help=t("finetune.set.seed_help"))
    if st.button(t("finetune.upload.save"), key=UPLOAD_SAVE_KEY, type="primary",
                 icon=":material/save:"):
        try:
            qs = questions.create_set(lab, corpus.id, name, records_to_rows(_records(edited)),
                                      held_out_fraction=float(fraction), seed=int(seed),
                                      source="upload")
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
            return
        st.session_state[UPLOAD_COUNT_KEY] = count + 1
        _select_next_run(qs.id)
        flash(t("finetune.set.saved", name=qs.name, version=qs.version, n=qs.n_questions,
                held_out=qs.n_held_out))
        st.rerun()


def generate_panel(lab: "Lab", corpus: "Corpus") -> None:
    """Generate a set from the corpus's chunks with the extractive generator (said as such)."""
    st.caption(t("finetune.generate.why"))
    with st.form(GEN_FORM, border=False):
        name = st.text_input(t("finetune.set.name"), key=GEN_NAME_KEY, max_chars=120,
                             value=t("finetune.generate.default_name", corpus=corpus.name))
        n_col, fraction_col, seed_col = st.columns([2, 2, 1])
        n = n_col.number_input(t("finetune.generate.n"), 1, 500, 20, key=GEN_N_KEY,
                               help=t("finetune.generate.n_help"))
        fraction = fraction_col.slider(t("finetune.set.held_out"), 0.0, 0.5, 0.2, 0.05,
                                       key=GEN_FRACTION_KEY, help=t("finetune.set.held_out_help"))
        seed = seed_col.number_input(t("finetune.set.seed"), 0, 2**31 - 1, 0, key=GEN_SEED_KEY,
                                     help=t("finetune.set.seed_help"))
        submitted = st.form_submit_button(t("finetune.generate.submit"), key=GEN_SUBMIT_KEY,
                                          type="primary", icon=":material/auto_awesome:")
    if submitted:
        try:
            with st.spinner(t("finetune.generate.running")):
                qs = question_gen.generate_set(lab, corpus.id, name, int(n), generator="extractive",
                                               seed=int(seed), held_out_fraction=float(fraction))
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
            return
        _select_next_run(qs.id)
        flash(t("finetune.set.generated", name=qs.name, n=qs.n_questions, held_out=qs.n_held_out))
        st.rerun()


def sets_table(sets: Sequence["QuestionSet"]) -> None:
    """Every version of every set of the corpus, with the sizes of its two parts."""
    st.dataframe([{"name": s.name, "version": s.version, "source": source_label(s),
                   "questions": s.n_questions, "train": s.n_questions - s.n_held_out,
                   "held_out": s.n_held_out, "created": s.created_at.strftime("%Y-%m-%d %H:%M")}
                  for s in sets], hide_index=True, width="stretch", column_config={
        "name": st.column_config.TextColumn(t("finetune.col.name")),
        "version": st.column_config.NumberColumn(t("finetune.col.version"), format="v%d"),
        "source": st.column_config.TextColumn(t("finetune.col.source")),
        "questions": st.column_config.NumberColumn(t("finetune.col.questions")),
        "train": st.column_config.NumberColumn(t("finetune.col.train")),
        "held_out": st.column_config.NumberColumn(t("finetune.col.held_out"),
                                                  help=t("finetune.col.held_out_help")),
        "created": st.column_config.TextColumn(t("finetune.col.created")),
    })


def set_picker(sets: Sequence["QuestionSet"], key: str, label: str) -> int:
    """A selectbox of set ids, starting on a set just created, else on the newest."""
    by_id = {s.id: s for s in sets}
    return remembered_select(label, list(by_id), key, lambda i: set_label(by_id[i]),
                             default=max(by_id), prefer=pending_set())


def pending_set() -> int | None:
    """A set created or saved in the previous run, to be chosen by every set picker of this run."""
    return st.session_state.get(PENDING_SET_KEY)


def forget_pending_set() -> None:
    """Call once every picker of the run was drawn."""
    st.session_state.pop(PENDING_SET_KEY, None)


def set_detail(lab: "Lab", qs: "QuestionSet") -> None:
    """One set: how it was made, its split, its rows (editable: save as a new version), export
    and delete."""
    facts = [source_label(qs), t("finetune.set.split", fraction=f"{qs.held_out_fraction:.0%}",
                                  seed=qs.split_seed)]
    if qs.corpus_version is not None:
        facts.append(t("finetune.set.corpus_version", version=qs.corpus_version))
    st.caption(" · ".join(facts))
    if qs.source == "extractive":
        st.info(t("finetune.set.extractive_note"), icon=":material/content_cut:")
    edited = rows_editor(qs.rows, key=f"finetune.set.editor.{qs.id}")
    save_col, ragas_col, csv_col, delete_col = st.columns(4, vertical_alignment="bottom")
    if save_col.button(t("finetune.set.save_version"), key=SAVE_VERSION_KEY,
                       help=t("finetune.set.save_version_help"), icon=":material/save:"):
        try:
            new = questions.save_version(lab, qs.id, records_to_rows(_records(edited)))
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
        else:
            _select_next_run(new.id)
            flash(t("finetune.set.saved", name=new.name, version=new.version, n=new.n_questions,
                    held_out=new.n_held_out))
            st.rerun()
    for column, fmt, ext, mime in ((ragas_col, "ragas", "jsonl", "application/jsonl"),
                                   (csv_col, "csv", "csv", "text/csv")):
        column.download_button(
            t(f"finetune.set.export.{fmt}"), data=lambda f=fmt: questions.export_set(lab, qs.id, f),
            file_name=f"{qs.name}-v{qs.version}{'-ragas' if fmt == 'ragas' else ''}.{ext}",
            mime=mime, key=f"{EXPORT_PREFIX}{fmt}", icon=":material/download:",
            help=t(f"finetune.set.export.{fmt}_help"), on_click="ignore")
    with delete_col.popover(t("finetune.set.delete"), icon=":material/delete:"):
        st.warning(t("finetune.set.delete_warning", name=qs.name, version=qs.version),
                   icon=":material/warning:")
        if st.button(t("finetune.set.delete_confirm"), key=DELETE_KEY, type="primary"):
            try:
                questions.delete_set(lab, qs.id)
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            flash(t("finetune.set.deleted", name=qs.name, version=qs.version))
            st.rerun()


def question_sets_tab(lab: "Lab", corpus: "Corpus", sets: Sequence["QuestionSet"]) -> None:
    """The Question sets tab: add one (upload or generate), then the list and the chosen set."""
    if corpus.document_count == 0:
        st.warning(t("finetune.no_documents", name=corpus.name), icon=":material/upload_file:")
    upload_col, generate_col = st.columns(2, gap="large")
    with upload_col, st.container(border=True):
        st.markdown(f"**{t('finetune.upload.title')}**")
        upload_panel(lab, corpus)
    with generate_col, st.container(border=True):
        st.markdown(f"**{t('finetune.generate.title')}**")
        generate_panel(lab, corpus)
    st.subheader(t("finetune.sets.title"), anchor=False)
    if not sets:
        st.info(t("finetune.sets.empty"), icon=":material/quiz:")
        return
    sets_table(sets)
    chosen = set_picker(sets, SET_KEY, t("finetune.sets.pick"))
    try:
        qs = questions.get_set(lab, chosen)
    except Exception as exc:  # noqa: BLE001 - e.g. deleted meanwhile in another tab
        show_error(exc)
        return
    set_detail(lab, qs)
