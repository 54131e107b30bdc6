"""How the page benchmark times a page in a real browser (Debian's chromium through Playwright).

The page itself takes the marks, in milliseconds since its navigation started, as its document
changes: ``connected`` (Streamlit's frontend has booted and opened its websocket), ``idle`` (no
script run in progress, the page's title drawn, no visible element still a placeholder waiting
for its code, every visible chart drawn) and ``click`` (the last click). So a figure does not
depend on how often Playwright polls. Three ways to meet a page:

- ``visitor``: a new browser context (a new session, nothing in the browser's cache);
- ``tab``: a new tab of a browser that has shown the app before (a new session, static files
  cached, as any visit after the first);
- ``click``: a running session moves to the page through its sidebar link.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("LAB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
MARKS_JS = """
window.__lab = {};
document.addEventListener('click', () => { window.__lab.click = performance.now(); }, true);
const mark = (k) => { if (!(k in window.__lab)) window.__lab[k] = performance.now(); };
const shown = (e) => e.getClientRects().length > 0;
// drawn: the title is there, no visible element still waits for its code (Streamlit shows a
// skeleton meanwhile) and every visible chart has drawn its SVG
const drawn = () => document.querySelector('h1')
  && ![...document.querySelectorAll('[data-testid^="stSkeleton"]')].some(shown)
  && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(shown)
       .every(c => c.querySelector('.main-svg'));
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return;
  if (app.getAttribute('data-test-connection-state') === 'CONNECTED') mark('connected');
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running') { mark('running'); delete window.__lab.idle; }
  else if (state === 'notRunning' && 'connected' in window.__lab && drawn()) mark('idle');
  else delete window.__lab.idle;
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['data-test-script-state', 'data-test-connection-state']});
"""
DONE_JS = ("(title) => window.__lab && 'idle' in window.__lab && [...document.querySelectorAll('h1')]"
           ".some(h => h.textContent.includes(title))")
TIMEOUT_MS = 120_000


def launch(pw):
    """Headless Debian chromium (Playwright's own browser builds are never used)."""
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def context(browser, base_url: str):
    """A new browser context (its own cookies and cache: a new visitor) with the timing marks
    installed in every page it opens. A request that would leave the machine is reported (not
    blocked: Playwright's request interception would switch the browser's cache off)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    local = (urlsplit(base_url).hostname, "localhost", None)
    ctx.on("request", lambda request: None if urlsplit(request.url).hostname in local else print(
        f"  ! a request left the machine: {request.url}"))
    ctx.add_init_script(MARKS_JS)
    return ctx


def finished(page, title: str, expect: str = "") -> dict:
    """Wait until the page titled ``title`` is drawn and idle (a rerun the render itself starts is
    waited out); its marks, whether ``expect`` is shown and how many exceptions are."""
    page.wait_for_function(DONE_JS, arg=title, timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    page.wait_for_function(DONE_JS, arg=title, timeout=TIMEOUT_MS)
    marks = page.evaluate("window.__lab")
    # a select box shows its choice as the value of an input: look there too
    shown = not expect or page.get_by_text(expect, exact=False).count() > 0 or page.evaluate(
        "(t) => [...document.querySelectorAll('input')].some(i => (i.value || '').includes(t))",
        expect)
    return {"marks": marks, "shown": shown,
            "errors": page.locator('[data-testid="stException"]').count()}


def _warn(label: str, one: dict, what: str, page=None) -> None:
    if (one["errors"] or not one["shown"]) and page is not None and os.environ.get("LAB_BENCH_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["LAB_BENCH_SHOTS"], f"{label}-{time.time():.0f}.png"),
                        full_page=True)
    if one["errors"] or not one["shown"]:
        print(f"  ! {label}: " + ("an exception is shown; " if one["errors"] else "")
              + ("" if one["shown"] else f"{what} is not shown"))


def open_page(ctx, url: str, title: str, expect: tuple[str, str] = ("", ""), *,
              label: str = "") -> dict:
    """Open ``url`` in a new tab of ``ctx`` (a new session): seconds from the navigation to
    connected and to idle, and the wall-clock window (to find its runs in the server's log)."""
    began = time.time()
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        one = finished(page, title, expect[1])
        _warn(label or url, one, expect[0], page)
        return {"connected": one["marks"]["connected"] / 1000, "idle": one["marks"]["idle"] / 1000,
                "window": (began, time.time())}
    finally:
        page.close()


def as_visitor(browser, url: str, title: str, expect: tuple[str, str] = ("", ""), *,
               label: str = "") -> dict:
    """``open_page`` in a browser context of its own (nothing cached)."""
    ctx = context(browser, url)
    try:
        return open_page(ctx, url, title, expect, label=label)
    finally:
        ctx.close()


def by_clicks(ctx, base_url: str, home_title: str, stops: list[tuple[str, str, str, tuple]]) -> dict:
    """A new session opens ``base_url``, then follows sidebar links: for each stop (name, link
    text, page title, expected content), seconds from the click to the page drawn and idle."""
    out = {}
    page = ctx.new_page()
    try:
        page.goto(base_url + "/", wait_until="commit")
        finished(page, home_title)
        for name, link_text, title, expect in stops:
            link = page.locator('[data-testid="stSidebar"]').get_by_role(
                "link", name=link_text, exact=True)
            page.evaluate("window.__lab = {connected: 0}")
            link.click()
            one = finished(page, title, expect[1])
            _warn(f"{name} (click)", one, expect[0])
            out[name] = (one["marks"]["idle"] - one["marks"]["click"]) / 1000
    finally:
        page.close()
    return out
