"""Which periods a run computes: a pure plan from a reference time and the invalidation markers.

Planning is pure (a reference time and the markers in, a plan out), so a
retry with the same event does the same work, and the CLI, the Lambda handler
and a fan-out worker all share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable

from rollwise.periods import (
    PERIOD_TYPES,
    Period,
    closed_periods_containing,
    days_between,
    period_containing,
    utc_day,
)
from rollwise.summaries.model import Invalidation


@dataclass
class Plan:
    """What one run computes: each period with the shards it covers, in dependency order."""

    reference_day: date
    periods: dict[Period, frozenset[int]]
    markers: list[Invalidation] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [p.label() for p in self.periods]

    def for_shard(self, shard: int) -> list[Period]:
        return [p for p, shards in self.periods.items() if shard in shards]

    @property
    def shards(self) -> list[int]:
        return sorted({s for shards in self.periods.values() for s in shards})

    def to_json(self) -> dict:
        """A plain form, for a Step Functions state or another process."""
        return {
            "reference_day": self.reference_day.isoformat(),
            "periods": [[p.label(), sorted(shards)] for p, shards in self.periods.items()],
            "markers": [[m.day.isoformat(), m.shard, m.token] for m in self.markers],
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Plan":
        periods = {}
        for label, shards in doc["periods"]:
            kind, start = label.split(":")
            periods[Period(kind, date.fromisoformat(start))] = frozenset(shards)
        markers = [Invalidation(date.fromisoformat(d), s, t) for d, s, t in doc.get("markers", [])]
        return cls(date.fromisoformat(doc["reference_day"]), periods, markers)


def plan_run(
    reference: datetime,
    shards: int,
    invalidations: Iterable[Invalidation] = (),
    lateness_days: int = 0,
    backfill: tuple[date, date] | None = None,
) -> Plan:
    """The periods a run at ``reference`` must compute.

    A scheduled run covers the previous day, the last ``lateness_days`` days,
    and every closed day with an invalidation marker (only its shard). A
    backfill covers the closed days of its range instead. Either way every
    closed week, month and year containing one of those days is recomputed
    too, which yields the calendar: Mondays the past week, the 1st the past
    month, January 1st the past year.
    """
    today = utc_day(reference)
    every = frozenset(range(shards))
    day_shards: dict[date, set[int]] = {}
    consumed: list[Invalidation] = []
    if backfill is not None:
        start, end = backfill
        if start > end:
            raise ValueError(f"backfill start {start} is after its end {end}")
        for d in days_between(start, min(end, today - timedelta(days=1))):
            day_shards.setdefault(d, set()).update(every)
    else:
        for back in range(1, max(lateness_days, 1) + 1):
            day_shards.setdefault(today - timedelta(days=back), set()).update(every)
        for marker in invalidations:
            if marker.day < today and marker.shard < shards:
                day_shards.setdefault(marker.day, set()).add(marker.shard)
                consumed.append(marker)
    periods: dict[Period, set[int]] = {}
    for d, s in day_shards.items():
        periods.setdefault(period_containing("daily", d), set()).update(s)
    for p in closed_periods_containing(day_shards, today):
        if p.kind != "daily":
            periods.setdefault(p, set()).update(*(day_shards.get(d, ()) for d in p.days()))
    rank = {k: i for i, k in enumerate(PERIOD_TYPES)}
    ordered = sorted(periods, key=lambda p: (rank[p.kind], p.start))
    return Plan(today, {p: frozenset(periods[p]) for p in ordered}, consumed)
