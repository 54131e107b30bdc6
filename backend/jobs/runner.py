"""Running one attempt of a job: claim the row, run its handler with a heartbeat, record the end.

``procrastinate_task`` is the single procrastinate task every worker runs; ``run_inline`` runs a
queued job in the calling process (tests of handlers, scripts), with the same bookkeeping.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Callable, TypeVar

import procrastinate
import psycopg
from psycopg.types.json import Jsonb

from backend.errors import DatabaseUnavailable, JobCancelled, LabError
from backend.jobs import queue as pq
from backend.jobs import registry, store
from backend.messages import as_jsonb, msg
from backend.jobs.context import JobContext, JobLost, WorkerStopping

if TYPE_CHECKING:
    from backend.jobs.service import Job
    from backend.lab import Lab

log = logging.getLogger(__name__)
T = TypeVar("T")
GENERIC_ERROR = ("Something went wrong while running this job ({name}). The technical details "
                 "are kept with the job and in the worker's log.")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class JobFailed(Exception):
    """Raised to procrastinate so its own record of the run says 'failed' too."""


def cap_threads(n: int) -> None:
    """Limit math libraries to ``n`` threads: through the environment for libraries not imported
    yet (OpenMP reads it once), and directly for torch if it is already loaded."""
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def procrastinate_task(pctx: procrastinate.JobContext, job_id: int, attempt: int) -> None:
    """The procrastinate task ``lab.run_job``: run attempt ``attempt`` of job ``job_id``."""
    extra = pctx.additional_context

    def should_abort() -> str | None:
        reason = pctx.abort_reason()
        return reason.value if reason else None

    outcome = execute(extra["lab"], job_id, attempt, worker_id=extra["worker_id"],
                      should_abort=should_abort)
    if outcome == "failed":
        raise JobFailed(f"job {job_id} failed; see the jobs table for the reason")
    if outcome in ("cancelled", "stalled"):
        raise procrastinate.exceptions.JobAborted(f"job {job_id} {outcome}")


def run_inline(lab: "Lab", job_id: int) -> "Job":
    """Run a queued job in this process (no worker needed) and return it, finished."""
    from backend.jobs.service import get_job

    execute(lab, job_id, None, worker_id=f"inline:{socket.gethostname()}:{os.getpid()}",
            limit_threads=False)
    return get_job(lab, job_id)


def execute(lab: "Lab", job_id: int, attempt: int | None, *, worker_id: str,
            should_abort: Callable[[], str | None] | None = None, limit_threads: bool = True) -> str:
    """Run the job if this attempt may; return its final status, 'stalled' (handed on to
    another worker), or 'skipped' (nothing to do: stale message, already finished, lost).
    ``limit_threads``: apply ``worker_threads`` to this process (workers; not inline runs)."""
    row = _with_db_retry(lambda: _claim(lab, job_id, attempt, worker_id), f"start job {job_id}")
    if row is None:
        return "skipped"
    if row["status"] != "running":
        return row["status"]
    try:
        job_lab = lab.reload_settings()
    except Exception as exc:  # noqa: BLE001 - the settings the worker started with still work
        log.warning("job %s: could not reload settings (%s); using the worker's", job_id, exc)
        job_lab = lab
    if limit_threads:
        cap_threads(job_lab.settings.worker_threads)
    ctx = JobContext(job_id=job_id, kind=row["kind"], lab=job_lab, attempt=row["attempts"],
                     worker_id=worker_id, state=row["state"], step=row["step"], total=row["total"],
                     unit=row["unit"], should_abort=should_abort)
    heartbeat = _Heartbeat(ctx, job_lab.settings.heartbeat_seconds)
    heartbeat.start()
    log.info("job %s (%s) attempt %s started", job_id, row["kind"], row["attempts"])
    try:
        return _run_handler(ctx, row)
    finally:
        heartbeat.halt()


def _claim(lab: "Lab", job_id: int, attempt: int | None, worker_id: str) -> dict | None:
    """Mark the job running for this worker; the row (None: nothing for this attempt to do).
    ``attempt`` None: an inline run, which withdraws the job's queue message so no worker
    takes it too."""
    with lab.db.connect() as conn:
        row = store.lock(conn, job_id)
        if row is None or (attempt is not None and row["attempts"] != attempt):
            log.info("job %s attempt %s: nothing to run (the job is gone or was re-queued)",
                     job_id, attempt)
            return None
        if row["cancel_requested"] and row["status"] in ("queued", "stalled", "cancelling"):
            store.finish(conn, row, "cancelled", message=msg("job.cancelled_before_start"))
            return {**row, "status": "cancelled"}
        if row["status"] not in store.CLAIMABLE:
            log.info("job %s is %s; not starting it", job_id, row["status"])
            return None
        if attempt is None:
            pq.cancel_queued(conn, row["procrastinate_job_id"])
        starting = msg("job.starting" if row["attempts"] == 1 else "job.resuming")
        conn.execute(
            "UPDATE jobs SET status = 'running', worker = %s, started_at = now(),"
            " heartbeat_at = now(), finished_at = NULL, rate = NULL, eta_seconds = NULL,"
            " message = %s, message_i18n = %s, updated_at = now() WHERE id = %s",
            (worker_id, starting, as_jsonb(starting), job_id))
        store.add_event(conn, row, f"Started on {worker_id} (attempt {row['attempts']}).")
        return {**row, "status": "running"}


def _run_handler(ctx: JobContext, row: dict) -> str:
    try:
        fn = registry.get_handler(row["kind"])
        result = fn(ctx, dict(row["params"] or {}))
        ctx.flush()
        result = store.jsonable({} if result is None else
                                result if isinstance(result, dict) else {"value": result})
    except JobCancelled:
        log.info("job %s cancelled", ctx.job_id)
        return _end(ctx, "cancelled", message=msg("job.cancelled"))
    except WorkerStopping:
        log.info("job %s: the worker is stopping; handing the job on", ctx.job_id)
        return _end(ctx, "stalled")
    except JobLost:
        log.warning("job %s attempt %s was given to another worker; stopping it here",
                    ctx.job_id, ctx.attempt)
        return "skipped"
    except LabError as exc:
        log.info("job %s failed: %s", ctx.job_id, exc.user_message)
        return _end(ctx, "failed", error=exc.user_message, detail=traceback.format_exc())
    except Exception as exc:  # noqa: BLE001 - any bug in a handler fails its job, not the worker
        log.exception("job %s failed with an unexpected error", ctx.job_id)
        return _end(ctx, "failed", error=GENERIC_ERROR.format(name=type(exc).__name__),
                    detail=traceback.format_exc())
    log.info("job %s succeeded", ctx.job_id)
    return _end(ctx, "succeeded", result=result)


def _end(ctx: JobContext, status: str, *, result: dict | None = None, message: str | None = None,
         error: str | None = None, detail: str | None = None) -> str:
    """Record how this attempt ended, retrying through short database outages."""
    return _with_db_retry(lambda: _end_once(ctx, status, result, message, error, detail),
                          f"record the end of job {ctx.job_id}")


def _with_db_retry(fn: Callable[[], T], what: str) -> T:
    """``fn()``, tried again through dropped connections and outages of up to ~30 s (a pooled
    connection that the server closed fails once, then the pool replaces it). If the database
    stays away, the error propagates; the job is then recovered by ``recover_stalled``."""
    for delay in (0.2, 1, 2, 4, 8, 15, None):
        try:
            return fn()
        except (DatabaseUnavailable, psycopg.OperationalError) as exc:
            if delay is None:
                raise
            log.warning("cannot %s (%s); retrying in %ss", what, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _end_once(ctx: JobContext, status: str, result: dict | None, message: str | None,
              error: str | None, detail: str | None) -> str:
    with ctx.lab.db.connect() as conn:
        row = store.lock(conn, ctx.job_id)
        if row is None or row["attempts"] != ctx.attempt or row["status"] not in ("running",
                                                                                  "cancelling"):
            log.warning("job %s attempt %s no longer owns the job; its end is not recorded",
                        ctx.job_id, ctx.attempt)
            return "skipped"
        if status == "stalled":
            if row["cancel_requested"]:
                store.finish(conn, row, "cancelled", message=msg("job.cancelled"))
                return "cancelled"
            store.requeue(conn, row, status="stalled",
                          message=msg("job.worker_stopped", attempt=row["attempts"] + 1))
            return "stalled"
        if status == "succeeded":
            conn.execute(
                "UPDATE jobs SET status = 'succeeded', result = %s, eta_seconds = 0,"
                " finished_at = now(), updated_at = now() WHERE id = %s",
                (Jsonb(result), ctx.job_id))
            store.add_event(conn, row, "Finished.")
            return status
        store.finish(conn, row, status, message=message, error=error, error_detail=detail)
        return status


class _Heartbeat(threading.Thread):
    """Tells everyone the job's worker is alive, and hears cancel requests between steps."""

    def __init__(self, ctx: JobContext, interval: float) -> None:
        super().__init__(name=f"heartbeat-job-{ctx.job_id}", daemon=True)
        self.ctx, self.interval = ctx, interval
        self._halt = threading.Event()

    def halt(self) -> None:
        self._halt.set()

    def run(self) -> None:
        ctx, failures = self.ctx, 0
        while not self._halt.wait(self.interval):
            try:
                row = ctx.lab.db.fetchone(
                    "UPDATE jobs SET heartbeat_at = now() WHERE id = %s AND attempts = %s"
                    " AND status IN ('running', 'cancelling') RETURNING cancel_requested",
                    (ctx.job_id, ctx.attempt))
            except Exception as exc:  # noqa: BLE001 - keep beating: the database may come back
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("job %s: heartbeat failed %s time(s): %s", ctx.job_id, failures, exc)
                continue
            failures = 0
            if row is None:
                ctx.lost.set()
                return
            if row["cancel_requested"]:
                ctx.cancel_requested.set()
