"""Recovery: no job stays 'running' (or 'queued') forever because a worker died.

Every worker runs ``recover_stalled`` every ``stalled_after_seconds / 2``; several may run it at
once (rows are locked with SKIP LOCKED and re-checked under the lock).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from backend.jobs import queue as pq
from backend.jobs import store
from backend.messages import msg

if TYPE_CHECKING:
    import psycopg

    from backend.lab import Lab

log = logging.getLogger(__name__)

_STALE_RUNNING = (
    "SELECT {what} FROM jobs WHERE status IN ('running', 'cancelling') AND (heartbeat_at IS NULL"
    " OR heartbeat_at < now() - make_interval(secs => %(secs)s)) {extra}")
# waiting jobs whose procrastinate message can no longer run (e.g. its worker lost the database
# while starting it, so procrastinate marked it failed)
_LOST_WAITING = (
    "SELECT {what} FROM jobs j LEFT JOIN procrastinate_jobs p ON p.id = j.procrastinate_job_id"
    " WHERE j.status IN ('queued', 'stalled') AND (p.id IS NULL OR p.status NOT IN ('todo', 'doing'))"
    " AND j.updated_at < now() - make_interval(secs => %(secs)s) {extra}")


def recover_stalled(lab: "Lab") -> list[int]:
    """Hand on jobs whose worker died; returns the ids handled.

    A running job whose heartbeat is older than ``stalled_after_seconds`` is marked 'stalled' and
    queued again (attempts + 1) while attempts < ``max_job_attempts``, else 'failed' with a message
    saying its worker died; a job being cancelled becomes 'cancelled'. The dead worker's
    procrastinate run is ended as 'aborted' (never left 'doing'), and waiting jobs whose queue
    message was lost are queued again.
    """
    s = lab.settings
    secs = {"secs": s.stalled_after_seconds}
    handled: list[int] = []
    for r in lab.db.fetchall(_STALE_RUNNING.format(what="id", extra="ORDER BY id"), secs):
        with lab.db.connect() as conn:
            row = conn.execute(_STALE_RUNNING.format(
                what="*", extra="AND id = %(id)s FOR UPDATE SKIP LOCKED"), {**secs, "id": r["id"]}
            ).fetchone()
            if row is not None:
                pq.abort_orphan(conn, row["procrastinate_job_id"])
                _hand_on(conn, row, s.max_job_attempts)
                handled.append(row["id"])

    with lab.db.connect() as conn:
        orphans = pq.stalled_runs(conn, s.stalled_after_seconds)
    for run in orphans:  # procrastinate runs of dead workers that our heartbeats do not cover
        with lab.db.connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE procrastinate_job_id = %s FOR UPDATE",
                               (run["id"],)).fetchone()
            if row is not None and row["status"] in ("running", "cancelling"):
                continue  # its own heartbeat decides (above)
            pq.abort_orphan(conn, run["id"])

    for r in lab.db.fetchall(_LOST_WAITING.format(what="j.id", extra="ORDER BY j.id"), secs):
        with lab.db.connect() as conn:
            row = conn.execute(_LOST_WAITING.format(
                what="j.*", extra="AND j.id = %(id)s FOR UPDATE OF j SKIP LOCKED"),
                {**secs, "id": r["id"]}).fetchone()
            if row is not None:
                store.requeue(conn, row, status=row["status"],
                              message=msg("job.queue_place_lost"))
                handled.append(row["id"])

    lab.db.execute("DELETE FROM job_workers WHERE last_seen < now() - make_interval(secs => %s)",
                   (max(3600, 10 * s.stalled_after_seconds),))
    if handled:
        log.info("recovered jobs: %s", ", ".join(map(str, handled)))
    return handled


def _hand_on(conn: "psycopg.Connection", row: dict, max_attempts: int) -> None:
    worker = row["worker"] or "unknown"
    if row["status"] == "cancelling" or row["cancel_requested"]:
        store.finish(conn, row, "cancelled", message=msg("job.cancelled_worker_stopped"))
        return
    conn.execute("UPDATE jobs SET status = 'stalled' WHERE id = %s", (row["id"],))
    if row["attempts"] < max_attempts:
        store.requeue(conn, row, status="stalled", message=msg(
            "job.worker_unresponsive", worker=worker, attempt=row["attempts"] + 1,
            attempts=max_attempts))
    else:
        store.finish(conn, row, "failed", error=(
            f"The worker running this job ({worker}) stopped responding, on attempt "
            f"{row['attempts']} of {max_attempts}, so the job was not retried again. Workers "
            "usually die from running out of memory: try smaller settings, then Retry."))
