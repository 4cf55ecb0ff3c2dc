"""Calendar periods in a time zone: local days, Monday-to-Sunday weeks, months, years.

Pure arithmetic over the IANA database (``zoneinfo``), no other I/O. A period
is named by its kind, its first local date and its zone, and knows the UTC
instants it starts and ends at: a local day runs from local midnight to local
midnight, 23 or 25 hours across a DST change, none at all on a date its zone
skipped (Pacific/Apia's 2011-12-30). A period is closed once its last day is
before the reference day; only closed periods are ever summarised, so a
summary never describes a period that can still receive on-time data.

A local date is written ``2024-03-10`` in UTC and ``2024-03-10@Asia/Kolkata``
elsewhere (:func:`day_key`): a UTC tenant's keys are what they were before
zones existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIOD_TYPES = ("daily", "weekly", "monthly", "yearly")
UTC_ZONE = "UTC"
ZONE_MARK = "@"  # between a local date and its zone in a day key


class UnknownZone(ValueError):
    """A time zone name that is not in the IANA database."""


@lru_cache(maxsize=1024)
def zone_info(name: str) -> ZoneInfo:
    """The zone named ``name``; :class:`UnknownZone` naming the input otherwise."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise UnknownZone(f"unknown time zone {name!r}: expected an IANA name such as Europe/Paris or UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownZone(f"unknown time zone {name!r}: expected an IANA name such as Europe/Paris or UTC") from None


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant ``day`` starts at in ``zone``: its first instant whose local date is ``day``
    or later (a midnight that does not exist starts the day at the transition)."""
    if zone == UTC_ZONE:
        return datetime.combine(day, time(0), UTC)
    return _midnight(day, zone)


@lru_cache(maxsize=65536)
def _midnight(day: date, zone: str) -> datetime:
    tz = zone_info(zone)
    moment = datetime.combine(day, time(0), tz).astimezone(UTC)  # fold=0: the offset before a gap
    # Zoneinfo answers a midnight inside a gap with the offset before it, which is the gap's start: right.
    # A midnight repeated by a backward change starts at its first occurrence (fold=0): right too.
    return moment


def local_day(moment: datetime, zone: str) -> date:
    """The local day of an aware ``moment`` in ``zone``: the day whose midnights it lies between (its
    local date, but for the hour a clock set back across midnight repeats, which stays in the later day)."""
    if zone == UTC_ZONE:
        return moment.astimezone(UTC).date()
    day = moment.astimezone(zone_info(zone)).date()
    while moment >= local_midnight(day + timedelta(days=1), zone):
        day += timedelta(days=1)
    return day


def day_key(day: date | str, zone: str) -> str:
    """A local date as stores key it: ``2024-03-10`` in UTC, ``2024-03-10@Asia/Kolkata`` elsewhere."""
    iso = day if isinstance(day, str) else day.isoformat()
    return iso if zone == UTC_ZONE else f"{iso}{ZONE_MARK}{zone}"


def parse_day_key(key: str) -> tuple[date, str]:
    """``(local date, zone)`` of a :func:`day_key`."""
    iso, _, zone = key.partition(ZONE_MARK)
    return date.fromisoformat(iso), zone or UTC_ZONE


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period of a zone, identified by its type, first local day and zone."""

    kind: str
    start: date
    zone: str = UTC_ZONE

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_TYPES:
            raise ValueError(f"unknown period type {self.kind!r}: expected one of {', '.join(PERIOD_TYPES)}")
        if period_containing(self.kind, self.start).start != self.start:
            raise ValueError(f"{self.start.isoformat()} does not start a {self.kind} period")
        zone_info(self.zone)

    @property
    def starts_at(self) -> datetime:
        """The UTC instant the period starts at: its first day's local midnight."""
        return local_midnight(self.start, self.zone)

    @property
    def ends_at(self) -> datetime:
        """The UTC instant the next period starts at (exclusive end)."""
        return local_midnight(self.next_start, self.zone)

    def in_zone(self, zone: str) -> Period:
        return _make(self.kind, self.start, zone)

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
        """``daily:2024-03-10`` in UTC, ``daily:2024-03-10@Asia/Kolkata`` elsewhere (:func:`parse_label`)."""
        return f"{self.kind}:{day_key(self.start, self.zone)}"

    def __str__(self) -> str:
        return self.label()


def _make(kind: str, start: date, zone: str = UTC_ZONE) -> Period:
    p = object.__new__(Period)
    object.__setattr__(p, "kind", kind)
    object.__setattr__(p, "start", start)
    object.__setattr__(p, "zone", zone)
    return p


def parse_label(label: str) -> Period:
    """The period a :meth:`Period.label` names."""
    kind, _, key = label.partition(":")
    day, zone = parse_day_key(key)
    return Period(kind, day, zone)


def period_containing(kind: str, day: date, zone: str = UTC_ZONE) -> Period:
    """The period of ``kind`` in ``zone`` that contains the local date ``day``."""
    if kind == "daily":
        return _make(kind, day, zone)
    if kind == "weekly":
        return _make(kind, day - timedelta(days=day.weekday()), zone)
    if kind == "monthly":
        return _make(kind, day.replace(day=1), zone)
    if kind == "yearly":
        return _make(kind, day.replace(month=1, day=1), zone)
    raise ValueError(f"unknown period type {kind!r}: expected one of {', '.join(PERIOD_TYPES)}")


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def closed_periods_containing(days: Iterable[date], today: date, zone: str = UTC_ZONE) -> set[Period]:
    """Every closed period of ``zone``, of every type, that contains one of ``days``."""
    found: set[Period] = set()
    for d in days:
        for kind in PERIOD_TYPES:
            p = period_containing(kind, d, zone)
            if p.is_closed(today):
                found.add(p)
    return found


def days_between(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)
