"""Batched generation from prompts read one by one (``backend.models.prefill``): on a tiny random
Llama in fp32, a batch of prompts of very different lengths decodes exactly the tokens each prompt
decodes alone, and the inputs it builds are left-padded as the attention mask says."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny():
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         pad_token_id=0, eos_token_id=1, bos_token_id=2)
    return LlamaForCausalLM(config).eval()


def _greedy(model, **inputs):
    import torch

    with torch.inference_mode():
        return model.generate(**inputs, max_new_tokens=12, do_sample=False, pad_token_id=0,
                              eos_token_id=None, min_new_tokens=12)


def test_prefilled_batch_decodes_what_each_prompt_decodes_alone(tiny):
    import torch

    from backend.models.prefill import prefilled_inputs

    rows = [list(range(3, 10)), list(range(10, 70)), [5, 6], list(range(20, 45))]
    alone = []
    for row in rows:
        ids = torch.tensor([row])
        alone.append(_greedy(tiny, input_ids=ids, attention_mask=torch.ones_like(ids))[0, len(row):])
    with torch.inference_mode():
        inputs = prefilled_inputs(tiny, rows, pad_id=0, max_new_tokens=12)
    width = inputs["input_ids"].shape[1]
    assert width == 60 and inputs["cache"].get_seq_length() == 59
    assert inputs["attention_mask"].sum(dim=1).tolist() == [len(r) for r in rows]
    assert inputs["input_ids"][2].tolist() == [0] * 58 + [5, 6]  # left padding
    batched = _greedy(tiny, **inputs)[:, width:]
    for i, tokens in enumerate(alone):
        assert batched[i].tolist() == tokens.tolist(), f"row {i} decoded differently in the batch"


def test_prompts_too_short_to_prefill_are_refused(tiny):
    from backend.models.prefill import prefilled_inputs

    with pytest.raises(ValueError):
        prefilled_inputs(tiny, [[5], [5, 6]], pad_id=0, max_new_tokens=4)
