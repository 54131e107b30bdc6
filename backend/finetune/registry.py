"""The model registry: every fine-tune run and the model it produced, with its lineage.

Formats (``trained_models.artifact_format``), each a ZIP'd folder in the artifact store (Postgres,
or the shared folder when ``artifact_dir`` is set and the weights are large):
- ``peft-adapter``: the standard PEFT folder (``adapter_config.json`` + ``adapter_model.safetensors``),
  loadable with ``PeftModel.from_pretrained(base, folder)``;
- ``safetensors-full``: a complete transformers model folder (weights, config, tokenizer);
- ``safetensors-partial``: only the weights that trained (``partial_weights.safetensors``), applied
  over the base model when loading (a few MB instead of the whole model); ``download_zip(...,
  merged=True)`` gives the complete folder.
Every folder also holds ``lab_lineage.json``: what the model is and how it was made.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from backend.errors import ModelUnavailable, NotFound
from backend.storage import ArtifactStore

log = logging.getLogger(__name__)

PARTIAL_FILE = "partial_weights.safetensors"
LINEAGE_FILE = "lab_lineage.json"
ARTIFACT_KIND = "trained_model"


@dataclass
class TrainedModel:
    id: int
    name: str
    job_id: int | None
    status: str
    base_model: str
    base_model_id: str
    method: str
    config: dict
    dataset_id: int | None
    dataset: dict
    corpus_id: str | None
    corpus_version: int | None
    trainable_params: int | None
    total_params: int | None
    artifact_id: str | None
    artifact_format: str | None
    device: str | None
    dtype: str | None
    steps: int | None
    duration_s: float | None
    train_loss: list
    val_loss: list
    guard: dict
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    def lineage(self) -> dict[str, Any]:
        """What a user (or the downloaded folder) needs to know about how this model was made."""
        return {"model_id": self.id, "name": self.name, "base_model": self.base_model,
                "base_model_id": self.base_model_id, "method": self.method, "config": self.config,
                "dataset_id": self.dataset_id, "dataset": self.dataset, "corpus_id": self.corpus_id,
                "corpus_version": self.corpus_version, "trainable_params": self.trainable_params,
                "total_params": self.total_params, "steps": self.steps,
                "duration_s": self.duration_s, "guard": self.guard,
                "final_train_loss": self.train_loss[-1][1] if self.train_loss else None,
                "final_val_loss": self.val_loss[-1][1] if self.val_loss else None}


_COLUMNS = ("id, name, job_id, status, base_model, base_model_id, method, config, dataset_id,"
            " dataset, corpus_id::text AS corpus_id, corpus_version, trainable_params,"
            " total_params, artifact_id::text AS artifact_id, artifact_format, device, dtype, steps,"
            " duration_s, train_loss, val_loss, guard, error, created_at, finished_at")


def start_run(lab, *, job_id: int | None, name: str, base_model: str, base_model_id: str,
              method: str, config: dict, dataset: dict, trainable_params: int,
              total_params: int, device: str, dtype: str, guard: dict) -> int:
    """The registry row of a run (status ``training``); a resumed job gets its row back."""
    with lab.db.connect() as conn:
        if job_id is not None:
            row = conn.execute("SELECT id FROM trained_models WHERE job_id = %s",
                               (job_id,)).fetchone()
            if row is not None:
                conn.execute("UPDATE trained_models SET status = 'training', error = NULL,"
                             " finished_at = NULL WHERE id = %s", (row["id"],))
                return row["id"]
        return conn.execute(
            "INSERT INTO trained_models (name, job_id, status, base_model, base_model_id, method,"
            " config, dataset_id, dataset, corpus_id, corpus_version, trainable_params,"
            " total_params, device, dtype, guard) VALUES (%s, %s, 'training', %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name, job_id, base_model, base_model_id, method, Jsonb(config), dataset["id"],
             Jsonb(dataset), dataset["corpus_id"], dataset.get("corpus_version"), trainable_params,
             total_params, device, dtype, Jsonb(guard))).fetchone()["id"]


def finish_run(lab, model_id: int, status: str, *, result: dict | None = None,
               artifact_id: str | None = None, artifact_format: str | None = None,
               error: str | None = None) -> None:
    """Record how a run ended (``ready``, ``failed`` or ``cancelled``) with its curves."""
    result = result or {}
    lab.db.execute(
        "UPDATE trained_models SET status = %s, artifact_id = COALESCE(%s, artifact_id),"
        " artifact_format = COALESCE(%s, artifact_format), steps = COALESCE(%s, steps),"
        " duration_s = COALESCE(%s, duration_s), train_loss = COALESCE(%s, train_loss),"
        " val_loss = COALESCE(%s, val_loss), error = %s, finished_at = now() WHERE id = %s",
        (status, artifact_id, artifact_format, result.get("steps"), result.get("seconds"),
         Jsonb(result["train_loss"]) if "train_loss" in result else None,
         Jsonb(result["val_loss"]) if "val_loss" in result else None, error, model_id))


def get_model(lab, model_id: int) -> TrainedModel:
    """One registered model (NotFound if it was deleted)."""
    row = lab.db.fetchone(f"SELECT {_COLUMNS} FROM trained_models WHERE id = %s", (model_id,))
    if row is None:
        raise NotFound(f"Trained model {model_id} does not exist (it may have been deleted).")
    return TrainedModel(**row)


def list_models(lab, *, status: str | None = None) -> list[TrainedModel]:
    """Registered models and runs, newest first (optionally only those with ``status``)."""
    where, params = ("WHERE status = %s", (status,)) if status else ("", ())
    return [TrainedModel(**r) for r in lab.db.fetchall(
        f"SELECT {_COLUMNS} FROM trained_models {where} ORDER BY created_at DESC, id DESC", params)]


def _store(lab) -> ArtifactStore:
    return ArtifactStore(lab.db, lab.settings.artifact_dir or None)


def zip_folder(folder: Path) -> bytes:
    """A ZIP of ``folder`` without compression (weights do not compress; storing is fast)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def save_model_artifact(lab, model_id: int, model, tokenizer, method: str) -> tuple[str, str]:
    """Save a trained model in its method's format into the artifact store; returns
    ``(artifact_id, format)``. ``model`` is the trained model (a PeftModel for adapters)."""
    tm = get_model(lab, model_id)
    with tempfile.TemporaryDirectory(prefix="lab-model-") as tmp:
        folder = Path(tmp)
        if method == "adapter":
            fmt = "peft-adapter"
            model.save_pretrained(folder)
        elif method == "full":
            fmt = "safetensors-full"
            model.save_pretrained(folder)
            tokenizer.save_pretrained(folder)
        else:
            from safetensors.torch import save_file

            fmt = "safetensors-partial"
            save_file({n: p.detach().contiguous().cpu().clone()
                       for n, p in model.named_parameters() if p.requires_grad},
                      str(folder / PARTIAL_FILE))
        (folder / LINEAGE_FILE).write_text(json.dumps({**tm.lineage(), "format": fmt},
                                                      indent=1, default=str))
        data = zip_folder(folder)
    art = _store(lab).put_bytes(ARTIFACT_KIND, f"{tm.name}.zip", data,
                                {"format": "zip-folder", "model_format": fmt, "model_id": model_id})
    return art, fmt


def delete_model(lab, model_id: int) -> None:
    """Delete a registered model, its weights and its cached unpacked copy."""
    tm = get_model(lab, model_id)
    lab.db.execute("DELETE FROM trained_models WHERE id = %s", (model_id,))
    if tm.artifact_id:
        _store(lab).delete(tm.artifact_id)
    shutil.rmtree(_cache_dir(lab, tm), ignore_errors=True)


def download_zip(lab, model_id: int, *, merged: bool = False) -> bytes:
    """The model as a ZIP: the stored folder, or for a partial model with ``merged=True`` a
    complete transformers folder (base weights with the trained ones applied)."""
    tm = _ready(lab, model_id)
    if merged and tm.artifact_format == "safetensors-partial":
        model, tokenizer = load_for_inference(lab, model_id)
        with tempfile.TemporaryDirectory(prefix="lab-merged-") as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (Path(tmp) / LINEAGE_FILE).write_text(json.dumps(tm.lineage(), indent=1, default=str))
            return zip_folder(Path(tmp))
    return _store(lab).get_bytes(tm.artifact_id)


def _ready(lab, model_id: int) -> TrainedModel:
    tm = get_model(lab, model_id)
    if tm.status != "ready" or not tm.artifact_id:
        raise ModelUnavailable(f"Model {tm.name} has no weights to use (its run is {tm.status}).",
                               hint="Use a model whose run finished, or resume this run.")
    return tm


def _cache_dir(lab, tm: TrainedModel) -> Path:
    return lab.settings.models_path / "finetuned" / f"{tm.artifact_id}"


def model_folder(lab, model_id: int) -> Path:
    """The model's stored folder, unpacked once into the models cache."""
    tm = _ready(lab, model_id)
    target = _cache_dir(lab, tm)
    if (target / LINEAGE_FILE).is_file():
        return target
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    _store(lab).get_folder(tm.artifact_id, tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def load_for_inference(lab, model_id: int, *, device: str | None = None, dtype=None):
    """``(model, tokenizer)`` of a registered model, ready to generate (eval mode).

    Adapters are loaded over their base with ``PeftModel.from_pretrained`` and merged into it
    (answers are the same, decoding is faster); partial models get their trained weights applied
    over the base. Raises ModelUnavailable when the base model here is not the one it was
    trained on.
    """
    from backend.models import hardware
    from backend.models.registry import load_causal_lm, record_id
    from backend.models.specs import parse_spec

    tm = _ready(lab, model_id)
    folder = model_folder(lab, model_id)
    device = device or hardware.pick_device(lab.settings)
    dtype = dtype or hardware.pick_dtype(lab.settings, device)
    if tm.artifact_format == "safetensors-full":
        return load_causal_lm(str(folder), lab.settings, dtype=dtype, device=device)
    here = record_id(parse_spec(tm.base_model), lab.settings)
    if here != tm.base_model_id:
        raise ModelUnavailable(
            f"Model {tm.name} was trained on {tm.base_model_id}, but {tm.base_model} is "
            f"{here} on this machine.", hint="Install the base model it was trained on.")
    model, tokenizer = load_causal_lm(tm.base_model, lab.settings, dtype=dtype, device=device)
    if tm.artifact_format == "peft-adapter":
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    else:
        from safetensors.torch import load_file

        weights = load_file(str(folder / PARTIAL_FILE), device=device)
        missing = set(weights) - {n for n, _ in model.named_parameters()}
        if missing:
            raise ModelUnavailable(f"Model {tm.name}'s weights do not fit its base model "
                                   f"({len(missing)} unknown tensors).")
        model.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=False)
    return model.eval(), tokenizer


def generator_for(lab, model_id: int):
    """A ``LocalGenerator`` answering with a registered model (built on each call: cache it in
    the caller, e.g. the evaluation runner or a page's ``st.cache_resource``)."""
    from backend.models.llm import LocalGenerator

    tm = _ready(lab, model_id)
    model, tokenizer = load_for_inference(lab, model_id)
    generator = LocalGenerator(model, tokenizer, name=f"finetuned:{tm.id}",
                               model_id=f"finetuned:{tm.id}:{tm.name}", device=str(model.device))
    generator.warm_up()
    return generator
