"""The judge model as Ragas sees it: a ``BaseRagasLLM`` over the lab's own models.

Ragas' LLM-judged metrics (legacy classes, as ``ragas.evaluate`` takes them) call
``llm.generate(prompt, n, temperature)`` and parse JSON out of the reply. ``LabJudgeLLM`` answers
those calls with either

- an OpenAI-compatible endpoint (``settings.judge_api_base``): one request per completion, the
  server's ``finish_reason`` says whether the reply was cut off; or
- a local model (any spec ``backend.models`` loads, e.g. ``bundled:smollm2-135m-instruct``):
  concurrent requests are gathered into batches, which is several times faster on a CPU than
  one prompt at a time.

A reply cut off at the token limit is reported as not finished, so Ragas raises
``LLMDidNotFinishException`` at once instead of asking the judge to repair half a JSON document.
The replies of the current sample are kept (``recent_replies``) so a failure can quote them.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from langchain_core.outputs import Generation, LLMResult
from ragas.llms.base import BaseRagasLLM

#: replies of the sample being scored, per asyncio task (see ``judge.judge_samples``)
REPLIES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("judge_replies",
                                                                          default=None)
#: Ragas asks for temperature 0.01 when it wants one answer: treat anything this low as greedy,
#: so a judge's verdicts are reproducible.
GREEDY_BELOW = 0.05


@dataclass
class Completion:
    text: str
    finished: bool
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class Usage:
    """What the judge cost so far: calls, tokens and seconds spent waiting for it."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, completions: list[Completion], seconds: float) -> None:
        with self.lock:
            self.calls += len(completions)
            self.tokens_in += sum(c.tokens_in for c in completions)
            self.tokens_out += sum(c.tokens_out for c in completions)
            self.seconds += seconds

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
                "seconds": round(self.seconds, 3)}


class EndpointBackend:
    """Completions from an OpenAI-compatible chat endpoint (errors become the lab's own)."""

    def __init__(self, model: str, base_url: str, api_key: str, max_new_tokens: int) -> None:
        from backend.models.endpoint import make_client

        self.model, self.base_url, self.max_new_tokens = model, base_url.strip(), max_new_tokens
        self.client = make_client(base_url, api_key, what="judge model", setting="LAB_JUDGE_API_BASE")

    def complete(self, text: str, n: int, temperature: float) -> list[Completion]:
        from backend.models.endpoint import endpoint_errors, estimate_tokens

        out = []
        for i in range(n):  # many servers ignore the `n` parameter: ask n times
            with endpoint_errors(self.base_url, self.model, "LAB_JUDGE_API_KEY"):
                response = self.client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": text}],
                    max_tokens=self.max_new_tokens,
                    temperature=0.0 if temperature < GREEDY_BELOW else temperature, seed=i)
            choice = response.choices[0] if response.choices else None
            reply = (choice.message.content or "") if choice else ""
            usage = response.usage
            out.append(Completion(
                reply, finished=(choice is not None and choice.finish_reason != "length"),
                tokens_in=usage.prompt_tokens if usage else estimate_tokens(text),
                tokens_out=usage.completion_tokens if usage else estimate_tokens(reply)))
        return out


class LocalBackend:
    """Completions from a local generator; concurrent calls share batched ``generate`` calls."""

    #: how long the batcher waits for more requests to join a batch (cheap next to a generation)
    GATHER_S = 0.05
    IDLE_S = 2.0

    def __init__(self, generator: Any, max_new_tokens: int, max_batch: int = 4) -> None:
        self.generator, self.max_new_tokens, self.max_batch = generator, max_new_tokens, max_batch
        self._pending: list[tuple[str, float, Future]] = []
        self._cv = threading.Condition()
        self._worker: threading.Thread | None = None
        self.batches: list[int] = []  # sizes of the batches generated (for tests and benchmarks)

    def complete(self, text: str, n: int, temperature: float) -> list[Completion]:
        temperature = 0.0 if temperature < GREEDY_BELOW else temperature
        futures = [self._submit(text, temperature) for _ in range(n)]
        return [f.result() for f in futures]

    def _submit(self, text: str, temperature: float) -> Future:
        future: Future = Future()
        with self._cv:
            self._pending.append((text, temperature, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._loop, name="judge-batcher", daemon=True)
                self._worker.start()
            self._cv.notify_all()
        return future

    def _loop(self) -> None:
        while True:
            with self._cv:
                if not self._pending:
                    self._cv.wait(self.IDLE_S)
                    if not self._pending:
                        self._worker = None
                        return
                deadline = time.monotonic() + self.GATHER_S
                while len(self._pending) < self.max_batch and time.monotonic() < deadline:
                    self._cv.wait(max(0.0, deadline - time.monotonic()))
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            self._run(batch)

    def _run(self, batch: list[tuple[str, float, Future]]) -> None:
        from backend.models.generation import GenerationConfig

        for temperature in dict.fromkeys(t for _, t, _ in batch):
            group = [(text, f) for text, t, f in batch if t == temperature]
            config = GenerationConfig(max_new_tokens=self.max_new_tokens, temperature=temperature)
            try:
                generations = self.generator.generate(
                    [[{"role": "user", "content": text}] for text, _ in group], config,
                    batch_size=len(group))
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for _, f in group:
                    f.set_exception(exc)
                continue
            self.batches.append(len(group))
            for (_, f), g in zip(group, generations):
                # the local generator counts the stop token: a reply that used every allowed
                # token without stopping was cut off
                f.set_result(Completion(g.text, g.tokens_out < self.max_new_tokens, g.tokens_in,
                                        g.tokens_out))


class LabJudgeLLM(BaseRagasLLM):
    """A Ragas LLM answering through ``backend`` (``complete(text, n, temperature)``)."""

    def __init__(self, backend: Any, *, name: str, run_config: Any = None,
                 executor: Callable[..., Any] | None = None) -> None:
        super().__init__()
        if run_config is not None:
            self.set_run_config(run_config)
        self.backend, self.name, self.usage = backend, name, Usage()
        self._executor = executor  # a thread pool sized to the judge's concurrency, or the default

    def _result(self, completions: list[Completion]) -> LLMResult:
        replies = REPLIES.get()
        if replies is not None:
            replies.extend(c.text for c in completions)
        return LLMResult(generations=[[Generation(
            text=c.text, generation_info={"finish_reason": "stop" if c.finished else "length"})
            for c in completions]])

    def _complete(self, prompt: Any, n: int, temperature: float | None) -> list[Completion]:
        text = prompt.to_string()
        began = time.perf_counter()
        completions = self.backend.complete(text, n, self.get_temperature(n)
                                            if temperature is None else temperature)
        self.usage.add(completions, time.perf_counter() - began)
        return completions

    def generate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01,
                      stop: list[str] | None = None, callbacks: Any = None) -> LLMResult:
        return self._result(self._complete(prompt, n, temperature))

    async def agenerate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01,
                             stop: list[str] | None = None, callbacks: Any = None) -> LLMResult:
        loop = asyncio.get_running_loop()
        completions = await loop.run_in_executor(self._executor, self._complete, prompt, n,
                                                 temperature)
        return self._result(completions)

    def is_finished(self, response: LLMResult) -> bool:
        return all(g.generation_info.get("finish_reason") != "length"
                   for gens in response.generations for g in gens)

    def __repr__(self) -> str:
        return f"LabJudgeLLM({self.name})"
