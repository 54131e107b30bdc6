"""The memo's sections from synthetic measured inputs (no database): the freshness check's
timeline and the guard decisions of fine-tuned models reach the trade-offs, the sensitive-data
section and the recommendation; the Markdown and HTML renderings carry every section."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from backend.evaluate.results import MetricSummary, RunSummary, StrategySummary
from backend.evaluate.runner import EvalRun, RunStrategy
from backend.evaluate.stats import compare_paired, mean_ci
from backend.evaluate.strategies import StrategyConfig
from backend.report import render
from backend.report.build import ReportInputs, compose
from backend.report.recommend import Priorities

RNG = np.random.default_rng(3)
MEANS = {"rag": 0.55, "finetuned": 0.56, "hybrid": 0.555}
SCORES = {k: {f"q{i}": float(m + RNG.normal(0, 0.1)) for i in range(24)} for k, m in MEANS.items()}
TRAIN_S = 125.0
LINEAGE = {
    7: {"name": "lora-returns", "duration_s": TRAIN_S, "base_model": "bundled:smollm2-135m-instruct",
        "guard": {"decision": "redact", "kinds": {"email": 2, "phone": 1}, "examples": 3}},
    8: {"name": "lora-raw", "duration_s": TRAIN_S, "base_model": "bundled:smollm2-135m-instruct",
        "guard": {"decision": "acknowledge", "kinds": {"iban": 1}, "examples": 1}},
}


def _strategy(position: int, kind: str, model_id: int | None) -> tuple[RunStrategy, StrategySummary]:
    cfg = StrategyConfig(kind=kind, model_id=model_id,
                         corpus_id="c" if kind in ("rag", "hybrid") else None)
    label = cfg.label
    build = {"rag": 9.0, "finetuned": TRAIN_S, "hybrid": TRAIN_S + 9.0}[kind]
    est = mean_ci(SCORES[kind].values())
    metrics = {"semantic_similarity": MetricSummary("semantic_similarity", est, 0, 0, {})}
    summary = StrategySummary(
        key=kind, label=label, kind=kind, config=cfg.as_dict(), model_record=None, answered=24,
        failed_answers=2 if kind == "hybrid" else 0, metrics=metrics,
        abstention=mean_ci([1.0, 0.0]), latency_mean=1.0,
        latency_p95={"rag": 2.5, "finetuned": 0.9, "hybrid": 2.7}[kind], seconds_per_question=0.5,
        tokens_in_mean={"rag": 240.0, "finetuned": 30.0, "hybrid": 250.0}[kind], tokens_out_mean=20.0,
        cost_per_1k={"rag": 0.05, "finetuned": 0.02, "hybrid": 0.06}[kind], build_seconds=build,
        build_cost=build * 0.1 / 3600)
    return RunStrategy(kind, kind, label, position, cfg, None, build), summary


def inputs(*, freshness: dict | None = None, judges: list[str] | None = None,
           models: dict | None = None) -> ReportInputs:
    pairs = [_strategy(0, "rag", None), _strategy(1, "finetuned", 7), _strategy(2, "hybrid", 8)]
    run = EvalRun(id="0f0e0d0c-1111-2222-3333-444455556666", name="demo", question_set_id=1,
                  question_set_name="demo questions", question_set_version=2, part="held_out",
                  language="mixed", corpus_id="c", corpus_name="Nortera demo", corpus_version=4,
                  index_id="i", embed_spec="bundled:use-multilingual",
                  metric_keys=["semantic_similarity", "faithfulness"], batch_size=8, seed=0,
                  job_id=None, created_at=datetime(2025, 5, 1, tzinfo=timezone.utc), n_questions=26,
                  strategies=[p[0] for p in pairs])
    summary = RunSummary(run, {"questions": 26, "strategies": 3, "total": 78, "answered": 78},
                         [p[1] for p in pairs])
    keys = list(MEANS)
    comparisons = [compare_paired(SCORES[a], SCORES[b], a_name=a, b_name=b)
                   for i, a in enumerate(keys) for b in keys[i + 1:]]
    return ReportInputs(
        summary=summary, metric="semantic_similarity", comparisons=comparisons,
        questions={"total": 26, "unanswerable": 2},
        corpus={"name": "Nortera demo", "version": 4, "documents": 20, "with_data": 2,
                "kinds": {"email": 2, "phone": 1}},
        models=LINEAGE if models is None else models, freshness=freshness, judges=judges or [],
        settings={"llm_model": "bundled:smollm2-135m-instruct", "price_per_hour": 0.1,
                  "price_per_1k_tokens_in": 0.0, "price_per_1k_tokens_out": 0.0, "judge_model": ""})


FRESHNESS = {"id": "f", "ingest_seconds": 8.0, "retrain_seconds": TRAIN_S,
             "kinds": {"rag": {"status": "updated_after_ingest", "seconds": 8.0},
                       "finetuned": {"status": "updated_after_retrain", "seconds": 8.0 + TRAIN_S},
                       "hybrid": {"status": "not_updated", "seconds": None}}}


def test_freshness_results_reach_the_table_the_tradeoffs_and_the_decision():
    memo = compose(inputs(freshness=FRESHNESS), Priorities(updates=5, cost=0, privacy=0, latency=0))
    updates = {row[0]: row[6] for row in memo.rows}
    assert updates == {"RAG": "reflected the change after 8.0 s",
                       "Fine-tuned model": "reflected the change after 2 min 13 s",
                       "Hybrid": "did not reflect the change"}
    text = " ".join(memo.tradeoffs)
    assert ("In the freshness test, RAG reflected the updated document as soon as it was ingested "
            "(8.0 s after the change).") in text
    assert "the fine-tuned model needed a 2 min 5 s retrain to reflect the updated document" in text
    assert "the hybrid did not reflect the updated document" in text
    assert not any("No freshness test" in c for c in memo.caveats)
    # quality is tied, updates matter most: the measured freshness decides
    assert memo.outcome == "tied" and memo.choice == "rag"
    assert "faster to update" in memo.recommendation
    assert any(r.startswith("Updates: RAG — reflected the change after 8.0 s; ") for r in memo.reasons)

    es = compose(inputs(freshness=FRESHNESS), Priorities(updates=5), "es")
    assert ("En la prueba de actualización, RAG reflejó el documento actualizado en cuanto se "
            "ingirió (8,0 s después del cambio).") in " ".join(es.tradeoffs)


def test_without_freshness_update_behaviour_is_inferred_from_build_times():
    memo = compose(inputs())
    updates = {row[0]: row[6] for row in memo.rows}
    assert updates["RAG"] == "re-ingest it (indexing took 9.0 s)"
    assert updates["Fine-tuned model"] == "retrain (2 min 5 s)"
    assert updates["Hybrid"] == "re-ingest at once, retrain later (2 min 5 s)"
    assert any("No freshness test was run" in c for c in memo.caveats)


def test_guard_decisions_and_corpus_findings_are_reported():
    memo = compose(inputs())
    sensitive = " ".join(memo.sensitive)
    assert ("Documents with personal data: 2 of the corpus's 20 (e-mail addresses (2) and phone "
            "numbers (1)).") in sensitive
    assert ("Fine-tuned model (lora-returns): the guard found e-mail addresses (2) and phone numbers "
            "(1) in 3 of its training examples; they were redacted") in sensitive
    assert ("Hybrid (lora-raw): the guard found IBAN bank accounts (1) in 1 of its training "
            "examples; the user chose to train on them as they are, accepting the risk.") in sensitive
    privacy = {row[0]: row[7] for row in memo.rows}
    assert privacy["RAG"] == "stay in the database (deletable)"
    assert privacy["Fine-tuned model"].endswith("personal data redacted")
    assert privacy["Hybrid"].endswith("personal data kept (risk accepted)")
    # privacy first in a tie: RAG keeps documents deletable, and acknowledged data is worst
    assert compose(inputs(), Priorities(privacy=5, cost=0, updates=0, latency=0)).choice == "rag"
    es = compose(inputs(), language="es")
    assert "se enmascararon (sustituidos por marcas como [EMAIL])" in " ".join(es.sensitive)
    gone = compose(inputs(models={7: None, 8: None}))
    assert "Fine-tuned model: the model was deleted; its record is no longer available." in gone.sensitive


def test_caveats_name_the_judge_failures_and_the_bundled_models_language():
    memo = compose(inputs(judges=["openai:gpt-4o-mini@http://127.0.0.1:9/v1"]))
    caveats = " ".join(memo.caveats)
    assert "An LLM judge (openai:gpt-4o-mini@http://127.0.0.1:9/v1) scored faithfulness." in caveats
    assert "Sample: 26 questions (24 with a reference answer" in caveats or "Small sample: 26" in caveats
    assert "Hybrid: 2 of 24 answers failed and were left out, not counted as zero." in caveats
    assert "English-first" in caveats and "English and Spanish" in caveats
    assert "SmolLM2-135M-Instruct" in caveats


def test_markdown_and_html_carry_every_section_and_escape_names():
    data = inputs()
    run = data.summary.run
    data.summary.strategies[0] = data.summary.strategies[0].__class__(
        **{**data.summary.strategies[0].__dict__, "label": "RAG <b>|x|</b>"})
    memo = compose(data)
    html, markdown = render.to_html(memo), render.to_markdown(memo)
    assert "RAG &lt;b&gt;|x|&lt;/b&gt;" in html and "<b>|x|" not in html
    assert "RAG <b>\\|x\\|</b>" in markdown  # pipes escaped inside table cells
    for heading in memo.headings.values():
        assert heading in html and f"## {heading}" in markdown
    for line in memo.reasons + memo.tradeoffs + memo.caveats:
        assert f"- {line}" in markdown
    assert run.id in memo.footer and memo.recommendation in markdown
    assert html.count("<rect") == 3 and html.startswith("<!DOCTYPE html>")
