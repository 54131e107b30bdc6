"""Home and the frame, rendered with AppTest against the real test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

from tests.ui.conftest import ROOT, tree_text


def _db_versions(url: str) -> tuple[str, str]:
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        vector = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    return server, vector


def test_home_shows_real_postgres_and_pgvector_versions(app_env, new_app):
    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    server, vector = _db_versions(app_env["DATABASE_URL"])
    text = tree_text(at)
    assert server in text and vector in text
    assert at.title[0].value == "Which way should your model learn your documents?"
    # the sidebar status line reads the same server
    assert any(server in c.value for c in at.sidebar.caption)


def test_home_renders_in_spanish_after_switching(app_env, new_app):
    from ui.state import LANG_KEY

    at = new_app().run()
    at.sidebar.radio(key=LANG_KEY).set_value("es").run()
    assert not at.exception
    assert at.title[0].value == "¿Cómo debe aprender tu modelo tus documentos?"
    text = tree_text(at)
    assert "Generación aumentada por recuperación (RAG)" in text
    assert "Which way should your model" not in text
    assert "Estado del sistema" in text
    # the choice holds on the next run and on another page
    at.run()
    assert at.title[0].value == "¿Cómo debe aprender tu modelo tus documentos?"
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert at.title[0].value == "Configuración"
    assert at.sidebar.radio(key=LANG_KEY).value == "es"


def test_home_with_unreachable_database_names_database_url(monkeypatch, app_env, new_app):
    monkeypatch.setenv("DATABASE_URL", "postgresql://lab:s3cr3t-pw@127.0.0.1:1/lab")
    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert errors and any("DATABASE_URL" in e for e in errors)
    text = tree_text(at)
    assert "Traceback" not in text and "s3cr3t-pw" not in text
    # the page around the message still renders
    assert at.title[0].value == "Which way should your model learn your documents?"


@pytest.fixture
def running_worker(app_env, lab, tmp_path):
    """A real worker process on this test's database, stopped at the end."""
    from backend.jobs.service import worker_alive

    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "backend.jobs.worker"], cwd=ROOT,
                                env={**os.environ, **app_env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not worker_alive(lab):
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_every_status_is_green_on_a_healthy_install(app_env, lab, running_worker, new_app):
    from backend.models.status import model_status

    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) >= 6 and not [b for b in badges if ":red-badge[" in b], badges
    required = [m for m in model_status(lab.settings) if m.get("required", True)]
    assert any(f"{len(required)} of {len(required)} resolve" in b for b in badges)
    assert any("running" in b for b in badges)
    assert "Worker running" in " ".join(c.value for c in at.sidebar.caption)
