"""The training loop: our own, so progress, cancellation, checkpoints and resume are ours to control.

Per optimiser step it reports (every ``log_every`` steps) the loss, learning rate, real (unpadded)
tokens per second and time left; measures the validation loss every ``eval_every`` steps; saves a
checkpoint every ``checkpoint_every`` steps, keeping the last ``keep``. A checkpoint holds only what
trains (the LoRA matrices, or the unfrozen weights), the optimiser and scheduler, the data position
and the loss history, so a resumed run continues at the saved step with the same batches and the
same curve. Cancelling (``JobCancelled``) or a worker shutting down saves a checkpoint first, then
lets the exception go on. Running out of memory ends the run with advice on what to shrink.

Memory: the loss computes the vocabulary-sized logits only where tokens are scored
(:func:`causal_lm_loss`; on question-answer pairs most positions are prompt), and freed memory is
handed back to the system after each step (:func:`release_freed_memory`), so batches of changing
shapes do not leave the process's memory creeping up step after step.
"""

from __future__ import annotations

import json
import logging
import math
import resource
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from backend.errors import LabError
from backend.finetune.batches import Encoded, collate, epoch_batches
from backend.finetune.config import FinetuneConfig
from backend.messages import msg

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.json"
#: exceptions that mean "stop now, resume later" (not failures): a checkpoint is saved first
_STOPS = ("JobCancelled", "WorkerStopping", "KeyboardInterrupt")
WEIGHTS_FILE = "trainable.safetensors"
OPTIMIZER_FILE = "optimizer.pt"


class TrainingFailed(LabError):
    """Training could not go on (out of memory, a loss that became NaN, ...)."""

    code = "training"


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


@dataclass
class Hooks:
    """How the loop talks to the outside: ``progress(step, total, message, metrics)``,
    ``check_cancelled()`` (raises to stop) and ``checkpoint_saved(state)`` (a JSON resume point)."""

    progress: Callable[[int, int, str, dict], None] = _noop
    check_cancelled: Callable[[], None] = _noop
    checkpoint_saved: Callable[[dict], None] = _noop


@dataclass
class TrainResult:
    steps: int
    total_steps: int
    train_loss: list = field(default_factory=list)   # [[step, loss], ...]
    val_loss: list = field(default_factory=list)     # [[step, loss], ...]
    seconds: float = 0.0                               # training time over all attempts
    tokens: int = 0                                    # real (unpadded) tokens seen
    resumed_from: int | None = None
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def steps_per_epoch(n_examples: int, cfg: FinetuneConfig) -> int:
    """Optimiser steps in one epoch of ``n_examples``."""
    return math.ceil(math.ceil(n_examples / cfg.batch_size) / cfg.grad_accum)


def total_steps(n_examples: int, cfg: FinetuneConfig) -> int:
    """Optimiser steps of the whole run (``max_steps`` caps it)."""
    n = steps_per_epoch(n_examples, cfg) * cfg.epochs
    return min(n, cfg.max_steps) if cfg.max_steps else n


#: model types whose logits are exactly ``lm_head(decoder(...))`` (no soft-capping or scaling)
_PLAIN_HEAD = {"llama", "mistral", "qwen2", "qwen3"}


def causal_lm_loss(model, batch: dict):
    """The model's causal-LM loss on ``batch`` (mean cross-entropy over tokens whose label is
    not -100, each predicted from the tokens before it): the value ``model(**batch).loss`` gives,
    with the logits computed only at the scored positions. Models not known to have a plain
    output head fall back to ``model(**batch).loss``."""
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if getattr(getattr(base, "config", None), "model_type", None) not in _PLAIN_HEAD or head is None:
        return model(**batch).loss
    hidden = base.get_decoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                use_cache=False).last_hidden_state
    labels = batch["labels"][:, 1:]
    scored = labels != -100
    logits = head(hidden[:, :-1][scored]).float()
    return torch.nn.functional.cross_entropy(logits, labels[scored])


_LIBC: list = []


def release_freed_memory() -> None:
    """Hand memory freed by torch back to the system (glibc ``malloc_trim``; a no-op elsewhere)."""
    if not _LIBC:
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC.append(libc if hasattr(libc, "malloc_trim") else None)
        except OSError:
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0].malloc_trim(0)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Trainer:
    def __init__(self, model, tokenizer, cfg: FinetuneConfig, train: list[Encoded],
                 val: list[Encoded], *, device: str = "cpu", autocast_bf16: bool = False,
                 checkpoint_dir: Path | None = None, keep: int = 2, hooks: Hooks | None = None):
        if not train:
            raise TrainingFailed("There are no training examples left to learn from.",
                                 hint="Check the dataset, or raise max_length.")
        self.model, self.tokenizer, self.cfg = model, tokenizer, cfg
        self.train_set, self.val_set = train, val
        self.device, self.autocast_bf16 = device, autocast_bf16
        self.checkpoint_dir, self.keep = checkpoint_dir, keep
        self.hooks = hooks or Hooks()
        self.params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.total = total_steps(len(train), cfg)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        import torch

        self.optimizer = torch.optim.AdamW([p for _, p in self.params], lr=cfg.learning_rate,
                                           weight_decay=cfg.weight_decay)
        warmup = int(round(cfg.warmup_ratio * self.total))

        def schedule(step: int) -> float:  # linear warm-up, then linear decay to 0
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.0, (self.total - step) / max(1, self.total - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.result = TrainResult(steps=0, total_steps=self.total)
        self._epoch, self._next_batch = 0, 0
        self._last_checkpoint_step = -1

    # --- the loop --------------------------------------------------------------------------------
    def run(self, resume: Path | None = None) -> TrainResult:
        """Train to the end (or ``max_steps``), from ``resume`` (a checkpoint folder) if given."""
        if resume is not None:
            self._load_checkpoint(resume)
        try:
            self._loop()
        except BaseException as exc:
            if type(exc).__name__ in _STOPS:  # asked to stop: keep what was learnt so far
                self._checkpoint_on_stop(exc)
            if _is_oom(exc):
                raise TrainingFailed(
                    "Training ran out of memory.",
                    hint=f"Lower the batch size (now {self.cfg.batch_size}) or max_length (now "
                         f"{self.cfg.max_length}); raise grad_accum to keep the effective batch; "
                         "or use the adapter method, which needs far less memory.") from exc
            raise
        self.result.peak_rss_mb = round(peak_rss_mb(), 1)
        return self.result

    def _loop(self) -> None:
        import torch

        cfg, res = self.cfg, self.result
        lengths = [len(e.input_ids) for e in self.train_set]
        self.model.train()
        window_tokens, window_start, window_losses = 0, time.perf_counter(), []
        started = time.perf_counter() - res.seconds
        while res.steps < self.total and self._epoch < cfg.epochs:
            batches = epoch_batches(lengths, cfg.batch_size, cfg.seed, self._epoch)
            micro, micro_losses = 0, []
            for b in range(self._next_batch, len(batches)):
                self.hooks.check_cancelled()
                batch = collate([self.train_set[i] for i in batches[b]], self.pad_id)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                with self._autocast():
                    loss = causal_lm_loss(self.model, batch)
                if not torch.isfinite(loss):
                    raise TrainingFailed(f"The loss became {loss.item()} at step {res.steps + 1}.",
                                         hint="Lower the learning rate, or use fp32 precision.")
                (loss / cfg.grad_accum).backward()
                micro += 1
                micro_losses.append(loss.item())
                window_tokens += int(batch["attention_mask"].sum())
                if micro % cfg.grad_accum and b != len(batches) - 1:
                    continue
                if cfg.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_([p for _, p in self.params], cfg.max_grad_norm)
                lr = self.scheduler.get_last_lr()[0]
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                del loss, batch
                release_freed_memory()
                res.steps += 1
                step_loss = sum(micro_losses) / len(micro_losses)
                micro_losses = []
                res.train_loss.append([res.steps, round(step_loss, 5)])
                window_losses.append(step_loss)
                self._next_batch = b + 1
                res.seconds = time.perf_counter() - started
                metrics: dict[str, Any] = {}
                if cfg.eval_every and res.steps % cfg.eval_every == 0 and res.steps < self.total:
                    metrics["val_loss"] = self._validate()
                if res.steps % cfg.log_every == 0 or res.steps == self.total or metrics:
                    now = time.perf_counter()
                    res.tokens += window_tokens
                    metrics.update(self._log_metrics(window_losses, lr, window_tokens,
                                                     now - window_start))
                    window_tokens, window_start, window_losses = 0, now, []
                    self.hooks.progress(res.steps, self.total, self._message(), metrics)
                if cfg.checkpoint_every and res.steps % cfg.checkpoint_every == 0 \
                        and res.steps < self.total:
                    self.save_checkpoint()
                if res.steps >= self.total:
                    break
            else:
                self._epoch, self._next_batch = self._epoch + 1, 0
                continue
            break
        res.tokens += window_tokens
        res.seconds = time.perf_counter() - started
        if self.val_set:
            loss = self._validate()
            self.hooks.progress(res.steps, self.total, msg("finetune.validated"),
                                {"val_loss": loss})
        self.model.eval()

    def _log_metrics(self, losses: list[float], lr: float, tokens: int, seconds: float) -> dict:
        res = self.result
        per_step = res.seconds / max(1, res.steps)
        return {"loss": round(sum(losses) / len(losses), 5) if losses else None,
                "lr": lr, "epoch": round(self._epoch + self._next_batch / max(1, self._batches()), 3),
                "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
                "eta_s": round(per_step * (self.total - res.steps), 1)}

    def _batches(self) -> int:
        return math.ceil(len(self.train_set) / self.cfg.batch_size)

    def _message(self) -> str:
        return msg("finetune.step", step=self.result.steps, steps=self.total, epoch=self._epoch + 1,
                   epochs=self.cfg.epochs)

    def _autocast(self):
        import torch

        if not self.autocast_bf16:
            return nullcontext()
        return torch.autocast(device_type="cuda" if self.device.startswith("cuda") else "cpu",
                              dtype=torch.bfloat16)

    def _validate(self) -> float:
        """Mean loss per scored token over the validation examples."""
        import torch

        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for start in range(0, len(self.val_set), self.cfg.batch_size):
                items = self.val_set[start:start + self.cfg.batch_size]
                batch = {k: v.to(self.device) for k, v in collate(items, self.pad_id).items()}
                with self._autocast():
                    loss = causal_lm_loss(self.model, batch).item()
                # the model averages over the batch's scored tokens (shifted by one): re-weight
                n = int((batch["labels"][:, 1:] != -100).sum())
                total, count = total + loss * n, count + n
        self.model.train()
        val = round(total / max(1, count), 5)
        self.result.val_loss.append([self.result.steps, val])
        return val

    # --- checkpoints -------------------------------------------------------------------------------
    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (atomically), prune old ones, report it."""
        if self.checkpoint_dir is None or self.result.steps == self._last_checkpoint_step:
            return None
        import torch
        from safetensors.torch import save_file

        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        final = self.checkpoint_dir / f"step-{self.result.steps:07d}"
        tmp = self.checkpoint_dir / f".tmp-{final.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file({n: p.detach().contiguous().clone() for n, p in self.params},
                  str(tmp / WEIGHTS_FILE))
        torch.save({"optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "rng": torch.get_rng_state()}, tmp / OPTIMIZER_FILE)
        state = {"step": self.result.steps, "epoch": self._epoch, "next_batch": self._next_batch,
                 "result": self.result.as_dict(), "config": self.cfg.as_dict()}
        (tmp / STATE_FILE).write_text(json.dumps(state))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        self._last_checkpoint_step = self.result.steps
        for old in sorted(self.checkpoint_dir.glob("step-*"))[:-self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        self.hooks.checkpoint_saved({"checkpoint": str(final), "step": self.result.steps})
        return final

    def _checkpoint_on_stop(self, exc: BaseException) -> None:
        try:
            if self.save_checkpoint():
                log.info("saved a checkpoint at step %s before stopping (%s)", self.result.steps,
                         type(exc).__name__)
        except Exception:  # noqa: BLE001 - the original reason to stop matters more
            log.exception("could not save a checkpoint while stopping")

    def _load_checkpoint(self, folder: Path) -> None:
        import torch
        from safetensors.torch import load_file

        state = json.loads((folder / STATE_FILE).read_text())
        weights = load_file(str(folder / WEIGHTS_FILE), device=str(self.device))
        names = {n for n, _ in self.params}
        if set(weights) != names:
            raise TrainingFailed(f"The checkpoint in {folder} does not match this run's trainable "
                                 "weights, so it cannot be resumed.",
                                 hint="Start the fine-tune again as a new run.")
        with torch.no_grad():
            for n, p in self.params:
                p.copy_(weights[n])
        extra = torch.load(folder / OPTIMIZER_FILE, map_location=self.device, weights_only=False)
        self.optimizer.load_state_dict(extra["optimizer"])
        self.scheduler.load_state_dict(extra["scheduler"])
        torch.set_rng_state(extra["rng"])
        saved = state["result"]
        self.result = TrainResult(**{**saved, "total_steps": self.total,
                                     "resumed_from": state["step"]})
        self._epoch, self._next_batch = state["epoch"], state["next_batch"]
        self._last_checkpoint_step = state["step"]


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint in ``folder`` (None if there is none)."""
    found = sorted(p for p in folder.glob("step-*") if (p / STATE_FILE).is_file()) \
        if folder.is_dir() else []
    return found[-1] if found else None


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    return name == "OutOfMemoryError" or (isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text))
