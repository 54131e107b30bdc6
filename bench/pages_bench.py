"""Every page's first render on a populated lab, in a real browser: target under 1 s (issue 6).

    .venv/bin/python bench/pages_bench.py                 # the full demo (built once: 7-15 min)
    .venv/bin/python bench/pages_bench.py --reduced       # a small demo, for a quick check
    .venv/bin/python bench/pages_bench.py --profile evaluate   # where a page's script spends time

The lab lives in its own data folder (``LAB_BENCH_DATA_DIR``, default ``/tmp/lab-pagesbench-home``;
``--reduced``: ``/tmp/lab-pagesbench-reduced``), populated once by ``bench/pages_lab.py`` and
reused. The app is started as the launcher starts it (the dashboard with ``ui.serve``, through
``bench/pages_serve.py``, which logs how long each script run takes; a worker beside it) and
opened in Debian's chromium through Playwright, as the browser tests do (``bench/pages_browser.py``).

A page's first render is timed from the start of the navigation (or the click) to the moment its
script has drawn it and the app is idle (Streamlit's running indicator gone), measured in the page
itself, three ways: a new visitor (a new browser context: a new session, nothing cached), a new
tab of a browser that has shown the app before, and a click in the sidebar of a running session.
The first visit of every page in the new server process (imports, first reads) is printed apart;
then each page is opened ``--repeats`` times each way, interleaved, and each way's median is
checked against 1 s. Beside them: the server's script time per page, and the same figures for an
empty Streamlit app (one title) served the same way, the floor no page can go below.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import common  # sets up sys.path and the offline variables

ROOT = common.ROOT
TARGET_S = 1.0
#: page file -> URL path, catalogue key of its title
PAGES = {"home": ("", "home.headline"), "corpora": ("corpora", "corpora.title"),
         "ask": ("ask", "ask.title"), "finetune": ("finetune", "finetune.title"),
         "evaluate": ("evaluate", "evaluate.title"), "report": ("report", "report.title"),
         "settings": ("settings", "settings.title")}


# --- the app, as the launcher starts it -----------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_environment(lab) -> dict[str, str]:
    """The environment of the app's processes: the bench lab's database and data folder."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("LAB_") or k == "DATABASE_URL")}
    env.update({"DATABASE_URL": lab.db.url, "LAB_DATA_DIR": str(lab.settings.data_path),
                "LAB_WORKER_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    return env


def start_app(env: dict[str, str], port: int, worker: bool, run_log: Path, *,
              script: Path = ROOT / "app.py") -> list[subprocess.Popen]:
    """The dashboard (and a worker) as ``backend.launch`` starts them, the dashboard through
    ``bench/pages_serve.py`` (which logs each script run to ``run_log``); returns once healthy."""
    logs = Path(env["LAB_DATA_DIR"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    run_log.unlink(missing_ok=True)
    procs = []
    if worker:
        procs.append(subprocess.Popen([sys.executable, "-m", "backend.jobs.worker"], cwd=ROOT,
                                      env=env, stdout=open(logs / "worker.log", "ab"),
                                      stderr=subprocess.STDOUT, start_new_session=True))
    procs.append(subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "pages_serve.py"), "run", str(script),
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**env, "LAB_BENCH_RUN_LOG": str(run_log)},
        stdout=open(logs / "dashboard.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return procs
        except OSError:
            time.sleep(0.3)
    stop_app(procs)
    raise SystemExit(f"the dashboard did not start; see {logs / 'dashboard.log'}")


def stop_app(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def script_time(run_log: Path, began: float, ended: float) -> float:
    """Seconds the server spent in script runs (not fragments) that started in [began, ended]."""
    import json

    if not run_log.exists():
        return float("nan")
    runs = [json.loads(line) for line in run_log.read_text().splitlines() if line.strip()]
    return sum(r["seconds"] for r in runs if began <= r["start"] <= ended and not r["fragment"])


# --- the browser ------------------------------------------------------------------------------------
def expected_content(lab, demo: dict) -> dict[str, tuple[str, str]]:
    """Per page, something computed from the data that its first render must show: (what, text)."""
    from backend.corpus import store
    from backend.evaluate.results import list_runs

    corpus = store.list_corpora(lab)[0].name  # the pickers open on the first corpus by name
    runs = list_runs(lab)
    demo_run = next(r for r in runs if r["id"] == demo["run_id"])
    return {"home": ("the demo's last strategy", demo_run["strategies"][-1]),
            "corpora": ("first corpus", corpus), "ask": ("first corpus", corpus),
            "finetune": ("first corpus", corpus), "evaluate": ("newest run", runs[0]["name"]),
            "report": ("newest answered run", next(r["name"] for r in runs if r["answered"])),
            "settings": ("data folder", str(lab.settings.data_path))}


def browse(base_url: str, pages: list[str], repeats: int, expect: dict) -> dict:
    """The first visit of each page in the fresh server; then ``repeats`` rounds, each opening
    every page as a new visitor, as a new tab, and by clicks in a new session."""
    from playwright.sync_api import sync_playwright

    import pages_browser as pb
    from ui.i18n import translate

    def url(name):
        return f"{base_url}/{PAGES[name][0]}"

    def title(name):
        return translate("en", PAGES[name][1])

    out = {way: {p: [] for p in pages} for way in ("visitor", "tab", "click")}
    stops = [(name, translate("en", f"nav.{name}"), title(name), expect[name])
             for name in [p for p in pages if p != "home"] + (["home"] if "home" in pages else [])]
    with sync_playwright() as pw:
        browser = pb.launch(pw)
        try:
            out["first"] = {name: pb.as_visitor(browser, url(name), title(name), expect[name],
                                                label=name) for name in pages}
            returning = pb.context(browser, base_url)  # a browser that has seen every page once
            for name in pages:
                pb.open_page(returning, url(name), title(name), label=name)
            for _ in range(repeats):
                for name in pages:
                    out["visitor"][name].append(pb.as_visitor(browser, url(name), title(name),
                                                              expect[name], label=name))
                    out["tab"][name].append(pb.open_page(returning, url(name), title(name),
                                                         expect[name], label=name))
                for name, seconds in pb.by_clicks(returning, base_url, title("home"),
                                                  stops).items():
                    out["click"][name].append({"idle": seconds})
        finally:
            browser.close()
    return out


def empty_app(env: dict[str, str], repeats: int) -> dict:
    """The same figures for a Streamlit app that only draws a title, served the same way."""
    import tempfile

    from playwright.sync_api import sync_playwright

    import pages_browser as pb

    with tempfile.TemporaryDirectory(prefix="lab-pages-bench-") as folder:
        script = Path(folder) / "empty_app.py"
        script.write_text('import streamlit as st\n\nst.title("Empty page")\n')
        port = _free_port()
        procs = start_app(env, port, False, Path(folder) / "runs.jsonl", script=script)
        out = {"visitor": [], "tab": []}
        try:
            with sync_playwright() as pw:
                browser = pb.launch(pw)
                try:
                    base = f"http://127.0.0.1:{port}"
                    returning = pb.context(browser, base)
                    pb.open_page(returning, base + "/", "Empty page")
                    for _ in range(repeats):
                        out["visitor"].append(pb.as_visitor(browser, base + "/", "Empty page"))
                        out["tab"].append(pb.open_page(returning, base + "/", "Empty page"))
                finally:
                    browser.close()
        finally:
            stop_app(procs)
    return out


# --- profiling a page's script (AppTest in this process) -----------------------------------------
def _navigation_only() -> None:
    """As ``ui.serve`` and the AppTest fixtures: st.navigation decides the page on every run."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def script_seconds(name: str, profile=None) -> float:
    """Seconds of one AppTest run of the page in a new session (Home first, as a visitor lands),
    under ``profile`` (a ``cProfile.Profile``) when given."""
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if name != "home":
        at.run()
        at.switch_page(f"pages/{name}.py")
    original = LocalScriptRunner._run_script_thread
    if profile is not None:  # the script runs in its own thread: profile that thread
        def profiled(self):
            profile.enable()
            try:
                original(self)
            finally:
                profile.disable()
        LocalScriptRunner._run_script_thread = profiled
    try:
        began = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - began
    finally:
        LocalScriptRunner._run_script_thread = original
    if at.exception:
        print(f"  ! {name}: {at.exception[0].value[:200]}")
    return seconds


def profile_page(env: dict[str, str], name: str, top: int = 30) -> None:
    """cProfile of the page's script in a new session (after a first run, so imports and the
    process-wide caches are warm, as in a server that has served the page once)."""
    import cProfile
    import pstats

    os.environ.update({k: v for k, v in env.items() if k.startswith("LAB_") or k == "DATABASE_URL"})
    _navigation_only()
    common.info(f"{name}: first run in this process", f"{script_seconds(name):.3f} s")
    profile = cProfile.Profile()
    common.info(f"{name}: a new session (profiled)", f"{script_seconds(name, profile):.3f} s")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


# --- report -----------------------------------------------------------------------------------------
WAYS = {"visitor": "new visitor (new browser context, nothing cached): navigation to idle",
        "tab": "new tab of a browser that has shown the app (a new session): navigation to idle",
        "click": "click on the page's sidebar link in a running session: click to idle"}


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f} s"


def report(pages: list[str], out: dict, floor: dict, run_log: Path, repeats: int) -> bool:
    """Print the figures; returns whether every page's median passed, every way."""
    med = statistics.median
    print("\n  first visit of each page in the new server process (imports, first reads; not part "
          "of the target):")
    for name in pages:
        one = out["first"][name]
        common.info(f"  {name}", f"{one['idle']:.2f} s (connected at {one['connected']:.2f} s; "
                    f"server script {script_time(run_log, *one['window']):.2f} s)")
    print(f"\n  {repeats} times per page and way, median / worst; a new session's time = the "
          "frontend booting (connected) + the page drawn; script = the server's run (median)")
    print(f"  {'page':<12} {'new visitor':>15} {'= boot + drawn':>16} {'new tab':>15} "
          f"{'= boot + drawn':>16} {'click':>15} {'script':>8}")
    rows = [(name, out["visitor"][name], out["tab"][name], out["click"][name]) for name in pages]
    rows.append(("empty app", floor["visitor"], floor["tab"], None))
    for name, visitor, tab, click in rows:
        parts = [f"  {name:<12}"]
        for visits in (visitor, tab):
            parts.append(f"{_spread([v['idle'] for v in visits]):>15}")
            boot = med(v["connected"] for v in visits)
            parts.append(f"{boot:>7.2f} + {med(v['idle'] - v['connected'] for v in visits):.2f} s")
        parts.append(f"{_spread([c['idle'] for c in click]) if click else '':>15}")
        parts.append(f"{med(script_time(run_log, *v['window']) for v in visitor + tab):>6.2f} s"
                     if click else "")
        print(" ".join(parts))
    ok = True
    for way, what in WAYS.items():
        print(f"\n  {what} (median of {repeats}):")
        for name in pages:
            ok = common.check(f"{name}", med(v["idle"] for v in out[way][name]), TARGET_S,
                              higher_is_better=False, unit=" s", digits=2) and ok
    return ok


def measure(args, pages: list[str]) -> bool:
    """Populate the lab, then profile one page or measure every page; returns whether all passed."""
    import pages_lab
    from transformers.utils import logging as hf_logging

    from backend.demo.plan import DemoPlan

    hf_logging.disable_progress_bar()
    common.header("First render of every page, populated lab" + (" (reduced demo)" if args.reduced
                                                                  else " (full demo)"))
    lab = common.open_bench_lab()
    common.info("data folder", str(lab.settings.data_path))
    demo = pages_lab.populate(lab, pages_lab.reduced_plan() if args.reduced else DemoPlan(),
                              common.info)
    common.info("in the lab", ", ".join(f"{v} {k}" for k, v in pages_lab.inventory(lab).items()))
    env = lab_environment(lab)
    if args.no_warm:
        env["LAB_UI_WARM"] = "0"
    common.info("chart and table code loaded ahead (ui/warm.py)", "no" if args.no_warm else "yes")
    if args.profile:
        profile_page(env, args.profile)
        return True
    expect = expected_content(lab, demo)
    run_log = Path(env["LAB_DATA_DIR"]) / "logs" / "pages-bench-runs.jsonl"
    port = _free_port()
    began = time.perf_counter()
    procs = start_app(env, port, not args.no_worker, run_log)
    try:
        common.info("dashboard started (healthy)", f"{time.perf_counter() - began:.1f} s")
        common.info("load average before the browser", f"{os.getloadavg()[0]:.1f}")
        out = browse(f"http://127.0.0.1:{port}", pages, args.repeats, expect)
    finally:
        stop_app(procs)
    floor = empty_app(env, args.repeats)
    common.info("load average after the browser", f"{os.getloadavg()[0]:.1f}")
    return report(pages, out, floor, run_log, args.repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="a small demo (a quick populated lab)")
    parser.add_argument("--repeats", type=int, default=5, help="visits per page and way (default 5)")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages")
    parser.add_argument("--no-worker", action="store_true", help="start the dashboard alone")
    parser.add_argument("--no-warm", action="store_true",
                        help="without the chart and table code loaded ahead (ui/warm.py)")
    parser.add_argument("--profile", metavar="PAGE", help="profile one page's script and stop")
    args = parser.parse_args()
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = sorted(set(pages + ([args.profile] if args.profile else [])) - set(PAGES))
    if unknown:
        parser.error(f"unknown page(s): {', '.join(unknown)}; pages are {', '.join(PAGES)}")
    os.environ.setdefault("LAB_BENCH_DATA_DIR", "/tmp/lab-pagesbench-reduced" if args.reduced
                          else "/tmp/lab-pagesbench-home")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # one line per stage, no bars
    import pages_browser

    if not args.profile and not Path(pages_browser.CHROMIUM).exists():
        print(f"SKIPPED: {pages_browser.CHROMIUM} is missing (Debian: apt-get install chromium); "
              "nothing measured.")
        return 0
    from backend.db import embedded

    pgdata = Path(os.environ["LAB_BENCH_DATA_DIR"]) / "pgdata"
    ours = not os.environ.get("LAB_BENCH_DATABASE_URL") and not embedded.is_running(pgdata)
    try:
        return 0 if measure(args, pages) else 1
    finally:
        if ours:  # the embedded database this run started (its data stay for the next run)
            embedded.stop(pgdata)


if __name__ == "__main__":
    sys.exit(main())
