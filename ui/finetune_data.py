"""Training data on the Fine-tune page: build a dataset (question-answer pairs from a set's train
part, or continued pretraining on the corpus's chunks), preview its chat-formatted examples, and
check it against every held-out question of the corpus: exact leaks (a run would be refused) and
near-duplicates (flagged for the user to look at).

The checks are cached per dataset and per state of the held-out questions, so a new question set
refreshes them; near-duplicates load the corpus's embedding model once in this process.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.finetune import datasets
from backend.finetune.questions import held_out_questions
from ui.corpora import flash
from ui.errors import show_error
from ui.finetune_sets import PENDING_SET_KEY
from ui.finetune_widgets import remembered_select
from ui.i18n import has_key, t
from ui.sources import md_escape

if TYPE_CHECKING:
    from backend.corpus.store import Corpus
    from backend.finetune.datasets import Dataset
    from backend.finetune.questions import QuestionSet
    from backend.lab import Lab

BUILDER_KEY = "finetune.build.builder"
BUILD_SET_KEY = "finetune.build.set"
BUILD_UNANSWERABLE_KEY = "finetune.build.unanswerable"
BUILD_NAME_KEY = "finetune.build.name"
BUILD_SUBMIT_KEY = "finetune.build.submit"
DATA_KEY = "finetune.data.dataset"            #: the dataset previewed on the Training data tab
TRAIN_DATASET_KEY = "finetune.train.dataset"  #: the dataset the Train form trains on
PENDING_DATASET_KEY = "finetune.dataset.pending"  #: a new dataset to select in both, next run
DELETE_KEY = "finetune.data.delete"
#: builders that read a question set (the others read the corpus)
NEEDS_SET = frozenset({"qa_pairs", "paraphrase", "raft"})
#: the order builders are offered in (the usual one first); builders not listed come last
BUILDER_ORDER = ("qa_pairs", "paraphrase", "raft", "continued_pretraining")
PREVIEW_ROWS = 200
CHAT_PREVIEW = 3


def builder_label(name: str) -> str:
    """A builder's name in words ("Question-answer pairs")."""
    key = f"finetune.builder.{name}"
    return t(key) if has_key(key) else name.replace("_", " ")


def dataset_label(ds: "Dataset") -> str:
    """"name · Question-answer pairs · 16 examples" for pickers."""
    return t("finetune.dataset.label", name=ds.name, builder=builder_label(ds.builder),
             n=ds.n_examples)


def example_record(example: dict) -> dict[str, str]:
    """One example as a table row: its question and answer (chat) or its text (continued
    pretraining), with the system prompt when there is one."""
    if example.get("messages"):
        by_role: dict[str, str] = {}
        for message in example["messages"]:
            by_role[message["role"]] = message["content"]  # the last turn of each role
        return {"system": by_role.get("system", ""), "user": by_role.get("user", ""),
                "assistant": by_role.get("assistant", "")}
    return {"text": example.get("text", "")}


def _held_out_signature(lab: "Lab", corpus_id: str) -> str:
    """Changes whenever a held-out question of the corpus is added, edited or removed."""
    held = held_out_questions(lab, corpus_id)
    return hashlib.sha1("\x00".join(f"{h.set_id}:{h.position}:{h.question}" for h in held)
                        .encode()).hexdigest()


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _checks(_lab: "Lab", db_url: str, dataset_id: int, signature: str) -> dict[str, list[dict]]:
    leaks = datasets.dataset_leaks(_lab, dataset_id)
    near = datasets.dataset_near_duplicates(_lab, dataset_id) if signature else []
    return {"leaks": [x.as_dict() for x in leaks], "near": [x.as_dict() for x in near]}


def dataset_checks(lab: "Lab", ds: "Dataset") -> dict[str, list[dict]]:
    """``{"leaks": [...], "near": [...]}`` for a dataset (cached; see the module docstring)."""
    held = held_out_questions(lab, ds.corpus_id)
    signature = _held_out_signature(lab, ds.corpus_id) if held else ""
    return _checks(lab, lab.db.url, ds.id, signature)


def leak_lines(items: Sequence[dict]) -> str:
    """A Markdown list of leaks or near-duplicates: the question, its set, the example."""
    return "\n".join(t("finetune.leak.line", question=md_escape(x["question"]),
                       set=md_escape(x["set_name"]), version=x["version"], example=x["example"] + 1,
                       how=md_escape(x["how"])) for x in items[:20])


def checks_panel(lab: "Lab", ds: "Dataset") -> list[dict]:
    """Leaks (refused) and near-duplicates (flagged) of a dataset; returns the leaks."""
    try:
        with st.spinner(t("finetune.checks.running")):
            found = dataset_checks(lab, ds)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return []
    if found["leaks"]:
        st.error(t("finetune.checks.leaks", n=len(found["leaks"])) + "\n\n" +
                 leak_lines(found["leaks"]), icon=":material/block:")
    if found["near"]:
        st.warning(t("finetune.checks.near", n=len(found["near"])) + "\n\n" +
                   leak_lines(found["near"]), icon=":material/flag:")
    if not found["leaks"] and not found["near"]:
        st.success(t("finetune.checks.clean"), icon=":material/verified:")
    return found["leaks"]


def examples_preview(lab: "Lab", ds: "Dataset", *, chat: int = CHAT_PREVIEW,
                     table: bool = True) -> None:
    """The first examples as a chat (as the model is taught: the user asks, the assistant
    answers) and, with ``table``, the first ``PREVIEW_ROWS`` in a table."""
    examples = datasets.dataset_examples(lab, ds.id, limit=PREVIEW_ROWS if table else chat)
    for example in examples[:chat]:
        with st.container(border=True):
            if example.get("messages"):
                for message in example["messages"]:
                    with st.chat_message(message["role"], avatar=_AVATARS.get(message["role"])):
                        st.markdown(md_escape(message["content"]))
            else:
                st.caption(t("finetune.dataset.text_example"))
                st.text(example.get("text", "")[:1500])
    if table and len(examples) > chat:
        records = [example_record(e) for e in examples]
        col = st.column_config
        st.dataframe(records, hide_index=True, width="stretch", column_config={
            "system": col.TextColumn(t("finetune.col.system")),
            "user": col.TextColumn(t("finetune.col.user"), width="large"),
            "assistant": col.TextColumn(t("finetune.col.assistant"), width="large"),
            "text": col.TextColumn(t("finetune.col.text"), width="large")})
        if ds.n_examples > len(examples):
            st.caption(t("finetune.dataset.more", shown=len(examples), n=ds.n_examples))


_AVATARS = {"system": ":material/settings:", "user": ":material/person:",
            "assistant": ":material/smart_toy:"}


def build_panel(lab: "Lab", corpus: "Corpus", sets: Sequence["QuestionSet"]) -> None:
    """Pick a builder (and its question set), name the dataset, build it."""
    names = sorted(datasets.builders(), key=lambda n: (
        BUILDER_ORDER.index(n) if n in BUILDER_ORDER else len(BUILDER_ORDER), n))
    builder = remembered_select(
        t("finetune.build.builder"), names, BUILDER_KEY, builder_label, widget=st.radio,
        captions=[t(f"finetune.builder.{n}.what") if has_key(f"finetune.builder.{n}.what") else ""
                  for n in names])
    params: dict[str, Any] = {}
    set_id = None
    if builder in NEEDS_SET:
        if not sets:
            st.info(t("finetune.build.no_sets"), icon=":material/quiz:")
            return
        by_id = {s.id: s for s in sets}
        set_id = remembered_select(
            t("finetune.build.set"), list(by_id), BUILD_SET_KEY, default=max(by_id),
            prefer=st.session_state.get(PENDING_SET_KEY),
            format_func=lambda i: t("finetune.build.set_label", name=by_id[i].name,
                                    version=by_id[i].version,
                                    n=by_id[i].n_questions - by_id[i].n_held_out),
            help=t("finetune.build.set_help"))
        params["include_unanswerable"] = st.checkbox(t("finetune.build.unanswerable"), value=True,
                                                     key=BUILD_UNANSWERABLE_KEY,
                                                     help=t("finetune.build.unanswerable_help"))
    name = st.text_input(t("finetune.build.name"), key=BUILD_NAME_KEY, max_chars=120,
                         placeholder=t("finetune.build.name_placeholder"))
    if st.button(t("finetune.build.submit"), key=BUILD_SUBMIT_KEY, type="primary",
                 icon=":material/construction:"):
        try:
            with st.spinner(t("finetune.build.running")):
                ds = datasets.build_dataset(lab, builder, corpus.id, question_set_id=set_id,
                                            name=name or None, **params)
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
            return
        st.session_state[PENDING_DATASET_KEY] = ds.id
        flash(t("finetune.dataset.built", name=ds.name, n=ds.n_examples))
        st.rerun()


def dataset_picker(items: Sequence["Dataset"], key: str, label: str) -> "Dataset":
    """A selectbox of datasets (newest first); a dataset just built is chosen."""
    by_id = {d.id: d for d in items}
    return by_id[remembered_select(label, list(by_id), key, lambda i: dataset_label(by_id[i]),
                                   prefer=st.session_state.get(PENDING_DATASET_KEY))]


def forget_pending_dataset() -> None:
    """Call once every picker of the run was drawn: the new dataset is chosen in each by now."""
    st.session_state.pop(PENDING_DATASET_KEY, None)


def dataset_facts(ds: "Dataset") -> str:
    """What a dataset is made of, in one line."""
    facts = [builder_label(ds.builder), t("finetune.dataset.examples", n=ds.n_examples)]
    if ds.params.get("question_set"):
        facts.append(t("finetune.dataset.from_set", set=ds.params["question_set"]))
    if ds.corpus_version is not None:
        facts.append(t("finetune.set.corpus_version", version=ds.corpus_version))
    skipped = ds.params.get("skipped_no_answer") or ds.params.get("skipped_short") or 0
    if skipped:
        facts.append(t("finetune.dataset.skipped", n=skipped))
    return " · ".join(md_escape(f) for f in facts)


def data_tab(lab: "Lab", corpus: "Corpus", sets: Sequence["QuestionSet"],
             items: Sequence["Dataset"]) -> None:
    """The Training data tab: the builder, then the chosen dataset's checks and examples."""
    with st.container(border=True):
        st.markdown(f"**{t('finetune.build.title')}**")
        build_panel(lab, corpus, sets)
    st.subheader(t("finetune.datasets.title"), anchor=False)
    if not items:
        st.info(t("finetune.datasets.empty"), icon=":material/dataset:")
        return
    ds = dataset_picker(items, DATA_KEY, t("finetune.datasets.pick"))
    facts_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
    facts_col.caption(dataset_facts(ds))
    with delete_col.popover(t("finetune.dataset.delete"), icon=":material/delete:"):
        st.warning(t("finetune.dataset.delete_warning", name=ds.name), icon=":material/warning:")
        if st.button(t("finetune.dataset.delete_confirm"), key=DELETE_KEY, type="primary"):
            try:
                datasets.delete_dataset(lab, ds.id)
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            flash(t("finetune.dataset.deleted", name=ds.name))
            st.rerun()
    checks_panel(lab, ds)
    examples_preview(lab, ds)
