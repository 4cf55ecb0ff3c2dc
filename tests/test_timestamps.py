from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollwise.timestamps import parse_date, parse_timestamp, utc_text

UTC = UTC


def test_parse_timestamp_requires_a_zone_unless_told_utc():
    assert parse_timestamp("2024-01-15T02:00:00Z") == datetime(2024, 1, 15, 2, tzinfo=UTC)
    assert parse_timestamp("2024-01-15T03:30:00+01:30") == datetime(2024, 1, 15, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):
        parse_timestamp("2024-01-15T02:00:00")
    assert parse_timestamp("2024-01-15T02:00:00", assume_utc=True) == datetime(2024, 1, 15, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_timestamp("yesterday")
    with pytest.raises(ValueError, match="expected an ISO 8601 string, got int"):
        parse_timestamp(1705284000)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z"])
def test_times_outside_the_supported_range_are_refused(text):
    with pytest.raises(ValueError, match="outside 1970..2199|out of range"):
        parse_timestamp(text)


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC)))
def test_one_writer_round_trips(moment):
    text = utc_text(moment)
    assert text.endswith("Z") and parse_timestamp(text) == moment
    assert ("." in text) == bool(moment.microsecond)


def test_dates_either_form():
    assert parse_date("2024-01-15") == parse_date("20240115") == date(2024, 1, 15)
    for bad in ("2024-13-01", "15/01/2024", "", None, "2024011"):
        with pytest.raises(ValueError, match="--since must be a date like 2024-01-15"):
            parse_date(bad, "--since")
