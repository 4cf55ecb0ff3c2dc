"""Calendar periods in UTC: days, Monday-to-Sunday weeks, months, years.

Pure arithmetic, no I/O. A period is closed once its last day is before the
reference day; only closed periods are ever summarised, so a summary never
describes a period that can still receive on-time data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

PERIOD_TYPES = ("daily", "weekly", "monthly", "yearly")


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period, identified by its type and first day."""

    kind: str
    start: date

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_TYPES:
            raise ValueError(f"unknown period type {self.kind!r}: expected one of {', '.join(PERIOD_TYPES)}")
        if period_containing(self.kind, self.start).start != self.start:
            raise ValueError(f"{self.start.isoformat()} does not start a {self.kind} period")

    @property
    def end(self) -> date:
        """The last day of the period, inclusive."""
        return self.next_start - timedelta(days=1)

    @property
    def next_start(self) -> date:
        s = self.start
        if self.kind == "daily":
            return s + timedelta(days=1)
        if self.kind == "weekly":
            return s + timedelta(days=7)
        if self.kind == "monthly":
            return date(s.year + (s.month == 12), s.month % 12 + 1, 1)
        return date(s.year + 1, 1, 1)

    def days(self) -> Iterator[date]:
        d = self.start
        while d < self.next_start:
            yield d
            d += timedelta(days=1)

    def is_closed(self, today: date) -> bool:
        return self.end < today

    def label(self) -> str:
        return f"{self.kind}:{self.start.isoformat()}"

    def __str__(self) -> str:
        return self.label()


def _make(kind: str, start: date) -> Period:
    p = object.__new__(Period)
    object.__setattr__(p, "kind", kind)
    object.__setattr__(p, "start", start)
    return p


def period_containing(kind: str, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == "daily":
        return _make(kind, day)
    if kind == "weekly":
        return _make(kind, day - timedelta(days=day.weekday()))
    if kind == "monthly":
        return _make(kind, day.replace(day=1))
    if kind == "yearly":
        return _make(kind, day.replace(month=1, day=1))
    raise ValueError(f"unknown period type {kind!r}: expected one of {', '.join(PERIOD_TYPES)}")


def utc_day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


def closed_periods_containing(days: Iterable[date], today: date) -> set[Period]:
    """Every closed period, of every type, that contains one of ``days``."""
    found: set[Period] = set()
    for d in days:
        for kind in PERIOD_TYPES:
            p = period_containing(kind, d)
            if p.is_closed(today):
                found.add(p)
    return found


def days_between(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)
