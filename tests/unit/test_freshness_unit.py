"""What "reflects the change" means in a freshness check: planted facts, whole-token matches,
evidence in the retrieved passages, the similarity fallback, and the demo scenario's inputs."""

from __future__ import annotations

import pytest

from backend.errors import InputError
from backend.evaluate.freshness import (assess, demo_scenario, derive_facts, holds_evidence,
                                        mentions, prepare_questions)
from backend.evaluate.freshness_results import _status

Q = prepare_questions([{"question": "How many days do I have to return an order?",
                        "reference_v1": "30 calendar days from delivery.",
                        "reference_v2": "45 calendar days from delivery.",
                        "reference_contexts_v2": ["You can return any product within 45 calendar "
                                                  "days of delivery"]}])[0]


def test_facts_are_the_numbers_only_one_version_has():
    assert derive_facts("45 calendar days", "30 calendar days") == ["45"]
    assert derive_facts("Cuesta 6,95 euros.", "Es gratuita.") == ["6,95"]
    assert derive_facts("Es gratuita.", "Cuesta 6,95 euros.") == []
    assert derive_facts("Since 1 June 2025.", "Since 1 March 2024.") == ["2025"]
    assert (Q["facts_v1"], Q["facts_v2"], Q["language"]) == (["30"], ["45"], "en")
    assert Q["qid"] == "1"


def test_a_fact_matches_as_a_whole_token():
    assert mentions("You have 45 days.", ["45"]) and mentions("45, as stated", ["45"])
    for text in ("You have 145 days.", "It costs 45.50 euros", "450 days", "v2.45"):
        assert not mentions(text, ["45"]), text
    assert mentions("Cuesta 6,95 euros", ["6,95"]) and not mentions("", ["45"])


def test_evidence_in_passages():
    assert holds_evidence(["Return within 45 days."], ["45"], [])
    assert holds_evidence(["...you can  RETURN any product within 45 calendar days of delivery for"],
                          [], Q["reference_contexts_v2"])
    assert not holds_evidence(["Return within 30 days."], ["45"], Q["reference_contexts_v2"])


def test_assess_answers_and_contexts():
    said_v2 = assess(Q, "You have 45 days.", None, 0.5, 0.6)
    assert said_v2["answer_reflects"] and said_v2["reflects"] and said_v2["context_v2"] is None
    both = assess(Q, "It was 30 days, now 45 days.", None, 0.5, 0.9)
    assert not both["answer_reflects"]  # states the old fact too
    vague = assess(Q, "Some days.", None, 0.1, 0.9)
    assert not vague["answer_reflects"]  # the new fact is not stated, whatever the similarity
    # retrieval: judged by what the model was given, the answer is still recorded
    given = assess(Q, "Some days.", ["Return within 45 calendar days."], 0.1, 0.1)
    assert given["reflects"] and given["context_v2"] and not given["context_v1"]
    assert not given["answer_reflects"]
    stale = assess(Q, "45 days", ["Return within 30 calendar days."], 0.1, 0.9)
    assert not stale["reflects"] and stale["answer_reflects"]
    # no number differs: similarity decides
    free = prepare_questions([{"question": "¿Cuánto cuesta la etiqueta?", "language": "es",
                               "reference_v1": "Cuesta 6,95 euros.", "reference_v2": "Es gratuita."}])[0]
    assert free["facts_v2"] == [] and free["language"] == "es"
    assert assess(free, "Es gratis.", None, 0.2, 0.7)["answer_reflects"]
    assert not assess(free, "Cuesta 6,95 euros.", None, 0.9, 0.2)["answer_reflects"]


def test_questions_are_validated():
    with pytest.raises(InputError, match="reference_v2"):
        prepare_questions([{"question": "q?", "reference_v1": "a"}])
    with pytest.raises(InputError, match="at least one"):
        prepare_questions([])


def test_strategy_status_by_phase():
    assert _status({"before": 0.0, "after_ingest": 1.0, "after_retrain": None}, 0.5) == (
        "updated_after_ingest", "ingestion")
    assert _status({"before": 0.0, "after_ingest": 0.5, "after_retrain": 1.0}, 0.5) == (
        "updated_after_retrain", "retrain")
    assert _status({"before": 1.0, "after_ingest": 1.0}, 0.5) == ("already_current", None)
    assert _status({"before": 0.0, "after_ingest": 0.0, "after_retrain": None}, 0.5) == (
        "not_updated", None)


def test_the_demo_scenario():
    files, questions = demo_scenario()
    assert {name for name, _ in files} >= {"returns-policy.pdf"} and all(data for _, data in files)
    prepared = prepare_questions(questions)
    assert len(prepared) == len(questions) >= 5
    first = next(q for q in prepared if q["qid"] == "fr-01")
    assert (first["facts_v1"], first["facts_v2"]) == (["30"], ["45"])
