"""Start the whole lab on this machine: database, one worker, the dashboard. Ctrl-C stops all.

``python -m backend.launch`` (what ``./lab start`` runs). Every failure it can foresee (data folder
not writable, port in use, database unreachable, model files missing) ends in one line saying what is
wrong and what to do, not a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from backend import config
from backend.errors import LabError

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("lab")


def _say(msg: str) -> None:
    print(msg, flush=True)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen | None, name: str, grace: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop in %ss; killing it", name, grace)
        proc.kill()
        proc.wait(5)


def prepare(settings: config.Settings) -> str:
    """Database up and migrated, bundled model converted; returns the database URL."""
    from backend.db import database_url
    from backend.db.migrate import migrate

    url = database_url(settings)
    applied = migrate(url)
    if applied:
        _say(f"  database schema ready ({len(applied)} migration(s) applied)")
    if settings.llm_model.startswith("bundled:"):
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from transformers.utils import logging as hf_logging

        from backend.models.registry import bundled_smollm2_dir

        hf_logging.disable_progress_bar()
        _say("  preparing the bundled model…")

        t0 = time.monotonic()
        folder = bundled_smollm2_dir(settings)
        took = time.monotonic() - t0
        if took > 2:
            _say(f"  bundled model converted once into {folder} ({took:.0f} s)")
    return url


def run(port: int | None = None, *, worker: bool = True) -> int:
    t_start = time.monotonic()
    try:
        settings = config.build()
    except LabError as exc:
        _say(f"✗ {exc.user_message}")
        return 2
    port = port or settings.port
    if not port_free(port):
        _say(f"✗ Port {port} is already in use: stop the program using it or start with LAB_PORT=<another port>.")
        return 2
    embedded = not settings.database_url
    _say("Starting Strategy Lab" + (f" (embedded Postgres in {settings.pgdata_path})" if embedded
                                    else " (external database from DATABASE_URL)"))
    try:
        prepare(settings)
    except LabError as exc:
        _say(f"✗ {exc.user_message}")
        return 2

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = settings.data_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen] = {}

    def start_worker() -> subprocess.Popen:
        out = open(logs / "worker.log", "ab")
        return subprocess.Popen([sys.executable, "-m", "backend.jobs.worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)

    stopping = False

    def on_signal(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if worker:
            procs["worker"] = start_worker()
        procs["dashboard"] = subprocess.Popen(
            [sys.executable, "-m", "ui.serve", "run", str(ROOT / "app.py"),
             "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=open(logs / "dashboard.log", "ab"), stderr=subprocess.STDOUT)
        if not _wait_healthy(port, procs["dashboard"]):
            _say(f"✗ The dashboard did not start; its log is {logs / 'dashboard.log'}.")
            return 1
        _say(f"✓ Strategy Lab is running at http://localhost:{port}  "
             f"(ready in {time.monotonic() - t_start:.1f} s; logs in {logs}). Press Ctrl-C to stop.")
        while not stopping:
            time.sleep(0.5)
            if procs["dashboard"].poll() is not None:
                _say("✗ The dashboard stopped unexpectedly; see its log.")
                break
            if worker and procs["worker"].poll() is not None:
                _say("! The worker stopped unexpectedly; restarting it (its job resumes).")
                procs["worker"] = start_worker()
    finally:
        _say("Stopping…")
        _stop(procs.get("dashboard"), "dashboard")
        _stop(procs.get("worker"), "worker", grace=30)
        if embedded:
            from backend.db import embedded as emb

            emb.stop(settings.pgdata_path)
        _say("Stopped cleanly.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab start", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="dashboard port (default LAB_PORT or 8501)")
    parser.add_argument("--no-worker", action="store_true", help="run no worker here (one runs elsewhere)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(args.port, worker=not args.no_worker)


if __name__ == "__main__":
    sys.exit(main())
