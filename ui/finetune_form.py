"""The Train tab's form and estimate, generated from ``FinetuneConfig``'s field metadata.

The method (adapter / partial / full) is chosen outside the form, so the form shows only that
method's settings; every other field comes from ``backend.finetune.config.describe()`` (type,
limits, group, the methods it applies to) with its label and help from the catalogue (English help
is the field's own metadata). The form has two submit buttons: "Update estimate" and "Launch". The
estimate beside it is for the values last submitted (the defaults at first), computed without
loading weights and cached. When the sensitive-data guard finds something in the chosen dataset the
form asks what to do (redact, acknowledge the risk, or do not train); a dataset that leaks held-out
questions cannot be launched.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

import streamlit as st

from backend.finetune.config import FinetuneConfig, describe
from ui.corpora import flash
from ui.errors import show_error
from ui.finetune_data import (TRAIN_DATASET_KEY, checks_panel, dataset_facts, dataset_picker,
                              examples_preview)
from ui.finetune_widgets import remembered_select, widget_key
from ui.i18n import t
from ui.jobs import format_duration
from ui.sources import findings_text, md_escape

if TYPE_CHECKING:
    from backend.finetune.datasets import Dataset
    from backend.lab import Lab

METHOD_KEY = "finetune.method"
FORM_KEY = "finetune.form"
FIELD_PREFIX = "finetune.cfg."          #: + field name: the form's widgets
RUN_NAME_KEY = "finetune.run_name"
SENSITIVE_KEY = "finetune.sensitive"
ESTIMATE_KEY = "finetune.estimate"
LAUNCH_KEY = "finetune.launch"
PENDING_RUN_KEY = "finetune.run.pending"  #: a job just launched: the runs list selects it
METHOD_ORDER = ("adapter", "partial", "full")  # lightest first: the sensible default
DECISIONS = ("redact", "acknowledge", "refuse")
#: form groups in order; the last ones sit in an expander
GROUPS = ("method", "training", "monitoring")
FOLDED_GROUPS = frozenset({"monitoring"})
_FLOAT_STEP = {"learning_rate": 1e-5, "lora_alpha": 1.0, "max_grad_norm": 0.1}


# --- pure helpers (unit-tested) ------------------------------------------------------------------------
def fields_for(method: str) -> list[dict[str, Any]]:
    """The configuration fields shown for ``method`` (every field that applies to it, except the
    method itself), in declaration order."""
    return [f for f in describe() if f["name"] != "method" and method in f["methods"]]


def widget_default(item: dict[str, Any]) -> Any:
    """The form's starting value for a field (lists as comma-separated text)."""
    default = item["default"]
    return ", ".join(default) if isinstance(default, (list, tuple)) else default


def config_from_values(method: str, values: dict[str, Any]) -> FinetuneConfig:
    """A validated config from the form's values (fields of other methods keep their defaults);
    raises InputError naming a bad field."""
    known = {f["name"] for f in fields_for(method)}
    return FinetuneConfig.from_dict({"method": method,
                                     **{k: v for k, v in values.items() if k in known}})


def human_count(n: int | float | None) -> str:
    """1843200 -> "1.84 M", 134515008 -> "134.5 M", 812 -> "812"."""
    if n is None:
        return ""
    if n >= 1e9:
        return f"{n / 1e9:.2f} B"
    if n >= 1e6:
        return f"{n / 1e6:.{2 if n < 1e8 else 1}f} M"
    if n >= 1e4:
        return f"{n / 1e3:.1f} k"
    return f"{n:,.0f}"


def format_memory(mb: float) -> str:
    """Megabytes as "850 MB" or "1.6 GB"."""
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


# --- cached reads -----------------------------------------------------------------------------------------
@st.cache_data(ttl=900, show_spinner=False, max_entries=64)
def _estimate(_lab: "Lab", db_url: str, dataset_id: int, config_json: str,
              base_model: str) -> dict[str, Any]:
    from backend.finetune.estimate import estimate_run

    cfg = FinetuneConfig.from_dict(json.loads(config_json))
    return estimate_run(_lab, dataset_id, cfg, base_model=base_model).as_dict()


@st.cache_data(ttl=900, show_spinner=False, max_entries=64)
def _guard_scan(_lab: "Lab", db_url: str, dataset_id: int) -> dict[str, Any]:
    from backend.finetune.datasets import dataset_examples, dataset_sources
    from backend.finetune.guard import scan_examples

    return scan_examples(dataset_examples(_lab, dataset_id),
                         dataset_sources(_lab, dataset_id)).as_dict()


def guard_scan(lab: "Lab", dataset_id: int) -> dict[str, Any]:
    """What the sensitive-data scan finds in a dataset: kinds, where (document -> kind -> n) and
    how many examples hold any (datasets never change, so this is cached per dataset)."""
    return _guard_scan(lab, lab.db.url, dataset_id)


# --- widgets ----------------------------------------------------------------------------------------------
def _field_widget(item: dict[str, Any]) -> None:
    name, key = item["name"], FIELD_PREFIX + item["name"]
    st.session_state.setdefault(key, widget_default(item))
    label, help_text = t(f"finetune.field.{name}"), t(f"finetune.help.{name}")
    low, high = item["minimum"], item["maximum"]
    if item["type"] == "bool":
        st.checkbox(label, key=key, help=help_text)
    elif item["choices"]:
        st.selectbox(label, list(item["choices"]), key=key, help=help_text)
    elif item["type"] == "int":
        st.number_input(label, min_value=None if low is None else int(low), step=1, key=key,
                        max_value=None if high is None else int(high), help=help_text)
    elif item["type"] == "float":
        st.number_input(label, min_value=None if low is None else float(low), format="%g",
                        max_value=None if high is None else float(high), key=key, help=help_text,
                        step=_FLOAT_STEP.get(name, 0.01))
    else:
        st.text_input(label, key=key, help=help_text)


def form_values(method: str) -> dict[str, Any]:
    """The values the form holds now for ``method``'s fields (defaults where never drawn)."""
    return {item["name"]: st.session_state.get(FIELD_PREFIX + item["name"], widget_default(item))
            for item in fields_for(method)}


def _fields(method: str) -> None:
    by_group: dict[str, list[dict[str, Any]]] = {}
    for item in fields_for(method):
        by_group.setdefault(item["group"], []).append(item)
    for group in [g for g in GROUPS if g in by_group] + [g for g in by_group if g not in GROUPS]:
        box = (st.expander(t(f"finetune.group.{group}"), icon=":material/tune:")
               if group in FOLDED_GROUPS else st.container())
        with box:
            if group not in FOLDED_GROUPS:
                st.markdown(f"**{t(f'finetune.group.{group}')}**")
            columns = st.columns(2)
            for index, item in enumerate(by_group[group]):
                with columns[index % 2]:
                    _field_widget(item)


def guard_notice(report: dict[str, Any]) -> None:
    """The documents (or questions) holding personal data, with the kinds found in each."""
    lines = [f"- **{md_escape(place)}**: {findings_text(kinds)}"
             for place, kinds in list(report["where"].items())[:15]]
    more = len(report["where"]) - 15
    if more > 0:
        lines.append(f"- {t('finetune.guard.more', n=more)}")
    st.warning(t("finetune.guard.found", examples=report["examples"],
                 kinds=findings_text(report["kinds"])) + "\n\n" + "\n".join(lines),
               icon=":material/shield:")


def estimate_panel(lab: "Lab", ds: "Dataset", method: str, values: dict[str, Any]) -> None:
    """Trainable parameters, memory, time per epoch and what really trains, for these values."""
    st.markdown(f"**{t('finetune.estimate.title')}**")
    try:
        cfg = config_from_values(method, values)
        with st.spinner(t("finetune.estimate.running")):
            est = _estimate(lab, lab.db.url, ds.id, json.dumps(cfg.as_dict(), sort_keys=True),
                            lab.settings.llm_model)
    except Exception as exc:  # noqa: BLE001 - e.g. a layer name the model does not have
        show_error(exc)
        return
    share = 100.0 * est["trainable_params"] / est["total_params"] if est["total_params"] else 0
    top = st.columns(2)
    top[0].metric(t("finetune.estimate.trainable"), human_count(est["trainable_params"]),
                  border=True, help=t("finetune.estimate.trainable_help", share=f"{share:.2f}",
                                      total=f"{est['total_params']:,}"))
    top[1].metric(t("finetune.estimate.memory"), format_memory(est["memory_mb"]), border=True,
                  help=t("finetune.estimate.memory_help"))
    bottom = st.columns(2)
    bottom[0].metric(t("finetune.estimate.epoch"), format_duration(est["seconds_per_epoch"]) or "–",
                     border=True)
    bottom[1].metric(t("finetune.estimate.total"), format_duration(est["seconds_total"]) or "–",
                     border=True)
    st.caption(t("finetune.estimate.steps", steps=est["total_steps"],
                 per_epoch=est["steps_per_epoch"], examples=est["examples"],
                 tokens=f"{est['tokens_per_epoch']:,}"))
    st.info(t("finetune.estimate.what_trains", summary=est["summary"]), icon=":material/school:")
    if cfg.method == "partial" and cfg.train_head:
        st.warning(t("finetune.estimate.tied"), icon=":material/link:")
    st.caption(t(f"finetune.estimate.basis.{est['basis']}"))


def _launch(lab: "Lab", ds: "Dataset", method: str, values: dict[str, Any], leaks: Sequence,
            report: dict[str, Any]) -> None:
    decision = ("refuse" if not report["kinds"]
                else st.session_state.get(widget_key(SENSITIVE_KEY), "refuse"))
    if leaks:
        st.error(t("finetune.launch.leaks"), icon=":material/block:")
        return
    if report["kinds"] and decision == "refuse":
        st.warning(t("finetune.launch.guard_refused"), icon=":material/shield:")
        return
    try:
        cfg = config_from_values(method, values)
        job_id = _submit(lab, ds, cfg, (st.session_state.get(RUN_NAME_KEY) or "").strip(), decision)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    st.session_state[PENDING_RUN_KEY] = job_id
    flash(t("finetune.launch.queued", method=t(f"finetune.method.{method}"), dataset=ds.name))
    st.rerun()


def _submit(lab: "Lab", ds: "Dataset", cfg: FinetuneConfig, name: str, decision: str) -> int:
    from backend.finetune.jobs import submit_finetune

    return submit_finetune(lab, ds.id, cfg, name=name or None, sensitive=decision)


def train_panel(lab: "Lab", items: Sequence["Dataset"]) -> None:
    """Left: dataset, method and the generated form; right: a preview of the data and the
    estimate. Launch enqueues the run (the runs list below then shows it)."""
    if not items:
        st.info(t("finetune.train.no_dataset"), icon=":material/dataset:")
        return
    form_col, side_col = st.columns([3, 2], gap="large")
    with form_col:
        ds = dataset_picker(items, TRAIN_DATASET_KEY, t("finetune.train.dataset"))
        st.caption(dataset_facts(ds))
        method = remembered_select(t("finetune.field.method"), METHOD_ORDER, METHOD_KEY,
                                   lambda m: t(f"finetune.method.{m}"), widget=st.radio,
                                   captions=[t(f"finetune.method.{m}.what") for m in METHOD_ORDER],
                                   help=t("finetune.help.method"))
        leaks = checks_panel(lab, ds)
        report = guard_scan(lab, ds.id)
        if report["kinds"]:
            guard_notice(report)
        with st.form(FORM_KEY):
            st.text_input(t("finetune.train.run_name"), key=RUN_NAME_KEY, max_chars=120,
                          placeholder=t("finetune.train.run_name_placeholder", method=method,
                                        dataset=ds.name))
            _fields(method)
            if report["kinds"]:
                remembered_select(t("finetune.guard.choice"), DECISIONS, SENSITIVE_KEY,
                                  lambda d: t(f"finetune.guard.{d}"), default="refuse",
                                  widget=st.radio,
                                  captions=[t(f"finetune.guard.{d}.what") for d in DECISIONS])
            st.caption(t("finetune.train.base_model", model=lab.settings.llm_model))
            estimate_col, launch_col = st.columns(2)
            estimate_col.form_submit_button(t("finetune.train.estimate"), key=ESTIMATE_KEY,
                                            icon=":material/calculate:", width="stretch")
            launched = launch_col.form_submit_button(
                t("finetune.train.launch"), key=LAUNCH_KEY, type="primary", width="stretch",
                icon=":material/rocket_launch:", disabled=bool(leaks))
        values = form_values(method)
        if launched:
            _launch(lab, ds, method, values, leaks, report)
    with side_col:
        estimate_panel(lab, ds, method, values)
        with st.expander(t("finetune.train.preview"), icon=":material/visibility:"):
            examples_preview(lab, ds, chat=2, table=False)

