"""The pure charts: round value axes, time axes true to time."""

import math
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rollwise.report.charts import nice_scale, time_bars, time_lines, time_ticks

UTC = UTC


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_the_value_axis_is_round_and_reaches_the_highest_value(high):
    top, step = nice_scale(high)
    assert top >= high * (1 - 1e-9) and top / step <= 4 + 1e-9  # (within float rounding)
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5, 10)), step
    assert top - step < high  # no empty step above the highest value


def test_the_reviewers_odd_ticks_become_round():
    assert nice_scale(7510) == (8000, 2000)
    assert nice_scale(3012) == (4000, 1000)
    assert nice_scale(0) == (1.0, 0.25)


def test_ticks_carry_dates_when_the_axis_spans_days():
    ticks, fmt = time_ticks(datetime(2024, 1, 15, 13, 5, tzinfo=UTC), datetime(2024, 1, 15, 14, 5, tzinfo=UTC))
    assert fmt == "%H:%M" and [t.strftime(fmt) for t in ticks][:3] == ["13:10", "13:20", "13:30"]
    ticks, fmt = time_ticks(datetime(2024, 1, 15, 20, tzinfo=UTC), datetime(2024, 1, 16, 8, tzinfo=UTC))
    assert fmt == "%m-%d %H:%M" and ticks[0].strftime(fmt) == "01-15 20:00" and "01-16 00:00" in [t.strftime(fmt) for t in ticks]
    ticks, fmt = time_ticks(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 31, tzinfo=UTC))
    assert fmt == "%m-%d" and len(ticks) <= 10


def bar_lefts(svg):
    return [float(x) for x in re.findall(r'<rect x="([\d.]+)"', svg)]


def test_a_gap_between_windows_is_a_gap_on_the_axis():
    five = timedelta(minutes=5)
    start, end = datetime(2024, 1, 15, 13, 0, tzinfo=UTC), datetime(2024, 1, 15, 14, 5, tzinfo=UTC)
    windows = [datetime(2024, 1, 15, 13, 0, tzinfo=UTC), datetime(2024, 1, 15, 13, 5, tzinfo=UTC), datetime(2024, 1, 15, 14, 0, tzinfo=UTC)]
    svg = time_bars(start, end, five, [("matches", "#000", {t: 10 for t in windows})])
    a, b, c = bar_lefts(svg)
    assert abs((c - b) / (b - a) - 11) < 0.01  # 55 minutes after the second, against 5 between the first two
    lines_svg = time_lines(start, end, five, [("p95", "#000", {t: 100.0 for t in windows})])
    assert lines_svg.count("<polyline") == 1 and lines_svg.count("<circle") == 1  # the gap breaks the line
