"""The embedded Postgres (PostgreSQL 16 + pgvector, from the ``pgserver`` wheel).

It runs from ``<data_dir>/pgdata`` over a unix socket and is shared by every process of the lab on
this machine (the dashboard, the worker, the CLI). Whoever needs it first starts it; the ``lab``
launcher stops it on Ctrl-C. Its data survive restarts.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from backend.errors import ConfigError, DatabaseUnavailable

log = logging.getLogger(__name__)
DB_NAME = "lab"


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"The data folder {folder} is not writable ({exc.strerror}).",
            hint="Set LAB_DATA_DIR to a folder you can write to.") from exc


def ensure_running(pgdata: Path, database: str = DB_NAME) -> str:
    """Start the embedded server if it is not running; create ``database``; return its URL."""
    _check_writable(pgdata.parent)
    if "XDG_RUNTIME_DIR" not in os.environ:  # pgserver keeps lock files there; it must be private
        run_dir = pgdata.parent / "run"
        run_dir.mkdir(mode=0o700, exist_ok=True)
        run_dir.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(run_dir)
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - installed with the project
        raise DatabaseUnavailable("The embedded Postgres (pgserver) is not installed.",
                                  hint="Run the lab's start command, which installs it.") from exc
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:
        log_file = pgdata / "log"
        tail = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
        raise DatabaseUnavailable(
            f"The embedded Postgres in {pgdata} did not start.",
            hint="Check that the disk is not full and that no other program uses that folder; "
                 f"the server log says: {tail.strip()[-300:] or 'nothing'}") from exc
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)


def is_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
        return True
    except (ValueError, OSError, IndexError):
        return False


def stop(pgdata: Path) -> None:
    """Stop the embedded server cleanly (fast shutdown: open sessions are rolled back)."""
    if not is_running(pgdata):
        return
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:  # pragma: no cover
        log.warning("pg_ctl stop failed: %s", exc)
