"""The job system end to end: real Postgres, real worker processes (``python -m backend.jobs.worker``)
running the test handlers of ``tests/jobs_fixtures.py``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.jobs_fixtures  # noqa: F401 - registers the test handlers here too (queue lookup, inline runs)
from backend.errors import InputError, NotFound
from backend.jobs.runner import run_inline
from backend.jobs.service import (cancel, enqueue, get_job, job_events, list_jobs, queue_counts,
                                  recover_stalled, retry, worker_alive, workers)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker(lab_env, tmp_path):
    """Starts worker processes on this test's database; kills whatever is left at the end and
    prints their logs (shown by pytest when the test fails)."""
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        log_path = tmp_path / f"worker{len(started)}.log"
        full_env = {**os.environ, **lab_env, "LAB_EXTRA_HANDLERS": "tests.jobs_fixtures", **env}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "backend.jobs.worker", *args], cwd=ROOT,
                                    env=full_env, stdout=log, stderr=subprocess.STDOUT)
        started.append((proc, log_path))
        return proc

    yield start
    for proc, log_path in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        print(f"--- {log_path.name} (exit {proc.returncode}) ---\n{log_path.read_text()[-4000:]}")


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_status(lab, job_id: int, *statuses: str, timeout: float = 30):
    return wait_for(lambda: (j := get_job(lab, job_id)).status in statuses and j, timeout,
                    f"job {job_id} to be {'/'.join(statuses)} (is {get_job(lab, job_id).status})")


def saved_state(lab, job_id: int) -> dict:
    return lab.db.fetchone("SELECT state FROM jobs WHERE id = %s", (job_id,))["state"]


def procrastinate_status(lab, job_id: int) -> str:
    return lab.db.fetchone("SELECT p.status FROM jobs j JOIN procrastinate_jobs p"
                           " ON p.id = j.procrastinate_job_id WHERE j.id = %s", (job_id,))["status"]


def test_job_reports_progress_and_succeeds(lab, start_worker):
    job_id = enqueue(lab, "test.steps", {"n": 20, "delay": 0.1}, title="Count to 20")
    queued = get_job(lab, job_id)
    assert (queued.status, queued.queue, queued.attempts, queued.title) == ("queued", "default", 1,
                                                                            "Count to 20")
    assert queued.is_active and queued.fraction is None  # total not known yet
    start_worker()
    running = wait_for(lambda: (j := get_job(lab, job_id)).rate and j.eta_seconds and j,
                       what="rate and time left while running")
    assert running.status == "running" and running.worker and running.unit == "items"
    assert running.rate > 1 and 0 < running.eta_seconds < 20  # ~10 steps/s, 20 steps

    done = wait_status(lab, job_id, "succeeded", "failed")
    assert done.status == "succeeded", done.error
    assert done.result == {"done": 20, "resumed_from": 0, "attempt": 1, "omp_threads": "1",
                           "heartbeat_seconds": 1}
    assert done.step == done.total == 20 and done.fraction == 1 and done.eta_seconds == 0
    assert done.finished_at >= done.started_at and not done.is_active and done.error is None
    events = job_events(lab, job_id)
    losses = [e["metrics"]["loss"] for e in events if e["metrics"]]
    assert losses == pytest.approx([1 / (i + 1) for i in range(0, 20, 2)])  # metrics always written
    steps = [e["step"] for e in events]
    assert steps == sorted(steps) and steps[-1] == 20
    # throttled: the 10 steps without metrics (but the last) wrote at most a couple of rows
    assert len([e for e in events if not e["metrics"] and 0 < e["step"] < 20]) <= 3
    assert procrastinate_status(lab, job_id) == "succeeded"
    assert queue_counts(lab)["succeeded"] == 1 and [j.id for j in list_jobs(lab)] == [job_id]


def test_cancel_running_job_keeps_its_work_and_retry_resumes(lab, start_worker):
    job_id = enqueue(lab, "test.steps", {"n": 60, "delay": 0.05})
    start_worker()
    wait_for(lambda: get_job(lab, job_id).step >= 5, what="a few steps")
    assert cancel(lab, job_id).status in ("cancelling", "cancelled")
    cancelled = wait_status(lab, job_id, "cancelled", "succeeded", timeout=5)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    kept = saved_state(lab, job_id)["done"]
    assert 5 <= kept < 60 and cancelled.step >= 5  # partial work kept, stopped early
    assert cancel(lab, job_id).status == "cancelled"  # cancelling again changes nothing
    assert procrastinate_status(lab, job_id) == "aborted"
    assert any(e["message"] == "Cancel requested." for e in job_events(lab, job_id))

    again = retry(lab, job_id)
    assert (again.status, again.attempts, again.error) == ("queued", 2, None)
    done = wait_status(lab, job_id, "succeeded", "failed")
    assert done.status == "succeeded" and done.result["resumed_from"] == kept
    assert done.result["attempt"] == 2


def test_cancel_queued_job_never_runs(lab, start_worker):
    cancelled_id = enqueue(lab, "test.steps", {"n": 3, "delay": 0})
    job = cancel(lab, cancelled_id)
    assert job.status == "cancelled" and job.finished_at is not None and not job.is_active
    assert procrastinate_status(lab, cancelled_id) == "cancelled"
    other_id = enqueue(lab, "test.steps", {"n": 3, "delay": 0})
    start_worker()
    wait_status(lab, other_id, "succeeded")
    job = get_job(lab, cancelled_id)
    assert (job.status, job.started_at, job.worker, job.step) == ("cancelled", None, None, 0)
    assert [e["message"] for e in job_events(lab, cancelled_id)] == ["Cancelled before it started."]
    assert saved_state(lab, cancelled_id) == {}


def test_killed_worker_is_detected_and_job_resumes_elsewhere(lab, start_worker):
    fast = {"LAB_STALLED_AFTER_SECONDS": "5"}
    job_id = enqueue(lab, "test.steps", {"n": 40, "delay": 0.1})
    first = start_worker(**fast)
    wait_for(lambda: get_job(lab, job_id).step >= 5, what="a few steps")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    kept = saved_state(lab, job_id)["done"]
    assert get_job(lab, job_id).status == "running"  # nobody knows yet
    start_worker(**fast)
    done = wait_status(lab, job_id, "succeeded", "failed", timeout=40)
    assert done.status == "succeeded", done.error
    assert done.attempts == 2 and done.result["attempt"] == 2
    assert done.result["resumed_from"] >= kept >= 5  # resumed from its saved state, not from 0
    assert any("stopped responding" in (e["message"] or "") for e in job_events(lab, job_id))
    statuses = lab.db.fetchall("SELECT status FROM procrastinate_jobs ORDER BY id")
    assert [r["status"] for r in statuses] == ["aborted", "succeeded"]  # none left 'doing'


def test_failures_say_why(lab, start_worker):
    bad_input = enqueue(lab, "test.input_error", {})
    unknown = enqueue(lab, "test.no_such_kind", {})
    crash = enqueue(lab, "test.crash", {})
    start_worker()
    for job_id in (bad_input, unknown, crash):
        wait_status(lab, job_id, "failed", "succeeded")
    job = get_job(lab, bad_input)
    assert (job.status, job.error) == ("failed",
                                       "The uploaded file is empty. Upload a file that contains text.")
    job = get_job(lab, unknown)
    assert job.status == "failed" and "no handler" in job.error and "test.no_such_kind" in job.error
    job = get_job(lab, crash)
    assert job.status == "failed" and "RuntimeError" in job.error and "kaboom" not in job.error
    assert "kaboom" in job.error_detail and "Traceback" in job.error_detail
    assert {procrastinate_status(lab, j) for j in (bad_input, unknown, crash)} == {"failed"}


def test_jobs_are_routed_to_their_queue(lab, start_worker):
    gpu_job = enqueue(lab, "test.on_gpu", {})
    assert get_job(lab, gpu_job).queue == "gpu"  # the queue the handler is registered on
    cpu_job = enqueue(lab, "test.steps", {"n": 2, "delay": 0})
    start_worker("--queues", "default")
    wait_status(lab, cpu_job, "succeeded")
    time.sleep(1)
    assert get_job(lab, gpu_job).status == "queued"
    start_worker("--queues", "gpu")
    done = wait_status(lab, gpu_job, "succeeded")
    gpu_workers = [w["id"] for w in workers(lab) if w["queues"] == ["gpu"]]
    assert done.result == {"ran_on": done.worker} and gpu_workers == [done.worker]
    with pytest.raises(InputError):
        enqueue(lab, "test.steps", {}, queue="GPU box!")


def test_workers_are_visible_and_a_clean_stop_hands_the_job_on(lab, start_worker):
    assert not worker_alive(lab) and workers(lab) == []
    first = start_worker("--queues", "default,gpu")
    wait_for(lambda: worker_alive(lab), what="the worker to register")
    [seen] = workers(lab)
    assert seen["pid"] == first.pid and seen["queues"] == ["default", "gpu"]
    assert worker_alive(lab, queue="gpu") and not worker_alive(lab, queue="other")

    # this handler catches every Exception per item: a stop must still get through
    job_id = enqueue(lab, "test.swallows", {"n": 60, "delay": 0.05})
    wait_for(lambda: get_job(lab, job_id).step >= 3, what="a few steps")
    assert workers(lab)[0]["running"] == [job_id]
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    job = get_job(lab, job_id)
    assert (job.status, job.attempts) == ("stalled", 2) and "stopped" in job.message
    assert not worker_alive(lab)  # it unregistered itself
    kept = saved_state(lab, job_id)["done"]
    start_worker()
    done = wait_status(lab, job_id, "succeeded", "failed")
    assert done.status == "succeeded" and done.result["resumed_from"] == kept


def test_run_inline_and_input_checks(lab):
    job_id = enqueue(lab, "test.steps", {"n": 3, "delay": 0})
    job = run_inline(lab, job_id)
    assert job.status == "succeeded" and job.result["done"] == 3
    assert procrastinate_status(lab, job_id) == "cancelled"  # no worker will run it again
    with pytest.raises(InputError):
        retry(lab, job_id)
    with pytest.raises(InputError):
        enqueue(lab, "test.steps", {"when": object()})
    with pytest.raises(NotFound):
        get_job(lab, 999_999)
    assert queue_counts(lab) == {"queued": 0, "running": 0, "cancelling": 0, "succeeded": 1,
                                 "failed": 0, "cancelled": 0, "stalled": 0}


@pytest.mark.parametrize("attempts, expected", [(1, "stalled"), (3, "failed")])
def test_recover_stalled_retries_then_gives_up(lab, attempts, expected):
    job_id = enqueue(lab, "test.steps", {"n": 3})
    lab.db.execute("UPDATE jobs SET status = 'running', attempts = %s, worker = 'gone:1:ab',"
                   " heartbeat_at = now() - interval '1 hour' WHERE id = %s", (attempts, job_id))
    assert recover_stalled(lab) == [job_id]
    job = get_job(lab, job_id)
    assert job.status == expected
    if expected == "stalled":
        assert job.attempts == attempts + 1 and job.is_active
        assert procrastinate_status(lab, job_id) == "todo"  # queued again for any worker
    else:
        assert job.attempts == attempts and "stopped responding" in job.error and "gone:1:ab" in job.error
    assert recover_stalled(lab) == []  # nothing left to do


def test_worker_waits_for_an_unreachable_database(lab_env, start_worker, tmp_path):
    worker = start_worker(DATABASE_URL="postgresql://lab@127.0.0.1:1/nowhere")
    log = tmp_path / "worker0.log"
    wait_for(lambda: "unreachable" in log.read_text(), timeout=20, what="a log line")
    assert worker.poll() is None  # still trying, not crash-looping
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0


def test_worker_survives_dropped_connections(lab, db_url, start_worker):
    import psycopg

    from backend.db import pool

    worker = start_worker()
    first = enqueue(lab, "test.steps", {"n": 2, "delay": 0})
    wait_status(lab, first, "succeeded")
    with psycopg.connect(db_url, autocommit=True) as conn:
        dropped = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                               " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                               ).fetchone()[0]
    assert dropped >= 2  # the worker's pool, its listener, ... (and this test's own pool)
    pool.close_all()
    second = enqueue(lab, "test.steps", {"n": 2, "delay": 0})
    done = wait_status(lab, second, "succeeded", "failed", timeout=20)
    assert done.status == "succeeded" and worker.poll() is None
    assert worker_alive(lab)


def test_recover_requeues_waiting_job_whose_queue_message_was_lost(lab):
    job_id = enqueue(lab, "test.steps", {"n": 3})
    lab.db.execute("UPDATE procrastinate_jobs SET status = 'failed'")  # e.g. its worker lost the DB
    assert recover_stalled(lab) == []  # too recent: it may be just starting
    lab.db.execute("UPDATE jobs SET updated_at = now() - interval '1 hour'")
    assert recover_stalled(lab) == [job_id]
    job = get_job(lab, job_id)
    assert (job.status, job.attempts) == ("queued", 2) and procrastinate_status(lab, job_id) == "todo"


def test_recover_aborts_procrastinate_runs_of_dead_workers(lab):
    job_id = run_inline(lab, enqueue(lab, "test.steps", {"n": 1, "delay": 0})).id
    dead = lab.db.fetchone("INSERT INTO procrastinate_workers (last_heartbeat) VALUES"
                           " (now() - interval '1 hour') RETURNING id")["id"]
    lab.db.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", (dead,))
    assert recover_stalled(lab) == []  # no job of ours needed handing on
    assert procrastinate_status(lab, job_id) == "aborted"
    assert get_job(lab, job_id).status == "succeeded"
