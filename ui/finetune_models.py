"""The model registry on the Fine-tune page: every trained model (and run that is making one) with
its lineage, a ZIP download and delete.

The lineage says how a model was made, in the words of the form that made it: base model, method,
hyperparameters (only those of its method), dataset, corpus and its version, trainable parameters,
steps, duration, final training and validation loss, and the sensitive-data decision. The ZIP is
built only when the button is clicked (a full model is hundreds of MB).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import streamlit as st

from backend.finetune import registry
from backend.finetune.config import FinetuneConfig
from ui.corpora import flash
from ui.errors import show_error
from ui.finetune_data import builder_label
from ui.i18n import has_key, t
from ui.jobs import format_duration
from ui.palette import color_for
from ui.sources import findings_text, md_escape

if TYPE_CHECKING:
    from backend.finetune.registry import TrainedModel
    from backend.lab import Lab

DOWNLOAD_PREFIX = "finetune.model.download."  #: + model id
DELETE_PREFIX = "finetune.model.delete."      #: + model id
MODEL_STATUS_COLOURS = {"ready": "green", "training": "blue", "failed": "red", "cancelled": "gray"}


def _number(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def hyperparameters(tm: "TrainedModel") -> str:
    """The settings of the model's method, as ``name = value`` pairs (others are not shown)."""
    try:
        relevant = FinetuneConfig.from_dict(tm.config).relevant()
    except Exception:  # noqa: BLE001 - a config from an older version: show it as stored
        relevant = dict(tm.config)
    relevant.pop("method", None)
    return ", ".join(f"{k} = {', '.join(v) if isinstance(v, list) else v}"
                     for k, v in relevant.items())


def guard_text(guard: dict | None) -> str:
    """The sensitive-data decision in words, with the kinds found."""
    decision = (guard or {}).get("decision", "clean")
    key = f"finetune.lineage.guard.{decision}"
    words = t(key) if has_key(key) else decision
    kinds = findings_text((guard or {}).get("kinds"))
    return f"{words} ({kinds})" if kinds else words


def lineage_lines(tm: "TrainedModel", corpus_names: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) pairs of a model's lineage, in the interface language."""
    ds = tm.dataset or {}
    corpus = corpus_names.get(tm.corpus_id or "", t("finetune.lineage.corpus_gone"))
    share = (100.0 * tm.trainable_params / tm.total_params
             if tm.trainable_params and tm.total_params else None)
    trainable = (t("finetune.lineage.trainable_value", n=f"{tm.trainable_params:,}",
                   total=f"{tm.total_params:,}", share=f"{share:.2f}") if share is not None else "–")
    dataset = t("finetune.lineage.dataset_value", name=ds.get("name", "?"),
                builder=builder_label(ds.get("builder", "")), n=ds.get("n_examples", "?"))
    lineage = tm.lineage()
    return [
        (t("finetune.lineage.base"), tm.base_model if tm.base_model_id in (None, "", tm.base_model)
         else f"{tm.base_model} ({tm.base_model_id})"),
        (t("finetune.lineage.method"), t(f"finetune.method.{tm.method}")),
        (t("finetune.lineage.hyperparameters"), hyperparameters(tm)),
        (t("finetune.lineage.dataset"), dataset),
        (t("finetune.lineage.corpus"), t("finetune.lineage.corpus_value", name=corpus,
                                         version=tm.corpus_version if tm.corpus_version is not None
                                         else "?")),
        (t("finetune.lineage.trainable"), trainable),
        (t("finetune.lineage.steps"), "–" if tm.steps is None else f"{tm.steps:,}"),
        (t("finetune.lineage.duration"), format_duration(tm.duration_s) or "–"),
        (t("finetune.lineage.final_loss"), _number(lineage["final_train_loss"])),
        (t("finetune.lineage.final_val_loss"), _number(lineage["final_val_loss"])),
        (t("finetune.lineage.guard"), guard_text(tm.guard)),
        (t("finetune.lineage.hardware"), " · ".join(x for x in (tm.device, tm.dtype) if x) or "–"),
    ]


def lineage_view(tm: "TrainedModel", corpus_names: dict[str, str]) -> None:
    """The lineage as a two-column list."""
    lines = [f"- **{md_escape(label)}**: {md_escape(value)}"
             for label, value in lineage_lines(tm, corpus_names)]
    st.markdown("\n".join(lines))
    if tm.error and tm.status != "ready":
        st.caption(md_escape(tm.error))


def status_badge(status: str) -> None:
    """The model's status as a coloured badge."""
    key = f"finetune.model.status.{status}"
    st.badge(t(key) if has_key(key) else status, color=MODEL_STATUS_COLOURS.get(status, "gray"))


def zip_name(tm: "TrainedModel") -> str:
    """A file name for the model's ZIP ("lora-facts-model-3.zip")."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", tm.name).strip("-").lower() or "model"
    return f"{slug[:60]}-model-{tm.id}.zip"


def format_help(artifact_format: str | None) -> str:
    """What the ZIP holds, for the download button's tooltip."""
    key = f"finetune.model.format.{artifact_format}"
    return t(key) if has_key(key) else t("finetune.model.format.other")


def _delete(lab: "Lab", tm: "TrainedModel") -> None:
    try:
        registry.delete_model(lab, tm.id)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    flash(t("finetune.model.deleted", name=tm.name))


def model_card(lab: "Lab", tm: "TrainedModel", corpus_names: dict[str, str], shade: int) -> None:
    """One model: its name in its shade of orange, status, lineage, download and delete."""
    colour = color_for("finetuned", shade)
    with st.container(border=True):
        head, badge = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"<div style='border-left:6px solid {colour};padding-left:0.6rem;"
                      f"font-weight:600;font-size:1.08rem'>{html.escape(tm.name)}</div>",
                      unsafe_allow_html=True)
        with badge:
            status_badge(tm.status)
        lineage_view(tm, corpus_names)
        download_col, delete_col, _ = st.columns([2, 2, 3])
        if tm.status == "ready" and tm.artifact_id:
            download_col.download_button(
                t("finetune.model.download"), data=lambda: registry.download_zip(lab, tm.id),
                file_name=zip_name(tm), mime="application/zip", on_click="ignore",
                key=f"{DOWNLOAD_PREFIX}{tm.id}", icon=":material/download:",
                help=format_help(tm.artifact_format))
        with delete_col.popover(t("finetune.model.delete"), icon=":material/delete:"):
            st.warning(t("finetune.model.delete_warning", name=tm.name), icon=":material/warning:")
            st.button(t("finetune.model.delete_confirm"), key=f"{DELETE_PREFIX}{tm.id}",
                      type="primary", on_click=_delete, args=(lab, tm))


def models_tab(lab: "Lab", corpus_names: dict[str, str]) -> None:
    """Every registered model, newest first, each in its own shade of orange."""
    models = registry.list_models(lab)
    if not models:
        st.info(t("finetune.models.empty"), icon=":material/model_training:")
        return
    st.caption(t("finetune.models.intro", n=len(models)))
    for shade, tm in enumerate(models):
        model_card(lab, tm, corpus_names, shade)
