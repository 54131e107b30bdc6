"""The ``finetune`` job: load the base model, train it on a stored dataset, register the result.

Pages call :func:`submit_finetune`, which checks everything it can before a worker is involved
(the configuration, the held-out leak check, the sensitive-data guard, the model spec) and
enqueues. The worker runs :func:`finetune_job`. A run's checkpoints live in a folder named by a
run key kept in the job's resume state; when a later attempt of the same job starts (the worker
died, or a user resumed a cancelled run) it continues from the newest checkpoint. torch and
transformers are imported inside functions: pages import this module to enqueue.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from backend.errors import InputError, JobCancelled
from backend.finetune.config import FinetuneConfig
from backend.jobs.registry import handler
from backend.messages import TEXTS, msg

log = logging.getLogger(__name__)

KIND = "finetune"


def checkpoint_root(settings) -> Path:
    """Where runs keep checkpoints: the shared artifact folder when one is set (so a worker on
    another machine can resume), else the local data folder."""
    base = Path(settings.artifact_dir).expanduser() if settings.artifact_dir else settings.data_path
    return base / "checkpoints"


def precision_plan(cfg: FinetuneConfig, settings, device: str):
    """``(weights dtype, bf16 autocast?)``: bf16 only where the hardware computes it natively
    (or when asked); adapters keep bf16 base weights (they never change), full and partial keep
    fp32 master weights and compute in bf16 under autocast."""
    import torch

    from backend.models.hardware import bf16_supported

    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and settings.dtype != "fp32"
                                       and bf16_supported(device))
    if not bf16:
        return torch.float32, False
    return (torch.bfloat16, False) if cfg.method == "adapter" else (torch.float32, True)


def prepare_examples(lab, params: dict) -> tuple[Any, list[dict], dict]:
    """The dataset, the examples to train on (after the leak check and the guard) and the guard
    record. Raises InputError for a leak or unacknowledged sensitive data."""
    from backend.finetune.datasets import dataset_examples, dataset_sources, get_dataset
    from backend.finetune.guard import apply_guard
    from backend.finetune.overlap import find_leaks, refuse_if_leaking
    from backend.finetune.questions import held_out_questions

    ds = get_dataset(lab, int(params["dataset_id"]))
    examples = dataset_examples(lab, ds.id)
    refuse_if_leaking(find_leaks(held_out_questions(lab, ds.corpus_id), examples))
    examples, guard = apply_guard(examples, dataset_sources(lab, ds.id),
                                  params.get("sensitive", "refuse"))
    return ds, examples, guard


def enable_checkpointing(model) -> None:
    """Recompute each layer's activations in the backward pass instead of keeping them
    (non-reentrant checkpoints: gradients reach LoRA matrices inside frozen layers without the
    inputs needing gradients). Models that do not support it train without it."""
    if getattr(model, "supports_gradient_checkpointing", True):
        try:
            if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x's name
                model.activation_checkpointing_enable(
                    activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                model.gradient_checkpointing_enable(
                    gradient_checkpointing_kwargs={"use_reentrant": False})
        except (AttributeError, ValueError, NotImplementedError) as exc:
            log.info("gradient checkpointing unavailable for this model: %s", exc)


def submit_finetune(lab, dataset_id: int, config: FinetuneConfig | dict, *,
                    base_model: str | None = None, name: str | None = None,
                    sensitive: str = "refuse", queue: str | None = None) -> int:
    """Validate and enqueue a fine-tune; returns the job id. ``sensitive`` is the guard decision
    (refuse, redact or acknowledge). ``queue`` routes it (e.g. ``gpu``)."""
    from backend.jobs.service import enqueue
    from backend.models.specs import parse_spec

    cfg = config if isinstance(config, FinetuneConfig) else FinetuneConfig.from_dict(config)
    spec = base_model or lab.settings.llm_model
    if not parse_spec(spec).is_local:
        raise InputError(f"{spec} runs on an endpoint; only a local model can be fine-tuned.",
                         hint="Pick the bundled model, a Hugging Face id or a folder.")
    params = {"dataset_id": int(dataset_id), "config": cfg.as_dict(), "base_model": spec,
              "name": name, "sensitive": sensitive}
    ds, _, _ = prepare_examples(lab, params)
    method = msg(f"method.{cfg.method}") if f"method.{cfg.method}" in TEXTS else cfg.method
    title = msg("title.finetune", method=method, dataset=ds.name)
    return enqueue(lab, KIND, params, title=title, queue=queue)


class _Progress:
    """Bridges trainer hooks to the job context (or to nothing, when run without a job)."""

    def __init__(self, ctx, state: dict):
        self.ctx, self.state = ctx, state

    def progress(self, step, total, message, metrics):
        if self.ctx is not None:
            self.ctx.progress(step, total, message=message, unit="steps", metrics=metrics)

    def check(self):
        if self.ctx is not None:
            self.ctx.check_cancelled()

    def saved(self, info: dict):
        self.state.update(info)
        if self.ctx is not None:
            self.ctx.save_state(dict(self.state))

    def note(self, message: str):
        if self.ctx is not None:
            self.ctx.progress(self.state.get("step", 0), None, message=message)


@handler(KIND)
def finetune_job(ctx, params: dict) -> dict:
    """The worker's entry point: see :func:`run_finetune`."""
    return run_finetune(ctx.lab, params, ctx=ctx)


def run_finetune(lab, params: dict, *, ctx=None) -> dict:
    """Train as ``params`` say (dataset_id, config, base_model, name, sensitive) and register the
    model. With ``ctx`` (a JobContext) progress, cancellation and resume go through the job."""
    import torch

    from backend.finetune.batches import encode_all, split_validation
    from backend.finetune.methods import get_method, trainable_parameters
    from backend.finetune.registry import finish_run, save_model_artifact, start_run
    from backend.finetune.trainer import Hooks, Trainer, latest_checkpoint
    from backend.models.hardware import dtype_name, pick_device
    from backend.models.registry import load_causal_lm, record_id
    from backend.models.specs import parse_spec

    began = time.perf_counter()
    settings = lab.settings
    cfg = FinetuneConfig.from_dict(params["config"])
    spec = params.get("base_model") or settings.llm_model
    state = ctx.load_state() if ctx is not None else {}
    bridge = _Progress(ctx, state)
    if "run_key" not in state:
        bridge.saved({"run_key": uuid.uuid4().hex})
    ds, examples, guard = prepare_examples(lab, params)

    bridge.note("Loading the base model")
    device = pick_device(settings)
    dtype, autocast = precision_plan(cfg, settings, device)
    model, tokenizer = load_causal_lm(spec, settings, dtype=dtype, device=device)
    counts = trainable_parameters(model, cfg)
    model = get_method(cfg.method).prepare(model, cfg)
    if cfg.gradient_checkpointing:
        enable_checkpointing(model)

    bridge.note("Preparing the examples")
    encoded, dropped = encode_all(examples, tokenizer, cfg.max_length)
    train_idx, val_idx = split_validation(len(encoded), cfg.val_fraction, cfg.seed)
    train, val = [encoded[i] for i in train_idx], [encoded[i] for i in val_idx]
    name = (params.get("name") or "").strip() or f"{cfg.method} \u00b7 {ds.name}"
    model_id = start_run(
        lab, job_id=ctx.job_id if ctx is not None else None, name=name, base_model=spec,
        base_model_id=record_id(parse_spec(spec), settings), method=cfg.method,
        config=cfg.as_dict(), dataset={"id": ds.id, "name": ds.name, "builder": ds.builder,
                                       "params": ds.params, "n_examples": ds.n_examples,
                                       "corpus_id": ds.corpus_id, "corpus_version": ds.corpus_version,
                                       "dropped_too_long": dropped, "validation_examples": len(val),
                                       "truncated": sum(e.truncated for e in encoded)},
        trainable_params=counts.trainable, total_params=counts.total, device=device,
        dtype=dtype_name(dtype) + ("+bf16 autocast" if autocast else ""), guard=guard)

    folder = checkpoint_root(settings) / f"run-{state['run_key']}"
    resume = None
    if (ctx is not None and ctx.attempt > 1) or state.get("checkpoint"):
        saved = Path(state["checkpoint"]) if state.get("checkpoint") else None
        resume = saved if saved is not None and saved.is_dir() else latest_checkpoint(folder)
    trainer = None
    try:
        trainer = Trainer(model, tokenizer, cfg, train, val, device=device, autocast_bf16=autocast,
                          checkpoint_dir=folder, keep=settings.checkpoints_keep,
                          hooks=Hooks(bridge.progress, bridge.check, bridge.saved))
        result = trainer.run(resume=resume)
        bridge.progress(result.steps, result.total_steps, msg("finetune.saving"), {})
        artifact, fmt = save_model_artifact(lab, model_id, trainer.model, tokenizer, cfg.method)
    except JobCancelled:
        finish_run(lab, model_id, "cancelled", result=trainer.result.as_dict() if trainer else None,
                   error="Cancelled; the last checkpoint is kept, so the run can be resumed.")
        raise
    except Exception as exc:
        finish_run(lab, model_id, "failed", result=trainer.result.as_dict() if trainer else None,
                   error=getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}")
        raise
    finish_run(lab, model_id, "ready", result=result.as_dict(), artifact_id=artifact,
               artifact_format=fmt)
    shutil.rmtree(folder, ignore_errors=True)  # the model is saved: its checkpoints are spent
    torch_threads = torch.get_num_threads()
    last_val = result.val_loss[-1][1] if result.val_loss else None
    return {"model_id": model_id, "steps": result.steps, "resumed_from": result.resumed_from,
            "first_loss": result.train_loss[0][1] if result.train_loss else None,
            "final_loss": result.train_loss[-1][1] if result.train_loss else None,
            "final_val_loss": last_val, "train_seconds": round(result.seconds, 2),
            "job_seconds": round(time.perf_counter() - began, 2),
            "tokens_per_s": round(result.tokens / result.seconds, 1) if result.seconds else None,
            "trainable_params": counts.trainable, "total_params": counts.total,
            "peak_rss_mb": result.peak_rss_mb, "format": fmt, "torch_threads": torch_threads}
