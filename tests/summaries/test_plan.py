"""The pure plan: which periods a run computes, from a reference time and the markers."""

from datetime import date, datetime, timezone

import pytest

from rollwise.periods import period_containing
from rollwise.summaries.model import Invalidation
from rollwise.summaries.plan import Plan, plan_run


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "reference,expected",
    [
        ("2024-01-17T02:00", ["daily:2024-01-16"]),
        ("2024-01-15T02:00", ["daily:2024-01-14", "weekly:2024-01-08"]),  # a Monday
        ("2024-02-01T02:00", ["daily:2024-01-31", "monthly:2024-01-01"]),  # the 1st
        ("2024-01-01T02:00", ["daily:2023-12-31", "weekly:2023-12-25", "monthly:2023-12-01", "yearly:2023-01-01"]),
        ("2024-01-16T00:00:00.5", ["daily:2024-01-15"]),  # a retry just after midnight still covers one day
    ],
)
def test_the_calendar(reference, expected):
    assert plan_run(at(reference), shards=4).describe() == expected


def test_markers_add_their_day_for_their_shard_and_the_closed_periods_above():
    markers = [Invalidation(date(2024, 1, 3), 2, "x"), Invalidation(date(2024, 1, 17), 1, "y")]
    plan = plan_run(at("2024-01-17T02:00"), shards=4, invalidations=markers)
    assert plan.describe() == ["daily:2024-01-03", "daily:2024-01-16", "weekly:2024-01-01"]
    assert plan.periods[period_containing("daily", date(2024, 1, 3))] == {2}
    assert plan.periods[period_containing("weekly", date(2024, 1, 1))] == {2}
    assert plan.periods[period_containing("daily", date(2024, 1, 16))] == {0, 1, 2, 3}
    assert [m.token for m in plan.markers] == ["x"]  # today's day is not closed: its marker waits


def test_lateness_window_and_backfill_plans():
    plan = plan_run(at("2024-01-17T02:00"), shards=2, lateness_days=3)
    assert plan.describe() == ["daily:2024-01-14", "daily:2024-01-15", "daily:2024-01-16", "weekly:2024-01-08"]
    plan = plan_run(at("2024-03-10T00:00"), shards=2, backfill=(date(2024, 2, 27), date(2024, 3, 2)))
    assert plan.describe() == [
        "daily:2024-02-27", "daily:2024-02-28", "daily:2024-02-29", "daily:2024-03-01", "daily:2024-03-02",
        "weekly:2024-02-26", "monthly:2024-02-01",
    ]
    with pytest.raises(ValueError, match="after its end"):
        plan_run(at("2024-03-10T00:00"), shards=2, backfill=(date(2024, 3, 2), date(2024, 3, 1)))


def test_a_plan_crosses_processes_as_json():
    plan = plan_run(at("2024-01-17T02:00"), shards=4, invalidations=[Invalidation(date(2024, 1, 3), 2, "x")])
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.for_shard(2) == [period_containing("daily", date(2024, 1, 3)),
                                                   period_containing("daily", date(2024, 1, 16)), period_containing("weekly", date(2024, 1, 1))]
