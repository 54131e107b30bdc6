"""The main journey, in a real browser, against the real running lab (database, worker, dashboard).

One test walks the steps in order, as a stakeholder would, on one browser tab; each step is a
function ``step_<what>(j)`` listed in ``STEPS``. After every step the runner fails on any Python
traceback or generic error on the page and saves a numbered screenshot to tests/e2e/screenshots/.

Steps: step_home (status and Load demo panel), step_spanish (the interface switches language and
back), step_settings (a value saved in Postgres), step_create_corpus, step_upload_files (two small
files written to a temporary folder; the real worker ingests them), step_ask (base and RAG side by
side, each column with its latency; RAG's sources name the document), step_evaluate (a base + RAG
run launched on the page, run by the worker, every results tab drawn), step_report (the memo's
numbers match the database; HTML and Markdown downloads; the HTML opens offline), step_finetune (a
question set, training data, a 4-step LoRA run followed live to "Done", the model in the registry),
step_ask_every_strategy (base, RAG, fine-tuned and hybrid side by side with the model just trained).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_no_exception,
    button,
    click_button,
    click_nav,
    download,
    fill_number,
    key_selector,
    nav_link,
    number_input,
    set_language,
    sidebar,
    t,
    upload_files,
    wait_idle,
)
from ui.warm import chunk_files

pytestmark = pytest.mark.e2e

#: the status strip refreshes every 10 s and caches reads for 5 s; a worker starting up needs a few
STATUS_TIMEOUT_MS = 60_000


@dataclass
class Journey:
    """What every step gets: the tab, the running lab, the current language, a screenshot taker."""

    page: Page
    lab: object  # conftest.LabServer
    shot: Callable[[str], object]
    lang: str = "en"

    def text(self, key: str, **fmt) -> str:
        """The interface text for ``key`` in the journey's current language."""
        return t(self.lang, key, **fmt)

    def query(self, sql: str, *params):
        """One row from the lab's database (what the app stored, read independently of the app)."""
        with psycopg.connect(self.lab.db_url) as conn:
            return conn.execute(sql, params).fetchone()


def _status_column(j: Journey, title_key: str):
    """The status strip's column headed by the catalogue text ``title_key``."""
    heading = j.page.get_by_text(j.text(title_key), exact=True)
    return j.page.locator('[data-testid="stColumn"]').filter(has=heading).last


# --- steps, in the order a user takes them ---------------------------------------------------------
def step_home(j: Journey) -> None:
    """Home: the headline, and a status strip showing this database's real versions, worker alive."""
    page = j.page
    expect(page.locator("h1").first).to_have_text(j.text("home.headline"))
    pg_version = j.query("SELECT current_setting('server_version')")[0]
    vector_version = j.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'")[0]
    expect(page.get_by_text(j.text("status.title"), exact=True)).to_be_visible()
    expect(_status_column(j, "status.postgres")).to_contain_text(pg_version)
    expect(_status_column(j, "status.pgvector")).to_contain_text(vector_version)
    expect(_status_column(j, "status.worker")).to_contain_text(
        j.text("status.worker_alive"), timeout=STATUS_TIMEOUT_MS)
    expect(sidebar(page)).to_contain_text(j.text("sidebar.database_ok", version=pg_version))
    expect(sidebar(page)).to_contain_text(j.text("sidebar.worker_ok"), timeout=STATUS_TIMEOUT_MS)
    # once Home is drawn and the browser idle, the chart and table code has loaded (ui/warm.py)
    page.wait_for_function("() => (window.__labWarmed || []).length === %d" % len(chunk_files()),
                           timeout=30_000)
    assert sorted(page.evaluate("() => window.__labWarmed")) == sorted(chunk_files())


def step_spanish(j: Journey) -> None:
    """The sidebar switch turns the whole page Spanish: headline, navigation, status strip."""
    set_language(j.page, t("es", "language.es"))
    j.lang = "es"
    page = j.page
    expect(page.locator("h1").first).to_have_text(j.text("home.headline"))
    expect(page.get_by_text(t("en", "home.headline"), exact=True)).to_have_count(0)
    expect(nav_link(page, j.text("nav.settings"))).to_have_count(1)
    expect(nav_link(page, t("en", "nav.settings"))).to_have_count(0)
    expect(page.get_by_text(j.text("status.title"), exact=True)).to_be_visible()
    expect(_status_column(j, "status.worker")).to_contain_text(
        j.text("status.worker_alive"), timeout=STATUS_TIMEOUT_MS)


def step_settings(j: Journey) -> None:
    """Settings (still in Spanish): change the upload limit, save; it is stored and read back."""
    page = j.page
    click_nav(page, j.text("nav.settings"))
    expect(page.locator("h1").first).to_have_text(j.text("settings.title"))
    widget = "settings.field.max_upload_mb"
    field = number_input(page, widget)
    expect(field).to_be_visible()
    before = int(field.input_value())
    after = before + 7
    fill_number(page, widget, after)
    wait_idle(page)
    j.shot("settings-edited")
    click_button(page, "settings.save")
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        j.text("settings.saved", names=j.text("settings.field.max_upload_mb")))
    j.shot("settings-saved")
    row = j.query("SELECT value FROM settings WHERE name = 'max_upload_mb'")
    assert row is not None and row[0] == after, f"settings table holds {row!r}, expected {after}"
    # a new session (reload) reads the value back from the database
    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    j.lang = "en"  # a new session starts in the saved default language
    expect(page.locator("h1").first).to_have_text(j.text("settings.title"))
    expect(number_input(page, widget)).to_have_value(str(after))
    expect(button(page, "settings.reset.max_upload_mb")).to_be_enabled()


#: the corpus the journey builds, and what its files say (a question below asks about it)
CORPUS_NAME = "Nortera handbook"
JOURNEY_FILES = {
    "returns-policy.md": "# Returns\n\nThe Altura 2 tent can be returned within 45 days of purchase "
                         "for a full refund. Bring the receipt to any Nortera shop.\n\n# Care\n\n"
                         "Clean the tent with lukewarm water and mild soap. Never machine-wash it.\n",
    "shipping.txt": "Orders placed before noon leave the warehouse the same day. Shipping within the "
                    "peninsula takes three working days.\n",
}
#: ingesting waits for the worker to load the embedding model once; an answer for the app to
#: load the language model once and generate on two shared cores
INGEST_TIMEOUT_MS = 180_000
ANSWER_TIMEOUT_MS = 180_000


def _corpus_documents(j: Journey) -> tuple[int, int]:
    """(ready documents, ingestion results recorded) of the journey's corpus, read from the DB."""
    return j.query(
        "SELECT (SELECT count(*) FROM documents d WHERE d.corpus_id = c.id AND d.status = 'ready'),"
        " (SELECT count(*) FROM ingestion_files f WHERE f.corpus_id = c.id) "
        "FROM corpora c WHERE c.name = %s", CORPUS_NAME)


def step_create_corpus(j: Journey) -> None:
    """Corpora: the empty state invites to create one; create an English corpus; it is chosen."""
    page = j.page
    click_nav(page, j.text("nav.corpora"))
    expect(page.locator("h1").first).to_have_text(j.text("corpora.title"))
    expect(page.get_by_text(j.text("corpora.empty"), exact=True)).to_be_visible()
    page.locator(f"{key_selector('corpora.create.name')} input").fill(CORPUS_NAME)
    click_button(page, "corpora.create.submit")
    expect(page.get_by_text(j.text("corpora.created", name=CORPUS_NAME))).to_be_visible()
    expect(page.get_by_text(j.text("corpora.empty"), exact=True)).to_have_count(0)
    expect(page.locator(f"{key_selector('corpora.corpus')} input")).to_have_value(CORPUS_NAME)
    row = j.query("SELECT language, version FROM corpora WHERE name = %s", CORPUS_NAME)
    assert row == ("en", 0), f"corpora holds {row!r}"


def step_upload_files(j: Journey) -> None:
    """Corpora: upload two files; the real worker ingests them while the job panel shows
    progress; each file's result, the document count and a chunk's text appear."""
    page = j.page
    with tempfile.TemporaryDirectory(prefix="journey-") as folder:
        paths = []
        for name, text in JOURNEY_FILES.items():
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        upload_files(page, "corpora.upload.files", paths)
        j.shot("upload-chosen")
        click_button(page, "corpora.upload.submit")
    expect(page.get_by_text(f"Ingest {len(paths)} file(s) into {CORPUS_NAME}")).to_be_visible()
    results = page.get_by_text(j.text("corpora.results.title", files=2, ok=2, failed=0))
    expect(results).to_be_visible(timeout=INGEST_TIMEOUT_MS)
    wait_idle(page)
    assert _corpus_documents(j) == (2, 2)
    for name in JOURNEY_FILES:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    documents = page.locator('[data-testid="stMetric"]').filter(has_text=j.text("corpora.metric.documents"))
    expect(documents.first).to_contain_text("2")
    j.shot("upload-done")
    page.get_by_role("tab", name=j.text("corpora.tab.chunks")).click()
    wait_idle(page)
    expect(page.get_by_text("returned within 45 days of purchase").first).to_be_visible()


def step_ask(j: Journey) -> None:
    """Ask: the corpus just built is chosen; with no fine-tuned model yet, Base and RAG are chosen
    and the way to a model is linked. A question is answered (streamed) side by side: each column
    shows its latency and tokens; Base says it answered closed book, and RAG's "Sources" expander
    names the document the answer comes from, the question's words marked."""
    page = j.page
    click_nav(page, j.text("nav.ask"))
    expect(page.locator("h1").first).to_have_text(j.text("ask.title"))
    expect(page.locator(f"{key_selector('ask.corpus')} input")).to_have_value(CORPUS_NAME)
    chosen = page.locator(f"{key_selector('ask.strategies')} button[aria-pressed='true']")
    expect(chosen).to_have_text([j.text("strategy.base"), j.text("strategy.rag")])
    expect(page.get_by_role("link", name=j.text("ask.compare.open_finetune"))).to_be_visible()
    page.locator(f"{key_selector('ask.question')} input").fill(
        "How many days do I have to return the Altura 2 tent?")
    page.get_by_text(j.text("ask.settings"), exact=True).click()
    fill_number(page, "ask.max_new_tokens", 48)
    button(page, "ask.submit").click()
    base = page.locator(key_selector("ask.answer.base"))
    rag = page.locator(key_selector("ask.answer.rag"))
    for column in (base, rag):  # one after the other: the second column waits its turn
        expect(column.get_by_text(j.text("ask.metric.latency"), exact=True)).to_be_visible(
            timeout=ANSWER_TIMEOUT_MS)
        expect(column.get_by_text(j.text("ask.metric.tokens_out"), exact=True)).to_be_visible()
    wait_idle(page, timeout_ms=ANSWER_TIMEOUT_MS)
    j.shot("ask-answers")
    sources_label = re.compile(r"^" + re.escape(j.text("ask.sources", n=0)).replace("0", r"\d+")
                               + r"$")
    expect(base.get_by_text(j.text("ask.compare.closed_book"))).to_be_visible()
    expect(base.get_by_text(sources_label)).to_have_count(0)
    sources = rag.get_by_text(sources_label)
    expect(sources).to_have_count(1)
    sources.click()
    expect(rag.get_by_text("returns-policy.md · Returns").first).to_be_visible()
    expect(rag.locator("mark").first).to_be_visible()  # the question's words, marked in a source


def step_ask_every_strategy(j: Journey) -> None:
    """Ask again once the journey has a fine-tuned model: all four strategies are chosen and the
    model just trained is picked; each column answers with its latency; the closed-book columns
    (base, fine-tuned) say so and the retrieval ones (RAG, hybrid) list their sources."""
    page = j.page
    click_nav(page, j.text("nav.ask"))
    expect(page.locator("h1").first).to_have_text(j.text("ask.title"))
    chosen = page.locator(f"{key_selector('ask.strategies')} button[aria-pressed='true']")
    expect(chosen).to_have_count(4)
    model = j.query("SELECT name FROM trained_models WHERE status = 'ready' ORDER BY id DESC LIMIT 1")[0]
    expect(page.locator(f"{key_selector('ask.model')} input")).to_have_value(re.compile(re.escape(model)))
    page.locator(f"{key_selector('ask.question')} input").fill("How should I clean the tent?")
    if not page.locator(key_selector("ask.max_new_tokens")).is_visible():
        page.get_by_text(j.text("ask.settings"), exact=True).click()
    fill_number(page, "ask.max_new_tokens", 24)
    button(page, "ask.submit").click()
    sources_label = re.compile(r"^" + re.escape(j.text("ask.sources", n=0)).replace("0", r"\d+")
                               + r"$")
    for kind in ("base", "rag", "finetuned", "hybrid"):
        column = page.locator(key_selector(f"ask.answer.{kind}"))
        expect(column.get_by_text(j.text("ask.metric.latency"), exact=True)).to_be_visible(
            timeout=ANSWER_TIMEOUT_MS)
        if kind in ("base", "finetuned"):
            expect(column.get_by_text(j.text("ask.compare.closed_book"))).to_be_visible()
        else:
            expect(column.get_by_text(sources_label)).to_have_count(1)
    wait_idle(page, timeout_ms=ANSWER_TIMEOUT_MS)
    j.shot("ask-every-strategy")


#: held-out questions about the journey's files, for the evaluation when no earlier step built a set
JOURNEY_QUESTIONS = [
    {"question": "How many days do I have to return the Altura 2 tent?",
     "reference": "You can return it within 45 days of purchase for a full refund.",
     "reference_contexts": ["The Altura 2 tent can be returned within 45 days of purchase for a "
                            "full refund."], "part": "held_out"},
    {"question": "How long does shipping within the peninsula take?",
     "reference": "Shipping within the peninsula takes three working days.",
     "reference_contexts": ["Shipping within the peninsula takes three working days."],
     "part": "held_out"},
    {"question": "Does Nortera sell bicycles?", "reference": "The documents do not say.",
     "tags": ["unanswerable"], "part": "held_out"},
    {"question": "How should I clean the tent?", "reference": "With lukewarm water and mild soap.",
     "part": "train"},
]
EVALUATION_TIMEOUT_MS = 300_000


def _journey_question_set(j: Journey) -> None:
    """The journey corpus's question set: one an earlier step built, else a small one stored
    through the backend (building sets through the page is the Fine-tune step's job)."""
    if j.query("SELECT count(*) FROM question_sets s JOIN corpora c ON c.id = s.corpus_id "
               "WHERE c.name = %s", CORPUS_NAME)[0]:
        return
    from backend.finetune.questions import create_set
    from backend.lab import open_lab

    lab = open_lab({"DATABASE_URL": j.lab.db_url, "LAB_DATA_DIR": str(j.lab.data_dir)})
    corpus_id = str(j.query("SELECT id FROM corpora WHERE name = %s", CORPUS_NAME)[0])
    create_set(lab, corpus_id, "Journey questions", JOURNEY_QUESTIONS)


def step_evaluate(j: Journey) -> None:
    """Evaluate: launch a small run (base model + RAG, short answers); the real worker answers
    and scores it while the job panel shows progress; then the headline per strategy (numbers
    from the database) and the plotly charts of every tab."""
    page = j.page
    _journey_question_set(j)
    click_nav(page, j.text("nav.evaluate"))
    expect(page.locator("h1").first).to_have_text(j.text("evaluate.title"))
    if not page.locator(key_selector("evaluate.launch.submit")).is_visible():
        page.get_by_text(j.text("evaluate.launch.title"), exact=True).click()
    fill_number(page, "evaluate.launch.max_new_tokens", 16)
    j.shot("evaluate-form")
    click_button(page, "evaluate.launch.submit")
    run_id, job_id = j.query("SELECT id::text, job_id FROM eval_runs ORDER BY created_at DESC LIMIT 1")
    headline = page.locator('[data-testid="stMetric"]')
    expect(headline.first).to_be_visible(timeout=EVALUATION_TIMEOUT_MS)
    wait_idle(page, timeout_ms=EVALUATION_TIMEOUT_MS)
    status = j.query("SELECT status FROM jobs WHERE id = %s", job_id)[0]
    assert status == "succeeded", f"the evaluation job ended {status}"
    expect(headline).to_have_count(2)  # base model and RAG
    mean = j.query("SELECT avg(value) FROM eval_scores WHERE run_id = %s AND strategy = 'rag' AND "
                   "metric = 'semantic_similarity' AND status = 'ok'", run_id)[0]
    expect(headline.filter(has_text=f"{mean:.2f}")).not_to_have_count(0)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts.first).to_be_visible()
    expect(page.locator(".js-plotly-plot .bars").first).to_be_attached()  # the plot really drew
    j.shot("evaluate-results")
    for tab in ("overview", "tradeoffs", "questions", "h2h", "unanswerable"):
        page.get_by_role("tab", name=j.text(f"evaluate.tab.{tab}")).click()
        wait_idle(page)
        chart = page.locator('[data-testid="stTabPanel"]:visible [data-testid="stPlotlyChart"]').first
        expect(chart).to_be_visible()
        chart.scroll_into_view_if_needed()
        j.shot(f"evaluate-{tab}")
    page.get_by_role("tab", name=j.text("evaluate.tab.overview")).click()


def _report_expectations(j: Journey, run_id: str) -> tuple[list[str], dict[str, float]]:
    """What the memo must say, computed from the database apart from the page: the words of the
    paired comparison (a win, or no detectable difference; with two strategies, which one) and
    each strategy's mean answer similarity."""
    from backend.evaluate.results import head_to_head
    from backend.lab import open_lab

    lab = open_lab({"DATABASE_URL": j.lab.db_url, "LAB_DATA_DIR": str(j.lab.data_dir)})
    keys = [r["key"] for r in lab.db.fetchall(
        "SELECT key FROM eval_strategies WHERE run_id = %s ORDER BY position", (run_id,))]
    win = {"en": "beats", "es": "supera"}[j.lang]
    tie = {"en": "no detectable difference", "es": "no hay diferencia detectable"}[j.lang]
    words = [win, tie]
    if len(keys) == 2:
        words = [win if head_to_head(lab, run_id, keys[0], keys[1]).comparison.significant else tie]
    means = {r["strategy"]: r["mean"] for r in lab.db.fetchall(
        "SELECT strategy, avg(value) AS mean FROM eval_scores WHERE run_id = %s AND metric ="
        " 'semantic_similarity' AND status = 'ok' GROUP BY strategy", (run_id,))}
    return words, means


def step_report(j: Journey) -> None:
    """Report: the memo of the evaluation just run, with the numbers the database holds; the
    HTML and Markdown downloads carry the same recommendation; the HTML opens on its own in a new
    tab without a single network request (the context blocks and records any)."""
    from backend.evaluate.wording import format_number

    page = j.page
    click_nav(page, j.text("nav.report"))
    expect(page.locator("h1").first).to_have_text(j.text("report.title"))
    memo = page.locator(".lab-memo")
    expect(memo).to_be_visible()
    run_id = j.query("SELECT r.id::text FROM eval_runs r WHERE EXISTS (SELECT 1 FROM eval_answers a"
                     " WHERE a.run_id = r.id) ORDER BY r.created_at DESC LIMIT 1")[0]
    words, means = _report_expectations(j, run_id)
    shown = memo.locator(".recommendation").inner_text().strip()
    assert any(w in shown for w in words), f"none of {words!r} in the recommendation {shown!r}"
    for mean in means.values():
        expect(memo).to_contain_text(format_number(mean, j.lang, 2))
    chart = memo.locator("img.chart")  # the SVG chart as an image (st.html drops inline SVG)
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart did not draw"
    j.shot("report-page")
    with tempfile.TemporaryDirectory(prefix="journey-report-") as folder:
        html_file = download(page, "report.download.html", Path(folder))
        markdown_file = download(page, "report.download.md", Path(folder))
        html = html_file.read_text(encoding="utf-8")
        markdown = markdown_file.read_text(encoding="utf-8")
    assert html_file.name.endswith(f"-{j.lang}.html") and run_id[:8] in html_file.name
    assert shown in html.replace("&#x27;", "'") and f"> **{shown}**" in markdown
    for mean in means.values():
        assert format_number(mean, j.lang, 2) in markdown
    assert "<script" not in html and not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)
    assert not re.search(r"https?://", html), "the report references something online"
    viewer = page.context.new_page()  # same context: any request leaving the file is recorded
    try:
        viewer.set_content(html, wait_until="load")
        expect(viewer.locator(".lab-memo .recommendation")).to_have_text(shown)
        expect(viewer.locator(".lab-memo svg rect")).to_have_count(len(means))  # one bar each
        box = viewer.locator(".lab-memo svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 40, box
    finally:
        viewer.close()


#: a LoRA run of a few steps: the worker loads the model once, then each step takes about a second
FINETUNE_TIMEOUT_MS = 240_000


def step_finetune(j: Journey) -> None:
    """Fine-tune: generate a tiny question set with the extractive generator (labelled as such),
    build question-answer training data and see its chat examples, launch a LoRA run of 4 steps
    (each reported); the real worker trains it while the progress panel and the loss curve
    update, the run reaches "Done", and the trained model shows its lineage in the registry."""
    page = j.page
    click_nav(page, j.text("nav.finetune"))
    expect(page.locator("h1").first).to_have_text(j.text("finetune.title"))
    expect(page.locator(f"{key_selector('finetune.corpus')} input")).to_have_value(CORPUS_NAME)
    # 1. a question set, generated
    fill_number(page, "finetune.generate.n", 4)
    click_button(page, "finetune.generate.submit")
    set_name = j.text("finetune.generate.default_name", corpus=CORPUS_NAME)
    n_questions, n_held = j.query("SELECT n_questions, n_held_out FROM question_sets WHERE name = %s",
                                  set_name)
    assert 2 <= n_questions <= 4 and n_held >= 1, (n_questions, n_held)
    expect(page.get_by_text(j.text("finetune.set.generated", name=set_name, n=n_questions,
                                   held_out=n_held))).to_be_visible()
    expect(page.get_by_text(j.text("finetune.set.extractive_note"))).to_be_visible()
    j.shot("finetune-question-set")
    # 2. training data from its train part, previewed as a chat
    page.get_by_role("tab", name=j.text("finetune.tab.data")).click()
    wait_idle(page)
    click_button(page, "finetune.build.submit")
    ds_name, n_examples = j.query("SELECT name, n_examples FROM training_datasets "
                                  "ORDER BY id DESC LIMIT 1")
    assert n_examples == n_questions - n_held, (n_examples, n_questions, n_held)
    expect(page.get_by_text(j.text("finetune.dataset.built", name=ds_name, n=n_examples))).to_be_visible()
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.locator('[data-testid="stChatMessage"]').first).to_be_visible()
    expect(panel.get_by_text(j.text("finetune.checks.clean"))).to_be_visible()
    # 3. a LoRA run: 4 steps of one example, every step reported
    page.get_by_role("tab", name=j.text("finetune.tab.train")).click()
    wait_idle(page)
    expect(page.locator(f"{key_selector('finetune.train.dataset.' + j.lang)} input")).to_have_value(
        re.compile("^" + re.escape(ds_name)))
    fill_number(page, "finetune.cfg.max_steps", 4)
    fill_number(page, "finetune.cfg.batch_size", 1)
    page.get_by_text(j.text("finetune.group.monitoring"), exact=True).click()
    fill_number(page, "finetune.cfg.log_every", 1)
    click_button(page, "finetune.estimate")
    estimate = page.locator('[data-testid="stMetric"]').filter(has_text=j.text("finetune.estimate.trainable"))
    expect(estimate).to_be_visible()
    j.shot("finetune-form")
    click_button(page, "finetune.launch")
    job_id = j.query("SELECT id FROM jobs WHERE kind = 'finetune' ORDER BY id DESC LIMIT 1")[0]
    # the live panel of the run (title, bar, status chip) in the open tab, until the chip says done
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.get_by_text(f"Fine-tune (adapter) on {ds_name}", exact=True)).to_be_visible()
    # the chip (a badge) of the live panel; the runs table below says "Done" too once the run ends
    chip = panel.locator(".stMarkdownBadge").filter(has_text=j.text("job.status.succeeded"))
    expect(chip.first).to_be_visible(timeout=FINETUNE_TIMEOUT_MS)
    wait_idle(page)
    status, result = j.query("SELECT status, result FROM jobs WHERE id = %s", job_id)
    assert status == "succeeded" and result["steps"] == 4, (status, result)
    steps = j.query("SELECT count(DISTINCT step) FROM job_events WHERE job_id = %s "
                    "AND metrics ? 'loss'", job_id)[0]
    assert steps == 4, f"the run reported {steps} distinct steps with a loss, not 4"
    expect(panel).to_contain_text(j.text("job.progress", step=4, total=4, unit=j.text("unit.steps")))
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
    expect(page.locator(".js-plotly-plot .scatterlayer .trace").first).to_be_attached()
    j.shot("finetune-run-done")
    # 4. the registry: the model with its lineage
    page.get_by_role("tab", name=j.text("finetune.tab.models")).click()
    wait_idle(page)
    name = j.query("SELECT name FROM trained_models WHERE job_id = %s", job_id)[0]
    card = page.locator('[data-testid="stTabPanel"]:visible')
    expect(card.get_by_text(name).first).to_be_visible()
    expect(card).to_contain_text(j.text("finetune.method.adapter"))
    expect(card).to_contain_text("max_steps = 4")
    expect(button(page, f"finetune.model.download.{result['model_id']}")).to_be_visible()


STEPS: list[Callable[[Journey], None]] = [
    step_home,
    step_spanish,
    step_settings,
    step_create_corpus,
    step_upload_files,
    step_ask,
    step_evaluate,
    step_report,
    step_finetune,
    step_ask_every_strategy,
]


def test_main_journey(page, lab_server, shot, browser_log):
    """Every step of the main journey in order, one screenshot each, never a traceback."""
    j = Journey(page=page, lab=lab_server, shot=shot)
    for step in STEPS:
        name = step.__name__.removeprefix("step_")
        try:
            step(j)
            wait_idle(page)
            assert_no_exception(page)
        except Exception as exc:
            j.shot(f"{name}-FAILED")
            raise AssertionError(f"step {name} failed: {exc}\n{lab_server.log_tail(80)}") from exc
        j.shot(name)
    assert not browser_log.page_errors, f"JavaScript errors on the page: {browser_log.page_errors}"
