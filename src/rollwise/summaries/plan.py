"""Which periods a run computes: a pure plan from a reference time, the zones' schedule and the markers.

Planning is pure (a reference time, each zone's last aggregated day and the
markers in, a plan out), so a retry with the same event does the same work,
and the CLI, the Lambda handler and a fan-out worker all share it.

The function runs every hour. A zone's local day is due once it has ended
``delay_hours`` ago (2 hours: the seed's 2 AM, in every zone); each run takes,
for every zone, the days due since the last one it aggregated, and the weeks,
months and years they close. A UTC tenant's day is due at 02:00 UTC, a
Kolkata tenant's 2024-03-10 (2024-03-09T18:30Z to 2024-03-10T18:30Z) at
20:30Z, so the 21:00Z run takes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rollwise.errors import ConfigError
from rollwise.periods import (
    PERIOD_TYPES,
    UTC_ZONE,
    Period,
    closed_periods_containing,
    days_between,
    local_day,
    parse_label,
    period_containing,
    utc_day,
)
from rollwise.summaries.model import Invalidation
from rollwise.summaries.retention import floor, is_frozen

# A zone whose last aggregated day is further back than this (the job was off for weeks) catches up
# this many days, not its whole gap: a backfill is the tool for more.
CATCH_UP_DAYS = 31


@dataclass
class Plan:
    """What one run computes: each period with the shards it covers, in dependency order, and the
    day each zone will have been aggregated through once the run is over."""

    reference_day: date
    periods: dict[Period, frozenset[int]]
    markers: list[Invalidation] = field(default_factory=list)
    done: dict[str, date] = field(default_factory=dict)  # zone -> its last local day this run aggregates
    # Markers on days below the retention floor: their records may be gone, so their summaries stay as they are.
    expired: list[Invalidation] = field(default_factory=list)

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
            "markers": [[m.day.isoformat(), m.shard, m.token, m.zone] for m in self.markers],
            "done": {zone: day.isoformat() for zone, day in self.done.items()},
            "expired": [[m.day.isoformat(), m.shard, m.token, m.zone] for m in self.expired],
        }

    @classmethod
    def from_json(cls, doc: dict) -> Plan:
        periods = {parse_label(label): frozenset(shards) for label, shards in doc["periods"]}
        markers = [_marker(m) for m in doc.get("markers", [])]
        done = {zone: date.fromisoformat(day) for zone, day in doc.get("done", {}).items()}
        return cls(date.fromisoformat(doc["reference_day"]), periods, markers, done, [_marker(m) for m in doc.get("expired", [])])


def _marker(m: list) -> Invalidation:
    return Invalidation(date.fromisoformat(m[0]), m[1], m[2], *(m[3:4] or [UTC_ZONE]))


class BelowRetentionFloor(ConfigError):
    """A backfill reaching days whose records may have expired."""


def last_due_day(reference: datetime, zone: str, delay_hours: int) -> date:
    """The last local day of ``zone`` that ended at least ``delay_hours`` before ``reference``."""
    return local_day(reference - timedelta(hours=delay_hours), zone) - timedelta(days=1)


def plan_run(
    reference: datetime,
    shards: int,
    invalidations: Iterable[Invalidation] = (),
    lateness_days: int = 0,
    backfill: tuple[date, date] | None = None,
    schedule: Mapping[str, date | None] | None = None,
    delay_hours: int = 2,
    retention_days: int = 0,
) -> Plan:
    """The periods a run at ``reference`` must compute.

    ``schedule`` maps every zone to the last local day aggregated in it (None: never; the run then
    takes the last day due only). A scheduled run covers, per zone, the days that fell due in the
    hour up to ``reference`` (so a retry of an event does what the event did), the days due
    since the last one aggregated, the last ``lateness_days`` days with them, and every due day with an invalidation marker
    (only its shard); every week, month and year those days close is recomputed too, which
    yields the calendar in every zone: local Mondays the past week, the 1st the past month,
    January 1st the past year. A marker on a day not due yet waits for its day's run.

    A backfill covers every closed period overlapping its range, whole, in every zone: a week,
    month or year reaching outside the range brings its other days (and a year its months) with
    it, so nothing it writes is merged from parts never computed.

    With ``retention_days``, a day below the retention floor (:mod:`rollwise.summaries.retention`)
    is never recomputed: a marker on one is taken and reported (``expired``), and a backfill
    reaching one is refused with :class:`BelowRetentionFloor` naming the floor.
    """
    schedule = dict(schedule) if schedule is not None else {UTC_ZONE: None}
    markers = list(invalidations)
    for m in markers:
        schedule.setdefault(m.zone, None)  # a zone no tenant is in any more still has its markers
    every = frozenset(range(shards))
    last = {zone: last_due_day(reference, zone, delay_hours) for zone in schedule}
    if backfill is not None:
        floors = [f for f in (floor(reference, zone, retention_days) for zone in schedule) if f is not None]
        if floors and backfill[0] < max(floors):
            raise BelowRetentionFloor(
                f"backfill from {backfill[0]} reaches below the retention floor {max(floors)}: records of earlier days may have "
                f"expired (record retention {retention_days} days), so their summaries are kept as they are; start at {max(floors)} or later"
            )
        return _backfill(utc_day(reference), every, last, *backfill)
    day_shards: dict[tuple[str, date], set[int]] = {}
    done: dict[str, date] = {}
    for zone, through in schedule.items():
        due = last[zone]
        # The days that fell due in the hour up to ``reference`` are this run's whatever was done before
        # (a retry of the same event does the same work), and those due earlier but not done yet with them.
        first = last_due_day(reference - timedelta(hours=1), zone, delay_hours) + timedelta(days=1)
        first = min(first, due if through is None else max(through + timedelta(days=1), due - timedelta(days=CATCH_UP_DAYS - 1)))
        if first > due:
            continue
        done[zone] = due
        for d in days_between(min(first, due - timedelta(days=max(lateness_days, 1) - 1)), due):
            day_shards.setdefault((zone, d), set()).update(every)
    consumed: list[Invalidation] = []
    expired: list[Invalidation] = []
    for marker in markers:
        if is_frozen(marker.day, marker.zone, reference, retention_days):
            expired.append(marker)
        elif marker.day <= last[marker.zone] and marker.shard < shards:
            day_shards.setdefault((marker.zone, marker.day), set()).add(marker.shard)
            consumed.append(marker)
    periods: dict[Period, set[int]] = {}
    for (zone, d), s in day_shards.items():
        periods.setdefault(period_containing("daily", d, zone), set()).update(s)
    by_zone: dict[str, set[date]] = {}
    for zone, d in day_shards:
        by_zone.setdefault(zone, set()).add(d)
    for zone, days in by_zone.items():
        for p in closed_periods_containing(days, last[zone] + timedelta(days=1), zone):
            if p.kind != "daily":
                periods.setdefault(p, set()).update(*(day_shards.get((zone, d), ()) for d in p.days()))
    return Plan(utc_day(reference), _ordered(periods), consumed, done, expired)


def _backfill(today: date, every: frozenset[int], last: Mapping[str, date], start: date, end: date) -> Plan:
    if start > end:
        raise ValueError(f"backfill start {start} is after its end {end}")
    needed: set[Period] = set()
    for zone, due in last.items():
        after = due + timedelta(days=1)  # what the zone's calendar calls today: periods before it are closed
        needed |= {period_containing("daily", d, zone) for d in days_between(start, min(end, due))}
        for kind in PERIOD_TYPES[1:]:
            p = period_containing(kind, start, zone)
            while p.start <= end:
                if p.is_closed(after):
                    needed.add(p)
                    needed.update(period_containing("daily", d, zone) for d in p.days())
                    if kind == "yearly":  # a year merges its months
                        needed.update({period_containing("monthly", d, zone) for d in p.days()})
                p = period_containing(kind, p.next_start, zone)
    return Plan(today, _ordered({p: every for p in needed}))


def _ordered(periods: Mapping[Period, Iterable[int]]) -> dict[Period, frozenset[int]]:
    """Shorter periods first: a longer one merges the shorter ones computed before it."""
    rank = {k: i for i, k in enumerate(PERIOD_TYPES)}
    return {p: frozenset(periods[p]) for p in sorted(periods, key=lambda p: (rank[p.kind], p.start, p.zone != UTC_ZONE, p.zone))}
