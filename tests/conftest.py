"""Shared fixtures: one real embedded Postgres (pgvector) per test session, a fresh database per
test cloned from a migrated template, a socket guard that fails any non-loopback connection, and
the path to ``../shared`` (skipped on a user's machine, required under ``CI=true``)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["RAGAS_DO_NOT_TRACK"] = "true"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- offline guard -----------------------------------------------------------------------------
class NetworkBlocked(RuntimeError):
    pass


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    return host in ("localhost", "::1", "0.0.0.0") or str(host).startswith("127.")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self, address):
    if self.family != socket.AF_UNIX and not _is_local(address):
        raise NetworkBlocked(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family != socket.AF_UNIX and not _is_local(address):
        raise NetworkBlocked(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


# --- shared data -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; skips on a user's machine without it, fails under CI=true."""
    data = SHARED / "data"
    if not data.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true but the shared data folder {data} is missing")
        pytest.skip(f"{data} is not here (it ships with the developers' checkout, not with the app)")
    return data


# --- database ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def lab_home() -> Path:
    """A data folder for the whole session (converted models are cached here once).

    It lives outside pytest's own temp folder: pytest resets that folder to owner-only access,
    which would lock the embedded server's system user out of a concurrent session's data.
    ``LAB_TEST_DATA_DIR`` keeps it between runs (the model conversion then happens once).
    """
    cached = os.environ.get("LAB_TEST_DATA_DIR")
    if cached:
        Path(cached).mkdir(parents=True, exist_ok=True)
        yield Path(cached)
        return
    home = Path(tempfile.mkdtemp(prefix="lab-test-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(lab_home) -> str:
    """URL of a maintenance database on a real Postgres with pgvector (stopped at the end)."""
    external = os.environ.get("LAB_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from backend.db import embedded

    pgdata = lab_home / "pgdata"
    yield embedded.ensure_running(pgdata, database="postgres")
    from backend.db import pool

    pool.close_all()
    embedded.stop(pgdata)


def _url_for(admin_url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(admin_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def template_db(pg_admin_url) -> str:
    """A database migrated once per session; each test clones it."""
    from backend.db.migrate import migrate

    name = f"lab_tpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _url_for(pg_admin_url, name)
    migrate(url)
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_db(pg_admin_url: str, template: str):
    name = f"lab_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, _url_for(pg_admin_url, name)


def _drop_db(pg_admin_url: str, name: str, url: str) -> None:
    from backend.db import pool

    p = pool._pools.pop(url, None)
    if p is not None:
        p.close()
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(pg_admin_url, template_db) -> str:
    """A fresh, migrated database for one test."""
    name, url = _fresh_db(pg_admin_url, template_db)
    yield url
    _drop_db(pg_admin_url, name, url)


@pytest.fixture
def lab_env(db_url, lab_home) -> dict[str, str]:
    """Environment variables that point a lab process at this test's database."""
    return {"DATABASE_URL": db_url, "LAB_DATA_DIR": str(lab_home), "LAB_WORKER_THREADS": "1",
            "LAB_HEARTBEAT_SECONDS": "1", "LAB_STALLED_AFTER_SECONDS": "6",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@pytest.fixture
def lab(lab_env):
    """A ``Lab`` on this test's database."""
    from backend.lab import open_lab

    return open_lab(lab_env, apply_migrations=False)


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a test module, restored afterwards: other work shares the 2 cores,
    and the bundled models load and answer faster that way on a busy machine. A module asks for
    it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: they are the slowest, and a failure elsewhere should show first."""
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))
