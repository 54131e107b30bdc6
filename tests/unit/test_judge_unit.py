"""The judge's logic without a database or a model: which judge the settings describe, which
samples a judged metric applies to, failures in words, the Ragas LLM wrapper (finished or cut off,
replies kept per sample), the local batcher, and Ragas' judged metrics over a scripted in-process
judge (values, NaN and errors become Scores, never NaN)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from backend import config
from backend.errors import ConfigError, InputError, ModelUnavailable
from backend.evaluate.judge import (JudgeConfig, failure_reason, judge_config, judge_samples,
                                    not_applicable_reason)
from backend.evaluate.judge_llm import Completion, LabJudgeLLM, LocalBackend
from backend.evaluate.metrics import Sample, judge_keys
from backend.models.generation import Generation
from tests.fake_openai import judge_verdicts


def _settings(**env) -> config.Settings:
    return config.build({"LAB_DATA_DIR": "/tmp/unused", **env})


# --- configuration ---------------------------------------------------------------------------------
def test_judge_config_from_settings():
    assert judge_config(_settings()) is None
    endpoint = judge_config(_settings(LAB_JUDGE_API_BASE="http://127.0.0.1:9/v1",
                                      LAB_JUDGE_MODEL="gpt-4o-mini", LAB_JUDGE_API_KEY="sekret"))
    assert endpoint.spec == "openai:gpt-4o-mini" and endpoint.is_endpoint
    assert endpoint.record == "openai:gpt-4o-mini@http://127.0.0.1:9/v1" and "sekret" not in repr(endpoint)
    local = judge_config(_settings(LAB_JUDGE_MODEL="bundled:smollm2-135m-instruct"), max_new_tokens=64)
    assert not local.is_endpoint and local.record == "bundled:smollm2-135m-instruct"
    assert local.max_new_tokens == 64
    with pytest.raises(ConfigError, match="no judge model"):
        judge_config(_settings(LAB_JUDGE_API_BASE="http://127.0.0.1:9/v1"))
    with pytest.raises(ConfigError, match="LAB_JUDGE_API_BASE"):
        judge_config(_settings(LAB_JUDGE_MODEL="openai:gpt-4o-mini"))
    with pytest.raises(ConfigError):
        judge_config(_settings(LAB_JUDGE_MODEL="bundled:nope"))


def test_which_samples_a_judged_metric_applies_to():
    rag = Sample("q?", "a", reference="r", contexts=["c"])
    closed = Sample("q?", "a", reference="r", contexts=None)
    assert all(not_applicable_reason(k, rag) is None for k in judge_keys())
    assert {k: not_applicable_reason(k, closed) for k in judge_keys()} == {
        "faithfulness": "no context: closed-book strategy", "response_relevancy": None,
        "llm_context_precision": "no context: closed-book strategy",
        "llm_context_recall": "no context: closed-book strategy", "factual_correctness": None}
    unanswerable = Sample("q?", "a", reference="r", contexts=["c"], unanswerable=True)
    assert {not_applicable_reason(k, unanswerable) for k in judge_keys()} == {"unanswerable question"}
    no_reference = Sample("q?", "a", reference="", contexts=["c"])
    assert not_applicable_reason("factual_correctness", no_reference) == "no reference answer"
    assert not_applicable_reason("faithfulness", Sample("q?", "a", contexts=[])) == \
        "nothing was retrieved"


def test_failures_in_words():
    from ragas.exceptions import LLMDidNotFinishException, RagasOutputParserException

    cfg = JudgeConfig("bundled:smollm2-135m-instruct", max_new_tokens=48, timeout_s=30)
    assert failure_reason(LLMDidNotFinishException(), cfg) == \
        "the judge's reply was cut off at 48 tokens"
    reason = failure_reason(RagasOutputParserException(), cfg, ["first", "Sure!  Here\nit is " * 20])
    assert reason.startswith("the judge's reply is not JSON in the shape the metric asks for")
    assert "last reply: 'Sure! Here it is" in reason and reason.endswith("…)")
    assert failure_reason(asyncio.TimeoutError(), cfg) == "the judge took longer than 30 s"
    assert "Cannot reach" in failure_reason(ModelUnavailable("Cannot reach the judge."), cfg)
    assert failure_reason(ValueError("boom"), cfg) == "judge error: ValueError: boom"


# --- the Ragas LLM wrapper and the local batcher --------------------------------------------------
class Scripted:
    """A judge backend that answers each prompt with ``reply(prompt)``; counts its calls."""

    def __init__(self, reply, finished: bool = True):
        self.reply, self.finished, self.calls = reply, finished, 0
        self.lock = threading.Lock()

    def complete(self, text: str, n: int, temperature: float) -> list[Completion]:
        with self.lock:
            self.calls += n
        return [Completion(self.reply(text), self.finished, 10, 5) for _ in range(n)]


def test_wrapper_reports_cut_off_replies_and_usage():
    from langchain_core.prompt_values import StringPromptValue

    llm = LabJudgeLLM(Scripted(lambda text: "{}", finished=False), name="scripted")
    result = llm.generate_text(StringPromptValue(text="hi"), n=2)
    assert [g.text for g in result.generations[0]] == ["{}", "{}"]
    assert not llm.is_finished(result)
    assert llm.usage.as_dict()["calls"] == 2 and llm.usage.tokens_in == 20
    done = LabJudgeLLM(Scripted(lambda text: "{}"), name="scripted")
    assert done.is_finished(done.generate_text(StringPromptValue(text="hi")))


class FakeGenerator:
    """Records the batches it is asked to generate (a Generator's interface, no model)."""

    def __init__(self, tokens_out: int = 3):
        self.batches, self.tokens_out = [], tokens_out

    def generate(self, conversations, config, *, batch_size=8):
        time.sleep(0.05)
        self.batches.append((len(conversations), config.temperature))
        return [Generation(c[-1]["content"].upper(), 7, self.tokens_out, 0.05) for c in conversations]


def test_local_backend_gathers_concurrent_requests_into_batches():
    generator = FakeGenerator()
    backend = LocalBackend(generator, max_new_tokens=8, max_batch=4)
    results: dict[int, list[Completion]] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(
        i, backend.complete(f"prompt {i}", 1, 0.01))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i][0].text for i in range(8)] == [f"PROMPT {i}" for i in range(8)]
    assert all(r[0].finished for r in results.values())
    assert sum(n for n, _ in generator.batches) == 8 and len(generator.batches) < 8
    assert {t for _, t in generator.batches} == {0.0}  # Ragas' 0.01 means greedy
    # n completions of one prompt sample at the asked temperature; a full-length reply is cut off
    many = LocalBackend(FakeGenerator(tokens_out=8), max_new_tokens=8).complete("p", 3, 0.3)
    assert len(many) == 3 and not any(c.finished for c in many)


def test_local_backend_hands_a_failure_to_every_waiting_caller():
    class Broken(FakeGenerator):
        def generate(self, conversations, config, *, batch_size=8):
            raise InputError("The prompt is too long.")

    with pytest.raises(InputError, match="too long"):
        LocalBackend(Broken(), max_new_tokens=8).complete("p", 2, 0.0)


# --- the metrics over a scripted judge -------------------------------------------------------------
class WordEmbedding:
    """A tiny deterministic llama-index embedding: counts of a few words (enough for relevancy)."""

    WORDS = ("days", "return", "tent", "weigh", "office", "know")

    def get_query_embedding(self, text):
        return self.get_text_embedding(text)

    def get_text_embedding(self, text):
        return [float(text.lower().count(w)) + 0.01 for w in self.WORDS]

    def get_text_embedding_batch(self, texts, **kwargs):
        return [self.get_text_embedding(t) for t in texts]

    async def aget_query_embedding(self, text):
        return self.get_text_embedding(text)

    async def aget_text_embedding(self, text):
        return self.get_text_embedding(text)


def _judge(reply, finished=True):
    cfg = JudgeConfig("openai:scripted", api_base="http://127.0.0.1:9/v1", concurrency=3,
                      timeout_s=20)
    backend = Scripted(reply, finished)
    return LabJudgeLLM(backend, name="scripted"), cfg, backend


SAMPLE = Sample("How many days do customers have to return a product?",
                "Customers have 45 days to return a product. The tent weighs 9 kilograms.",
                reference="Customers have 45 days from delivery to return a product.",
                contexts=["Customers may return any product within 45 days of delivery.",
                          "The Altura 2 tent weighs 1.9 kilograms."])


def test_judged_values_from_well_formed_verdicts():
    llm, cfg, backend = _judge(lambda text: json.dumps(judge_verdicts(text)))
    closed = Sample("Where is the office?", "I don't know.", reference="In Bilbao.")
    (rag, book) = judge_samples([SAMPLE, closed], llm=llm, cfg=cfg, embedding=WordEmbedding())
    # two claims, the context backs "45 days" but not "9 kilograms"
    assert rag["faithfulness"].value == 0.5
    # claims: answer [45 ok, 9 kg not in the reference], reference [45 ok]: F1 = 2/3
    assert rag["factual_correctness"].value == 0.67
    assert rag["llm_context_recall"].value == 1.0
    assert rag["llm_context_precision"].value == pytest.approx(1.0)  # the useful passage ranks first
    assert 0 < rag["response_relevancy"].value <= 1
    assert book["response_relevancy"].value == 0.0  # "I don't know" is noncommittal
    assert book["faithfulness"].status == "not_applicable"
    assert list(rag) == judge_keys() and backend.calls >= 9


def test_bad_replies_fail_with_a_reason_never_nan():
    for reply, finished, why in ((lambda t: "Looks right to me.", True, "not JSON"),
                                 (lambda t: '{"statements": ["The', False, "cut off"),
                                 (lambda t: '{"verdict": "maybe"}', True, "not JSON")):
        llm, cfg, _ = _judge(reply, finished)
        (scores,) = judge_samples([SAMPLE], ["faithfulness", "llm_context_recall"], llm=llm, cfg=cfg)
        for s in scores.values():
            assert s.status == "failed" and s.value is None and why in s.reason, s.reason
    # a well-formed reply with nothing to count: Ragas' NaN becomes a failed score, with why
    llm, cfg, _ = _judge(lambda t: json.dumps({"statements": []} if "StatementGeneratorOutput" in t
                                              else judge_verdicts(t)))
    (scores,) = judge_samples([SAMPLE], ["faithfulness"], llm=llm, cfg=cfg)
    assert scores["faithfulness"].status == "failed"
    assert scores["faithfulness"].reason == "the judge found no claims in the answer"


def test_judge_samples_refuses_offline_metrics_and_needs_an_embedding_for_relevancy():
    llm, cfg, _ = _judge(lambda t: "{}")
    with pytest.raises(InputError, match="Not LLM-judged"):
        judge_samples([SAMPLE], ["rouge_l"], llm=llm, cfg=cfg)
    with pytest.raises(InputError, match="embedding"):
        judge_samples([SAMPLE], ["response_relevancy"], llm=llm, cfg=cfg)
