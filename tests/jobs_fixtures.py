"""Test-only job handlers, loaded by workers started with LAB_EXTRA_HANDLERS=tests.jobs_fixtures."""

from __future__ import annotations

import os
import time

from backend.errors import InputError
from backend.jobs.registry import handler


@handler("test.steps")
def steps(ctx, params: dict) -> dict:
    """Counts to ``n``, one step per ``delay`` seconds, saving its position after each step so a
    later attempt resumes there; a loss metric every other step."""
    n, delay = int(params.get("n", 10)), float(params.get("delay", 0.05))
    start = int(ctx.load_state().get("done", 0))
    ctx.progress(start, n, unit="items", message="Counting")
    for i in range(start, n):
        time.sleep(delay)
        ctx.save_state({"done": i + 1, "attempt": ctx.attempt})
        ctx.progress(i + 1, n, metrics={"loss": 1.0 / (i + 1)} if i % 2 == 0 else None)
    return {"done": n, "resumed_from": start, "attempt": ctx.attempt,
            "omp_threads": os.environ.get("OMP_NUM_THREADS"),
            "heartbeat_seconds": ctx.lab.settings.heartbeat_seconds}


@handler("test.input_error")
def input_error(ctx, params: dict) -> dict:
    raise InputError("The uploaded file is empty.", hint="Upload a file that contains text.")


@handler("test.crash")
def crash(ctx, params: dict) -> dict:
    raise RuntimeError("kaboom: a bug in the handler")


@handler("test.on_gpu", queue="gpu")
def on_gpu(ctx, params: dict) -> dict:
    return {"ran_on": ctx.worker_id}


@handler("test.swallows")
def swallows(ctx, params: dict) -> dict:
    """Catches every Exception per item, as an evaluation loop does; a worker stop must still
    get through (it is not an Exception)."""
    n, delay = int(params.get("n", 50)), float(params.get("delay", 0.1))
    start = int(ctx.load_state().get("done", 0))
    for i in range(start, n):
        try:
            time.sleep(delay)
            ctx.save_state({"done": i + 1})
            ctx.progress(i + 1, n)
        except Exception:  # noqa: BLE001 - on purpose
            continue
    return {"done": n, "resumed_from": start}
