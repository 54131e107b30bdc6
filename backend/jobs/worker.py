"""The worker process: ``python -m backend.jobs.worker [--queues default,gpu] [--concurrency 1]``.

It opens the lab (retrying while the database is unreachable), caps math-library threads, loads
the handler modules, registers itself in ``job_workers`` with a heartbeat, hands on jobs of dead
workers every ``stalled_after_seconds / 2``, and runs procrastinate's worker on its queues.
Several workers, on several machines, may share one database.

SIGTERM / SIGINT stop it cleanly: a running job stops at its next progress check and is marked
'stalled', so another worker resumes it at once. A second signal exits immediately (the job is then
recovered when its heartbeat is older than ``stalled_after_seconds``). If the database drops, the
worker logs it and reconnects with backoff; it never exits silently.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

from backend.jobs.context import WORKER_STOPPING

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger("backend.jobs.worker")
_BACKOFF = (1, 2, 4, 8, 15, 30)


def main(argv: list[str] | None = None) -> int:
    """Run a worker until it is stopped; the exit code is 0 after a clean stop."""
    parser = argparse.ArgumentParser(prog="python -m backend.jobs.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queues", default="default",
                        help="comma-separated queues to take jobs from (default: default)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="jobs run at the same time (default 1; each uses worker_threads)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LAB_LOG_LEVEL", "INFO").upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("procrastinate.worker").addFilter(_quiet_outcomes)

    from backend import config
    from backend.errors import ConfigError
    from backend.jobs import queue as pq
    from backend.jobs.runner import cap_threads

    try:
        queues = [pq.check_queue_name(q.strip()) for q in args.queues.split(",") if q.strip()]
        cap_threads(config.build().worker_threads)  # before anything imports torch
    except Exception as exc:  # noqa: BLE001 - a bad setting or argument: say it and stop
        log.error("cannot start the worker: %s", exc)
        return 2
    if not queues or args.concurrency < 1:
        log.error("cannot start the worker: give at least one queue and a concurrency of 1 or more")
        return 2
    _install_signal_handlers()
    try:
        lab = _open_lab()
    except ConfigError as exc:
        log.error("cannot start the worker: %s", exc.user_message)
        return 2
    if lab is None:
        return 0  # stopped while waiting for the database
    cap_threads(lab.settings.worker_threads)

    from backend.jobs import registry

    registry.load_handler_modules()
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
    log.info("worker %s on queue(s) %s; handlers: %s", worker_id, ", ".join(queues),
             ", ".join(registry.known_kinds()) or "none")
    monitor = _Monitor(lab, worker_id, queues)
    monitor.start()
    try:
        _run_procrastinate(lab, worker_id, queues, args.concurrency)
    finally:
        monitor.halt()
        monitor.join(timeout=10)
    log.info("worker %s stopped", worker_id)
    return 0


def _quiet_outcomes(record: logging.LogRecord) -> bool:
    """Drop the traceback procrastinate logs for the exceptions ``run_job`` raises only to set
    procrastinate's status (the job's own failure was logged already, with its traceback)."""
    import procrastinate.exceptions

    from backend.jobs.runner import JobFailed

    if record.exc_info and isinstance(record.exc_info[1], (JobFailed,
                                                           procrastinate.exceptions.JobAborted)):
        record.exc_info = None
    return True


# --- stopping -----------------------------------------------------------------------------------
_wake: list = []  # callbacks that wake the event loop when a stop is requested


def _request_stop(*_: object) -> None:
    if WORKER_STOPPING.is_set():
        log.warning("second stop signal: exiting now; a running job is recovered by another worker")
        os._exit(1)
    log.info("stop requested: finishing (running jobs are handed on at their next check)")
    WORKER_STOPPING.set()
    for wake in list(_wake):
        wake()


def _install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)


def _sleep_unless_stopped(seconds: float) -> bool:
    """Sleep; True if a stop was requested meanwhile."""
    return WORKER_STOPPING.wait(seconds)


# --- startup ------------------------------------------------------------------------------------
def _open_lab() -> "Lab | None":
    """``open_lab()``, retried with backoff while the database is unreachable (None: stopped)."""
    import psycopg

    from backend.errors import DatabaseUnavailable
    from backend.lab import open_lab

    attempt = 0
    while not WORKER_STOPPING.is_set():
        try:
            return open_lab()
        except (DatabaseUnavailable, psycopg.OperationalError) as exc:
            delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
            attempt += 1
            log.error("the database is unreachable (%s); retrying in %ss", exc, delay)
            if _sleep_unless_stopped(delay):
                break
    return None


# --- the procrastinate worker ---------------------------------------------------------------------
def _run_procrastinate(lab: "Lab", worker_id: str, queues: list[str], concurrency: int) -> None:
    """Run procrastinate's worker until a stop is requested, restarting it with backoff when it
    fails (lost database connection)."""
    from backend.jobs.queue import worker_app

    attempt = 0
    while not WORKER_STOPPING.is_set():
        started = time.monotonic()
        try:
            app = worker_app(lab.db.url, max_pool_size=concurrency + 3)
            asyncio.run(_serve(app, {
                "queues": queues, "concurrency": concurrency, "name": worker_id,
                "install_signal_handlers": False,
                "update_heartbeat_interval": lab.settings.heartbeat_seconds,
                "stalled_worker_timeout": lab.settings.stalled_after_seconds,
                "additional_context": {"lab": lab, "worker_id": worker_id},
            }))
            if WORKER_STOPPING.is_set():
                return
            raise RuntimeError("the queue worker stopped by itself (lost database connection?)")
        except Exception as exc:  # noqa: BLE001 - logged, then retried: never exit silently
            if time.monotonic() - started > 120:
                attempt = 0  # it ran well for a while: start the backoff again
            delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
            attempt += 1
            log.error("queue worker failed: %s; restarting in %ss", exc, delay, exc_info=attempt == 1)
            if _sleep_unless_stopped(delay):
                return


async def _serve(app, options: dict) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    wake = lambda: loop.call_soon_threadsafe(stop.set)  # noqa: E731 - called from a signal handler
    _wake.append(wake)
    try:
        async with app.open_async():
            run = asyncio.create_task(app.run_worker_async(**options), name="procrastinate worker")
            stopper = asyncio.create_task(stop.wait())
            if WORKER_STOPPING.is_set():
                stop.set()
            done, _ = await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if run in done:
                stopper.cancel()
                run.result()
                return
            # cancelling run_worker_async is procrastinate's graceful stop: it waits for the
            # running jobs (which stop at their next check) and unregisters the worker
            run.cancel()
            try:
                await run
            except asyncio.CancelledError:
                pass
    finally:
        _wake.remove(wake)


# --- heartbeat and recovery -----------------------------------------------------------------------
class _Monitor(threading.Thread):
    """Keeps this worker's ``job_workers`` row fresh and recovers jobs of dead workers."""

    def __init__(self, lab: "Lab", worker_id: str, queues: list[str]) -> None:
        super().__init__(name="worker-monitor", daemon=True)
        self.lab, self.worker_id, self.queues = lab, worker_id, queues
        self._halt = threading.Event()

    def halt(self) -> None:
        self._halt.set()

    def run(self) -> None:
        from backend.jobs.service import recover_stalled

        next_recovery, failures = 0.0, 0
        while True:
            try:
                self._beat()
                if time.monotonic() >= next_recovery:
                    self.lab = self.lab.reload_settings()
                    recover_stalled(self.lab)
                    next_recovery = time.monotonic() + self.lab.settings.stalled_after_seconds / 2
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the database may come back
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("worker heartbeat/recovery failed %s time(s): %s", failures, exc)
            if self._halt.wait(self.lab.settings.heartbeat_seconds):
                break
        try:
            self.lab.db.execute("DELETE FROM job_workers WHERE id = %s", (self.worker_id,))
        except Exception as exc:  # noqa: BLE001 - the row then just ages out
            log.warning("could not unregister worker %s: %s", self.worker_id, exc)

    def _beat(self) -> None:
        self.lab.db.execute(
            "INSERT INTO job_workers (id, host, pid, queues) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET last_seen = now()",
            (self.worker_id, socket.gethostname(), os.getpid(), self.queues))


if __name__ == "__main__":
    sys.exit(main())
