"""Text generation: one small interface over a local transformers model or an OpenAI-compatible
endpoint, so strategies, evaluation and the Ask page never care which one answers. The interface
(``GenerationConfig``, ``Generation``, ``Generator``) lives in ``generation``, the endpoint
implementation in ``endpoint``; all are importable from here.

Get a generator from :func:`backend.models.registry.get_generator`; do not build one by hand.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Iterator

from backend.errors import InputError
from backend.models.endpoint import OpenAICompatGenerator
from backend.models.generation import Conversation, Generation, GenerationConfig, Generator
from backend.models.prefill import prefilled_inputs

log = logging.getLogger(__name__)


class LocalGenerator:
    """A transformers causal LM running in this process, prompted through its chat template."""

    def __init__(self, model, tokenizer, *, name: str, model_id: str, device: str = "cpu") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.model_id = model_id
        self.device = device
        # Batched decoding needs the prompts flush right, next to the tokens generated after them.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        eos = model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self._stop_ids = {i for i in [*eos, tokenizer.eos_token_id] if i is not None}
        self._max_positions = getattr(model.config, "max_position_embeddings", None)
        # One generation at a time per model: the seed is process-global and two threads decoding
        # on 2 cores only slow each other down.
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Two tiny generations (one prompt, then a batch of two), so that the first real answer
        does not pay for the kernels' first-use set-up: in the browser journey the first answer
        after loading took 11.5 s for 15 tokens, the next one 1.6 s. Failures are only logged."""
        hello = [{"role": "user", "content": "Hello"}]
        config = GenerationConfig(max_new_tokens=2)
        try:
            self.generate([hello], config, batch_size=1)
            self.generate([hello, [{"role": "user", "content": "Hello there, how are you?"}]],
                          config, batch_size=2)
        except Exception:  # noqa: BLE001 - a warm-up must never stop a model from loading
            log.warning("warm-up of %s failed", self.name, exc_info=True)

    @property
    def dtype(self):
        return self.model.dtype

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this model's tokenizer, without special tokens."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def generate(self, conversations: list[Conversation], config: GenerationConfig, *,
                 batch_size: int = 8) -> list[Generation]:
        """Answer each conversation; greedy when temperature is 0, otherwise seeded sampling."""
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, not {batch_size}.")
        results: list[Generation] = []
        with self._lock, _seeded(config.seed):
            for start in range(0, len(conversations), batch_size):
                results.extend(self._generate_batch(conversations[start:start + batch_size], config))
        return results

    def _generate_batch(self, batch: list[Conversation], config: GenerationConfig) -> list[Generation]:
        import torch

        rows = self._token_rows(batch, config)
        started = time.perf_counter()
        with torch.inference_mode():
            if len(rows) > 1 and min(map(len, rows)) >= 2:
                # each prompt read unpadded, then the batch decoded together (backend.models.prefill)
                inputs = prefilled_inputs(self.model, rows, self.tokenizer.pad_token_id,
                                          config.max_new_tokens)
            else:
                inputs = self._padded(rows)
            output = self.model.generate(**inputs, **self._generation_kwargs(config))
        latency = time.perf_counter() - started
        prompt_len = inputs["input_ids"].shape[1]
        generations = []
        for row, prompt in zip(output[:, prompt_len:].tolist(), rows):
            stop = next((i for i, token in enumerate(row) if token in self._stop_ids), None)
            answer = row if stop is None else row[:stop]
            text = self.tokenizer.decode(answer, skip_special_tokens=True)
            n_out = len(row) if stop is None else stop + 1  # the stop token was generated too
            generations.append(Generation(text, len(prompt), n_out, latency))
        return generations

    def stream(self, conversation: Conversation, config: GenerationConfig) -> Iterator[str]:
        """Yield text pieces while a background thread generates; stops early if abandoned."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer
        import torch

        encoded = self._padded(self._token_rows([conversation], config))
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        abandoned = threading.Event()
        errors: list[BaseException] = []

        class _StopWhenAbandoned(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), abandoned.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        def run() -> None:
            try:
                with self._lock, _seeded(config.seed), torch.inference_mode():
                    self.model.generate(**encoded, **self._generation_kwargs(config), streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([_StopWhenAbandoned()]))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer below
                errors.append(exc)
                streamer.end()  # unblock the consumer

        worker = threading.Thread(target=run, name=f"stream-{self.name}", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            abandoned.set()
            worker.join()
        if errors:
            raise errors[0]

    def _token_rows(self, batch: list[Conversation], config: GenerationConfig) -> list[list[int]]:
        """Each conversation's prompt as token ids (unpadded), checked against the model's window."""
        if self.tokenizer.chat_template:
            rows = self.tokenizer.apply_chat_template([_checked(c) for c in batch],
                                                      add_generation_prompt=True, tokenize=True,
                                                      return_dict=True)["input_ids"]
        else:
            rows = self.tokenizer([_plain_prompt(c) for c in batch])["input_ids"]
        longest = max(map(len, rows))
        if self._max_positions and longest + config.max_new_tokens > self._max_positions:
            raise InputError(f"The prompt is {longest} tokens; with {config.max_new_tokens} new tokens "
                             f"it exceeds the model's {self._max_positions}-token window.",
                             hint="Shorten the context (fewer or smaller retrieved chunks).")
        return [list(r) for r in rows]

    def _padded(self, rows: list[list[int]]) -> dict[str, Any]:
        """Left-padded ``input_ids`` and ``attention_mask`` for ``rows``."""
        import torch

        width = max(map(len, rows))
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=self.device)
        return {"input_ids": ids, "attention_mask": mask}

    def _generation_kwargs(self, config: GenerationConfig) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": config.max_new_tokens,
                                  "pad_token_id": self.tokenizer.pad_token_id}
        if config.greedy:
            # Clear sampling defaults a model's generation_config may carry, to keep it quiet.
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p, top_k=None)
        return kwargs


def _checked(conversation: Conversation) -> Conversation:
    if not conversation or not all(isinstance(m, dict) and "role" in m and "content" in m
                                   for m in conversation):
        raise InputError("A conversation must be a non-empty list of {'role', 'content'} messages.")
    return conversation


def _plain_prompt(conversation: Conversation) -> str:
    """A prompt for models without a chat template (base models)."""
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in _checked(conversation)]
    return "\n".join(lines) + "\nAssistant:"


@contextlib.contextmanager
def _seeded(seed: int):
    """Seed torch for one call and restore the previous random state afterwards."""
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


__all__ = ["Conversation", "GenerationConfig", "Generation", "Generator", "LocalGenerator",
           "OpenAICompatGenerator"]
