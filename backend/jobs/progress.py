"""Rate and time-left estimates from progress samples, and the write throttle.

Pure logic (no database), so it is unit-tested with a fake clock.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable


class RateEstimator:
    """Steps per second over a sliding window of recent samples.

    A window (rather than the average since the start) follows a job whose speed changes, e.g.
    an evaluation whose first questions wait for a model to load; keeping the window's oldest
    sample avoids the noise of rating only the last two samples.
    """

    def __init__(self, window_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.window = window_seconds
        self.clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, step: float, at: float | None = None) -> None:
        """Record that the job reached ``step`` (now, or at clock time ``at``)."""
        at = self.clock() if at is None else at
        if self._samples and step < self._samples[-1][1]:
            self._samples.clear()  # the job restarted its count (e.g. a new phase): start over
        self._samples.append((at, step))
        # drop samples older than the window, but keep two so there is always a rate
        while len(self._samples) > 2 and at - self._samples[1][0] >= self.window:
            self._samples.popleft()

    @property
    def rate(self) -> float | None:
        """Steps per second, or None until two samples some time apart show movement."""
        if len(self._samples) < 2:
            return None
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        if t1 <= t0 or s1 <= s0:
            return None if t1 <= t0 else 0.0
        return (s1 - s0) / (t1 - t0)

    def eta(self, step: float, total: float | None) -> float | None:
        """Seconds left to reach ``total`` at the current rate (0 when done, None if unknown)."""
        if total is None:
            return None
        if step >= total:
            return 0.0
        rate = self.rate
        if not rate:
            return None
        return (total - step) / rate


class Throttle:
    """Allows an action at most once per ``interval`` seconds, unless forced."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self, *, force: bool = False) -> bool:
        """True (and the clock restarts) if the action may run now."""
        now = self.clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False
