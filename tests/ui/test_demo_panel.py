"""The Load demo panel on Home, rendered with AppTest against the real test database: what it
will do (sizes read from the demo's content), the button queueing one job, the running job's
progress, and a finished demo's comparison read back from stored scores."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from tests.ui.conftest import tree_text
from ui.demo import DEMO_BUTTON_KEY, FRESHNESS_BUTTON_KEY


def _jobs(lab, kind="demo"):
    return lab.db.fetchall("SELECT id, status FROM jobs WHERE kind = %s ORDER BY id", (kind,))


def test_panel_explains_the_demo_and_queues_one_job(app_env, lab, new_app):
    from backend.demo import build

    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = tree_text(at)
    held = sum(q["split"] == "heldout" for q in build.demo_questions())
    assert f"Ingest {len(build.document_info())} documents" in text
    assert f"Ask the {held} held-out questions" in text
    assert "No worker is running" in text  # this test starts none: the demo would wait
    button = at.button(key=DEMO_BUTTON_KEY)
    assert button.label == "Load demo"

    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    jobs = _jobs(lab)
    assert [j["status"] for j in jobs] == ["queued"]
    text = tree_text(at)
    assert "Load the Nortera demo" in text  # its progress panel replaced the button
    assert "○ Documents" in text and "○ Evaluation" in text
    assert "No worker is running" in text  # queued with no worker to take it: still said
    assert not [b for b in at.button if b.key == DEMO_BUTTON_KEY]
    at.run()
    assert len(_jobs(lab)) == 1


def _finished_demo(lab, *, freshness: bool = False) -> dict:
    """A finished demo job whose run holds base and RAG answers with known similarity scores
    (and, with ``freshness``, the demo's freshness check, created and not run)."""
    from backend.corpus.store import create_corpus
    from backend.evaluate import runner
    from backend.evaluate.strategies import StrategyConfig
    from backend.finetune.questions import create_set
    from backend.jobs.service import enqueue

    corpus = create_corpus(lab, "Nortera demo", "en")
    rows = [{"question": f"Question {i}?", "reference": f"Answer {i}.", "part": "held_out"}
            for i in range(3)] + [{"question": "Train?", "reference": "Yes.", "part": "train"}]
    qset = create_set(lab, corpus.id, "Nortera demo questions", rows)
    run = runner.create_run(lab, qset.id, [StrategyConfig(kind="base"),
                                           StrategyConfig(kind="rag")], name="Nortera demo")
    scores = {"base": [0.2, 0.3, 0.4], "rag": [0.5, 0.6, 0.7]}
    for strategy in run.strategies:
        for position, value in enumerate(scores[strategy.kind]):
            lab.db.execute("INSERT INTO eval_answers (run_id, strategy, position, answer,"
                           " latency_s, compute_s, retrieval_s, tokens_in, tokens_out)"
                           " VALUES (%s, %s, %s, %s, 1, 1, 0, 10, 5)",
                           (run.id, strategy.key, position, "An answer."))
            lab.db.execute("INSERT INTO eval_scores (run_id, strategy, position, metric, value,"
                           " status) VALUES (%s, %s, %s, 'semantic_similarity', %s, 'ok')",
                           (run.id, strategy.key, position, value))
    check_id = None
    if freshness:
        from backend.evaluate.freshness import create_freshness, demo_scenario

        files, questions = demo_scenario()
        check_id = create_freshness(lab, corpus.id, files, questions, ["base", "rag"])
    result = {"corpus_id": corpus.id, "question_set_id": qset.id, "run_id": run.id,
              "freshness_check_id": check_id, "summary": {
                  "documents": 20, "questions": 4, "held_out": 3, "train_seconds": 125.0,
                  "guard": {"decision": "redact", "examples": 3, "kinds": {"email": 2, "iban": 1},
                            "where": {"expenses-policy.pdf": {"email": 1, "iban": 1},
                                      "permiso-parental.docx": {"email": 1}}}}}
    job_id = enqueue(lab, "demo", {"plan": {}})
    lab.db.execute("UPDATE jobs SET status = 'succeeded', result = %s, started_at = now(),"
                   " finished_at = now() WHERE id = %s", (Jsonb(result), job_id))
    return result


def test_finished_demo_shows_its_comparison_the_redaction_and_links(app_env, lab, new_app):
    _finished_demo(lab)
    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Base"][0] == "0.30" and metrics["RAG"] == ("0.60", "+0.30")
    text = tree_text(at)
    assert "20 documents, 4 questions (3 held out)" in text and "2 min 05 s" in text
    assert "expenses-policy.pdf, permiso-parental.docx" in text
    assert "e-mail addresses (2)" in text and "bank accounts (IBAN) (1)" in text
    assert at.button(key=DEMO_BUTTON_KEY).label == "Load demo again"
    assert "See the documents" in text  # the Corpora page is in the app: linked

    from ui.state import LANG_KEY

    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    assert not at.exception
    text = tree_text(at)
    assert "La demo está lista" in text and "cuentas bancarias (IBAN) (1)" in text
    assert at.button(key=DEMO_BUTTON_KEY).label == "Cargar la demo otra vez"


def test_deleted_demo_results_say_so_instead_of_failing(app_env, lab, new_app):
    result = _finished_demo(lab)
    lab.db.execute("DELETE FROM eval_runs WHERE id = %s", (result["run_id"],))
    at = new_app().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "results were deleted. Load the demo again" in tree_text(at)


def test_the_prepared_freshness_check_runs_from_the_panel(app_env, lab, new_app):
    from backend.demo import build

    result = _finished_demo(lab, freshness=True)
    at = new_app().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = tree_text(at)
    assert "Freshness scenario: the returns policy changes" in text
    assert f"asks {len(build.freshness_questions())} questions" in text
    at.button(key=FRESHNESS_BUTTON_KEY).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [j["status"] for j in _jobs(lab, "freshness")] == ["queued"]
    row = lab.db.fetchone("SELECT job_id FROM freshness_checks WHERE id = %s",
                          (result["freshness_check_id"],))
    assert row["job_id"] == _jobs(lab, "freshness")[0]["id"]
    assert not [b for b in at.button if b.key == FRESHNESS_BUTTON_KEY]  # its progress instead
