"""Before launch: how many parameters train, how much memory the run needs, how long an epoch takes.

Two ways, and the estimate says which it used (``basis``):
- ``formula`` (instant, no weights loaded: the model is built on torch's ``meta`` device): memory
  from the parts a run holds (weights, gradients and AdamW state of what trains, activations and
  the vocabulary-sized logits of one batch, the Python/torch runtime); time from the real token
  count of this dataset under dynamic padding and a throughput per method measured on this lab's
  reference machine (2 CPU cores with AVX512-BF16, one torch thread, SmolLM2-135M), scaled by the
  model's size. On other hardware it is a rough guide; measure there.
- ``measured``: loads the model and times ``steps`` real optimiser steps on this dataset's own
  batches (the first, warm-up step not counted), then scales by the epoch's tokens.

Lengths are counted in real tokens of the model's tokenizer (chat template included), so long
examples (RAFT: a question with several chunks) weigh what they cost. Examples longer than
``max_length`` are reported (``truncated``, ``dropped``: cut before their answer, so not trained on,
``longest_tokens``) with a warning saying which ``max_length`` would keep them whole.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from backend.finetune.config import FinetuneConfig

#: padded tokens per second per 100M parameters for a full forward and backward pass, and AdamW
#: seconds per step per 100M trained parameters, measured on the reference machine with other
#: work sharing its cores (SmolLM2-135M, batches of 4, one torch thread): idle, expect up to 2x.
TOKENS_PER_S_PER_100M = 250.0
OPTIMIZER_S_PER_100M = 0.45
RUNTIME_MB = 450.0  # python, torch, transformers, the tokenizer


@dataclass
class Estimate:
    trainable_params: int
    total_params: int
    summary: str
    examples: int
    tokens_per_epoch: int
    steps_per_epoch: int
    total_steps: int
    memory_mb: float
    seconds_per_epoch: float
    seconds_total: float
    basis: str  # "formula" or "measured"
    truncated: int = 0        # examples cut at max_length (still trained on, without their end)
    dropped: int = 0          # examples cut before their answer: nothing left to train on
    longest_tokens: int = 0   # the longest example before cutting
    warnings: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _skeleton(spec: str, settings):
    """The model's structure on the meta device (no weights read) and its tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from backend.models.registry import resolve_model_path

    path = resolve_model_path(spec, settings)
    config = AutoConfig.from_pretrained(path, local_files_only=True)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


def memory_mb(model, cfg: FinetuneConfig, trainable: int, total: int, weight_bytes: int,
              batch_tokens: int, max_len: int) -> float:
    """Peak memory of a run, in MB (see the module docstring for what is counted)."""
    c = model.config
    hidden, layers = c.hidden_size, c.num_hidden_layers
    heads, vocab = c.num_attention_heads, c.vocab_size
    weights = total * weight_bytes
    optimiser = trainable * (4 + 8)  # fp32 gradients + AdamW's two moments
    if cfg.method == "full":
        active_layers = layers
    elif cfg.method == "partial":
        active_layers = min(cfg.top_n_layers, layers)  # nothing below the trained layers is kept
    else:
        active_layers = layers  # LoRA sits in every layer: the backward pass crosses all of them
    per_token_layer = 34 * hidden + 5 * heads * max_len  # activation bytes (Korthikanti et al.)
    if cfg.gradient_checkpointing:  # each layer's input (bf16), and one layer recomputed at a time
        activations = batch_tokens * (active_layers * hidden + per_token_layer) * 2
    else:
        activations = batch_tokens * active_layers * per_token_layer * 2
    logits = batch_tokens * vocab * 4 * 3  # logits, log-softmax and their gradient, fp32
    return round((weights + optimiser + activations + logits) / 2**20 + RUNTIME_MB, 1)


def relative_cost(model, cfg: FinetuneConfig) -> float:
    """Compute per token relative to full fine-tuning. Partial: the forward pass plus a backward
    pass through the top layers only (forward ~ 1/3 of a training step). Adapter: measured on CPU
    to cost about as much per token as full training (LoRA's extra matmuls and casts offset the
    frozen weights' missing gradients); it saves the optimiser and the memory instead. Gradient
    checkpointing adds a forward pass through the layers the backward pass crosses."""
    share = 1.0
    if cfg.method == "partial":
        share = min(cfg.top_n_layers, model.config.num_hidden_layers) / model.config.num_hidden_layers
    cost = (1 + 2 * share) / 3
    # gradient checkpointing runs the forward pass again through the layers the backward pass
    # crosses (measured for LoRA on the reference machine: 1.34x the time of a step without it)
    return cost + share / 3 if cfg.gradient_checkpointing else cost


def estimate_run(lab, dataset_id: int, cfg: FinetuneConfig, *, base_model: str | None = None,
                 measure: bool = False, steps: int = 3) -> Estimate:
    """The estimate for fine-tuning ``base_model`` on a stored dataset with ``cfg``."""
    import torch

    from backend.finetune.batches import encode_all, epoch_batches, split_validation
    from backend.finetune.datasets import dataset_examples
    from backend.finetune.methods import trainable_parameters
    from backend.finetune.trainer import steps_per_epoch, total_steps
    from backend.models.hardware import pick_device

    spec = base_model or lab.settings.llm_model
    skeleton, tokenizer = _skeleton(spec, lab.settings)
    counts = trainable_parameters(skeleton, cfg)
    examples = dataset_examples(lab, dataset_id)
    encoded, dropped = encode_all(examples, tokenizer, cfg.max_length)
    whole = [len(e.input_ids) for e in encode_all(examples, tokenizer, 1 << 30)[0]]
    train_idx, _ = split_validation(len(encoded), cfg.val_fraction, cfg.seed)
    train = [encoded[i] for i in train_idx]
    lengths = [len(e.input_ids) for e in train]
    batches = epoch_batches(lengths, cfg.batch_size, cfg.seed, 0)
    tokens = sum(lengths)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    per_epoch, total = steps_per_epoch(len(train), cfg), total_steps(len(train), cfg)
    from backend.finetune.jobs import precision_plan

    dtype, _ = precision_plan(cfg, lab.settings, pick_device(lab.settings))
    weight_bytes = 2 if dtype == torch.bfloat16 else 4
    biggest = max((len(b) * max(lengths[i] for i in b) for b in batches), default=0)
    memory = memory_mb(skeleton, cfg, counts.trainable, counts.total, weight_bytes, biggest,
                       max(lengths, default=0))
    if measure:
        seconds_per_token, basis = _measure(lab, spec, cfg, train, batches, steps), "measured"
        epoch_s = seconds_per_token * padded
    else:
        epoch_s = padded * relative_cost(skeleton, cfg) * counts.total / 1e8 / \
            TOKENS_PER_S_PER_100M + per_epoch * OPTIMIZER_S_PER_100M * counts.trainable / 1e8
        basis = "formula"
    epochs = total / per_epoch if per_epoch else 0
    return Estimate(counts.trainable, counts.total, counts.summary, len(train), tokens, per_epoch,
                    total, memory, round(epoch_s, 1), round(epoch_s * epochs, 1), basis,
                    sum(e.truncated for e in encoded), dropped, max(whole, default=0),
                    length_warnings(whole, cfg.max_length, dropped))


def length_warnings(lengths: list[int], max_length: int, dropped: int) -> list[str]:
    """What the user should know about examples longer than ``max_length`` (empty when none)."""
    longer = sum(n > max_length for n in lengths)
    if not longer:
        return []
    whole = -(-max(lengths) // 64) * 64
    lost = f"; {dropped} of them lose their whole answer and are left out" if dropped else ""
    return [f"{longer} of {len(lengths)} examples are longer than max_length {max_length} tokens "
            f"(the longest has {max(lengths)}) and are cut{lost}. Raise max_length to {whole} to "
            "keep them whole: memory and time grow with it."]


def _measure(lab, spec: str, cfg: FinetuneConfig, train, batches, steps: int) -> float:
    """Seconds per padded token over ``steps`` real optimiser steps (forward, backward, AdamW)
    on this dataset's longest batches, after one warm-up step."""
    import torch

    from backend.finetune.batches import collate
    from backend.finetune.jobs import precision_plan
    from backend.finetune.methods import get_method
    from backend.models.hardware import pick_device
    from backend.models.registry import load_causal_lm

    device = pick_device(lab.settings)
    dtype, autocast = precision_plan(cfg, lab.settings, device)
    model, tokenizer = load_causal_lm(spec, lab.settings, dtype=dtype, device=device)
    model = get_method(cfg.method).prepare(model, cfg).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # the longest batches: a pessimistic, not an optimistic, sample
    chosen = sorted(batches, key=lambda b: -len(b) * max(len(train[i].input_ids) for i in b))
    chosen = (chosen * (steps + 1))[:steps + 1]
    seconds, tokens = 0.0, 0
    for n, indices in enumerate(chosen):
        batch = {k: v.to(device) for k, v in collate([train[i] for i in indices], pad).items()}
        started = time.perf_counter()
        ctx = torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu",
                             dtype=torch.bfloat16) if autocast else _null()
        with ctx:
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if n:  # the first step pays one-off costs (allocations, kernel selection)
            seconds += time.perf_counter() - started
            tokens += batch["input_ids"].numel()
    return seconds / max(1, tokens)


def _null():
    from contextlib import nullcontext

    return nullcontext()
