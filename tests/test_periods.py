from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollwise.periods import (
    PERIOD_TYPES,
    Period,
    closed_periods_containing,
    period_containing,
)

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
kinds = st.sampled_from(PERIOD_TYPES)


@given(days, kinds)
def test_a_period_contains_its_day_and_tiles_the_calendar(day, kind):
    p = period_containing(kind, day)
    assert p.start <= day <= p.end
    assert period_containing(kind, p.start) == p == period_containing(kind, p.end)
    nxt = period_containing(kind, p.next_start)
    assert nxt.start == p.end + timedelta(days=1)
    assert nxt != p
    assert list(p.days())[0] == p.start and list(p.days())[-1] == p.end


@given(days)
def test_weeks_run_monday_to_sunday_even_across_a_year_end(day):
    w = period_containing("weekly", day)
    assert w.start.weekday() == 0 and w.end.weekday() == 6
    assert len(list(w.days())) == 7
    assert w.start.isocalendar()[:2] == day.isocalendar()[:2]


@given(days)
def test_month_and_year_lengths(day):
    m = period_containing("monthly", day)
    y = period_containing("yearly", day)
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    assert len(list(y.days())) == (366 if leap else 365)
    expected = {1: 31, 2: 29 if leap else 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
    assert len(list(m.days())) == expected[day.month]
    assert (m.end + timedelta(days=1)).day == 1


def test_known_boundaries():
    assert period_containing("weekly", date(2025, 1, 1)).start == date(2024, 12, 30)
    assert period_containing("weekly", date(2021, 1, 3)).start == date(2020, 12, 28)
    assert period_containing("monthly", date(2024, 2, 29)).end == date(2024, 2, 29)
    assert period_containing("monthly", date(2023, 2, 10)).end == date(2023, 2, 28)
    assert period_containing("monthly", date(2024, 12, 31)).next_start == date(2025, 1, 1)


def test_a_period_must_start_on_its_boundary():
    with pytest.raises(ValueError, match="does not start a weekly period"):
        Period("weekly", date(2024, 1, 2))
    with pytest.raises(ValueError, match="unknown period type"):
        Period("hourly", date(2024, 1, 1))


def test_closed_periods_containing():
    today = date(2024, 1, 1)  # a Monday and January 1st
    found = {p.label() for p in closed_periods_containing([date(2023, 12, 31)], today)}
    assert found == {"daily:2023-12-31", "weekly:2023-12-25", "monthly:2023-12-01", "yearly:2023-01-01"}
    found = {p.label() for p in closed_periods_containing([date(2024, 1, 9)], date(2024, 1, 10))}
    assert found == {"daily:2024-01-09"}
