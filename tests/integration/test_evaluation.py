"""Evaluation runs with the real bundled models on a tiny corpus and question set: strategies
answer in batches, offline metrics are stored per (question, strategy, metric), a run resumes after
an interruption without duplicates, extends with another strategy, refuses to extend once its
corpus changed, and the statistics read back from stored scores (a planted difference is found)."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from backend.errors import InputError, JobCancelled
from backend.evaluate import results, runner
from backend.evaluate.metrics import HEADLINE_METRIC, offline_keys
from backend.evaluate.strategies import StrategyConfig, answer_batch, parse_strategy

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread

DOCS = {
    "returns.md": "# Returns\n\nCustomers may return any product within 45 days of delivery for a "
                  "full refund. Returned items must be unused and in their original packaging.\n",
    "tents.md": "# Altura 2 tent\n\nThe Altura 2 tent weighs 1.9 kilograms and sleeps two people. "
                "Its poles are made of aluminium.\n",
    "office.md": "# Offices\n\nThe head office is in Bilbao, on Gran Via 12. It opens from 8:00 to "
                 "17:00 on weekdays.\n",
}
QUESTIONS = [
    {"question": "How many days do customers have to return a product?",
     "reference": "Customers have 45 days from delivery to return a product.",
     "reference_contexts": ["Customers may return any product within 45 days of delivery for a "
                            "full refund."], "tags": ["returns"]},
    {"question": "How much does the Altura 2 tent weigh?",
     "reference": "The Altura 2 tent weighs 1.9 kilograms.",
     "reference_contexts": ["The Altura 2 tent weighs 1.9 kilograms and sleeps two people."],
     "tags": ["product"]},
    {"question": "Where is the head office?",
     "reference": "The head office is in Bilbao, on Gran Via 12.",
     "reference_contexts": ["The head office is in Bilbao, on Gran Via 12."], "tags": ["company"]},
    {"question": "Does the company offer a pension plan to employees?",
     "reference": "The documents do not say.", "reference_contexts": [],
     "tags": ["unanswerable"]},
]
FAST = {"max_new_tokens": 24}


@pytest.fixture
def corpus(lab):
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus, get_corpus

    corpus = create_corpus(lab, "tiny", "en")
    ingest(lab, corpus.id, [(name, text.encode()) for name, text in DOCS.items()])
    return get_corpus(lab, corpus.id)


TRAIN = [  # the train part: what a fine-tune learns from (never the held-out questions above)
    {"question": "What is the return period at the shop?", "reference": "45 days from delivery."},
    {"question": "What are the Altura 2 tent poles made of?", "reference": "Aluminium."},
    {"question": "When does the head office open?", "reference": "From 8:00 to 17:00 on weekdays."},
    {"question": "How many people does the Altura 2 tent sleep?", "reference": "Two people."},
]


@pytest.fixture
def question_set(lab, corpus) -> int:
    """A question set of the corpus: the four questions above held out, four more for training."""
    from backend.finetune.questions import create_set

    rows = [{**q, "part": "held_out"} for q in QUESTIONS] + [{**q, "part": "train"} for q in TRAIN]
    qset = create_set(lab, corpus.id, "tiny set", rows)
    assert qset.n_held_out == 4
    return qset.id


def _strategies(*kinds: str) -> list[StrategyConfig]:
    return [StrategyConfig(kind=k, generation=FAST, k=2) for k in kinds]


def _score_rows(lab, run_id: str) -> list[dict]:
    return lab.db.fetchall("SELECT strategy, position, metric, value, status, reason FROM eval_scores"
                           " WHERE run_id = %s", (run_id,))


# --- configuration ---------------------------------------------------------------------------------
def test_strategy_configs_validate_and_parse():
    cfg = parse_strategy("rag:mode=vector,k=5,max_new_tokens=32,label=RAG vector")
    assert (cfg.kind, cfg.mode, cfg.k, cfg.label, cfg.template) == ("rag", "vector", 5, "RAG vector",
                                                                    "cited-v1")
    assert cfg.generation["max_new_tokens"] == 32 and cfg.retrieves
    assert StrategyConfig.from_dict(cfg.as_dict()) == cfg
    base = StrategyConfig(kind="base")
    assert base.template == "closed-book-v1" and not base.retrieves and base.label == "Base"
    for bad in ({"kind": "oracle"}, {"kind": "finetuned"}, {"kind": "base", "model_id": "x"},
                {"kind": "rag", "mode": "magic"}, {"kind": "rag", "k": 0},
                {"kind": "base", "generation": {"max_new_tokens": 0}},
                {"kind": "base", "generation": {"beams": 2}}, {"kind": "base", "template": "cited-v1"}):
        with pytest.raises(InputError):
            StrategyConfig(**bad)


# --- running ---------------------------------------------------------------------------------------
def test_run_answers_scores_resumes_and_summarises(lab, lab_env, corpus, question_set, monkeypatch):
    run = runner.create_run(lab, question_set, _strategies("base", "rag"), batch_size=2)
    assert (run.corpus_version, run.index_id) == (corpus.version, corpus.active_index.id)
    assert run.n_questions == 4 and [s.key for s in run.strategies] == ["base", "rag"]
    assert run.embed_spec == lab.settings.embed_model_en and run.metric_keys == offline_keys()

    # interrupted after its first batch, as a cancelled job is (progress raises JobCancelled)
    def stop_after_first_batch(step, total=None, **kw):
        if step > 0:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        runner.run_evaluation(lab, run.id, progress=stop_after_first_batch)
    first = lab.db.fetchall("SELECT strategy, position, answer, created_at FROM eval_answers"
                            " WHERE run_id = %s", (run.id,))
    assert len(first) == 2 and not _score_rows(lab, run.id)

    # the job resumes from what is stored: only the 6 missing answers are generated
    from backend.jobs.runner import run_inline

    for name, value in lab_env.items():  # a job reloads its settings from the environment
        monkeypatch.setenv(name, value)
    job = run_inline(lab, runner.enqueue_run(lab, run.id))
    assert job.status == "succeeded", job.error
    assert job.result["answered_now"] == 6 and job.result["answered"] == 8
    assert job.result["scored_now"] == job.result["scored"] == 8 and job.result["failed"] == 0
    answers = lab.db.fetchall("SELECT * FROM eval_answers WHERE run_id = %s", (run.id,))
    assert len(answers) == 8
    kept = {(a["strategy"], a["position"]): a for a in answers}
    for row in first:  # the answers from before the interruption were kept as they were
        again = kept[(row["strategy"], row["position"])]
        assert (again["answer"], again["created_at"]) == (row["answer"], row["created_at"])
    for a in answers:
        assert a["tokens_in"] > 0 and 0 < a["tokens_out"] <= 25 and a["latency_s"] > 0
        if a["strategy"] == "base":
            assert a["contexts"] is None and a["chunk_ids"] is None
        else:
            assert 1 <= len(a["contexts"]) <= 2 and len(a["chunk_ids"]) == len(a["contexts"])
    rag_q1 = kept[("rag", 0)]
    assert any("45 days" in c for c in rag_q1["contexts"])  # retrieval found the returns passage

    scores = _score_rows(lab, run.id)
    assert len(scores) == 8 * len(offline_keys())
    for s in scores:
        assert (s["status"] == "ok") == (s["value"] is not None)
        assert s["value"] is None or math.isfinite(s["value"])
    by = {(s["strategy"], s["position"], s["metric"]): s for s in scores}
    for pos in range(3):  # closed book: context metrics are not applicable, never 0
        for metric in ("context_precision", "context_recall"):
            assert by[("base", pos, metric)]["status"] == "not_applicable"
            assert "closed-book" in by[("base", pos, metric)]["reason"]
            assert by[("rag", pos, metric)]["status"] == "ok"
    assert by[("rag", 0, "context_recall")]["value"] == 1.0
    for strat in ("base", "rag"):  # the unanswerable question is scored apart
        assert by[(strat, 3, "semantic_similarity")]["status"] == "not_applicable"
        assert by[(strat, 3, "abstention")]["status"] == "ok"
        assert by[(strat, 0, "abstention")]["status"] == "not_applicable"
        assert by[(strat, 0, "semantic_similarity")]["status"] == "ok"

    summary = results.run_summary(lab, run.id)
    assert summary.counts["answered"] == summary.counts["scored"] == 8
    for s in summary.strategies:
        sim = s.metrics[HEADLINE_METRIC]
        assert sim.n == 3 and sim.not_applicable == 1 and sim.failed == 0
        assert sim.estimate.low <= sim.estimate.mean <= sim.estimate.high
        assert s.abstention.n == 1 and s.abstention.mean in (0.0, 1.0)
        assert s.latency_p95 >= s.latency_mean > 0 and s.cost_per_1k > 0
    base, rag = summary.strategy("base"), summary.strategy("rag")
    assert base.metrics["context_recall"].n == 0 and base.metrics["context_recall"].not_applicable == 4
    assert base.metrics["context_recall"].estimate.mean is None
    assert rag.metrics["context_recall"].n == 3
    assert rag.tokens_in_mean > base.tokens_in_mean  # the passages are in the prompt
    assert base.build_seconds == 0.0
    assert runner.run_evaluation(lab, run.id)["answered_now"] == 0  # nothing left to do

    # extend with another strategy: only its answers are generated
    added = runner.add_strategy(lab, run.id, StrategyConfig(kind="rag", label="RAG text", mode="text",
                                                            k=1, generation=FAST))
    assert added.key == "rag-text" and added.config.index_id == run.index_id
    done = runner.run_evaluation(lab, run.id)
    assert done["answered_now"] == done["scored_now"] == 4 and done["answered"] == done["total"] == 12

    # the corpus changes: the run is pinned to the version it started with
    from backend.corpus.ingest import ingest

    ingest(lab, corpus.id, [("pension.md", b"# Benefits\n\nThere is no company pension plan.\n")])
    with pytest.raises(runner.CorpusChanged) as refused:
        runner.add_strategy(lab, run.id, StrategyConfig(kind="base", label="Base 2", generation=FAST))
    assert "changed since this run started" in str(refused.value) and "new run" in str(refused.value)
    assert len(runner.get_run(lab, run.id).strategies) == 3


def test_finetuned_and_hybrid_answer_with_a_lora_adapter(lab, corpus, question_set):
    """A LoRA adapter trained for a few steps on the train part answers closed book (fine-tuned)
    and with retrieved passages (hybrid)."""
    from backend.finetune.datasets import build_dataset
    from backend.finetune.jobs import run_finetune

    dataset = build_dataset(lab, "qa_pairs", corpus.id, question_set_id=question_set)
    trained = run_finetune(lab, {"dataset_id": dataset.id, "name": "tiny lora", "config": {
        "method": "adapter", "max_steps": 3, "batch_size": 2, "val_fraction": 0.0, "eval_every": 0,
        "checkpoint_every": 0}})
    model_id = trained["model_id"]
    run = runner.create_run(lab, question_set, [
        StrategyConfig(kind="finetuned", model_id=model_id, generation=FAST),
        parse_strategy(f"hybrid:model_id={model_id},k=2,max_new_tokens=24")], batch_size=4)
    finetuned, hybrid = run.strategies
    assert finetuned.config.template == "question-only" and hybrid.config.template == "cited-v1"
    assert finetuned.build_seconds > 0  # the training time, the strategy's one-off cost
    done = runner.run_evaluation(lab, run.id)
    assert done["answered_now"] == 8 and done["failed"] == 0 and done["scored"] == 8
    answers = {(a["strategy"], a["position"]): a for a in lab.db.fetchall(
        "SELECT * FROM eval_answers WHERE run_id = %s", (run.id,))}
    for pos in range(4):
        assert answers[("fine-tuned", pos)]["contexts"] is None
        assert answers[("hybrid", pos)]["contexts"]
        assert answers[("hybrid", pos)]["tokens_in"] > answers[("fine-tuned", pos)]["tokens_in"]
    records = {s.key: s.model_record for s in runner.get_run(lab, run.id).strategies}
    assert records["fine-tuned"] == records["hybrid"] and records["hybrid"].startswith(
        f"finetuned:{model_id}")
    summary = results.run_summary(lab, run.id)
    assert summary.strategy("fine-tuned").metrics["context_recall"].not_applicable == 4
    assert summary.strategy("hybrid").metrics["context_recall"].n == 3
    assert summary.strategy("fine-tuned").build_cost > 0


def test_answer_batch_matches_one_at_a_time(lab, corpus):
    """Batched generation gives the answers one-at-a-time generation gives (greedy decoding)."""
    cfg = StrategyConfig(kind="rag", generation={"max_new_tokens": 12}, k=1, corpus_id=corpus.id)
    questions = [q["question"] for q in QUESTIONS[:3]]
    batched = answer_batch(lab, cfg, questions, batch_size=3)
    single = [answer_batch(lab, cfg, [q], batch_size=1)[0] for q in questions]
    assert [a.error for a in batched] == [None] * 3
    assert [a.chunk_ids for a in batched] == [a.chunk_ids for a in single]
    assert all(a.compute_s < a.latency_s for a in batched)  # each answer's share of its batch
    # padding can change a near-tie in bf16; the first words agree
    assert [a.text.split()[:3] for a in batched] == [a.text.split()[:3] for a in single]


def test_spanish_set_uses_the_multilingual_embedding_and_failures_are_recorded(lab):
    """A Spanish set is scored with the multilingual embedding; an answer that cannot be generated
    is stored with its reason and scored as failed (never 0), and the run goes on."""
    from backend.corpus.store import create_corpus
    from backend.finetune.questions import create_set

    corpus = create_corpus(lab, "pequeño", "es")
    qset = create_set(lab, corpus.id, "preguntas", [
        {"question": "¿Cuántos días hay para devolver un producto?", "part": "held_out",
         "reference": "Hay 45 días desde la entrega para devolver un producto."},
        {"question": "¿Dónde está la sede?", "reference": "En Bilbao.", "part": "held_out"}])
    too_long = StrategyConfig(kind="base", label="Too long", generation={"max_new_tokens": 8192})
    run = runner.create_run(lab, qset.id, [too_long, StrategyConfig(kind="base", generation=FAST)],
                            metric_keys=["semantic_similarity", "exact_match"])
    assert run.embed_spec == lab.settings.embed_model_multi and run.language == "es"
    questions = lab.db.fetchall("SELECT language FROM eval_questions WHERE run_id = %s", (run.id,))
    assert {q["language"] for q in questions} == {"es"}
    done = runner.run_evaluation(lab, run.id)
    assert done["answered"] == 4 and done["failed"] == 2 and done["scored"] == 4
    failed = lab.db.fetchall("SELECT a.error, s.status, s.reason, s.value FROM eval_answers a JOIN"
                             " eval_scores s USING (run_id, strategy, position) WHERE a.run_id = %s"
                             " AND a.strategy = 'too-long'", (run.id,))
    assert len(failed) == 4 and all(f["status"] == "failed" and f["value"] is None for f in failed)
    assert all("exceeds the model" in f["error"] and f["error"] in f["reason"] for f in failed)
    summary = results.run_summary(lab, run.id)
    broken, base = summary.strategy("too-long"), summary.strategy("base")
    assert broken.failed_answers == 2 and broken.metrics[HEADLINE_METRIC].failed == 2
    assert broken.metrics[HEADLINE_METRIC].estimate.mean is None and broken.cost_per_1k is None
    assert base.failed_answers == 0 and base.metrics[HEADLINE_METRIC].n == 2

    # the same stored answer scored by hand with the multilingual model gives the stored score
    from backend.evaluate.metrics import Sample, score_samples
    from backend.models.embeddings import get_embedding

    row = lab.db.fetchone("SELECT a.answer, q.reference, s.value FROM eval_answers a JOIN"
                          " eval_questions q USING (run_id, position) JOIN eval_scores s USING"
                          " (run_id, strategy, position) WHERE a.run_id = %s AND a.strategy = 'base'"
                          " AND a.position = 0 AND s.metric = 'semantic_similarity'", (run.id,))
    again = score_samples([Sample("q", row["answer"], row["reference"], language="es")],
                          [HEADLINE_METRIC], embedding=get_embedding(lab.settings, run.embed_spec))
    assert again[0][HEADLINE_METRIC].value == pytest.approx(row["value"])


# --- statistics from stored scores ------------------------------------------------------------------
def _planted_run(lab, question_set, n: int = 30) -> str:
    """A run with base and rag whose scores are written directly: rag = base + 0.1 on similarity
    (plus noise), no difference on chrF."""
    run = runner.create_run(lab, question_set, _strategies("base", "rag"))
    rng = np.random.default_rng(7)
    with lab.db.connect() as conn:
        conn.execute("DELETE FROM eval_questions WHERE run_id = %s", (run.id,))
        for pos in range(n):
            conn.execute("INSERT INTO eval_questions (run_id, position, qid, question, reference,"
                         " language) VALUES (%s, %s, %s, %s, 'ref', 'en')",
                         (run.id, pos, f"p{pos}", f"planted question {pos}"))
            base_sim = float(rng.uniform(0.3, 0.7))
            chrf = float(rng.uniform(0.2, 0.6))
            for strat, sim, ch in (("base", base_sim, chrf),
                                   ("rag", base_sim + 0.1 + float(rng.normal(0, 0.02)),
                                    chrf + float(rng.normal(0, 0.05)))):
                conn.execute("INSERT INTO eval_answers (run_id, strategy, position, answer, latency_s,"
                             " compute_s, retrieval_s, tokens_in, tokens_out) VALUES (%s, %s, %s,"
                             " 'a', 1.0, 0.5, 0.0, 10, 5)", (run.id, strat, pos))
                for metric, value in (("semantic_similarity", sim), ("chrf", ch)):
                    conn.execute("INSERT INTO eval_scores (run_id, strategy, position, metric, value,"
                                 " status) VALUES (%s, %s, %s, %s, %s, 'ok')",
                                 (run.id, strat, pos, metric, value))
                conn.execute("INSERT INTO eval_scores (run_id, strategy, position, metric, status,"
                             " reason) VALUES (%s, %s, %s, 'context_recall', 'not_applicable',"
                             " 'no context: closed-book strategy')", (run.id, strat, pos))
    return run.id


def test_statistics_find_a_planted_difference_and_export(lab, lab_env, question_set, monkeypatch,
                                                         capsys, tmp_path):
    run_id = _planted_run(lab, question_set)
    h2h = results.head_to_head(lab, run_id, "rag", "base", HEADLINE_METRIC, metric_label="answer similarity")
    cmp = h2h.comparison
    assert cmp.n == 30 and cmp.significant and cmp.wins >= 28 and cmp.losses == 0
    assert cmp.diff.low < 0.1 < cmp.diff.high
    assert h2h.sentence.startswith("RAG beats Base on answer similarity by 0.10 (95% CI")
    flat = results.head_to_head(lab, run_id, "rag", "base", "chrf", language="es")
    assert not flat.comparison.significant
    assert flat.sentence.startswith("no hay diferencia detectable entre RAG y Base")
    assert results.head_to_head(lab, run_id, "rag", "base").comparison == cmp  # seeded: repeatable

    summary = results.run_summary(lab, run_id)
    sim = summary.strategy("rag").metrics[HEADLINE_METRIC].estimate
    assert sim.n == 30 and sim.has_interval and sim.high - sim.low < 0.2
    assert summary.strategy("base").metrics["context_recall"].not_applicable == 30
    price = lab.settings.price_per_hour
    assert summary.strategy("rag").cost_per_1k == pytest.approx(price / 3600 * 0.5 * 1000)

    rows = results.per_question(lab, run_id, HEADLINE_METRIC)
    assert len(rows) == 60 and rows[0]["qid"] == "p0" and rows[1]["strategy"] == "rag"
    detail = results.question_detail(lab, run_id, 0)
    assert [a["strategy"] for a in detail["answers"]] == ["base", "rag"]
    assert detail["answers"][0]["scores"]["context_recall"]["status"] == "not_applicable"

    table = list(csv.DictReader(io.StringIO(results.export_run(lab, run_id, "csv").decode())))
    assert len(table) == 60
    assert table[0]["context_recall"] == "" and table[0]["context_recall_status"] == "not_applicable"
    assert float(table[1]["semantic_similarity"]) == pytest.approx(rows[1]["value"])
    doc = json.loads(results.export_run(lab, run_id, "json"))
    assert doc["run"]["id"] == run_id and len(doc["answers"]) == 60
    assert doc["run"]["strategies"][1]["config"]["kind"] == "rag"

    from backend.cli import main

    for name, value in lab_env.items():
        monkeypatch.setenv(name, value)
    assert main(["eval-show", run_id, "--vs", "rag", "base"]) == 0
    shown = capsys.readouterr().out
    assert "RAG beats Base on semantic similarity by 0.10" in shown
    assert "30 not applicable" in shown and "n = 30" in shown
    assert main(["eval-export", run_id, "--format", "json", "--out", str(tmp_path / "run.json")]) == 0
    assert json.loads((tmp_path / "run.json").read_text())["run"]["id"] == run_id

    other = _planted_run(lab, question_set)
    compared = results.compare_runs(lab, run_id, other)
    assert [r["label"] for r in compared["rows"]] == ["Base", "RAG"]
    assert listed_ids(lab) == {run_id, other}
    results.delete_run(lab, other)
    assert listed_ids(lab) == {run_id}
    assert not lab.db.fetchall("SELECT 1 FROM eval_scores WHERE run_id = %s", (other,))


def listed_ids(lab) -> set[str]:
    return {r["id"] for r in results.list_runs(lab)}
