"""LLM-judged metrics, for real: Ragas' judge metrics against (a) a local OpenAI-compatible server
returning well-formed verdicts (values worked out by hand from its documented rule), wired through
an evaluation job; (b) the bundled SmolLM2 as judge, whose replies are not the JSON asked for:
every failure is stored with its reason and the run completes; (c) a real endpoint, opt-in through
LAB_TEST_JUDGE_API_BASE / LAB_TEST_JUDGE_MODEL / LAB_TEST_JUDGE_KEY."""

from __future__ import annotations

import math
import os
import socket

import numpy as np
import pytest

from backend.evaluate import results, runner
from backend.evaluate.judge import judge_config, judge_run
from backend.evaluate.metrics import Sample, judge_keys, offline_keys
from backend.evaluate.strategies import StrategyConfig
from tests.fake_openai import FakeOpenAI, judge_reply, noncommittal, sentences, supported

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread

DOCS = {"returns.md": "# Returns\n\nCustomers may return any product within 45 days of delivery "
                      "for a full refund.\n",
        "tents.md": "# Altura 2 tent\n\nThe Altura 2 tent weighs 1.9 kilograms and sleeps two "
                    "people.\n"}
QUESTIONS = [
    {"question": "How many days do customers have to return a product?",
     "reference": "Customers have 45 days from delivery to return a product.",
     "reference_contexts": ["Customers may return any product within 45 days of delivery"],
     "part": "held_out"},
    {"question": "How much does the Altura 2 tent weigh?",
     "reference": "The Altura 2 tent weighs 1.9 kilograms.",
     "reference_contexts": ["The Altura 2 tent weighs 1.9 kilograms"], "part": "held_out"},
    {"question": "Does the company offer a pension plan?", "reference": "The documents do not say.",
     "tags": ["unanswerable"], "part": "held_out"},
]
FAST = {"max_new_tokens": 24}


@pytest.fixture
def question_set(lab):
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus
    from backend.finetune.questions import create_set

    corpus = create_corpus(lab, "tiny", "en")
    ingest(lab, corpus.id, [(n, t.encode()) for n, t in DOCS.items()])
    return create_set(lab, corpus.id, "tiny set", QUESTIONS).id


def _expected(key: str, s: dict, embed) -> float | None:
    """What the fake judge's rule gives, computed here without Ragas."""
    contexts = s["contexts"] or []
    if key == "faithfulness":
        claims = sentences(s["answer"])
        return sum(supported(c, "\n".join(contexts)) for c in claims) / len(claims) if claims else None
    if key == "response_relevancy":
        if not s["answer"].strip():
            return None
        q, a = embed.get_text_embedding_batch([s["question"], s["answer"]])
        return float(np.dot(q, a) / np.linalg.norm(q) / np.linalg.norm(a)) * (1 - noncommittal(s["answer"]))
    if key == "llm_context_recall":
        claims = sentences(s["reference"])
        return sum(supported(c, "\n".join(contexts)) for c in claims) / len(claims)
    if key == "llm_context_precision":
        verdicts = [supported(s["reference"], c) for c in contexts]
        hits = [sum(verdicts[:i + 1]) / (i + 1) * v for i, v in enumerate(verdicts)]
        return sum(hits) / (sum(verdicts) + 1e-10)
    if key == "factual_correctness":
        tp = sum(supported(c, s["reference"]) for c in sentences(s["answer"]))
        fp = len(sentences(s["answer"])) - tp
        fn = sum(1 - supported(c, s["answer"]) for c in sentences(s["reference"]))
        return round(tp / (tp + 0.5 * (fp + fn)), 2) if tp else 0.0
    raise AssertionError(key)


def test_judge_with_well_formed_verdicts_through_an_evaluation_job(lab_env, question_set, monkeypatch):
    from backend.jobs.runner import run_inline
    from backend.lab import open_lab
    from backend.models.embeddings import get_embedding

    with FakeOpenAI(chat=judge_reply, api_key="sekret") as server:
        env = {**lab_env, "LAB_JUDGE_API_BASE": server.url, "LAB_JUDGE_MODEL": "fake-judge",
               "LAB_JUDGE_API_KEY": "sekret"}
        for name, value in env.items():  # the job reloads its settings from the environment
            monkeypatch.setenv(name, value)
        lab = open_lab(env, apply_migrations=False)
        run = runner.create_run(lab, question_set, [StrategyConfig(kind="base", generation=FAST),
                                                    StrategyConfig(kind="rag", generation=FAST, k=1)])
        job = run_inline(lab, runner.enqueue_run(lab, run.id))
        assert job.status == "succeeded", job.error
        assert all(r["model"] == "fake-judge" for r in server.chat_requests())

    rows = lab.db.fetchall(
        "SELECT a.strategy, a.position, a.answer, a.contexts, q.question, q.reference, s.metric,"
        " s.value, s.status, s.reason FROM eval_scores s JOIN eval_answers a USING (run_id,"
        " strategy, position) JOIN eval_questions q USING (run_id, position) WHERE s.run_id = %s"
        " AND s.metric = ANY(%s)", (run.id, judge_keys()))
    assert len(rows) == 6 * len(judge_keys())  # every answer, every judged metric, stored once
    embed = get_embedding(lab.settings, run.embed_spec)
    checked = 0
    for r in rows:
        assert (r["value"] is None) == (r["status"] != "ok")
        if r["position"] == 2:  # unanswerable: scored apart, as the offline metrics are
            assert r["status"] == "not_applicable" and r["reason"] == "unanswerable question"
        elif r["strategy"] == "base" and r["metric"] in ("faithfulness", "llm_context_precision",
                                                         "llm_context_recall"):
            assert r["status"] == "not_applicable" and "closed-book" in r["reason"]
        else:
            expected = _expected(r["metric"], r, embed)
            if expected is None:  # an empty answer: nothing to judge, failed with why
                assert r["status"] == "failed" and r["reason"].startswith("the judge")
            else:
                assert r["status"] == "ok", r["reason"]
                # relevancy embeds in other batches than here: bf16 rounding differs a little
                tolerance = 0.02 if r["metric"] == "response_relevancy" else 1e-6
                assert r["value"] == pytest.approx(expected, abs=tolerance), (r["metric"], r["answer"])
                checked += 1
    assert checked >= 8

    summary = results.run_summary(lab, run.id)
    assert summary.judge["configured"] and summary.judge["needs_judge"] == []
    assert summary.judge["metrics"]["faithfulness"]["status"] == "computed"
    (judging,) = summary.judge["passes"]
    assert judging["judge"] == f"openai:fake-judge@{server.url}" and judging["judged"] == 6
    assert judging["usage"]["calls"] > 0 and "sekret" not in str(judging["config"])
    rag = summary.strategy("rag")
    assert rag.metrics["faithfulness"].n == 2 and rag.metrics["faithfulness"].not_applicable == 1
    assert summary.strategy("base").metrics["faithfulness"].not_applicable == 3
    header = results.export_run(lab, run.id, "csv").decode().splitlines()[0]
    assert "faithfulness_status" in header and "factual_correctness" in header
    hh = results.head_to_head(lab, run.id, "rag", "base", "response_relevancy")
    assert hh.comparison.n == 2

    # judging again adds nothing: every answer has its judged scores
    assert judge_run(lab, run.id)["judged"] == 0


def test_without_a_judge_the_metrics_say_they_need_one(lab, question_set):
    run = runner.create_run(lab, question_set, [StrategyConfig(kind="base", generation=FAST)])
    runner.run_evaluation(lab, run.id)
    assert not lab.db.fetchall("SELECT 1 FROM eval_scores WHERE run_id = %s AND metric = ANY(%s)",
                               (run.id, judge_keys()))
    summary = results.run_summary(lab, run.id)
    assert set(summary.strategies[0].metrics) == set(offline_keys())
    assert not summary.judge["configured"] and summary.judge["needs_judge"] == judge_keys()
    assert "LAB_JUDGE_API_BASE" in summary.judge["hint"]
    assert judge_run(lab, run.id) == {"configured": False, "judged": 0, "ok": 0, "failed": 0,
                                      "not_applicable": 0, "judge": None}


def test_bundled_smollm2_as_judge_records_failures_and_the_run_completes(lab, question_set):
    from backend import config
    from backend.finetune.questions import create_set, get_set

    corpus_id = get_set(lab, question_set, with_rows=False).corpus_id
    one = create_set(lab, corpus_id, "one question", [QUESTIONS[0], QUESTIONS[2]]).id
    run = runner.create_run(lab, one, [StrategyConfig(kind="rag", generation=FAST, k=1)])
    runner.run_evaluation(lab, run.id)
    local = config.build({"LAB_DATA_DIR": lab.settings.data_dir,
                          "LAB_JUDGE_MODEL": "bundled:smollm2-135m-instruct"})
    # a short reply limit keeps the test quick (each judge prompt is ~1,000 tokens to read);
    # SmolLM2 does not return the JSON asked for at any length (measured with 96 to 1024)
    judge = judge_config(local, max_new_tokens=32)
    keys = ["faithfulness", "factual_correctness"]
    outcome = judge_run(lab, run.id, judge=judge, metric_keys=keys)
    assert outcome["judged"] == 2 and outcome["not_applicable"] == 2  # the unanswerable question
    assert outcome["failed"] >= 1 and outcome["ok"] + outcome["failed"] == 2
    assert outcome["usage"]["calls"] >= 3  # statements, and claims of answer and reference
    scores = lab.db.fetchall("SELECT metric, value, status, reason FROM eval_scores WHERE run_id = %s"
                             " AND metric = ANY(%s)", (run.id, keys))
    assert len(scores) == 4
    for s in scores:
        assert s["value"] is None or math.isfinite(s["value"])
        if s["status"] == "failed":
            assert s["reason"].startswith(("the judge", "judge error")), s["reason"]
            assert "last reply" in s["reason"]  # what the judge said, to see why
    overview = results.judge_overview(lab, run.id)
    failed = sum(m["failed"] for m in overview["metrics"].values())
    assert failed == outcome["failed"]
    assert sum(n for m in overview["metrics"].values() for n in m["reasons"].values()) == failed
    assert overview["metrics"]["response_relevancy"]["status"] == "needs_judge"
    assert overview["metrics"]["faithfulness"]["status"] == "computed"
    assert overview["passes"][0]["judge"] == "bundled:smollm2-135m-instruct"
    summary = results.run_summary(lab, run.id)  # the run still reads back whole
    assert summary.counts["scored"] == summary.counts["answered"] == 2
    faithfulness = summary.strategy("rag").metrics["faithfulness"]
    assert faithfulness.failed + faithfulness.n == 1 and faithfulness.not_applicable == 1


@pytest.mark.skipif(not os.environ.get("LAB_TEST_JUDGE_API_BASE"),
                    reason="set LAB_TEST_JUDGE_API_BASE and LAB_TEST_JUDGE_MODEL to test a real judge")
def test_a_real_judge_endpoint(lab_home, monkeypatch):
    """Opt-in: a real judge must give ok scores to a plainly faithful answer."""
    import tests.conftest as guard
    from backend import config
    from backend.evaluate.judge import build_judge_llm, judge_samples
    from backend.models.embeddings import get_embedding

    # the test suite blocks the network; this test was asked for explicitly
    monkeypatch.setattr(socket.socket, "connect", guard._real_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guard._real_connect_ex)
    settings = config.build({"LAB_DATA_DIR": str(lab_home),
                             "LAB_JUDGE_API_BASE": os.environ["LAB_TEST_JUDGE_API_BASE"],
                             "LAB_JUDGE_MODEL": os.environ.get("LAB_TEST_JUDGE_MODEL", ""),
                             "LAB_JUDGE_API_KEY": os.environ.get("LAB_TEST_JUDGE_KEY", "")})
    cfg = judge_config(settings, concurrency=2)
    sample = Sample(question="How many days do customers have to return a product?",
                    answer="Customers have 45 days to return a product.",
                    reference="Customers have 45 days from delivery to return a product.",
                    contexts=["Customers may return any product within 45 days of delivery."])
    (scores,) = judge_samples([sample], llm=build_judge_llm(settings, cfg), cfg=cfg,
                              embedding=get_embedding(settings, language="en"))
    failed = {k: s.reason for k, s in scores.items() if not s.is_ok}
    assert not failed, failed
    assert scores["faithfulness"].value == 1.0 and scores["llm_context_recall"].value == 1.0
    assert scores["response_relevancy"].value > 0.5
