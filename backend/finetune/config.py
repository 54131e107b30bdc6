"""The fine-tune configuration: one dataclass, a help text per field, validated on creation.

The Fine-tune page builds its form from :func:`describe` (STYLE habit 7), the job stores
:meth:`FinetuneConfig.as_dict` with the run, and :meth:`FinetuneConfig.from_dict` rebuilds it.
Learning rate 0 means "the usual rate for the method" (adapters tolerate rates ten times higher
than full fine-tuning, which forgets what the base knew at such rates).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from backend.errors import InputError

METHODS = ("full", "partial", "adapter")
PRECISIONS = ("auto", "bf16", "fp32")
#: learning rate used when the form leaves it at 0
DEFAULT_LR = {"full": 2e-5, "partial": 1e-4, "adapter": 5e-4}


def _f(default: Any, help: str, *, group: str, minimum: float | None = None,
       maximum: float | None = None, choices: tuple[str, ...] | None = None,
       methods: tuple[str, ...] = METHODS) -> Any:
    return field(default=default, metadata={"help": help, "group": group, "minimum": minimum,
                                            "maximum": maximum, "choices": choices,
                                            "methods": methods})


@dataclass(frozen=True)
class FinetuneConfig:
    """How a model is fine-tuned. Invalid values raise ``InputError`` naming the field."""

    method: str = _f(
        "adapter", "What trains. full: every weight of the model. partial: only the top decoder "
        "layers (and optionally the output head); the rest stays frozen. adapter: small new "
        "low-rank matrices (LoRA) beside a frozen model; the base weights never change.",
        group="method", choices=METHODS)
    top_n_layers: int = _f(
        4, "partial: how many of the top decoder layers train (with the final normalisation "
        "layer). SmolLM2-135M has 30.", group="method", minimum=1, maximum=1000,
        methods=("partial",))
    train_head: bool = _f(
        False, "partial: also train the output head. SmolLM2 ties its output head to its input "
        "embeddings (one shared matrix, 28M parameters): training the head changes the input "
        "embeddings too.", group="method", methods=("partial",))
    lora_r: int = _f(8, "adapter: rank of the LoRA matrices. Higher learns more, trains more "
                     "parameters.", group="method", minimum=1, maximum=1024, methods=("adapter",))
    lora_alpha: float = _f(16.0, "adapter: LoRA scaling (the update is multiplied by alpha / r). "
                           "Usually 2 x r.", group="method", minimum=0.001, maximum=10000,
                           methods=("adapter",))
    lora_dropout: float = _f(0.0, "adapter: dropout on the LoRA input during training. Off by "
                             "default: on a CPU it made each step about 20% slower (a dropped "
                             "copy of every layer input), and short runs of a few epochs hardly "
                             "overfit; try 0.05-0.1 for long runs on small data.",
                             group="method", minimum=0.0, maximum=0.9, methods=("adapter",))
    target_modules: tuple[str, ...] = _f(
        ("q_proj", "k_proj", "v_proj", "o_proj"),
        "adapter: the linear layers that get LoRA matrices, by name (attention: q_proj, k_proj, "
        "v_proj, o_proj; MLP: gate_proj, up_proj, down_proj).", group="method",
        methods=("adapter",))
    learning_rate: float = _f(
        0.0, "Step size of the optimiser (AdamW). 0: the usual rate for the method "
        "(full 2e-5, partial 1e-4, adapter 5e-4).", group="training", minimum=0.0, maximum=1.0)
    epochs: int = _f(2, "Passes over the training examples.", group="training", minimum=1,
                     maximum=1000)
    batch_size: int = _f(4, "Examples per step. Smaller uses less memory.", group="training",
                         minimum=1, maximum=4096)
    grad_accum: int = _f(1, "Steps whose gradients add up before the weights change (an "
                         "effective batch of batch size x this, in the memory of one batch).",
                         group="training", minimum=1, maximum=1024)
    max_length: int = _f(256, "Longest example, in tokens; longer ones are cut. Memory and time "
                         "grow with it.", group="training", minimum=8, maximum=32768)
    warmup_ratio: float = _f(0.05, "Share of the steps over which the learning rate rises from "
                             "0, then it falls linearly to 0.", group="training", minimum=0.0,
                             maximum=0.5)
    weight_decay: float = _f(0.0, "AdamW weight decay.", group="training", minimum=0.0,
                             maximum=1.0)
    max_grad_norm: float = _f(1.0, "Gradients are clipped to this norm (0: no clipping).",
                              group="training", minimum=0.0, maximum=1000)
    max_steps: int = _f(0, "Stop after this many optimiser steps (0: run every epoch).",
                        group="training", minimum=0, maximum=10_000_000)
    val_fraction: float = _f(0.1, "Share of the training examples held back to measure the "
                             "validation loss (at least one when there are 5 or more).",
                             group="monitoring", minimum=0.0, maximum=0.5)
    eval_every: int = _f(20, "Measure the validation loss every this many steps (0: only at "
                         "the end).", group="monitoring", minimum=0, maximum=1_000_000)
    log_every: int = _f(5, "Report loss, learning rate and speed every this many steps.",
                        group="monitoring", minimum=1, maximum=1_000_000)
    checkpoint_every: int = _f(
        50, "Save a checkpoint every this many steps (0: only when stopped), so a run whose "
        "worker dies resumes there.", group="monitoring", minimum=0, maximum=1_000_000)
    precision: str = _f(
        "auto", "Number format. auto: bfloat16 where the hardware computes it natively (adapter: "
        "bf16 base weights; full and partial: fp32 weights with bf16 arithmetic), else fp32.",
        group="training", choices=PRECISIONS)
    gradient_checkpointing: bool = _f(
        True, "Keep only each layer's input during the forward pass and recompute the rest in "
        "the backward pass: about half the memory for about a fifth more time (LoRA, batches of 4 "
        "x 170 tokens: 1.1 GB instead of 1.9 GB, 2.5 s instead of 1.9 s of CPU a step).",
        group="training")
    seed: int = _f(0, "Random seed (data order, validation split, LoRA initialisation).",
                   group="training", minimum=0, maximum=2**31 - 1)

    def __post_init__(self) -> None:
        if isinstance(self.target_modules, str):
            object.__setattr__(self, "target_modules", tuple(
                t.strip() for t in self.target_modules.split(",") if t.strip()))
        else:
            object.__setattr__(self, "target_modules", tuple(self.target_modules))
        for f in fields(self):
            _check(f, getattr(self, f.name))
            if f.type in (int, "int"):  # 2.0 from a form or JSON -> 2
                object.__setattr__(self, f.name, int(getattr(self, f.name)))
            elif f.type in (float, "float"):
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
        if self.method == "adapter" and not self.target_modules:
            raise InputError("target_modules is empty: name at least one layer for LoRA.",
                             hint="For example q_proj,v_proj.")
        if self.learning_rate == 0.0:
            object.__setattr__(self, "learning_rate", DEFAULT_LR[self.method])

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly values (target_modules as a list)."""
        out = asdict(self)
        out["target_modules"] = list(self.target_modules)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FinetuneConfig":
        """Rebuild from :meth:`as_dict` output or form values; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"Unknown fine-tune setting(s): {', '.join(unknown)}.")
        return cls(**values)

    def relevant(self) -> dict[str, Any]:
        """Only the fields that matter for this method (for lineage shown to users)."""
        return {f.name: v for f in fields(self) if self.method in f.metadata["methods"]
                for v in [self.as_dict()[f.name]]}


def _check(f, value: Any) -> None:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    meta = f.metadata
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"{f.name} must be true or false, not {value!r}.")
        return
    if kind in ("int", "float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "int" and ok and not float(value).is_integer():
            ok = False
        if not ok:
            raise InputError(f"{f.name} must be {'a whole number' if kind == 'int' else 'a number'}"
                             f", not {value!r}.", hint=meta["help"])
        if (meta["minimum"] is not None and value < meta["minimum"]) or (
                meta["maximum"] is not None and value > meta["maximum"]):
            raise InputError(f"{f.name} is {value}; it must be between {meta['minimum']} and "
                             f"{meta['maximum']}.", hint=meta["help"])
    if meta["choices"] and value not in meta["choices"]:
        raise InputError(f"{f.name} is {value!r}; it must be one of {', '.join(meta['choices'])}.",
                         hint=meta["help"])


def describe() -> list[dict[str, Any]]:
    """Every field with its default, type, help, group, limits and the methods it applies to."""
    out = []
    for f in fields(FinetuneConfig):
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        out.append({"name": f.name, "default": default, "type": kind, **f.metadata})
    return out
