"""Small, robust ways to drive a Streamlit page in a real browser (Playwright, sync API).

Streamlit re-renders the whole page after every interaction and draws its widgets as custom
components, so tests never sleep for a fixed time and never rely on CSS classes that change between
releases. They use what Streamlit exposes for its own end-to-end tests: ``data-testid`` attributes,
the app root's ``data-test-script-state`` (``running`` / ``notRunning``), and the ``st-key-<key>``
class every widget with a ``key`` carries (so a field is found by its key, in any language).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from ui.i18n import translate

APP = '[data-testid="stApp"]'
SIDEBAR = '[data-testid="stSidebar"]'
EXCEPTION = '[data-testid="stException"]'

#: how long one rerun may take before a test gives up (first renders load caches and connect)
RERUN_TIMEOUT_MS = 30_000


def t(lang: str, key: str, **fmt) -> str:
    """The interface text for ``key`` in ``lang``, from the app's own catalogue.

    Expected texts come from the catalogue, so a reworded string does not break the journey, while
    a page that shows the key itself, the other language or nothing still fails.
    """
    return translate(lang, key, **fmt)


def key_selector(widget_key: str) -> str:
    """CSS selector of the element container of the widget created with ``key=widget_key``.

    Streamlit adds the class ``st-key-<key>`` with every character outside ``[A-Za-z0-9_-]``
    replaced by ``-`` (the same rule as its frontend).
    """
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", widget_key.strip())


def wait_idle(page: Page, timeout_ms: int = RERUN_TIMEOUT_MS, settle_ms: int = 250) -> None:
    """Wait until the app is connected and no script run is in progress, stably.

    A click starts a rerun a few milliseconds later, so "not running" is only trusted once it held
    for ``settle_ms``; a fragment that refreshes on a timer (the status strip) may start a short
    run in between, which is simply waited out.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    page.wait_for_selector(f'{APP}[data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    idle = f'{APP}[data-test-script-state="notRunning"]'
    while True:
        remaining = max(1, int((deadline - time.monotonic()) * 1000))
        page.wait_for_selector(idle, timeout=remaining)
        page.wait_for_timeout(settle_ms)
        if page.locator(idle).count() == 1:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the app was still running a script after {timeout_ms} ms")


def assert_no_exception(page: Page, lang: str | None = None) -> None:
    """Fail when the page shows a Python exception block or the generic "something went wrong".

    Pages turn unexpected errors into one friendly line (``ui.errors.guard``); that line in a
    journey still means a bug, so it fails here too, with the page's visible error text.
    """
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        raise AssertionError("the page shows an exception: " + exceptions.first.inner_text()[:2000])
    for code in ([lang] if lang else ["en", "es"]):
        generic = page.get_by_text(t(code, "error.generic"), exact=False)
        if generic.count():
            raise AssertionError(f"the page shows the generic error ({code}); see the dashboard log")


def sidebar(page: Page) -> Locator:
    """The sidebar."""
    return page.locator(SIDEBAR)


def nav_link(page: Page, label: str) -> Locator:
    """The sidebar navigation link whose accessible name is exactly ``label``.

    Matched by accessible name, not text: a link's text also holds its Material icon's ligature
    ("settings"), which is hidden from assistive technology and so from the name.
    """
    return sidebar(page).get_by_role("link", name=label, exact=True)


def click_nav(page: Page, label: str) -> None:
    """Open the page whose sidebar navigation link reads ``label`` and wait for it to render."""
    link = nav_link(page, label)
    expect(link).to_have_count(1)
    link.click()
    wait_idle(page)


def radio_option(container: Locator, option: str) -> Locator:
    """The option reading ``option`` of the radio group(s) inside ``container``."""
    return container.locator('[data-testid="stRadioOption"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$"))


def choose_radio(page: Page, container: Locator, option: str) -> None:
    """Pick ``option`` (its visible text) in the radio group inside ``container``; fail if the
    app's rerun does not keep it selected."""
    choice = radio_option(container, option)
    expect(choice).to_have_count(1)
    choice.click()
    wait_idle(page)
    expect(choice.locator('input[type="radio"]'),
           f"the radio option {option!r} did not stay selected after the app's rerun").to_be_checked()


def set_language(page: Page, label: str) -> None:
    """Switch the interface language with the sidebar radio ("English" / "Español")."""
    choose_radio(page, sidebar(page), label)


def number_input(page: Page, widget_key: str) -> Locator:
    """The ``<input>`` of the ``st.number_input`` created with ``key=widget_key``."""
    return page.locator(f'{key_selector(widget_key)} input').first


def fill_number(page: Page, widget_key: str, value: int | float) -> None:
    """Type ``value`` into a number input and commit it by leaving the field, as a user would.

    (Not Enter: inside an ``st.form`` Enter submits the whole form.)
    """
    field = number_input(page, widget_key)
    field.click()
    field.fill(str(value))
    field.blur()


def button(page: Page, widget_key: str) -> Locator:
    """The visible ``<button>`` of the button (or form submit button) with ``key=widget_key``.

    A button with a help tooltip is rendered twice (one copy hidden), hence ``:visible``.
    """
    return page.locator(f"{key_selector(widget_key)} button:visible").first


def click_button(page: Page, widget_key: str) -> None:
    """Click the button (or form submit button) created with ``key=widget_key`` and wait."""
    button(page, widget_key).click()
    wait_idle(page)


def upload_files(page: Page, widget_key: str, paths: list[Path]) -> None:
    """Give ``paths`` to the ``st.file_uploader`` created with ``key=widget_key`` and wait."""
    page.locator(f'{key_selector(widget_key)} [data-testid="stFileUploaderDropzoneInput"]') \
        .set_input_files([str(p) for p in paths])
    for path in paths:
        expect(page.locator(key_selector(widget_key))).to_contain_text(path.name)
    wait_idle(page)


def download(page: Page, widget_key: str, folder: Path) -> Path:
    """Click the ``st.download_button`` with ``key=widget_key``; returns the saved file's path."""
    with page.expect_download() as info:
        button(page, widget_key).click()
    saved = folder / info.value.suggested_filename
    info.value.save_as(str(saved))
    wait_idle(page)
    return saved


class Shots:
    """Numbered screenshots of a journey, one per step, into one folder."""

    def __init__(self, page: Page, folder: Path, prefix: str = "") -> None:
        self.page = page
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> Path:
        """Save ``NN_<name>.png`` of the whole page; returns its path."""
        self.count += 1
        safe = re.sub(r"[^a-zA-Z0-9_-]+", "-", name).strip("-")
        path = self.folder / f"{self.prefix}{self.count:02d}_{safe}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
