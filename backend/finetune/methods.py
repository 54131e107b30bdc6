"""The three fine-tuning depths, each a small class registered by name (STYLE habit 9).

A method says what trains (:meth:`Method.describe`), counts it without touching the model
(:meth:`Method.count`), and prepares a model so that exactly that trains (:meth:`Method.prepare`):
every other weight has ``requires_grad=False`` and so stays bit-identical. Tests hold each method
to its claim by comparing ``count`` with the parameters that really require gradients after
``prepare`` and with the weights that changed after training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from backend.errors import InputError
from backend.finetune.config import FinetuneConfig, describe  # noqa: F401 - re-exported

if TYPE_CHECKING:
    import torch

_METHODS: dict[str, "Method"] = {}


def register_method(cls: type["Method"]) -> type["Method"]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    _METHODS[cls.name] = cls()
    return cls


def get_method(name: str) -> "Method":
    """The method called ``name``; InputError listing the known ones otherwise."""
    try:
        return _METHODS[name]
    except KeyError:
        raise InputError(f"There is no fine-tuning method {name!r}.",
                         hint=f"Pick one of {', '.join(sorted(_METHODS))}.") from None


@dataclass(frozen=True)
class TrainableCount:
    """How many parameters train, out of how many the (base) model has."""

    trainable: int
    total: int
    summary: str

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {"trainable": self.trainable, "total": self.total, "percent": round(self.percent, 4),
                "summary": self.summary}


def total_parameters(model) -> int:
    """Parameters of ``model``, tied matrices counted once."""
    return sum(p.numel() for p in model.parameters())


def embeddings_tied(model) -> bool:
    """True when the output head and the input embeddings are one shared matrix."""
    head, inputs = model.get_output_embeddings(), model.get_input_embeddings()
    return head is not None and inputs is not None and head.weight is inputs.weight


def decoder_layers(model) -> list:
    """The model's stack of decoder layers, bottom first (Llama-style ``model.model.layers``, or
    the longest ``ModuleList`` holding ``num_hidden_layers`` blocks)."""
    import torch.nn as nn

    inner = getattr(model, "model", None)
    if inner is not None and isinstance(getattr(inner, "layers", None), nn.ModuleList):
        return list(inner.layers)
    wanted = getattr(model.config, "num_hidden_layers", None)
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) == wanted]
    if not lists:
        raise InputError("This model's decoder layers could not be found, so partial "
                         "fine-tuning cannot pick the top ones.", hint="Use full or adapter.")
    return list(lists[0])


def final_norm(model):
    """The normalisation after the last decoder layer (None if the model has none we know)."""
    inner = getattr(model, "model", None)
    return getattr(inner, "norm", None) if inner is not None else None


def trainable_parameters(model, cfg: FinetuneConfig) -> TrainableCount:
    """What ``cfg`` would train on the (unprepared) ``model``: counted, not applied."""
    method = get_method(cfg.method)
    return TrainableCount(method.count(model, cfg), total_parameters(model),
                          method.describe(model, cfg))


class Method:
    """One fine-tuning depth."""

    name = ""

    def count(self, model, cfg: FinetuneConfig) -> int:
        """Parameters that would train on the unprepared model."""
        raise NotImplementedError

    def describe(self, model, cfg: FinetuneConfig) -> str:
        """One sentence a user reads in the form: what really trains."""
        raise NotImplementedError

    def prepare(self, model, cfg: FinetuneConfig):
        """Return the model to train, with exactly :meth:`count` parameters requiring grad."""
        raise NotImplementedError


def _freeze_all_but(model, keep: Callable[["torch.nn.Parameter"], bool]) -> None:
    for p in model.parameters():
        p.requires_grad_(keep(p))


@register_method
class FullMethod(Method):
    name = "full"

    def count(self, model, cfg):
        return total_parameters(model)

    def describe(self, model, cfg):
        return f"Every weight of the model trains ({total_parameters(model):,} parameters)."

    def prepare(self, model, cfg):
        _freeze_all_but(model, lambda p: True)
        return model


@register_method
class PartialMethod(Method):
    name = "partial"

    def _params(self, model, cfg) -> list:
        layers = decoder_layers(model)
        if cfg.top_n_layers > len(layers):
            raise InputError(f"top_n_layers is {cfg.top_n_layers} but the model has only "
                             f"{len(layers)} decoder layers.",
                             hint=f"Pick at most {len(layers)}, or use the full method.")
        modules = layers[len(layers) - cfg.top_n_layers:]
        norm = final_norm(model)
        if norm is not None:
            modules.append(norm)
        if cfg.train_head:
            modules.append(model.get_output_embeddings())
        seen: dict[int, object] = {}
        for module in modules:
            for p in module.parameters():
                seen.setdefault(id(p), p)  # a tied matrix is one parameter, counted once
        return list(seen.values())

    def count(self, model, cfg):
        return sum(p.numel() for p in self._params(model, cfg))

    def describe(self, model, cfg):
        n = len(decoder_layers(model))
        text = (f"The top {cfg.top_n_layers} of {n} decoder layers and the final normalisation "
                f"train ({self.count(model, cfg):,} parameters); the rest stays frozen.")
        if cfg.train_head:
            head = model.get_output_embeddings().weight.numel()
            text += (" The output head trains too" + (
                f": it is tied to the input embeddings (one shared {head:,}-parameter matrix), "
                "so the input embeddings change as well." if embeddings_tied(model) else "."))
        elif embeddings_tied(model):
            text += " The output head (tied to the input embeddings) stays frozen."
        return text

    def prepare(self, model, cfg):
        keep = {id(p) for p in self._params(model, cfg)}
        _freeze_all_but(model, lambda p: id(p) in keep)
        return model


@register_method
class AdapterMethod(Method):
    name = "adapter"

    def _targets(self, model, cfg) -> list:
        import torch.nn as nn

        found, names = [], set()
        for full_name, module in model.named_modules():
            if isinstance(module, nn.Linear):
                leaf = full_name.rsplit(".", 1)[-1]
                names.add(leaf)
                if leaf in cfg.target_modules:  # PEFT matches a plain name on the last component
                    found.append(module)
        missing = [t for t in cfg.target_modules if t not in names]
        if missing:
            raise InputError(f"The model has no linear layer named {', '.join(missing)}.",
                             hint=f"Its linear layers are named: {', '.join(sorted(names))}.")
        return found

    def count(self, model, cfg):
        return sum(cfg.lora_r * (m.in_features + m.out_features) for m in self._targets(model, cfg))

    def describe(self, model, cfg):
        n = len(self._targets(model, cfg))
        return (f"New LoRA matrices of rank {cfg.lora_r} on {n} linear layers "
                f"({', '.join(cfg.target_modules)}) train ({self.count(model, cfg):,} parameters); "
                "every base weight stays frozen.")

    def prepare(self, model, cfg):
        from peft import LoraConfig, get_peft_model

        self._targets(model, cfg)  # a clear error for a wrong name before PEFT's own
        lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                          target_modules=list(cfg.target_modules), bias="none",
                          task_type="CAUSAL_LM")
        import torch

        torch.manual_seed(cfg.seed)  # LoRA's A matrices start random: make that reproducible
        return get_peft_model(model, lora)
