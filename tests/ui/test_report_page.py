"""The Report page in AppTest against the real test database: the empty state, then a run whose
stored scores show RAG measurably ahead of the base model. The memo on the page is the one the
HTML download holds; the priorities in the sidebar recompose it; it follows the language."""

from __future__ import annotations

import re

import pytest
from psycopg.types.json import Jsonb

from backend.evaluate import results, runner
from backend.evaluate.strategies import StrategyConfig
from backend.evaluate.wording import describe_estimate
from tests.ui.conftest import open_page
from ui.i18n import translate
from ui.report import DOWNLOAD_HTML_KEY, DOWNLOAD_MD_KEY, PRIORITY_PREFIX

PAGE = "pages/report.py"
N = 12
#: per question: the base model's and RAG's answer similarity (RAG ahead on every question)
BASE = [0.20 + 0.02 * (i % 5) for i in range(N)]
RAG = [b + 0.30 + 0.01 * (i % 3) for i, b in enumerate(BASE)]


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


def memo_text(at) -> str:
    """The memo's HTML as the page holds it (st.html)."""
    bodies = [e.proto.body for e in at.get("html")]
    assert len(bodies) == 1
    return bodies[0]


@pytest.fixture
def planted_run(lab) -> str:
    """A real run (corpus, question set, base and RAG strategies) whose answers and scores are
    stored as the runner stores them: RAG 0.3 ahead on every question."""
    from backend.corpus.store import create_corpus
    from backend.finetune.questions import create_set

    corpus = create_corpus(lab, "handbook", "en")
    rows = [{"question": f"Question {i}?", "reference": f"Answer {i}.", "part": "held_out"}
            for i in range(N)]
    qset = create_set(lab, corpus.id, "handbook set", rows)
    run = runner.create_run(lab, qset.id, [StrategyConfig(kind="base"), StrategyConfig(kind="rag")],
                            metric_keys=["semantic_similarity"])
    with lab.db.connect() as conn:
        for key, values, latency in (("base", BASE, 0.8), ("rag", RAG, 2.0)):
            for position, value in enumerate(values):
                conn.execute(
                    "INSERT INTO eval_answers (run_id, strategy, position, answer, contexts, latency_s,"
                    " compute_s, retrieval_s, tokens_in, tokens_out) VALUES (%s, %s, %s, 'an answer',"
                    " %s, %s, %s, 0.05, 100, 20)",
                    (run.id, key, position, None if key == "base" else Jsonb(["a passage"]),
                     latency, latency / 4))
                conn.execute("INSERT INTO eval_scores (run_id, strategy, position, metric, value,"
                             " status) VALUES (%s, %s, %s, 'semantic_similarity', %s, 'ok')",
                             (run.id, key, position, value))
    return run.id


def test_empty_state_says_what_to_do(app_env, new_app):
    at = open_page(new_app, PAGE, strict=True)
    assert at.title[0].value == en("report.title")
    assert [i.value for i in at.info] == [en("report.empty")]
    assert not at.get("html") and not at.get("download_button")


def test_the_memo_follows_the_stored_results_and_the_priorities(app_env, new_app, lab, planted_run):
    at = open_page(new_app, PAGE, strict=True)
    assert at.selectbox(key="report.run").value == planted_run
    html = memo_text(at)
    assert "Use RAG: it gives the best answers on this corpus — RAG beats the base model on answer " \
           "similarity by 0.31 (95% CI" in html
    summary = results.run_summary(lab, planted_run)
    for s in summary.strategies:  # the numbers run_summary computed, as the memo prints them
        assert describe_estimate(s.metrics["semantic_similarity"].estimate, "en") in html
    assert '<img class="chart"' in html and "data:image/svg+xml;base64," in html
    assert "<svg" not in html and "<script" not in html  # st.html keeps HTML only: no inline SVG
    # the download buttons are there, and the page shows the memo the HTML download holds
    keys = {b.proto.id for b in at.get("download_button")}
    assert any(DOWNLOAD_HTML_KEY in k for k in keys) and any(DOWNLOAD_MD_KEY in k for k in keys)
    import base64

    from backend.report.build import build_report
    from backend.report.render import memo_html

    chart = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)).decode()
    assert chart.count("<rect") == 2 and 'xmlns="http://www.w3.org/2000/svg"' in chart

    same = memo_html(build_report(lab, planted_run), chart_as_image=True)
    footer = re.compile(r"<footer>.*?</footer>")
    assert footer.sub("", same) == footer.sub("", html)

    # quality no longer matters and latency does: the faster base model is chosen, and it says why
    at.sidebar.slider(key=PRIORITY_PREFIX + "quality").set_value(0)
    at.sidebar.slider(key=PRIORITY_PREFIX + "latency").set_value(5).run()
    assert not at.exception
    html = memo_text(at)
    assert "Use the base model: you gave answer quality no weight" in html
    assert "answer quality 0/5" in html and "latency 5/5" in html


def test_the_memo_follows_the_language(app_env, new_app, planted_run):
    from ui.state import LANG_KEY

    at = open_page(new_app, PAGE, strict=True)
    at.sidebar.slider(key=PRIORITY_PREFIX + "cost").set_value(1).run()
    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    assert not at.exception
    assert at.title[0].value == translate("es", "report.title")
    html = memo_text(at)
    assert "Informe de decisión" in html and "Usa RAG: da las mejores respuestas" in html
    assert "RAG supera al modelo base en similitud de respuesta por 0,31 (IC 95 %" in html
    assert "Decision report" not in html
    # the priorities set before the switch are kept
    assert at.sidebar.slider(key=PRIORITY_PREFIX + "cost").value == 1 and "coste 1/5" in html
