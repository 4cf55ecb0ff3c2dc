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
    and every closed day with an invalidation marker (only its shard); every
    closed week, month and year containing one of those days is recomputed
    too, which yields the calendar: Mondays the past week, the 1st the past
    month, January 1st the past year.

    A backfill covers every closed period overlapping its range, whole: a week,
    month or year reaching outside the range brings its other days (and a year
    its months) with it, so nothing it writes is merged from parts never computed.
    """
    today = utc_day(reference)
    every = frozenset(range(shards))
    if backfill is not None:
        return _backfill(today, every, *backfill)
    day_shards: dict[date, set[int]] = {}
    consumed: list[Invalidation] = []
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
    return Plan(today, _ordered(periods), consumed)


def _backfill(today: date, every: frozenset[int], start: date, end: date) -> Plan:
    if start > end:
        raise ValueError(f"backfill start {start} is after its end {end}")
    needed = {period_containing("daily", d) for d in days_between(start, min(end, today - timedelta(days=1)))}
    for kind in PERIOD_TYPES[1:]:
        p = period_containing(kind, start)
        while p.start <= end:
            if p.is_closed(today):
                needed.add(p)
                needed.update(period_containing("daily", d) for d in p.days())
                if kind == "yearly":  # a year merges its months
                    needed.update({period_containing("monthly", d) for d in p.days()})
            p = period_containing(kind, p.next_start)
    return Plan(today, _ordered({p: every for p in needed}))


def _ordered(periods: dict[Period, Iterable[int]]) -> dict[Period, frozenset[int]]:
    """Shorter periods first: a longer one merges the shorter ones computed before it."""
    rank = {k: i for i, k in enumerate(PERIOD_TYPES)}
    return {p: frozenset(periods[p]) for p in sorted(periods, key=lambda p: (rank[p.kind], p.start))}
