"""The retry policy: full-jitter backoff, bounded by a deadline or by a total of waiting, never by a count."""

import pytest

from rollwise.retry import CAP_SECONDS, Patience
from support.clock import FakeClock


def test_each_wait_is_full_jitter_on_a_doubling_ceiling():
    clock, draws = FakeClock(100.0), iter([0.5, 0.25, 1.0, 0.0, 1.0])
    patience = Patience(seconds=1000, clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: next(draws))
    assert all(patience.wait(attempt) for attempt in (0, 1, 2, 3, 20))
    assert clock.sleeps == [0.5 * 0.05, 0.25 * 0.1, 1.0 * 0.2, 0.0, CAP_SECONDS]


def test_a_deadline_bounds_the_waiting_to_the_second():
    clock = FakeClock(100.0)
    patience = Patience(until=110.0, clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: 1.0)
    attempts = 0
    while patience.wait(attempts):
        attempts += 1
    assert clock.now == pytest.approx(110.0) and patience.spent
    assert not patience.wait(0) and len(clock.sleeps) == attempts  # spent: no more sleeping


def test_a_total_of_waiting_bounds_it_whatever_the_work_between_waits_took():
    clock = FakeClock(100.0)
    patience = Patience(seconds=3, clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: 1.0)
    while patience.wait(10):
        clock.now += 60  # requests in between do not count
    assert sum(clock.sleeps) == pytest.approx(3) and patience.waited == pytest.approx(3)


def test_closing_writes_have_their_own_time_once_the_run_has_spent_its_own():
    clock = FakeClock(100.0)
    closing = Patience(until=130.0, clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: 1.0)
    patience = Patience(until=100.0, closing=closing, clock=lambda: clock.now, sleep=clock.sleep)
    assert patience.spent and not patience.wait(0)
    assert patience.closing() is closing and closing.wait(0)
    default = Patience(seconds=0).closing()
    assert default.seconds == 30 and not default.spent
