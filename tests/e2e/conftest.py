"""End-to-end fixtures: the REAL lab (launcher, worker, dashboard) on a test database, driven by
Debian's chromium through Playwright. Nothing is downloaded: Playwright's bundled browsers are never
used (``executable_path`` points at the system chromium) and the browser's background networking is
off; any request that leaves this machine is blocked and fails the test.

On a user's machine without /usr/bin/chromium the tests skip with a message; under ``CI=true`` they
fail, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI, ROOT, _drop_db, _fresh_db
from tests.e2e.helpers import Shots

CHROMIUM = Path(os.environ.get("LAB_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
READY_LINE = "✓ Strategy Lab is running at"
START_TIMEOUT_S = 150  # first run converts the bundled model once (cached in lab_home after)
STOP_TIMEOUT_S = 40


# --- the browser binary ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of Debian's chromium; skips without it on a user's machine, fails under CI=true."""
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    message = (f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
               "(on Debian: sudo apt-get install -y chromium; `./lab test` installs it when it can)")
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


# --- the running lab --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_with_env(marker: str) -> list[int]:
    """Pids of live processes whose environment holds ``marker`` (our unique DATABASE_URL)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@dataclass
class LabServer:
    """The lab started by ``python -m backend.launch`` for this test session."""

    base_url: str
    port: int
    db_url: str
    data_dir: Path
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def log_tail(self, lines: int = 40) -> str:
        """The launcher's last lines and the dashboard log's, for a failure message."""
        dash = self.data_dir / "logs" / "dashboard.log"
        dash_tail = dash.read_text(errors="replace").splitlines()[-lines:] if dash.exists() else []
        return ("launcher:\n" + "".join(self.output[-lines:]) +
                "\ndashboard.log (tail):\n" + "\n".join(dash_tail))


def _reader(stream, sink: list[str], logfile: Path) -> None:
    with logfile.open("a", encoding="utf-8") as log:
        for line in iter(stream.readline, ""):
            sink.append(line)
            log.write(line)
            log.flush()


@pytest.fixture(scope="session")
def e2e_database(pg_admin_url, template_db):
    """One migrated database for the whole browser session (the app keeps its state in it)."""
    name, url = _fresh_db(pg_admin_url, template_db)
    yield url
    _drop_db(pg_admin_url, name, url)


@pytest.fixture(scope="session")
def lab_server(chromium_executable, e2e_database, lab_home) -> LabServer:
    """The real lab (database prepared, worker, dashboard) on a free port, stopped at the end.

    Teardown sends SIGTERM, as Ctrl-C would, and asserts a clean stop: the launcher exits 0 within
    40 s having said so, nothing had to be killed, and no process it started is left behind.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("LAB_") or k == "DATABASE_URL")}
    env.update({"DATABASE_URL": e2e_database, "LAB_DATA_DIR": str(lab_home),
                "LAB_WORKER_THREADS": "1", "LAB_HEARTBEAT_SECONDS": "1",
                "LAB_STALLED_AFTER_SECONDS": "15", "PYTHONUNBUFFERED": "1",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    logfile = SCREENSHOTS / "launcher.log"
    logfile.write_text("")
    proc = subprocess.Popen([sys.executable, "-m", "backend.launch", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8", errors="replace", bufsize=1,
                            start_new_session=True)  # its own group: a hard failure kills only it
    server = LabServer(f"http://127.0.0.1:{port}", port, e2e_database, lab_home, proc)
    reader = threading.Thread(target=_reader, args=(proc.stdout, server.output, logfile), daemon=True)
    reader.start()

    deadline = time.monotonic() + START_TIMEOUT_S
    while not any(READY_LINE in line for line in server.output):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            pytest.fail(f"the lab did not start within {START_TIMEOUT_S} s "
                        f"(exit code {proc.returncode})\n{server.log_tail()}")
        time.sleep(0.2)
    ready = next(line for line in server.output if READY_LINE in line)
    assert f"http://localhost:{port}" in ready, ready

    yield server

    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        pytest.fail(f"the lab did not stop within {STOP_TIMEOUT_S} s of SIGTERM\n{server.log_tail()}")
    reader.join(5)
    said = "".join(server.output)
    leftovers = _processes_with_env(f"DATABASE_URL={e2e_database}")
    for pid in leftovers:  # never leave them running, but fail: a clean stop stops them itself
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert code == 0, f"the launcher exited with {code}\n{server.log_tail()}"
    assert "Stopped cleanly." in said, server.log_tail()
    assert "killing it" not in said, f"a child had to be killed\n{server.log_tail()}"
    assert not leftovers, f"processes left running after the stop: {leftovers}"


# --- the browser ----------------------------------------------------------------------------------
@dataclass
class BrowserLog:
    """What the browser did that a test should know about."""

    blocked: list[str] = field(default_factory=list)      # requests that tried to leave the machine
    page_errors: list[str] = field(default_factory=list)  # uncaught JavaScript errors


@pytest.fixture(scope="module")  # Playwright's sync API keeps an event loop running until it stops
def browser(chromium_executable):
    """Headless Debian chromium driven by Playwright (its own browser builds are never used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_executable, headless=True,
                                      args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser, lab_server, browser_log):
    """A fresh browser tab (a new Streamlit session) on the lab's Home page, ready.

    Requests to anything but the lab's own host are aborted and recorded: the test fails if the
    page tried to reach the internet (fonts, telemetry, CDNs), proving the dashboard works offline.
    """
    from tests.e2e.helpers import RERUN_TIMEOUT_MS, wait_idle

    context = browser.new_context(viewport={"width": 1440, "height": 1200}, locale="en-US")
    local = urlsplit(lab_server.base_url).hostname

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in (local, "localhost"):
            route.continue_()
        else:
            browser_log.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.set_default_timeout(RERUN_TIMEOUT_MS)
    tab.on("pageerror", lambda exc: browser_log.page_errors.append(str(exc)))
    tab.goto(lab_server.base_url + "/", wait_until="domcontentloaded")
    wait_idle(tab, timeout_ms=60_000)
    yield tab
    context.close()
    assert not browser_log.blocked, f"the page tried to reach the network: {browser_log.blocked}"


@pytest.fixture
def shot(page, request):
    """``shot(name)`` saves a numbered full-page screenshot of this test's tab (one per step)."""
    prefix = request.node.name.removeprefix("test_") + "_"
    for old in SCREENSHOTS.glob(f"{prefix}*.png"):
        old.unlink()
    return Shots(page, SCREENSHOTS, prefix)
