"""The main journey, in a real browser, against the real running lab (database, worker, dashboard).

One test walks the steps in order, as a stakeholder would, on one browser tab; each step is a
function ``step_<what>(j)`` listed in ``STEPS``. After every step the runner fails on any Python
traceback or generic error on the page and saves a numbered screenshot to tests/e2e/screenshots/.

Done: step_create_corpus, step_upload_files (two small files written to a temporary folder; the
real worker ingests them), step_ask (one column for RAG for now; the other strategies join it).

Steps still to add, in this order, as their pages land (append each to ``STEPS``):
  TODO step_ask (more)     — once fine-tuned models exist: side-by-side answers, one column per
                             strategy, each with latency and a "Sources" expander.
  TODO step_finetune       — Fine-tune: start a small LoRA run (few steps); its progress bar advances
                             (step/total changes between two reads) and the run reaches "Done".
  TODO step_evaluate       — Evaluate: run or open evaluation results; the headline metrics per strategy
                             and the plotly charts render (at least one [data-testid="stPlotlyChart"]).
  TODO step_language_again — switch to Español on a results page; chart titles and labels follow.
  TODO step_report         — Report: download the HTML and Markdown report
                             (helpers.download(page, <button key>, tmp_path));
                             check the recommendation sentence and the numbers match the DB results,
                             and that the HTML opens offline (no http(s) references outside the file).
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
    """Ask: the corpus just built is chosen; a question is answered (streamed) with latency and
    tokens, and its "Sources" expander names the document the answer comes from."""
    page = j.page
    click_nav(page, j.text("nav.ask"))
    expect(page.locator("h1").first).to_have_text(j.text("ask.title"))
    expect(page.locator(f"{key_selector('ask.corpus')} input")).to_have_value(CORPUS_NAME)
    page.locator(f"{key_selector('ask.question')} input").fill(
        "How many days do I have to return the Altura 2 tent?")
    page.get_by_text(j.text("ask.settings"), exact=True).click()
    fill_number(page, "ask.max_new_tokens", 48)
    button(page, "ask.submit").click()
    expect(page.get_by_text(j.text("ask.metric.latency"), exact=True)).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    wait_idle(page, timeout_ms=ANSWER_TIMEOUT_MS)
    sources = page.get_by_text(re.compile(r"^" + re.escape(j.text("ask.sources", n=0))
                                          .replace("0", r"\d+") + r"$"))
    expect(sources).to_have_count(1)
    sources.click()
    expect(page.get_by_text("returns-policy.md · Returns").first).to_be_visible()
    expect(page.locator("mark").first).to_be_visible()  # the question's words, marked in a source


STEPS: list[Callable[[Journey], None]] = [
    step_home,
    step_spanish,
    step_settings,
    step_create_corpus,
    step_upload_files,
    step_ask,
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
        except Exception:
            j.shot(f"{name}-FAILED")
            raise
        j.shot(name)
    assert not browser_log.page_errors, f"JavaScript errors on the page: {browser_log.page_errors}"
