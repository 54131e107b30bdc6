"""The procrastinate side of the job system: one task, ``lab.run_job(job_id, attempt)``.

procrastinate only carries "run attempt N of job J" messages to workers (claimed with
``FOR UPDATE SKIP LOCKED``, routed by queue name, woken by LISTEN/NOTIFY); the lab's ``jobs`` table
is the record users see. Deferring, cancelling and aborting run on the caller's own connection,
inside its transaction, so a ``jobs`` row and its procrastinate message appear (or not) together.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import procrastinate
import psycopg
from procrastinate import sql as procrastinate_sql

from backend.errors import InputError

log = logging.getLogger(__name__)

TASK_NAME = "lab.run_job"
_QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Used only with a connection passed in, so its connector never opens a pool of its own.
_client = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())


def check_queue_name(queue: str) -> str:
    """``queue`` if it is a usable queue name (it becomes part of a LISTEN channel name)."""
    if not isinstance(queue, str) or not _QUEUE_NAME.match(queue):
        raise InputError(f"{queue!r} is not a valid queue name.",
                         hint="Use 1-40 lower-case letters, digits, '-' or '_', e.g. default or gpu.")
    return queue


def defer_run(conn: psycopg.Connection, job_id: int, attempt: int, queue: str) -> int:
    """Defer ``lab.run_job(job_id, attempt)`` on ``queue`` within ``conn``'s transaction."""
    deferrer = _client.configure_task(TASK_NAME, queue=queue, connection=conn,
                                      task_kwargs={"job_id": job_id, "attempt": attempt})
    return deferrer.defer()


def cancel_queued(conn: psycopg.Connection, procrastinate_id: int | None) -> bool:
    """Cancel a procrastinate job that no worker took yet; False if one already took it."""
    if procrastinate_id is None:
        return False
    return _client.job_manager.cancel_job_by_id(procrastinate_id, connection=conn)


def request_abort(conn: psycopg.Connection, procrastinate_id: int | None) -> None:
    """Ask the worker running it to abort (it hears this at once through NOTIFY)."""
    if procrastinate_id is not None:
        _client.job_manager.cancel_job_by_id(procrastinate_id, abort=True, connection=conn)


def abort_orphan(conn: psycopg.Connection, procrastinate_id: int | None) -> None:
    """End a procrastinate job whose worker died, so it is not left 'doing' forever.

    'aborted' is the procrastinate status for a job that was stopped; a worker that was only
    slow and comes back later fails to finish it and logs that, which is harmless: the lab's
    ``jobs`` row no longer points at it.
    """
    if procrastinate_id is None:
        return
    row = conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s FOR UPDATE",
                       (procrastinate_id,)).fetchone()
    status = None if row is None else (row["status"] if isinstance(row, dict) else row[0])
    if status == "doing":
        _execute(conn, "finish_job", job_id=procrastinate_id, status="aborted", delete_job=False)
    elif status == "todo":
        cancel_queued(conn, procrastinate_id)


def stalled_runs(conn: psycopg.Connection, seconds_since_heartbeat: float) -> list[dict[str, Any]]:
    """procrastinate's own view of stalled jobs: 'doing' jobs of our task whose worker stopped
    sending heartbeats (or was pruned)."""
    return _execute(conn, "select_stalled_jobs_by_heartbeat", queue=None, task_name=TASK_NAME,
                    seconds_since_heartbeat=seconds_since_heartbeat)


def _execute(conn: psycopg.Connection, query_name: str, **arguments: Any) -> list[dict[str, Any]]:
    connector = _client.connector.get_sync_connector()
    return connector.execute_query_all_with_connection(
        conn, query=procrastinate_sql.queries[query_name], **arguments)


def worker_app(url: str, *, max_pool_size: int = 4) -> procrastinate.App:
    """The app a worker process runs: an async connector on ``url`` and the ``run_job`` task."""
    from backend.jobs import runner

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url, min_size=1, max_size=max_pool_size, timeout=30))
    app.task(name=TASK_NAME, pass_context=True)(runner.procrastinate_task)
    return app
