"""How long a run keeps retrying a store that throttles or fails: bounded by time, never by a count.

DynamoDB's guidance for throttling and for a batch answered in part is to
retry with exponential backoff and jitter until the work goes through. A
nightly run has minutes to spend, so the bound is time: the Lambda retries
until its deadline (its remaining time less the margin), the CLI until it has
waited a total it was given. What is still unwritten then is left to the next
run, like a period the run had no time for.

Each wait is "full jitter" (AWS Architecture Blog, "Exponential Backoff And
Jitter"): uniform between 0 and ``min(cap, base * 2**attempt)``. No I/O here:
the clock, the sleep and the randomness are handed in, so tests replay a
schedule exactly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

BASE_SECONDS = 0.05
CAP_SECONDS = 5.0
# Once a run's retry time is spent, what it still writes to leave things in order (the markers of the
# periods it leaves, its leases given back) is retried for this long more; within the Lambda's margin.
CLOSING_SECONDS = 30.0


class Patience:
    """A run's time for retries: until ``until`` (a ``time.monotonic()`` value), and at most ``seconds``
    of waiting in all; either may be None (no such bound). ``closing`` is the patience of the
    writes that put things in order once this one is spent."""

    def __init__(
        self,
        until: float | None = None,
        seconds: float | None = None,
        closing: Patience | None = None,
        base: float | None = None,
        cap: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.until, self.seconds = until, seconds
        self.base = BASE_SECONDS if base is None else base  # read when made, so that a test can scale the schedule
        self.cap = CAP_SECONDS if cap is None else cap
        self.clock, self.sleep, self.jitter = clock, sleep, jitter
        self.waited = 0.0
        self._closing = closing

    @classmethod
    def for_seconds(cls, seconds: float, closing_seconds: float = CLOSING_SECONDS) -> Patience:
        """The CLI's: ``seconds`` of waiting in all, then ``closing_seconds`` more for closing writes."""
        return cls(seconds=seconds, closing=cls(seconds=closing_seconds))

    @classmethod
    def until_deadline(cls, deadline: float, hard_deadline: float) -> Patience:
        """The Lambda's: retry until ``deadline``; closing writes until ``hard_deadline`` (before the timeout)."""
        return cls(until=deadline, closing=cls(until=hard_deadline))

    def left(self) -> float:
        """Seconds of retrying left (``inf`` when unbounded)."""
        left = float("inf")
        if self.until is not None:
            left = min(left, self.until - self.clock())
        if self.seconds is not None:
            left = min(left, self.seconds - self.waited)
        return max(left, 0.0)

    @property
    def spent(self) -> bool:
        return self.left() <= 0

    def wait(self, attempt: int) -> bool:
        """Sleep before retry number ``attempt`` (from 0): False, without sleeping, once the time is spent.
        A wait is cut to the time left, so the bound holds to the second."""
        left = self.left()
        if left <= 0:
            return False
        pause = min(self.jitter() * min(self.cap, self.base * 2 ** min(attempt, 30)), left)
        self.sleep(pause)
        self.waited += pause
        return True

    def closing(self) -> Patience:
        """The patience of closing writes: its own bound, started on first use."""
        if self._closing is None:
            self._closing = Patience(seconds=CLOSING_SECONDS, base=self.base, cap=self.cap, clock=self.clock, sleep=self.sleep, jitter=self.jitter)
        return self._closing

    def __repr__(self) -> str:
        return f"Patience(until={self.until}, seconds={self.seconds}, waited={self.waited:.3f})"
