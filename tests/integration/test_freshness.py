"""The freshness check with the real bundled models on a tiny corpus: a returns policy changes
from 30 to 45 days. RAG's retrieved passages (and so what its model is told) switch to v2 as soon
as ingestion finishes; the closed-book base model answers exactly as before. With a fine-tuned
model, the retrain step rebuilds its training data from the updated question set, trains, and
the re-asked model is the new one."""

from __future__ import annotations

import pytest

from backend.evaluate.freshness import create_freshness, enqueue_freshness, execute_freshness
from backend.evaluate.freshness_results import (delete_freshness, freshness_answers,
                                                freshness_summary, get_freshness, list_freshness)
from backend.evaluate.strategies import StrategyConfig

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread

RETURNS_V1 = ("# Returns policy\n\nCustomers may return any product within 30 days of delivery for a "
              "full refund. Returned items must be unused and in their original packaging.\n")
RETURNS_V2 = RETURNS_V1.replace("30 days", "45 days")
OTHER = {"tents.md": "# Altura 2 tent\n\nThe Altura 2 tent weighs 1.9 kilograms and sleeps two "
                     "people. Its poles are made of aluminium.\n",
         "office.md": "# Offices\n\nThe head office is in Bilbao, on Gran Via 12. It opens from "
                      "8:00 to 17:00 on weekdays.\n"}
QUESTION = {"id": "fr-1", "question": "How many days do customers have to return a product?",
            "reference_v1": "Customers have 30 days from delivery to return a product.",
            "reference_v2": "Customers have 45 days from delivery to return a product.",
            "reference_contexts_v1": ["Customers may return any product within 30 days of delivery"],
            "reference_contexts_v2": ["Customers may return any product within 45 days of delivery"]}
FAST = {"max_new_tokens": 24}


@pytest.fixture
def corpus(lab):
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus, get_corpus

    corpus = create_corpus(lab, "tiny", "en")
    ingest(lab, corpus.id, [("returns.md", RETURNS_V1.encode()),
                            *[(n, t.encode()) for n, t in OTHER.items()]])
    return get_corpus(lab, corpus.id)


def test_rag_reflects_the_change_at_once_and_closed_book_does_not(lab, lab_env, corpus, monkeypatch):
    from backend.jobs.runner import run_inline

    strategies = [StrategyConfig(kind="base", generation=FAST),
                  StrategyConfig(kind="rag", generation=FAST, k=1, mode="vector")]
    check_id = create_freshness(lab, corpus.id, [("returns.md", RETURNS_V2.encode())], [QUESTION],
                                strategies, name="returns window")
    for name, value in lab_env.items():  # a job reloads its settings from the environment
        monkeypatch.setenv(name, value)
    job = run_inline(lab, enqueue_freshness(lab, check_id))
    assert job.status == "succeeded", job.error
    assert {s["key"]: s["status"] for s in job.result["strategies"]}["rag"] == "updated_after_ingest"

    summary = freshness_summary(lab, check_id)
    assert summary["status"] == "finished" and summary["version_after"] > summary["version_before"]
    assert summary["files"][0]["name"] == "returns.md" and summary["ingest_seconds"] > 0
    assert summary["questions"][0]["facts_v1"] == ["30"] and summary["questions"][0]["facts_v2"] == ["45"]
    by = {s["key"]: s for s in summary["strategies"]}
    rag, base = by["rag"], by["base"]
    assert rag["shares"]["before"] == 0.0 and rag["shares"]["after_ingest"] == 1.0
    assert rag["updated_by"] == "ingestion"
    # updated when ingestion finished: its time to update is the ingestion (measured apart)
    assert rag["time_to_update_s"] == pytest.approx(summary["ingest_seconds"], abs=0.5)
    assert base["status"] != "updated_after_ingest" and base["updated_by"] != "ingestion"

    answers = {(a["phase"], a["strategy"]): a for a in freshness_answers(lab, check_id)}
    assert len(answers) == 4
    before, after = answers[("before", "rag")], answers[("after_ingest", "rag")]
    assert "30 days" in before["contexts"][0] and "45 days" in after["contexts"][0]
    assert (before["context_v1"], before["context_v2"]) == (True, False)
    assert (after["context_v1"], after["context_v2"], after["reflects"]) == (False, True, True)
    assert after["since_change_s"] >= rag["time_to_update_s"] and before["since_change_s"] is None
    # the similarity check: RAG's answer moved towards reference v2 (measured on the answers;
    # whole 40-word chunks that differ in one number embed almost alike)
    assert after["sim_v2"] - after["sim_v1"] > before["sim_v2"] - before["sim_v1"]
    for a in answers.values():  # every answer is compared with both references
        assert -1 <= a["sim_v1"] <= 1 and -1 <= a["sim_v2"] <= 1 and a["error"] is None
        assert a["answer_reflects"] == (a["fact_v2"] and not a["fact_v1"])
    # closed book: the very same answer after the change, and no passages
    assert answers[("before", "base")]["answer"] == answers[("after_ingest", "base")]["answer"]
    assert answers[("after_ingest", "base")]["contexts"] is None
    assert answers[("after_ingest", "base")]["context_v2"] is None

    timeline = get_freshness(lab, check_id)
    assert [e["event"] for e in timeline] == ["started", "asked", "asked", "change_started",
                                              "ingest_finished", "asked", "asked", "finished"]
    assert [e["phase"] for e in timeline if e["event"] == "asked"] == [
        "before", "before", "after_ingest", "after_ingest"]
    assert all(a["elapsed_s"] <= b["elapsed_s"] and a["at"] <= b["at"]
               for a, b in zip(timeline, timeline[1:]))
    ingest_event = next(e for e in timeline if e["event"] == "ingest_finished")
    assert ingest_event["detail"]["outcomes"]["replaced"] == 1
    assert ingest_event["detail"]["corpus_version"] == summary["version_after"]
    asked_rag = [e for e in timeline if e["event"] == "asked" and e["strategy"] == "rag"]
    assert [e["detail"]["reflecting"] for e in asked_rag] == [0, 1] and asked_rag[0]["label"] == "RAG"

    # a check runs once; it can be listed and deleted
    with pytest.raises(Exception, match="interrupted|already run"):
        execute_freshness(lab, check_id)
    assert list_freshness(lab)[0]["id"] == check_id
    delete_freshness(lab, check_id)
    assert list_freshness(lab) == []


def test_bad_input_is_refused_before_anything_runs(lab, corpus):
    from backend.errors import InputError, NotFound

    with pytest.raises(InputError, match="reference_v2"):
        create_freshness(lab, corpus.id, [("returns.md", b"x")], [{"question": "q?",
                                                                   "reference_v1": "a"}], ["rag"])
    with pytest.raises(InputError, match="changed document"):
        create_freshness(lab, corpus.id, [], [QUESTION], ["rag"])
    with pytest.raises(InputError, match="retrain needs"):
        create_freshness(lab, corpus.id, [("returns.md", b"x")], [QUESTION], ["rag"], retrain=True)
    with pytest.raises(NotFound):
        create_freshness(lab, corpus.id, [("returns.md", b"x")], [QUESTION], ["finetuned:model_id=999"])
    assert list_freshness(lab) == []


def test_retrain_updates_the_fine_tuned_model(lab, corpus):
    """A LoRA learnt the v1 answer; the retrain rebuilds its data from the updated question set,
    trains a new model and re-asks with it (its time to update includes the retrain)."""
    from backend.finetune import datasets
    from backend.finetune.config import FinetuneConfig
    from backend.finetune.jobs import run_finetune
    from backend.finetune.questions import create_set, get_set, list_sets

    rows = [{"question": QUESTION["question"], "reference": QUESTION["reference_v1"], "part": "train"},
            {"question": "What are the Altura 2 tent poles made of?", "reference": "Aluminium.",
             "part": "train"},
            {"question": "Where is the head office?", "reference": "In Bilbao.", "part": "held_out"}]
    qset = create_set(lab, corpus.id, "tiny set", rows)
    ds = datasets.build_dataset(lab, "qa_pairs", corpus.id, question_set_id=qset.id)
    recipe = FinetuneConfig(method="adapter", learning_rate=3e-3, max_steps=12, epochs=100,
                            batch_size=2, max_length=64, val_fraction=0.0, eval_every=0,
                            checkpoint_every=0, log_every=4)
    first = run_finetune(lab, {"dataset_id": ds.id, "config": recipe.as_dict(), "name": "v1 LoRA"})

    strategies = [StrategyConfig(kind="finetuned", model_id=first["model_id"], generation=FAST)]
    check_id = create_freshness(lab, corpus.id, [("returns.md", RETURNS_V2.encode())], [QUESTION],
                                strategies, retrain=True, name="retrain check")
    summary = execute_freshness(lab, check_id)
    assert summary["status"] == "finished", summary["error"]
    events = [e["event"] for e in get_freshness(lab, check_id)]
    assert events == ["started", "asked", "change_started", "ingest_finished", "asked",
                      "retrain_started", "dataset_built", "retrain_finished", "asked", "finished"]
    built = next(e for e in get_freshness(lab, check_id) if e["event"] == "dataset_built")
    assert built["detail"]["builder"] == "qa_pairs" and built["detail"]["examples"] == 2
    new_model = summary["retrained_model_id"]
    assert new_model not in (None, first["model_id"]) and summary["retrain_seconds"] > 0

    # the question set got a new version saying 45 days, with the held-out question kept apart
    latest = get_set(lab, max(s.id for s in list_sets(lab, corpus.id)))
    assert (latest.name, latest.version) == ("tiny set", 2)
    updated = {r.question: r for r in latest.rows}
    assert updated[QUESTION["question"]].reference == QUESTION["reference_v2"]
    assert updated["Where is the head office?"].part == "held_out"

    answers = {a["phase"]: a for a in freshness_answers(lab, check_id)}
    assert answers["before"]["model"] == answers["after_ingest"]["model"] == f"model {first['model_id']}"
    assert answers["after_retrain"]["model"] == f"model {new_model}"
    assert "30" in answers["before"]["answer"]  # the first LoRA learnt the v1 answer
    # the fine-tuned model cannot see the new document: ingestion changes nothing for it
    assert answers["before"]["answer"] == answers["after_ingest"]["answer"]
    tuned = summary["strategies"][0]
    assert tuned["status"] != "updated_after_ingest"
    # 12 LoRA steps on two pairs are enough for the model to say 45 days (greedy, seeded)
    assert "45" in answers["after_retrain"]["answer"] and answers["after_retrain"]["reflects"]
    assert tuned["status"] == "updated_after_retrain" and tuned["updated_by"] == "retrain"
    timeline = {e["event"]: e["elapsed_s"] for e in get_freshness(lab, check_id)}
    assert tuned["time_to_update_s"] == pytest.approx(
        timeline["retrain_finished"] - timeline["change_started"])
    assert tuned["time_to_update_s"] > summary["retrain_seconds"] > 0
