"""The Evaluate page in AppTest against the real test database and the real bundled models: the
empty state; then a run launched through the page's form (base model + RAG on a tiny corpus and
question set), its job run inline, and the results read back: headline numbers equal to
``run_summary``'s, every tab's chart, a question opened side by side, the head-to-head sentence,
Spanish numbers, the exports, and deleting the run."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest

from tests.ui.conftest import open_page, tree_text
from ui.i18n import translate

PAGE = "pages/evaluate.py"
DOCS = {
    "returns.md": "# Returns\n\nCustomers may return any product within 45 days of delivery for a "
                  "full refund.\n",
    "office.md": "# Offices\n\nThe head office is in Bilbao, on Gran Via 12.\n",
}
HELD_OUT = [
    {"question": "How many days do customers have to return a product?",
     "reference": "Customers have 45 days from delivery to return a product.",
     "reference_contexts": ["Customers may return any product within 45 days of delivery for a "
                            "full refund."]},
    {"question": "Where is the head office?", "reference": "The head office is in Bilbao, on Gran Via 12.",
     "reference_contexts": ["The head office is in Bilbao, on Gran Via 12."]},
    {"question": "Does the company offer a pension plan to employees?",
     "reference": "The documents do not say.", "tags": ["unanswerable"]},
]
TRAIN = [{"question": "What is the return period?", "reference": "45 days from delivery."}]


pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread (tests/conftest.py)


def en(key: str, **fmt) -> str:
    return translate("en", key, **fmt)


def open_tab(at, name: str, lang: str = "en"):
    """Open a results tab, as a click on it does (only the open tab is drawn)."""
    at.session_state[f"evaluate.tab.{lang}"] = translate(lang, f"evaluate.tab.{name}")
    at.run()
    assert not problems(at), problems(at)
    return at


def problems(at) -> list:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def shown(at) -> str:
    """What a reader sees in Markdown, captions and alerts (Markdown escapes removed)."""
    values = [e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.success]]
    return re.sub(r"\\([^\w\s])", r"\1", "\n".join(values))


@pytest.fixture
def question_set(app_env, lab):
    """A two-document corpus (ingested inline, real embeddings) and a question set of it: three
    held-out questions (one the documents cannot answer) and one for training."""
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus
    from backend.finetune.questions import create_set

    corpus = create_corpus(lab, "Tiny handbook", "en")
    ingest(lab, corpus.id, [(name, text.encode()) for name, text in DOCS.items()])
    rows = [{**q, "part": "held_out"} for q in HELD_OUT] + [{**q, "part": "train"} for q in TRAIN]
    return create_set(lab, corpus.id, "tiny set", rows)


def test_empty_state(app_env, new_app):
    at = open_page(new_app, PAGE, strict=True)
    assert at.title[0].value == en("evaluate.title")
    assert [i.value for i in at.info] == [en("evaluate.empty")]
    assert not at.get("plotly_chart") and not at.selectbox


def test_launch_run_and_read_the_results(app_env, lab, question_set, new_app):
    from backend.evaluate import results
    from backend.evaluate.wording import describe_comparison, describe_estimate, format_number
    from backend.jobs.runner import run_inline
    from backend.jobs.service import get_job

    at = open_page(new_app, PAGE, strict=True)
    assert not at.info  # a question set exists: no empty state, the launch form instead
    assert at.selectbox(key="evaluate.launch.set.en").value == question_set.id
    assert at.radio(key="evaluate.launch.part.en").value == "held_out"  # the fair test by default
    at.number_input(key="evaluate.launch.max_new_tokens").set_value(16)
    at.selectbox(key="evaluate.launch.mode.en").set_value("vector")
    at.number_input(key="evaluate.launch.k").set_value(2)
    at.button(key="evaluate.launch.submit").click().run()
    assert not problems(at), problems(at)

    runs = results.list_runs(lab)
    assert len(runs) == 1 and runs[0]["strategies"] == ["Base", "RAG"] and runs[0]["questions"] == 3
    run_id, job_id = runs[0]["id"], runs[0]["job_id"]
    assert get_job(lab, job_id).status == "queued"
    assert en("evaluate.launch.started", name="tiny set v1 · held\\-out", n=3, strategies=2) in [
        s.value for s in at.success]
    assert en("evaluate.run.wait") in shown(at)  # the job panel, no results yet
    assert run_inline(lab, job_id).status == "succeeded"

    at.run()
    assert not problems(at), problems(at)
    summary = results.run_summary(lab, run_id)
    sim = {s.key: s.metrics["semantic_similarity"].estimate for s in summary.strategies}
    assert all(est.n == 2 for est in sim.values())  # the unanswerable question is scored apart

    # headline row: one metric per strategy with run_summary's mean, its CI and n, delta vs base
    metrics = {m.label: m for m in at.metric}
    assert set(metrics) == {en("strategy.base"), en("strategy.rag")}
    for key, name in (("base", en("strategy.base")), ("rag", en("strategy.rag"))):
        assert metrics[name].value == format_number(sim[key].mean, "en")
    text = shown(at)
    interval = describe_estimate(sim["rag"], "en")  # "0.54 (95% CI 0.09–1.00, n = 2)"
    assert interval[interval.index("(") + 1:-1] in [c.value for c in at.caption]  # under its number
    delta = sim["rag"].mean - sim["base"].mean
    assert metrics[en("strategy.rag")].delta.lstrip("+") == format_number(delta, "en")
    # only the open tab is drawn: the overview's bars
    assert [c.key for c in at.get("plotly_chart")] == ["evaluate.chart.overview"]
    page = tree_text(at)
    assert en("metric.semantic_similarity") in page and en("metric.context_recall") in page
    judge = en("evaluate.needs_judge", metrics="|").split("|")[0]  # the metrics that need a judge
    assert [i.value for i in at.info if i.value.startswith(judge + en("metric.faithfulness"))]
    assert not re.search(r"\bnan\b", page, re.I)  # no NaN shown as a score anywhere

    # the overview table: base model's context recall is not applicable, never a number
    table = at.dataframe[0].value
    assert table.loc[en("metric.context_recall"), en("strategy.base")] == en("evaluate.cell.not_applicable")
    rag_similarity = table.loc[en("metric.semantic_similarity"), en("strategy.rag")]
    assert rag_similarity == describe_estimate(sim["rag"], "en")

    # every other tab draws its charts when opened: trade-offs, heatmap, head to head (2),
    # abstention; the compare tab says there is no other run
    drawn = {}
    for name in ("tradeoffs", "questions", "h2h", "unanswerable", "compare"):
        drawn[name] = [c.key for c in open_tab(at, name).get("plotly_chart")]
        assert not re.search(r"\bnan\b", tree_text(at), re.I), name
    assert all(drawn[name] for name in ("tradeoffs", "questions", "unanswerable")), drawn
    assert len(drawn["h2h"]) == 2 and not drawn["compare"], drawn
    assert en("evaluate.compare.none") in [i.value for i in at.info]
    assert not set(drawn["tradeoffs"]) & set(drawn["questions"])  # one tab at a time

    # head to head: RAG against the base model, the sentence from the stored scores
    open_tab(at, "h2h")
    text = shown(at)
    h2h = results.head_to_head(lab, run_id, "rag", "base", "semantic_similarity")
    sentence = describe_comparison(replace(h2h.comparison, a="RAG", b="the base model"),
                                   "answer similarity", "en")
    assert sentence[:1].upper() + sentence[1:] in text

    # per question: open the second question; every strategy's answer next to the reference
    open_tab(at, "questions")
    at.selectbox(key="evaluate.question").set_value(1).run()
    assert not problems(at), problems(at)
    detail = results.question_detail(lab, run_id, 1)
    text = shown(at)
    assert "The head office is in Bilbao, on Gran Via 12." in text
    assert en("evaluate.question.closed_book") in text  # the base model got no passages
    page = tree_text(at)
    for answer in detail["answers"]:
        assert (answer["answer"] or "").strip()[:20] in page

    # exports: CSV rows per question and strategy, as the backend writes them
    rows = list(csv.DictReader(io.StringIO(results.export_run(lab, run_id, "csv").decode())))
    assert len(rows) == 6
    assert {b.proto.label for b in at.get("download_button")} == {en("evaluate.export.csv"),
                                                                  en("evaluate.export.json")}

    # Spanish: translated names and labels, decimal commas; the open tab and the choices made
    # carry over (the question chosen is kept while another tab is open)
    open_tab(at, "h2h")
    at.selectbox(key="evaluate.h2h.metric.en").set_value("rouge_l").run()
    at.sidebar.radio[0].set_value("es").run()
    assert not problems(at), problems(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("es", "strategy.base")] == format_number(sim["base"].mean, "es")
    assert translate("es", "metric.semantic_similarity") in tree_text(at)
    assert at.selectbox(key="evaluate.h2h.metric.es").value == "rouge_l"
    assert at.session_state["evaluate.question"] == 1
    open_tab(at, "questions", "es")
    assert at.selectbox(key="evaluate.question").value == 1
    open_tab(at, "h2h", "es")
    at.sidebar.radio[0].set_value("en").run()
    assert at.selectbox(key="evaluate.h2h.metric.en").value == "rouge_l"

    # delete (confirmed in the popover): the run is gone and the page offers a new one
    at.button(key="evaluate.delete.confirm").click().run()
    assert not problems(at), problems(at)
    assert results.list_runs(lab) == []
    assert en("evaluate.run.deleted", name="tiny set v1 · held\\-out") in [s.value for s in at.success]
    assert at.button(key="evaluate.launch.submit")
