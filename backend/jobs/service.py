"""The job system's public API: enqueue, read, cancel, retry, and watch workers.

Pages enqueue and poll; worker processes (``python -m backend.jobs.worker``) run the jobs. Statuses:
queued -> running -> succeeded | failed | cancelled; running -> cancelling -> cancelled when a user
cancels; running -> stalled when its worker dies or stops (it then waits for another worker and
resumes from its saved state, or fails after ``max_job_attempts``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

import procrastinate.exceptions
from psycopg.types.json import Jsonb

from backend.errors import DatabaseUnavailable, InputError, NotFound
from backend.jobs import queue as pq
from backend.jobs import registry, store
from backend.messages import as_jsonb, msg
from backend.jobs.recovery import recover_stalled  # noqa: F401 - part of this API
from backend.jobs.store import ACTIVE, FINISHED, STATUSES  # noqa: F401 - part of this API

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)


WAITING = msg("job.waiting")


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    title: str
    queue: str
    status: str
    params: dict
    step: float
    total: float | None
    unit: str | None
    rate: float | None
    eta_seconds: float | None
    message: str | None
    result: dict | None
    error: str | None
    cancel_requested: bool
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    error_detail: str | None = None
    #: ``message``'s key and values (``backend.messages``), for the interface to translate
    message_i18n: dict | None = None
    #: ``title``'s key and values, likewise
    title_i18n: dict | None = None

    @property
    def fraction(self) -> float | None:
        """Share done, 0..1 (None while the total is unknown)."""
        if not self.total:
            return 1.0 if self.status == "succeeded" else None
        return max(0.0, min(1.0, self.step / self.total))

    @property
    def is_active(self) -> bool:
        """Queued, running, being cancelled or waiting for another worker."""
        return self.status in ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def enqueue(lab: "Lab", kind: str, params: dict, *, title: str | None = None,
            queue: str | None = None) -> int:
    """Record a job and queue it for a worker; returns its id at once.

    ``queue`` defaults to the queue the kind's handler is registered on ("default" if this
    process does not know the kind: a worker that does not know it either fails the job with a
    clear message). ``params`` must be JSON; raises ``InputError`` otherwise.
    """
    if not kind or not isinstance(kind, str):
        raise InputError("A job needs a kind.")
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InputError("A job's parameters are a dictionary.")
    try:
        params = store.jsonable(params)
        json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise InputError(f"The job's parameters cannot be stored ({exc}).",
                         hint="Pass plain values: text, numbers, lists and dictionaries.") from exc
    if queue is None:
        if registry.handler_queue(kind) is None:
            registry.load_handler_modules()
        queue = registry.handler_queue(kind) or registry.DEFAULT_QUEUE
    pq.check_queue_name(queue)
    title = title or kind.replace("_", " ").replace(".", " ").strip().capitalize()
    try:
        with lab.db.connect() as conn:
            job_id = conn.execute(
                "INSERT INTO jobs (kind, title, title_i18n, queue, params, message, message_i18n)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (kind, title, as_jsonb(title), queue, Jsonb(params), WAITING,
                 as_jsonb(WAITING))).fetchone()["id"]
            procrastinate_id = pq.defer_run(conn, job_id, 1, queue)
            conn.execute("UPDATE jobs SET procrastinate_job_id = %s WHERE id = %s",
                         (procrastinate_id, job_id))
    except procrastinate.exceptions.ConnectorException as exc:
        raise DatabaseUnavailable("The job could not be queued.",
                                  hint="Check that the database is reachable and migrated.") from exc
    log.info("job %s (%s) queued on %s", job_id, kind, queue)
    return job_id


def get_job(lab: "Lab", job_id: int) -> Job:
    """The job as it is now; raises ``NotFound``."""
    row = lab.db.fetchone("SELECT * FROM jobs WHERE id = %s", (job_id,))
    if row is None:
        raise NotFound(f"There is no job {job_id}.", hint="It may have been deleted.")
    return Job.from_row(row)


def list_jobs(lab: "Lab", *, kind: str | Iterable[str] | None = None,
              statuses: Iterable[str] | None = None, limit: int = 50) -> list[Job]:
    """Jobs, newest first, optionally of some kinds and statuses."""
    kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
    wanted = list(statuses) if statuses is not None else None
    rows = lab.db.fetchall(
        "SELECT * FROM jobs WHERE (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s))"
        " AND (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s))"
        " ORDER BY id DESC LIMIT %(limit)s",
        {"kinds": kinds, "statuses": wanted, "limit": limit})
    return [Job.from_row(r) for r in rows]


def job_events(lab: "Lab", job_id: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The job's progress rows and status changes, oldest first (the latest ``limit``): each with
    ts, attempt, step, total, message and metrics (a dict or None)."""
    return lab.db.fetchall(
        "SELECT ts, attempt, step, total, message, metrics FROM ("
        " SELECT * FROM job_events WHERE job_id = %s ORDER BY id DESC LIMIT %s) latest ORDER BY id",
        (job_id, limit))


def cancel(lab: "Lab", job_id: int) -> Job:
    """Cancel a job. Waiting: cancelled at once and never started. Running: marked 'cancelling';
    its handler stops at its next progress check (keeping what it finished). Finished: no change.
    """
    with lab.db.connect() as conn:
        row = store.lock(conn, job_id)
        if row is None:
            raise NotFound(f"There is no job {job_id}.")
        waiting = row["status"] in store.CLAIMABLE
        if waiting and pq.cancel_queued(conn, row["procrastinate_job_id"]):
            store.finish(conn, row, "cancelled", message=msg("job.cancelled_before_start"))
        elif waiting and not _taken_by_worker(conn, row["procrastinate_job_id"]):
            store.finish(conn, row, "cancelled", message=msg("job.cancelled_before_start"))
        elif waiting or row["status"] == "running":
            pq.request_abort(conn, row["procrastinate_job_id"])
            cancelling = msg("job.cancelling")
            conn.execute("UPDATE jobs SET status = 'cancelling', cancel_requested = true,"
                         " message = %s, message_i18n = %s, updated_at = now() WHERE id = %s",
                         (cancelling, as_jsonb(cancelling), job_id))
            store.add_event(conn, row, "Cancel requested.")
    return get_job(lab, job_id)


def _taken_by_worker(conn, procrastinate_id: int | None) -> bool:
    if procrastinate_id is None:
        return False
    row = conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s",
                       (procrastinate_id,)).fetchone()
    return row is not None and row["status"] == "doing"


def retry(lab: "Lab", job_id: int) -> Job:
    """Queue a failed or cancelled job again (same id, attempts + 1); its handler resumes from
    what it saved with ``save_state``. Raises ``InputError`` for a job in any other status."""
    with lab.db.connect() as conn:
        row = store.lock(conn, job_id)
        if row is None:
            raise NotFound(f"There is no job {job_id}.")
        if row["status"] not in ("failed", "cancelled"):
            raise InputError(f"Only a failed or cancelled job can be retried; this one is "
                             f"{row['status']}.")
        store.requeue(conn, row, status="queued",
                      message=msg("job.queued_again", attempt=row["attempts"] + 1))
    return get_job(lab, job_id)


def queue_counts(lab: "Lab") -> dict[str, int]:
    """How many jobs are in each status (every status present, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for r in lab.db.fetchall("SELECT status, count(*) AS n FROM jobs GROUP BY status"):
        counts[r["status"]] = r["n"]
    return counts


def workers(lab: "Lab", within_seconds: float | None = None) -> list[dict[str, Any]]:
    """Live workers (seen within ``within_seconds``, default ``stalled_after_seconds``): id, host,
    pid, queues, started_at, last_seen, and running (ids of the jobs it runs)."""
    within = within_seconds or lab.settings.stalled_after_seconds
    return lab.db.fetchall(
        "SELECT w.id, w.host, w.pid, w.queues, w.started_at, w.last_seen,"
        " COALESCE(array_agg(j.id ORDER BY j.id) FILTER (WHERE j.id IS NOT NULL), '{}') AS running"
        " FROM job_workers w LEFT JOIN jobs j ON j.worker = w.id"
        "  AND j.status IN ('running', 'cancelling')"
        " WHERE w.last_seen > now() - make_interval(secs => %s)"
        " GROUP BY w.id ORDER BY w.started_at", (within,))


def worker_alive(lab: "Lab", within_seconds: float | None = None, *, queue: str | None = None) -> bool:
    """True if a worker (listening on ``queue``, if given) was seen within ``within_seconds``."""
    return any(queue is None or queue in w["queues"] for w in workers(lab, within_seconds))
