"""Row-level changes of the ``jobs`` table, each inside the caller's transaction.

Every change of a job's status goes through here, so the ``jobs`` row and its procrastinate
message always change together (see ``backend.jobs.queue``).
"""

from __future__ import annotations

import math

import psycopg

from backend.jobs import queue as pq
from backend.messages import as_jsonb

STATUSES = ("queued", "running", "cancelling", "succeeded", "failed", "cancelled", "stalled")
#: statuses in which a job still needs a worker (or is with one)
ACTIVE = ("queued", "running", "cancelling", "stalled")
FINISHED = ("succeeded", "failed", "cancelled")
#: a worker may start a job in these statuses
CLAIMABLE = ("queued", "stalled")


def lock(conn: psycopg.Connection, job_id: int) -> dict | None:
    """The job's row, locked until the transaction ends (None if there is no such job)."""
    return conn.execute("SELECT * FROM jobs WHERE id = %s FOR UPDATE", (job_id,)).fetchone()


def add_event(conn: psycopg.Connection, row: dict, message: str, *, attempt: int | None = None) -> None:
    """Append a status change to the job's history (next to its progress rows)."""
    conn.execute("INSERT INTO job_events (job_id, attempt, step, total, message) "
                 "VALUES (%s, %s, %s, %s, %s)",
                 (row["id"], attempt or row["attempts"], row["step"], row["total"], message))


def requeue(conn: psycopg.Connection, row: dict, *, status: str, message: str) -> int:
    """Start attempt ``attempts + 1`` of the job: a new procrastinate message on its queue.

    ``status`` is 'queued' (a user's retry) or 'stalled' (the last worker died or stopped; the
    job waits for another). Progress and resume state are kept, so the handler can resume.
    Returns the new attempt number.
    """
    attempt = row["attempts"] + 1
    procrastinate_id = pq.defer_run(conn, row["id"], attempt, row["queue"])
    conn.execute(
        "UPDATE jobs SET status = %s, attempts = %s, procrastinate_job_id = %s, message = %s,"
        " message_i18n = %s, cancel_requested = false, worker = NULL, heartbeat_at = NULL, finished_at = NULL,"
        " error = NULL, error_detail = NULL, result = NULL, rate = NULL, eta_seconds = NULL,"
        " updated_at = now() WHERE id = %s",
        (status, attempt, procrastinate_id, message, as_jsonb(message), row["id"]))
    add_event(conn, row, message, attempt=attempt)
    return attempt


def finish(conn: psycopg.Connection, row: dict, status: str, *, message: str | None = None,
           error: str | None = None, error_detail: str | None = None) -> None:
    """Give the job a final status ('failed' or 'cancelled' decided outside a running handler)."""
    assert status in FINISHED
    conn.execute(
        "UPDATE jobs SET status = %s, message = COALESCE(%s, message),"
        " message_i18n = CASE WHEN %s::text IS NULL THEN message_i18n ELSE %s END, error = %s,"
        " error_detail = %s, rate = NULL, eta_seconds = NULL, finished_at = now(),"
        " updated_at = now() WHERE id = %s",
        (status, message, message, as_jsonb(message), error, error_detail, row["id"]))
    add_event(conn, row, message or error or status)


def jsonable(value):
    """``value`` made storable as Postgres JSON: NaN and infinities (which jsonb rejects) become
    None, tuples become lists, numpy scalars become Python numbers. Raises TypeError for
    anything else that JSON cannot hold."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return jsonable(value.item())  # numpy / torch scalars
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON")
