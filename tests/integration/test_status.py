"""backend.status on a real database: true versions, and failures reported instead of raised."""

from __future__ import annotations

import sys

import psycopg

from backend import status
from backend.db import Database
from backend.lab import Lab


def test_system_status_reports_the_real_server(lab, db_url):
    with psycopg.connect(db_url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        vector = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    out = status.system_status(lab)
    assert set(out) == {*status.CHECKS, "ok"}
    assert out["database"]["ok"] and out["database"]["version"] == server
    assert out["database"]["kind"] == "external"  # DATABASE_URL is set by the fixture
    assert out["pgvector"] == {"ok": True, "version": vector, "detail": ""}
    assert out["migrations"]["ok"] and out["migrations"]["pending"] == []
    assert out["migrations"]["applied"][0] == "0001_core"
    assert out["jobs"]["ok"] and out["jobs"]["queued"] == 0 and out["jobs"]["running"] == 0
    # nobody started a worker in this test
    assert out["worker"]["alive"] is False and out["worker"]["ok"] is False
    assert out["worker"]["detail"] and out["ok"] is False


def test_job_counts_follow_the_jobs_table(lab):
    from backend.jobs import service

    service.enqueue(lab, "status.test", {}, queue="default")
    service.enqueue(lab, "status.test", {}, queue="default")
    assert status.check_jobs(lab)["queued"] == 2


def test_a_missing_model_module_is_an_entry_not_an_exception(lab, monkeypatch):
    monkeypatch.setitem(sys.modules, "backend.models.status", None)  # import now fails
    out = status.check_models(lab)
    assert out["ok"] is False and out["items"] == [] and "not available" in out["detail"]


def test_an_unreachable_database_is_reported_with_what_to_fix(lab):
    broken = Lab(settings=lab.settings, db=Database("postgresql://lab:s3cret@127.0.0.1:1/lab"))
    out = status.check_database(broken)
    assert out["ok"] is False and "DATABASE_URL" in out["detail"]
    assert "s3cret" not in str(out)
