"""The decision report built from a real tiny evaluation run (bundled models, real Postgres):
the memo holds the strategies, the numbers run_summary computed, the caveats and the sensitive
data found; it renders as Markdown and as one HTML file that references nothing online."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from backend.evaluate import results, runner
from backend.evaluate.strategies import StrategyConfig
from backend.evaluate.wording import describe_estimate
from backend.report import render
from backend.report.build import build_report, collect, compose, latest_run_id
from backend.report.phrases import duration, money
from backend.report.recommend import Priorities

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # one torch thread

DOCS = {
    "returns.md": "# Returns\n\nCustomers may return any product within 45 days of delivery for a "
                  "full refund. Write to returns.desk@nortera.example to start a return.\n",
    "tents.md": "# Altura 2 tent\n\nThe Altura 2 tent weighs 1.9 kilograms and sleeps two people.\n",
    "office.md": "# Offices\n\nThe head office is in Bilbao, on Gran Via 12.\n",
}
QUESTIONS = [
    {"question": "How many days do customers have to return a product?",
     "reference": "Customers have 45 days from delivery to return a product.",
     "reference_contexts": ["Customers may return any product within 45 days of delivery"]},
    {"question": "How much does the Altura 2 tent weigh?",
     "reference": "The Altura 2 tent weighs 1.9 kilograms.",
     "reference_contexts": ["The Altura 2 tent weighs 1.9 kilograms and sleeps two people."]},
    {"question": "Where is the head office?", "reference": "The head office is in Bilbao.",
     "reference_contexts": ["The head office is in Bilbao, on Gran Via 12."]},
    {"question": "Does the company offer a pension plan to employees?",
     "reference": "The documents do not say.", "reference_contexts": [], "tags": ["unanswerable"]},
]
METRICS = ["semantic_similarity", "token_f1", "abstention"]


@pytest.fixture
def finished_run(lab) -> str:
    """A tiny evaluation of the base model and RAG on three documents, answered and scored."""
    from backend.corpus.ingest import ingest
    from backend.corpus.store import create_corpus
    from backend.finetune.questions import create_set

    corpus = create_corpus(lab, "tiny", "en")
    ingest(lab, corpus.id, [(name, text.encode()) for name, text in DOCS.items()])
    qset = create_set(lab, corpus.id, "tiny set", [{**q, "part": "held_out"} for q in QUESTIONS])
    strategies = [StrategyConfig(kind=k, generation={"max_new_tokens": 20}, k=2) for k in ("base", "rag")]
    run = runner.create_run(lab, qset.id, strategies, metric_keys=METRICS, batch_size=4)
    runner.run_evaluation(lab, run.id)
    return run.id


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_from_a_real_run_in_english_and_spanish_then_with_freshness(lab, finished_run):
    """One run (answering takes most of the time) checked in both languages, then again after a
    freshness check of its corpus."""
    assert latest_run_id(lab) == finished_run
    summary = results.run_summary(lab, finished_run)
    memo = build_report(lab, None, Priorities(), "en")
    html, markdown = render.to_html(memo), render.to_markdown(memo)

    # the strategies and the numbers run_summary computed, in both formats
    for s in summary.strategies:
        quality = describe_estimate(s.metrics["semantic_similarity"].estimate, "en")
        assert quality.startswith("0.") or quality.startswith("\u22120.")
        for text in (html, markdown):
            assert quality in text.replace("&amp;", "&")
            assert money(s.cost_per_1k, "en") in text and duration(s.latency_p95, "en") in text
    assert "Base model" in markdown and "| RAG |" in markdown
    assert memo.keys == ["base", "rag"] and len(memo.rows) == 2 and len(memo.bars) == 2

    # the recommendation says what the paired comparison says
    h2h = results.head_to_head(lab, finished_run, "base", "rag")
    if h2h.comparison.significant:
        assert "beats" in memo.recommendation and memo.outcome == "clear"
    else:
        assert "no detectable difference" in memo.recommendation and memo.outcome == "tied"
    assert memo.recommendation in markdown

    # caveats, sensitive data, settings
    caveats = " ".join(memo.caveats)
    assert "Small sample: 4 questions (3 with a reference answer)" in caveats
    assert "No LLM judge was used" in caveats and "SmolLM2-135M-Instruct" in caveats
    assert "English-first" in caveats and "No freshness test was run" in caveats
    assert any("Documents with personal data: 1 of the corpus's 3 (e-mail addresses (1))" in s
               for s in memo.sensitive)
    assert "No strategy of this evaluation was trained on the documents." in memo.sensitive
    settings = dict(memo.settings)
    assert finished_run in settings["Evaluation run"] and settings["Seed (bootstrap and sampling)"] == "0"
    assert any("hybrid k=2" in v for v in settings.values())  # RAG's retrieval as configured
    for heading in memo.headings.values():
        assert heading in html and f"## {heading}" in markdown

    # one self-contained file: no scripts, stylesheets, images or fonts fetched from anywhere
    parser = _Tags()
    parser.feed(html)
    tags = {t for t, _ in parser.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags and "svg" in tags
    assert not [a for _, attrs in parser.tags for k, a in attrs.items()
                if k in ("src", "href") and a and re.match(r"\s*(https?:)?//", a)]
    assert not re.search(r"https?://", html) and "@import" not in html and "url(" not in html
    assert html.count("<rect") == 2  # one bar per strategy

    # in Spanish, for other priorities, composed again from the same inputs without the database
    inputs = collect(lab, finished_run)
    es = compose(inputs, Priorities(quality=5, cost=0, updates=5, privacy=0, latency=0), "es")
    html, markdown = render.to_html(es), render.to_markdown(es)
    assert "Informe de decisión" in html and "## Advertencias" in markdown
    assert es.recommendation.startswith("Usa ")
    assert "Muestra pequeña: 4 preguntas" in " ".join(es.caveats)
    assert any("correos electrónicos" in s for s in es.sensitive)
    assert re.search(r"\d,\d\d \(IC 95 %", markdown)  # Spanish decimals and intervals
    assert 'lang="es"' in html
    # a tie goes to RAG when updates matter (base never reflects a changed document)
    if es.outcome == "tied":
        assert es.choice == "rag"
    assert render.file_name(es, "html") == f"strategy-lab-report-{finished_run[:8]}-es.html"

    _a_freshness_check_reaches_the_report(lab, finished_run, summary.run.corpus_id)


def _a_freshness_check_reaches_the_report(lab, finished_run: str, corpus_id: str) -> None:
    """A real freshness check (the returns policy changes from 45 to 60 days; RAG and the base
    model asked before and after): its outcome replaces the inferred update behaviour. (Part of
    the test above: one evaluation run serves both, answering is what takes the time.)"""
    from backend.evaluate.freshness import run_freshness
    from backend.evaluate.freshness_results import freshness_summary

    changed = DOCS["returns.md"].replace("45 days", "60 days").replace(
        "returns.desk@nortera.example", "the returns desk")
    question = {"question": "How many days do customers have to return a product?",
                "reference_v1": "45 days from delivery.", "reference_v2": "60 days from delivery.",
                "fact_v1": "45 days", "fact_v2": "60 days"}
    check_id = run_freshness(lab, corpus_id, [("returns.md", changed.encode())], [question],
                             [StrategyConfig(kind="rag", k=2, generation={"max_new_tokens": 16}),
                              StrategyConfig(kind="base", generation={"max_new_tokens": 16})])
    measured = {s["kind"]: s for s in freshness_summary(lab, check_id)["strategies"]}

    memo = build_report(lab, finished_run)
    updates = {row[0]: row[6] for row in memo.rows}
    tradeoffs = " ".join(memo.tradeoffs)
    assert not any("No freshness test" in c for c in memo.caveats)
    assert updates["Base model"] == "did not reflect the change"  # closed book: never sees it
    assert "In the freshness test, the base model did not reflect the updated document." in tradeoffs
    if measured["rag"]["status"] == "updated_after_ingest":
        seconds = duration(measured["rag"]["time_to_update_s"], "en")
        assert updates["RAG"] == f"reflected the change after {seconds}"
        assert ("RAG reflected the updated document as soon as it was ingested "
                f"({seconds} after the change)") in tradeoffs
    else:
        assert updates["RAG"] == "did not reflect the change"
    # the corpus now holds no personal data (the e-mail address left with the old version)
    assert memo.sensitive[0].startswith("The scanner found no personal data in the corpus's 3 ")
