from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollwise.windows import stamp_in_name, window_of

UTC = UTC
FIVE = timedelta(minutes=5)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moments, st.sampled_from([60, 300, 600, 900, 3600]))
def test_windows_are_aligned_and_contain_their_moment(moment, seconds):
    w = window_of(moment, timedelta(seconds=seconds))
    assert w.start <= moment < w.end and w.end - w.start == timedelta(seconds=seconds)
    assert int(w.start.timestamp()) % seconds == 0


def test_a_window_is_named_by_its_end():
    w = window_of(datetime(2024, 1, 15, 13, 3, 59, tzinfo=UTC), FIVE)
    assert (w.start, w.name) == (datetime(2024, 1, 15, 13, 0, tzinfo=UTC), "20240115t1305Z")
    assert window_of(datetime(2024, 12, 31, 23, 58, tzinfo=UTC), FIVE).name == "20250101t0000Z"


def test_a_window_closes_after_its_grace():
    w = window_of(datetime(2024, 1, 15, 13, 3, tzinfo=UTC), FIVE)
    grace = timedelta(seconds=60)
    assert not w.is_closed(datetime(2024, 1, 15, 13, 5, 59, tzinfo=UTC), grace)
    assert w.is_closed(datetime(2024, 1, 15, 13, 6, tzinfo=UTC), grace)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("runs/raw/20240115t1303Z_abc.json", datetime(2024, 1, 15, 13, 3, tzinfo=UTC)),
        ("20240115T130345Z-x.json", datetime(2024, 1, 15, 13, 3, 45, tzinfo=UTC)),
        ("runs/raw/result-42.json", None),
        ("runs/raw/20241315t1303Z_bad-month.json", None),
        ("runs/raw/x_20240115t1303Z.json", None),
    ],
)
def test_stamps_in_names(name, expected):
    assert stamp_in_name(name) == expected


def test_bad_sizes():
    with pytest.raises(ValueError, match="divide a day"):
        window_of(datetime(2024, 1, 1, tzinfo=UTC), timedelta(seconds=7))
