"""How long records are kept, and which days can no longer be recomputed once they may be gone.

Pure. A record copy of a local day expires ``days`` after the day ends (a
TTL attribute on DynamoDB, a delete on SQLite). Summaries never expire, so a
day whose records may be gone keeps its summaries as they are: it is frozen.
The floor is the first day that is not, a day of safety margin included
(DynamoDB's TTL deletes within days of expiry, never before it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rollwise.periods import local_day, local_midnight, parse_day_key

SAFETY_DAYS = 1


def expires_at(key: str, days: int) -> int | None:
    """Epoch seconds at which the records of the day ``key`` (a day key) may be deleted; None: kept forever."""
    if not days:
        return None
    day, zone = parse_day_key(key)
    return int((local_midnight(day + timedelta(days=1), zone) + timedelta(days=days)).timestamp())


def floor(now: datetime, zone: str, days: int) -> date | None:
    """The first local day of ``zone`` whose records are surely still there at ``now``; None: all are."""
    if not days:
        return None
    # Day D expires at the end of D + days; D is frozen from a day before that.
    return local_day(now - timedelta(days=days - SAFETY_DAYS), zone)


def is_frozen(day: date, zone: str, now: datetime, days: int) -> bool:
    first = floor(now, zone, days)
    return first is not None and day < first
