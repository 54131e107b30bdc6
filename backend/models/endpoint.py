"""Models behind an OpenAI-compatible HTTP endpoint (vLLM, Ollama, llama.cpp server, OpenAI).

The endpoint's own errors are translated into the lab's: unreachable -> ModelUnavailable, bad key
-> ConfigError, so a page shows what to fix instead of a stack trace.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from backend.errors import ConfigError, InputError, ModelUnavailable
from backend.models.generation import Conversation, Generation, GenerationConfig

# Endpoints report token counts; this is only used when one does not (and for count_tokens).
CHARS_PER_TOKEN = 4
TIMEOUT_S = 120.0


def make_client(base_url: str, api_key: str, *, what: str, setting: str):
    """An ``openai.OpenAI`` client for ``base_url``; ConfigError when no URL is set."""
    if not (base_url or "").strip():
        raise ConfigError(f"The {what} is an openai: model but no endpoint URL is set.",
                          hint=f"Set {setting} (e.g. http://localhost:11434/v1) on the Settings page.")
    import openai

    # Local servers accept any key, but the client insists on one.
    return openai.OpenAI(base_url=base_url.strip(), api_key=api_key or "none", timeout=TIMEOUT_S,
                         max_retries=1)


@contextlib.contextmanager
def endpoint_errors(base_url: str, model: str, setting_key: str):
    """Translate the openai client's exceptions into the lab's own, with a hint what to fix."""
    import openai

    try:
        yield
    except openai.APIConnectionError as exc:
        raise ModelUnavailable(f"Cannot reach the model endpoint at {base_url} ({exc}).",
                               hint="Check that the server is running and the URL is right.") from exc
    except openai.AuthenticationError as exc:
        raise ConfigError(f"The endpoint at {base_url} refused the API key.",
                          hint=f"Check {setting_key}.") from exc
    except openai.NotFoundError as exc:
        raise ModelUnavailable(f"The endpoint at {base_url} does not know the model {model!r}.",
                               hint="Check the model name (the part after openai:).") from exc
    except openai.BadRequestError as exc:
        raise InputError(f"The endpoint at {base_url} rejected the request: {exc.message}") from exc
    except openai.APIError as exc:
        raise ModelUnavailable(f"The model endpoint at {base_url} failed: {exc}.",
                               hint="Try again; if it persists, check the server's logs.") from exc


def estimate_tokens(text: str) -> int:
    """A rough token count (~4 characters a token for English) for endpoints that report none."""
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0


class OpenAICompatGenerator:
    """A chat model behind an OpenAI-compatible endpoint; ``generate`` sends up to ``batch_size``
    requests at once (the server batches them)."""

    def __init__(self, model: str, base_url: str, api_key: str = "") -> None:
        self.model = model
        self.base_url = base_url.strip()
        self.name = f"openai:{model}"
        self.model_id = f"openai:{model}@{self.base_url}"
        self.client = make_client(base_url, api_key, what="generation model", setting="LAB_LLM_API_BASE")

    def _errors(self):
        return endpoint_errors(self.base_url, self.model, "LAB_LLM_API_KEY")

    def _request(self, conversation: Conversation, config: GenerationConfig, **extra):
        return self.client.chat.completions.create(
            model=self.model, messages=conversation, max_tokens=config.max_new_tokens,
            temperature=config.temperature, top_p=config.top_p, seed=config.seed, **extra)

    def _one(self, conversation: Conversation, config: GenerationConfig) -> Generation:
        started = time.perf_counter()
        with self._errors():
            response = self._request(conversation, config)
        latency = time.perf_counter() - started
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage and usage.prompt_tokens is not None else \
            estimate_tokens(" ".join(str(m.get("content", "")) for m in conversation))
        tokens_out = usage.completion_tokens if usage and usage.completion_tokens is not None else \
            estimate_tokens(text)
        return Generation(text, tokens_in, tokens_out, latency)

    def generate(self, conversations: list[Conversation], config: GenerationConfig, *,
                 batch_size: int = 8) -> list[Generation]:
        """One Generation per conversation, in order; token counts as the endpoint reports them."""
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, not {batch_size}.")
        if not conversations:
            return []
        with ThreadPoolExecutor(max_workers=min(batch_size, len(conversations)),
                                thread_name_prefix="endpoint") as pool:
            return list(pool.map(lambda c: self._one(c, config), conversations))

    def stream(self, conversation: Conversation, config: GenerationConfig) -> Iterator[str]:
        """Text pieces from the endpoint's server-sent events."""
        with self._errors():
            events = self._request(conversation, config, stream=True)
            try:
                for event in events:
                    if event.choices and event.choices[0].delta and event.choices[0].delta.content:
                        yield event.choices[0].delta.content
            finally:
                events.close()

    def count_tokens(self, text: str) -> int:
        """An estimate: the endpoint's tokenizer is not available here."""
        return estimate_tokens(text)
