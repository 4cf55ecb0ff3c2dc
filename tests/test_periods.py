from datetime import UTC, date, datetime, timedelta

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


# -- local periods ----------------------------------------------------------------------------------
from zoneinfo import ZoneInfo  # noqa: E402

from rollwise.periods import UnknownZone, day_key, local_day, parse_day_key, parse_label, zone_info  # noqa: E402

UTC = UTC


def test_a_kolkata_day_is_the_utc_instants_of_its_midnights():
    day = Period("daily", date(2024, 3, 10), "Asia/Kolkata")
    assert (day.starts_at, day.ends_at) == (datetime(2024, 3, 9, 18, 30, tzinfo=UTC), datetime(2024, 3, 10, 18, 30, tzinfo=UTC))
    assert day.label() == "daily:2024-03-10@Asia/Kolkata" and parse_label(day.label()) == day
    assert Period("daily", date(2024, 3, 10)).label() == "daily:2024-03-10"  # UTC keys as before zones


@pytest.mark.parametrize(
    "zone,day,hours",
    [
        ("Europe/London", date(2024, 3, 31), 23),  # clocks forward
        ("Europe/London", date(2024, 10, 27), 25),  # clocks back
        ("Australia/Lord_Howe", date(2024, 4, 7), 24.5),  # a half-hour change
        ("America/St_Johns", date(2024, 3, 10), 23),
        ("Pacific/Apia", date(2011, 12, 30), 0),  # skipped: Samoa went from the 29th to the 31st
        ("Pacific/Kiritimati", date(2024, 1, 1), 24),
    ],
)
def test_a_local_day_lasts_from_midnight_to_midnight(zone, day, hours):
    p = Period("daily", day, zone)
    assert (p.ends_at - p.starts_at).total_seconds() == hours * 3600


def test_weeks_months_and_years_are_local():
    week = period_containing("weekly", date(2024, 3, 13), "Pacific/Kiritimati")
    assert week.start == date(2024, 3, 11) and week.starts_at == datetime(2024, 3, 10, 10, tzinfo=UTC)  # UTC+14
    year = period_containing("yearly", date(2024, 6, 1), "Pacific/Niue")
    assert year.starts_at == datetime(2024, 1, 1, 11, tzinfo=UTC) and year.ends_at == datetime(2025, 1, 1, 11, tzinfo=UTC)  # UTC-11


zones = st.sampled_from(
    [
        "UTC",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "America/St_Johns",
        "Pacific/Kiritimati",
        "Pacific/Niue",
        "Europe/London",
        "Pacific/Apia",
        "America/Los_Angeles",
    ]
)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))


@given(instants, zones)
def test_an_instant_lies_in_its_local_day_and_that_is_its_wall_clock_date(moment, zone):
    day = local_day(moment, zone)
    p = Period("daily", day, zone)
    assert p.starts_at <= moment < p.ends_at
    assert day == moment.astimezone(ZoneInfo(zone)).date()


@given(days, zones)
def test_local_days_tile_time(day, zone):
    assert Period("daily", day, zone).ends_at == Period("daily", day + timedelta(days=1), zone).starts_at


def test_day_keys_round_trip():
    assert day_key(date(2024, 3, 10), "UTC") == "2024-03-10"
    assert parse_day_key(day_key(date(2024, 3, 10), "America/Argentina/Buenos_Aires")) == (date(2024, 3, 10), "America/Argentina/Buenos_Aires")


@pytest.mark.parametrize("name", ["Asia/Kolkatta", "", "../../etc/passwd", "Mars/Olympus_Mons"])
def test_an_unknown_zone_is_refused_naming_it(name):
    with pytest.raises(UnknownZone, match=f"unknown time zone {name!r}"):
        zone_info(name)
