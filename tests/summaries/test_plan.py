"""The pure plan: which periods a run computes, from a reference time and the markers."""

from datetime import UTC, date, datetime

import pytest

from rollwise.periods import period_containing
from rollwise.summaries.model import Invalidation
from rollwise.summaries.plan import Plan, plan_run


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "reference,expected",
    [
        ("2024-01-17T02:00", ["daily:2024-01-16"]),
        ("2024-01-15T02:00", ["daily:2024-01-14", "weekly:2024-01-08"]),  # a Monday
        ("2024-02-01T02:00", ["daily:2024-01-31", "monthly:2024-01-01"]),  # the 1st
        ("2024-01-01T02:00", ["daily:2023-12-31", "weekly:2023-12-25", "monthly:2023-12-01", "yearly:2023-01-01"]),
        ("2024-01-16T00:00:00.5", ["daily:2024-01-14", "weekly:2024-01-08"]),  # the 15th is due at 02:00, not before
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
    # the closed week of Feb 26 and month of February overlap the range: their days outside it are computed too
    assert plan.describe() == [f"daily:2024-02-{d:02d}" for d in range(1, 30)] + [
        "daily:2024-03-01",
        "daily:2024-03-02",
        "daily:2024-03-03",
        "weekly:2024-02-26",
        "monthly:2024-02-01",
    ]
    with pytest.raises(ValueError, match="after its end"):
        plan_run(at("2024-03-10T00:00"), shards=2, backfill=(date(2024, 3, 2), date(2024, 3, 1)))


def test_a_plan_crosses_processes_as_json():
    plan = plan_run(at("2024-01-17T02:00"), shards=4, invalidations=[Invalidation(date(2024, 1, 3), 2, "x")])
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.for_shard(2) == [
        period_containing("daily", date(2024, 1, 3)),
        period_containing("daily", date(2024, 1, 16)),
        period_containing("weekly", date(2024, 1, 1)),
    ]


def test_a_backfill_completes_every_closed_period_it_overlaps():
    """Backfilling January of a closed year recomputes the whole year, its months and days, and the week of Jan 29."""
    plan = plan_run(at("2025-01-05T02:00"), shards=2, backfill=(date(2024, 1, 1), date(2024, 1, 31)))
    kinds = {k: [p for p in plan.periods if p.kind == k] for k in ("daily", "weekly", "monthly", "yearly")}
    assert len(kinds["daily"]) == 366 and [p.start for p in kinds["yearly"]] == [date(2024, 1, 1)]
    assert [p.start.month for p in kinds["monthly"]] == list(range(1, 13))
    assert [p.start for p in kinds["weekly"]] == [date(2024, 1, d) for d in (1, 8, 15, 22, 29)]
    assert all(shards == {0, 1} for shards in plan.periods.values())
    # at a reference inside the year, only what is closed: no year, the week of Jan 29 brings Feb 1..4
    plan = plan_run(at("2024-02-10T02:00"), shards=2, backfill=(date(2024, 1, 1), date(2024, 1, 31)))
    assert plan.describe()[-7:] == [
        "daily:2024-02-04",
        "weekly:2024-01-01",
        "weekly:2024-01-08",
        "weekly:2024-01-15",
        "weekly:2024-01-22",
        "weekly:2024-01-29",
        "monthly:2024-01-01",
    ]
    assert "daily:2024-02-05" not in plan.describe()
