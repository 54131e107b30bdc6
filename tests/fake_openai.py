"""A small OpenAI-compatible server on 127.0.0.1 for tests (chat completions, streaming,
embeddings), with pluggable replies.

``FakeOpenAI(chat=...)`` runs in a thread; ``chat(body) -> Reply`` decides each chat completion.
``judge_reply`` answers Ragas' judge prompts with well-formed verdicts computed by a fixed,
documented rule (see ``supported``), so a test can work out the expected scores by hand;
``broken_reply`` answers with prose (not JSON) and ``cut_off_reply`` stops at the token limit.

    with FakeOpenAI(chat=judge_reply) as server:
        settings = config.build({"LAB_JUDGE_API_BASE": server.url, "LAB_JUDGE_MODEL": "judge"})
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    content: str
    finish_reason: str = "stop"
    status: int = 200


# --- the judge's rules ----------------------------------------------------------------------------
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[a-záéíóúñü]{4,}")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after . ! ? followed by a space)."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text or "") if s.strip()]


def supported(statement: str, context: str) -> int:
    """1 when ``context`` backs ``statement``: every number of the statement is in the context,
    or (a statement without numbers) at least half of its words of 4+ letters are."""
    numbers = _NUMBER.findall(statement)
    if numbers:
        found = set(_NUMBER.findall(context))
        return int(all(n in found for n in numbers))
    words = set(_WORD.findall(statement.lower()))
    if not words:
        return 0
    return int(len(words & set(_WORD.findall(context.lower()))) * 2 >= len(words))


def noncommittal(text: str) -> int:
    return int(bool(re.search(r"don't know|do not know|no lo sé|not sure", text or "", re.I)))


def prompt_parts(prompt: str) -> tuple[str, dict]:
    """(the output model's title, the input data) of a Ragas PydanticPrompt."""
    schema = prompt.split("JSON Schema:\n", 1)[1]
    title = json.JSONDecoder().raw_decode(schema)[0].get("title", "")
    data = prompt[prompt.rindex("\ninput: ") + len("\ninput: "):]
    data = data[:data.rindex("Output:")].strip()
    return title, json.loads(data)


def judge_verdicts(prompt: str) -> dict:
    """The JSON a careful judge would return for a Ragas prompt, by the rules above."""
    title, data = prompt_parts(prompt)
    if title == "StatementGeneratorOutput":
        return {"statements": sentences(data["answer"])}
    if title == "ClaimDecompositionOutput":
        return {"claims": sentences(data["response"])}
    if title == "NLIStatementOutput":
        return {"statements": [{"statement": s, "reason": "checked against the context",
                                "verdict": supported(s, data["context"])}
                               for s in data["statements"]]}
    if title == "ResponseRelevanceOutput":
        return {"question": data["response"], "noncommittal": noncommittal(data["response"])}
    if title == "Verification":
        return {"reason": "checked", "verdict": supported(data["answer"], data["context"])}
    if title == "ContextRecallClassifications":
        return {"classifications": [{"statement": s, "reason": "checked",
                                     "attributed": supported(s, data["context"])}
                                    for s in sentences(data["answer"])]}
    raise ValueError(f"the fake judge does not know the prompt {title!r}")


def judge_reply(body: dict) -> Reply:
    prompt = body["messages"][-1]["content"]
    if prompt.strip() == "Reply with OK.":
        return Reply("OK")
    return Reply("```json\n" + json.dumps(judge_verdicts(prompt)) + "\n```")


def broken_reply(body: dict) -> Reply:
    return Reply("I think the answer looks mostly right to me.")


def cut_off_reply(body: dict) -> Reply:
    return Reply('{"statements": ["The tent', finish_reason="length")


def echo_reply(body: dict) -> Reply:
    return Reply("echo: " + body["messages"][-1]["content"])


# --- the server -----------------------------------------------------------------------------------
class FakeOpenAI:
    """The server; ``url`` is its ``/v1`` base, ``requests`` every JSON body it received."""

    def __init__(self, chat: Callable[[dict], Reply] = echo_reply, *, api_key: str | None = None):
        self.chat, self.api_key, self.requests = chat, api_key, []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def chat_requests(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def __enter__(self) -> "FakeOpenAI":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner._lock:
                    owner.requests.append({"path": self.path, **body})
                if owner.api_key and self.headers.get("Authorization") != f"Bearer {owner.api_key}":
                    return self._send(401, {"error": {"message": "bad key", "type": "auth"}})
                if self.path.endswith("/embeddings"):
                    data = [{"object": "embedding", "index": i,
                             "embedding": [float(len(t)), 1.0, 0.0]}
                            for i, t in enumerate(body["input"])]
                    return self._send(200, {"object": "list", "model": body["model"], "data": data,
                                            "usage": {"prompt_tokens": 2, "total_tokens": 2}})
                try:
                    reply = owner.chat(body)
                except Exception as exc:  # noqa: BLE001 - a server error, as a real server gives
                    return self._send(500, {"error": {"message": str(exc), "type": "server"}})
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": reply.content}})
                return self._send(200, {
                    "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant",
                                                         "content": reply.content},
                                 "finish_reason": reply.finish_reason}],
                    "usage": {"prompt_tokens": len(body["messages"][-1]["content"]) // 4,
                              "completion_tokens": max(1, len(reply.content) // 4),
                              "total_tokens": 0}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
