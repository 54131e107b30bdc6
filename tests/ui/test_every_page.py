"""Every page of ``app.PAGES`` in AppTest, on an empty database and on a populated one.

The page-specific tests (test_<page>_page.py) go deep; this one goes wide: a page added to the app
is rendered here too (it fails until its title is listed below), and on a lab holding a corpus, a
question set, a scored evaluation run, a finished demo and a saved setting each page must show
what those rows say, every expected value computed from the data by the backend.
"""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from tests.ui.conftest import tree_text
from ui.i18n import translate

#: catalogue key of each page's title (a new page must be added here)
TITLES = {"pages/home.py": "home.headline", "pages/corpora.py": "corpora.title",
          "pages/ask.py": "ask.title", "pages/finetune.py": "finetune.title",
          "pages/evaluate.py": "evaluate.title", "pages/report.py": "report.title",
          "pages/settings.py": "settings.title"}
DOC = (b"# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase for a full "
       b"refund.\n\n# Care\n\nClean the tent with lukewarm water and mild soap; never machine-wash "
       b"it.\n")
#: per held-out question: the base model's and RAG's answer similarity (seeded, not round)
SCORES = {"base": [0.21, 0.34, 0.28, 0.40], "rag": [0.55, 0.71, 0.49, 0.66]}


def app_pages() -> list[str]:
    import ast

    from tests.ui.conftest import APP

    tree = ast.parse(APP.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PAGES")
    return [entry[0] for entry in ast.literal_eval(node.value)]


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


def visit(at, path: str):
    at.switch_page(path).run()
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    assert not problems, f"{path}: {problems}"
    assert at.title[0].value == en(TITLES[path]), path
    return at


def test_every_page_is_listed_here():
    assert set(app_pages()) == set(TITLES), "add the new page's title key to TITLES"


def test_every_page_renders_on_an_empty_database(app_env, lab, new_app):
    version = lab.db.fetchone("SHOW server_version")["server_version"]
    at = new_app().run()
    for path in app_pages():
        visit(at, path)
        # the sidebar status is on every page, read from the database
        assert any(en("sidebar.database_ok", version=version) in c.value
                   for c in at.sidebar.caption), path
        if path not in ("pages/home.py", "pages/settings.py"):
            assert at.info, f"{path}: an empty page says what to do next"


@pytest.fixture
def populated(app_env, lab):
    """A corpus with one document (real embeddings), a question set of it, an evaluation run of
    base and RAG with stored answers and scores, the demo job that made them, a saved setting."""
    from backend.corpus import store
    from backend.corpus.ingest import ingest
    from backend.db import settings_store
    from backend.evaluate import runner
    from backend.evaluate.strategies import StrategyConfig
    from backend.finetune.questions import create_set
    from backend.jobs.service import enqueue

    corpus = store.create_corpus(lab, "Tent handbook", "en")
    assert ingest(lab, corpus.id, [("tents.md", DOC)]).count("added") == 1
    rows = [{"question": f"Question {i}?", "reference": f"Answer {i}.", "part": "held_out"}
            for i in range(4)] + [{"question": "How long to return it?", "reference": "45 days.",
                                   "part": "train"}]
    qset = create_set(lab, corpus.id, "tent questions", rows)
    run = runner.create_run(lab, qset.id, [StrategyConfig(kind="base"), StrategyConfig(kind="rag")],
                            metric_keys=["semantic_similarity"], name="tent run")
    with lab.db.connect() as conn:
        for strategy in run.strategies:
            for position, value in enumerate(SCORES[strategy.kind]):
                conn.execute(
                    "INSERT INTO eval_answers (run_id, strategy, position, answer, contexts,"
                    " latency_s, compute_s, retrieval_s, tokens_in, tokens_out) VALUES (%s, %s, %s,"
                    " 'An answer.', %s, 1.5, 1.0, 0.05, 90, 12)",
                    (run.id, strategy.key, position,
                     None if strategy.kind == "base" else Jsonb(["a passage"])))
                conn.execute("INSERT INTO eval_scores (run_id, strategy, position, metric, value,"
                             " status) VALUES (%s, %s, %s, 'semantic_similarity', %s, 'ok')",
                             (run.id, strategy.key, position, value))
    result = {"corpus_id": corpus.id, "question_set_id": qset.id, "run_id": run.id,
              "summary": {"documents": 1, "questions": 5, "held_out": 4, "train_seconds": 30.0}}
    job_id = enqueue(lab, "demo", {"plan": {}})
    lab.db.execute("UPDATE jobs SET status = 'succeeded', result = %s, started_at = now(),"
                   " finished_at = now() WHERE id = %s", (Jsonb(result), job_id))
    settings_store.save(lab.db, {"judge_model": "judge-from-the-db"})
    return {"corpus": store.get_corpus(lab, corpus.id), "set": qset, "run_id": run.id}


def test_every_page_shows_the_data_of_a_populated_lab(app_env, lab, populated, new_app):
    from backend.corpus import store
    from backend.evaluate.results import run_summary
    from backend.evaluate.wording import describe_estimate, format_number
    from backend.finetune.questions import get_set
    from ui.state import SETTINGS_WIDGET_PREFIX

    corpus, run_id = populated["corpus"], populated["run_id"]
    docs = store.list_documents(lab, corpus.id)
    qset = get_set(lab, populated["set"].id, with_rows=False)
    strategies = run_summary(lab, run_id).strategies
    similarity = {s.label: s.metrics["semantic_similarity"].estimate for s in strategies}
    by_name = {en(f"strategy.{s.kind}"): s.metrics["semantic_similarity"].estimate
               for s in strategies}  # the Evaluate page names strategies by kind
    at = new_app().run()
    seen = set()
    for path in app_pages():
        visit(at, path)
        seen.add(path)
        metrics = {m.label: m.value for m in at.metric}
        if path == "pages/home.py":  # the finished demo's headline: run_summary's means
            assert {label: metrics.get(label) for label in similarity} == {
                label: f"{e.mean:.2f}" for label, e in similarity.items()}
        elif path == "pages/corpora.py":
            table = at.dataframe[0].value
            assert table["name"].tolist() == [d.name for d in docs]
            assert table["chunks"].tolist() == [d.chunk_count for d in docs]
            assert metrics[en("corpora.metric.chunks")] == str(sum(d.chunk_count for d in docs))
        elif path == "pages/ask.py":
            assert at.selectbox(key="ask.corpus").value == corpus.id and not at.warning
        elif path == "pages/finetune.py":
            sets = at.dataframe[0].value
            assert sets["name"].tolist() == [qset.name]
            assert sets["held_out"].tolist() == [qset.n_held_out]
            assert sets["train"].tolist() == [qset.n_questions - qset.n_held_out]
        elif path == "pages/evaluate.py":
            assert at.selectbox(key="evaluate.run").value == run_id
            assert {name: metrics.get(name) for name in by_name} == {
                name: format_number(e.mean, "en") for name, e in by_name.items()}
        elif path == "pages/report.py":
            memo = "\n".join(e.proto.body for e in at.get("html"))
            for estimate in similarity.values():
                assert describe_estimate(estimate, "en") in memo
        elif path == "pages/settings.py":
            saved = at.text_input(key=SETTINGS_WIDGET_PREFIX + "judge_model")
            assert saved.value == lab.reload_settings().settings.judge_model
            assert lab.settings.data_path.as_posix() in tree_text(at)
    assert seen == set(TITLES)
