"""What a running handler sees: progress reporting, cooperative cancellation, resume state."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Callable

from psycopg.types.json import Jsonb

from backend.errors import JobCancelled
from backend.jobs.progress import RateEstimator, Throttle
from backend.jobs.store import jsonable
from backend.messages import as_jsonb

if TYPE_CHECKING:
    from backend.lab import Lab

log = logging.getLogger(__name__)

#: Set by the worker when it was asked to stop; running handlers stop at their next check.
WORKER_STOPPING = threading.Event()

#: Most jobs-row progress writes per second (forced writes do not count).
WRITES_PER_SECOND = 2.0
#: How often ``check_cancelled`` may ask the database (the heartbeat asks too).
CANCEL_POLL_SECONDS = 1.0


class WorkerStopping(BaseException):
    """The worker is shutting down: the job stops and is handed to another worker.

    A ``BaseException`` so that handlers that catch ``Exception`` per item (an evaluation that
    records a failed sample and goes on) cannot swallow it.
    """


class JobLost(BaseException):
    """This attempt no longer owns the job (it was declared stalled and given to another
    worker): stop without writing anything."""


class JobContext:
    """Handed to every handler as ``ctx``.

    ``job_id``, ``kind``, ``attempt`` (1 for the first run) and ``lab`` (settings reloaded from the
    database when the job started). Call ``progress`` between steps: it records progress and raises
    ``JobCancelled`` when a user asked to cancel; let that exception propagate (work finished so
    far, and anything saved with ``save_state``, is kept).
    """

    def __init__(self, *, job_id: int, kind: str, lab: "Lab", attempt: int = 1,
                 worker_id: str | None = None, state: dict | None = None, step: float = 0.0,
                 total: float | None = None, unit: str | None = None,
                 should_abort: Callable[[], str | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.job_id = job_id
        self.kind = kind
        self.lab = lab
        self.attempt = attempt
        self.worker_id = worker_id
        self._state = dict(state or {})
        self._step, self._total, self._unit = step, total, unit
        self._message: str | None = None
        self._should_abort = should_abort or (lambda: None)
        self._clock = clock
        self._rate = RateEstimator(clock=clock)
        self._writes = Throttle(1.0 / WRITES_PER_SECOND, clock=clock)
        self._polls = Throttle(CANCEL_POLL_SECONDS, clock=clock)
        self._pending = False
        self._warned_at = -math.inf
        #: set by the heartbeat thread too
        self.cancel_requested = threading.Event()
        self.lost = threading.Event()

    # --- progress ------------------------------------------------------------------------------
    def progress(self, step: float, total: float | None = None, *, message: str | None = None,
                 unit: str | None = None, metrics: dict | None = None) -> None:
        """Record that the job reached ``step`` of ``total`` (None: keep the last total).

        Updates the job's step, total, unit, rate, time left and message and appends a progress
        event; writes are throttled to about two a second, except when ``metrics`` are given, the
        message changes or the job reaches its total. Raises ``JobCancelled`` if a user asked
        to cancel. A database hiccup is logged, not raised: progress is not worth a failed job.
        """
        self.check_cancelled()
        step = float(step)
        if total is not None:
            self._total = float(total)
        if unit is not None:
            self._unit = unit
        self._rate.add(step)
        self._step = step
        changed_message = message is not None and message != self._message
        if message is not None:
            self._message = message
        done = self._total is not None and step >= self._total
        if self._writes.ready(force=bool(metrics) or changed_message or done):
            self._write(metrics)
        else:
            self._pending = True

    def flush(self) -> None:
        """Write progress held back by the throttle (called when the handler returns)."""
        if self._pending:
            self._write(None)

    def _write(self, metrics: dict | None) -> None:
        rate = self._rate.rate
        eta = self._rate.eta(self._step, self._total)
        try:
            with self.lab.db.connect() as conn:
                updated = conn.execute(
                    "UPDATE jobs SET step = %s, total = %s, unit = %s, rate = %s, eta_seconds = %s,"
                    " message = COALESCE(%s, message),"
                    " message_i18n = CASE WHEN %s::text IS NULL THEN message_i18n ELSE %s END,"
                    " updated_at = now()"
                    " WHERE id = %s AND attempts = %s AND status IN ('running', 'cancelling')",
                    (self._step, self._total, self._unit, rate, eta, self._message, self._message,
                     as_jsonb(self._message), self.job_id, self.attempt)).rowcount
                if updated:
                    conn.execute(
                        "INSERT INTO job_events (job_id, attempt, step, total, message, metrics)"
                        " VALUES (%s, %s, %s, %s, %s, %s)",
                        (self.job_id, self.attempt, self._step, self._total, self._message,
                         Jsonb(jsonable(metrics)) if metrics else None))
        except Exception as exc:  # noqa: BLE001 - see the docstring of progress()
            self._warn(f"could not record progress of job {self.job_id}: {exc}")
            self._pending = True
            return
        self._pending = False
        if not updated:
            self.lost.set()
            raise JobLost

    # --- cancellation --------------------------------------------------------------------------
    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` if a user asked to cancel this job (cheap: call it often)."""
        reason = self._should_abort()
        if WORKER_STOPPING.is_set() or reason == "shutdown":
            raise WorkerStopping
        if self.lost.is_set():
            raise JobLost
        if self.cancel_requested.is_set() or reason == "user_request":
            self.cancel_requested.set()
            raise JobCancelled()
        if self._polls.ready():
            self._poll()
            if self.lost.is_set():
                raise JobLost
            if self.cancel_requested.is_set():
                raise JobCancelled()

    def _poll(self) -> None:
        try:
            row = self.lab.db.fetchone(
                "SELECT cancel_requested, attempts, status FROM jobs WHERE id = %s", (self.job_id,))
        except Exception as exc:  # noqa: BLE001 - the heartbeat keeps trying
            self._warn(f"could not check job {self.job_id} for cancellation: {exc}")
            return
        if row is None or row["attempts"] != self.attempt or row["status"] not in ("running",
                                                                                   "cancelling"):
            self.lost.set()
        elif row["cancel_requested"]:
            self.cancel_requested.set()

    # --- resume state --------------------------------------------------------------------------
    def save_state(self, state: dict) -> None:
        """Store a small JSON ``state`` (e.g. the last checkpoint step) that a later attempt of this
        job reads with ``load_state``; replaces what was saved before. Raises on a database error
        (a resume point that silently was not saved would be worse)."""
        with self.lab.db.connect() as conn:
            updated = conn.execute(
                "UPDATE jobs SET state = %s, updated_at = now() WHERE id = %s AND attempts = %s",
                (Jsonb(jsonable(state)), self.job_id, self.attempt)).rowcount
        if not updated:  # another attempt owns the job now: its state must not be overwritten
            self.lost.set()
            raise JobLost
        self._state = dict(state)

    def load_state(self) -> dict:
        """What ``save_state`` stored in this or an earlier attempt; ``{}`` if nothing."""
        return dict(self._state)

    def _warn(self, text: str) -> None:
        # a database outage would otherwise log one line per step
        now = self._clock()
        if now - self._warned_at >= 30:
            self._warned_at = now
            log.warning(text)

    def __repr__(self) -> str:
        return f"JobContext(job_id={self.job_id}, kind={self.kind!r}, attempt={self.attempt})"
