"""Logic of the job system without a database: rate and time left, the write throttle, the
handler registry, JSON cleaning, and JobContext's throttling and cancellation checks (against a
fake database that records what would be written)."""

from __future__ import annotations

import math
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from backend.errors import JobCancelled, NotFound
from backend.jobs import registry
from backend.jobs.context import WORKER_STOPPING, JobContext, JobLost, WorkerStopping
from backend.jobs.progress import RateEstimator, Throttle
from backend.jobs.store import jsonable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_follow_recent_speed():
    clock = Clock()
    est = RateEstimator(window_seconds=10, clock=clock)
    est.add(0)
    assert est.rate is None and est.eta(0, 100) is None  # one sample says nothing yet
    for _ in range(10):  # 2 steps per second for 10 s
        clock.now += 1
        est.add(est._samples[-1][1] + 2)
    assert est.rate == pytest.approx(2.0)
    assert est.eta(20, 100) == pytest.approx(40.0)
    for _ in range(20):  # then 10 steps per second: the window forgets the slow start
        clock.now += 1
        est.add(est._samples[-1][1] + 10)
    assert est.rate == pytest.approx(10.0)
    assert est.eta(220, 100) == 0.0 and est.eta(50, None) is None


def test_rate_restarts_when_the_count_goes_back_and_is_zero_when_stuck():
    clock = Clock()
    est = RateEstimator(clock=clock)
    est.add(50)
    clock.now += 5
    est.add(50)
    assert est.rate == 0.0 and est.eta(50, 100) is None
    est.add(3)  # a new phase counting from 0
    assert est.rate is None


def test_throttle_allows_one_action_per_interval_unless_forced():
    clock = Clock()
    throttle = Throttle(0.5, clock=clock)
    assert throttle.ready()
    assert not throttle.ready()
    assert throttle.ready(force=True)
    clock.now += 0.49
    assert not throttle.ready()
    clock.now += 0.01
    assert throttle.ready()


def test_registry_registers_finds_and_refuses_a_second_owner(monkeypatch):
    monkeypatch.setattr(registry, "_handlers", {})

    @registry.handler("unit.echo", queue="gpu")
    def echo(ctx, params):
        return params

    assert registry.get_handler("unit.echo") is echo
    assert registry.handler_queue("unit.echo") == "gpu" and registry.known_kinds() == ["unit.echo"]
    registry.handler("unit.echo")(echo)  # the same function again (a re-import) is fine
    with pytest.raises(ValueError, match="already handled"):
        registry.handler("unit.echo")(lambda ctx, params: None)
    with pytest.raises(NotFound, match="unit.echo"):  # the message lists the known kinds
        registry.get_handler("unit.nothing")
    assert registry.handler_queue("unit.nothing") is None


def test_handler_modules_come_from_the_list_and_the_environment(monkeypatch):
    monkeypatch.setattr(registry, "HANDLER_MODULES", ("backend.a",))
    names = registry.handler_module_names({"LAB_EXTRA_HANDLERS": " tests.x, backend.a ,,"})
    assert names == ["backend.a", "tests.x"]


def test_a_handler_module_that_fails_to_import_is_named(monkeypatch):
    monkeypatch.setattr(registry, "_handlers", {})
    monkeypatch.setattr(registry, "_import_errors", {})
    monkeypatch.setenv("LAB_EXTRA_HANDLERS", "tests.no_such_module_here")
    registry.load_handler_modules()
    with pytest.raises(NotFound, match="tests.no_such_module_here"):
        registry.get_handler("anything")


def test_jsonable_makes_values_postgres_can_store():
    np = pytest.importorskip("numpy")
    assert jsonable({"a": math.nan, "b": (1, np.float32(0.5)), 3: [math.inf, "x", None]}) == {
        "a": None, "b": [1, 0.5], "3": [None, "x", None]}
    with pytest.raises(TypeError):
        jsonable({"when": object()})


# --- JobContext against a fake database ---------------------------------------------------------
class FakeDB:
    def __init__(self) -> None:
        self.writes: list[tuple[str, tuple]] = []
        self.row = {"cancel_requested": False, "attempts": 1, "status": "running"}
        self.owned = True

    @contextmanager
    def connect(self):
        yield self

    def execute(self, sql, params=None):
        self.writes.append((sql.split()[0] + " " + sql.split()[1], params))
        return SimpleNamespace(rowcount=1 if self.owned else 0)

    def fetchone(self, sql, params=None):
        return self.row


def make_ctx(clock):
    db = FakeDB()
    ctx = JobContext(job_id=7, kind="unit", lab=SimpleNamespace(db=db), attempt=1, clock=clock)
    return ctx, db


def test_progress_writes_are_throttled_but_metrics_and_the_end_always_written():
    clock = Clock()
    ctx, db = make_ctx(clock)
    for step in range(1, 11):  # 10 steps, 1/8 s apart: 2 writes a second at most
        clock.now += 0.125
        ctx.progress(step, 20)
    updates = [p for sql, p in db.writes if sql.startswith("UPDATE jobs")]
    assert [u[0] for u in updates] == [1, 5, 9]  # the first, then every 0.5 s
    clock.now += 0.125
    ctx.progress(11, metrics={"loss": 0.5})  # total kept from before
    ctx.progress(20)
    updates = [p for sql, p in db.writes if sql.startswith("UPDATE jobs")]
    assert [u[0] for u in updates] == [1, 5, 9, 11, 20] and updates[-1][1] == 20
    step, total, unit, rate, eta = updates[3][:5]
    assert rate == pytest.approx(8.0) and eta == pytest.approx(9 / 8)  # (20 - 11) / 8 per s
    events = [p for sql, p in db.writes if sql.startswith("INSERT INTO")]
    assert len(events) == 5 and events[3][-1].obj == {"loss": 0.5}


def test_flush_writes_what_the_throttle_held_back():
    clock = Clock()
    ctx, db = make_ctx(clock)
    ctx.progress(1, 10)
    ctx.progress(2)
    assert len(db.writes) == 2  # one update, one event
    ctx.flush()
    assert db.writes[-2][1][0] == 2


def test_cancellation_and_stop_and_loss_are_raised_at_checks():
    clock = Clock()
    ctx, db = make_ctx(clock)
    ctx.check_cancelled()
    db.row = {**db.row, "cancel_requested": True}
    ctx.check_cancelled()  # polled at most once a second
    clock.now += 1
    with pytest.raises(JobCancelled):
        ctx.check_cancelled()
    with pytest.raises(JobCancelled):
        ctx.progress(1)  # and it stays cancelled

    ctx, db = make_ctx(clock)
    WORKER_STOPPING.set()
    try:
        with pytest.raises(WorkerStopping):
            ctx.progress(1)
    finally:
        WORKER_STOPPING.clear()

    ctx, db = make_ctx(clock)
    db.owned = False  # another attempt took the job over
    with pytest.raises(JobLost):
        ctx.progress(1, 10)
