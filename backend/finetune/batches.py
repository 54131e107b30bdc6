"""From stored training examples to padded batches: tokenising, length grouping, dynamic padding.

A chat example ({"messages": [...]}) is rendered with the model's chat template, the same template
the lab answers with, and only the assistant's answer is scored (prompt tokens get label -100): the
model learns to answer, not to repeat questions. A text example ({"text": ...}) is scored on every
token (continued pretraining). Batches hold examples of similar length (sorted inside seeded
"mega-batches", as Hugging Face's length-grouped sampler does) and are padded only to their own
longest example: on short question-answer pairs most of a 256-token padded batch would be padding.
The order is a pure function of (seed, epoch), so a resumed run rebuilds it and skips what it did.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

IGNORE = -100
#: mega-batch = this many batches, sorted by length inside (keeps some randomness across lengths)
MEGA_BATCH = 16


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False  # cut at max_length: the end of its answer or text was lost

    @property
    def scored(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def encode(example: dict, tokenizer, max_length: int) -> Encoded | None:
    """Token ids and labels of one example, cut at ``max_length`` tokens; None when nothing in it
    would be scored (an answer cut off entirely), so it cannot be learnt from."""
    if "messages" in example and example["messages"]:
        messages = example["messages"]
        if messages[-1]["role"] != "assistant":
            raise ValueError("a chat example must end with the assistant's answer")
        prompt = _chat_ids(tokenizer, messages[:-1], add_generation_prompt=True)
        full = _chat_ids(tokenizer, messages, add_generation_prompt=False)
        if full[:len(prompt)] != prompt:  # a template that re-renders the prompt differently
            prompt_len = _common_prefix(prompt, full)
        else:
            prompt_len = len(prompt)
        ids, cut = full[:max_length], len(full) > max_length
        labels = [IGNORE] * min(prompt_len, len(ids)) + ids[prompt_len:]
    else:
        ids = tokenizer(example["text"], add_special_tokens=True)["input_ids"]
        if tokenizer.eos_token_id is not None and (not ids or ids[-1] != tokenizer.eos_token_id):
            ids = ids + [tokenizer.eos_token_id]  # the model learns where a passage ends
        ids, cut = ids[:max_length], len(ids) > max_length
        labels = list(ids)
    enc = Encoded(list(ids), labels[:len(ids)], cut)
    # a causal LM scores token t from tokens < t: the first token alone teaches nothing
    return enc if enc.scored >= (2 if "text" in example else 1) else None


def _chat_ids(tokenizer, messages: list[dict], *, add_generation_prompt: bool) -> list[int]:
    if tokenizer.chat_template:
        out = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                            tokenize=True, return_dict=True)
        return list(out["input_ids"])
    # models without a chat template: the same plain layout the lab prompts them with
    text = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)
    if add_generation_prompt:
        text += "\nAssistant:"
    elif tokenizer.eos_token:
        text += tokenizer.eos_token
    return tokenizer(text, add_special_tokens=True)["input_ids"]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def encode_all(examples: list[dict], tokenizer, max_length: int) -> tuple[list[Encoded], int]:
    """Encode every example; returns the usable ones (see ``Encoded.truncated`` for those cut
    short) and how many were dropped (nothing left to score)."""
    out = [encode(e, tokenizer, max_length) for e in examples]
    kept = [e for e in out if e is not None]
    return kept, len(out) - len(kept)


def split_validation(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, validation): a seeded share ``fraction`` of ``n`` held back for the
    validation loss, at least one when there are 5 or more examples and fraction > 0."""
    order = list(range(n))
    random.Random(f"val:{seed}").shuffle(order)
    k = int(round(n * fraction))
    if fraction > 0 and n >= 5:
        k = max(k, 1)
    k = min(k, max(n - 1, 0))
    return sorted(order[k:]), sorted(order[:k])


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of example indices for one epoch: shuffled, grouped by length, reproducible."""
    rng = random.Random(f"batches:{seed}:{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    size = batch_size * MEGA_BATCH
    batches: list[list[int]] = []
    for start in range(0, len(order), size):
        mega = sorted(order[start:start + size], key=lambda i: -lengths[i])
        batches.extend(mega[i:i + batch_size] for i in range(0, len(mega), batch_size))
    rng.shuffle(batches)
    return batches


def collate(items: list[Encoded], pad_id: int):
    """Tensors for one batch, right-padded to its longest example (labels -100 on padding)."""
    import torch

    width = max(len(e.input_ids) for e in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, e in enumerate(items):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
