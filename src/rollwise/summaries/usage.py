"""Usage of one tenant over a range, by window and group: stored daily summaries merged, and the days not
aggregated yet (today, so far) computed from that tenant's records by the job's own aggregation.

A row's percentiles come from the merged DDSketches of its days, never from averaging percentiles, so
a week's row equals the weekly summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rollwise.periods import Period, days_between, local_day, local_midnight, period_containing
from rollwise.summaries.aggregate import aggregate_day
from rollwise.summaries.model import COUNTERS, DURATION_FIELDS, TENANT_WIDE, Summary
from rollwise.summaries.store import SummaryStore
from rollwise.timestamps import utc_text

WINDOWS = ("day", "week", "month", "none")
GROUPS = ("owner", "metric_type")
MAX_DAYS = {"day": 400, "week": 3660, "month": 3660, "none": 3660}  # 400 days of day windows; 10 years of the others
PERIOD_OF_WINDOW = {"day": "daily", "week": "weekly", "month": "monthly"}


@dataclass(frozen=True)
class UsageQuery:
    tenant: str
    start: date  # local, inclusive
    end: date  # local, exclusive
    window: str = "day"
    group_by: tuple[str, ...] = ()
    owner: str | None = None
    metric_type: str | None = None


def local_range(tenant_zone: str, since: date | datetime, until: date | datetime, now: datetime) -> tuple[date, date, bool]:
    """(first day, day after the last, whether it was cut at now) of a range given as dates or instants in the
    tenant's zone: an instant is taken to its local day, an end instant past a midnight to the next one."""
    start = since if not isinstance(since, datetime) else local_day(since, tenant_zone)
    if isinstance(until, datetime):
        end = local_day(until, tenant_zone)
        if local_midnight(end, tenant_zone) < until:
            end += timedelta(days=1)
    else:
        end = until
    tomorrow = local_day(now, tenant_zone) + timedelta(days=1)
    return start, min(end, tomorrow), end > tomorrow


def windows(query: UsageQuery, zone: str) -> list[tuple[date, date]]:
    """The query's windows, each ``(first day, day after the last)``, clipped to its range."""
    if query.window == "none":
        return [(query.start, query.end)]
    out, day = [], query.start
    while day < query.end:
        nxt = min(period_containing(PERIOD_OF_WINDOW[query.window], day, zone).next_start, query.end)
        out.append((day, nxt))
        day = nxt
    return out


def usage(store: SummaryStore, query: UsageQuery, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """The rows of ``query`` and whether all are complete (none covers a day not aggregated yet)."""
    zone = store.zone_of(query.tenant)
    done = store.schedule().get(zone)  # the last day the hourly run aggregated in the tenant's zone
    by_owner = "owner" in query.group_by
    owner_filter = query.owner if query.owner is not None else (None if by_owner else TENANT_WIDE)
    days: dict[date, list[Summary]] = {}
    last_stored = min(query.end - timedelta(days=1), done) if done else None
    if last_stored is not None and last_stored >= query.start:
        for stored in store.query_summaries(query.tenant, "daily", query.start, last_stored, owner_filter, query.metric_type):
            if stored.period.zone == zone and (by_owner or query.owner is not None) != (stored.owner_id == TENANT_WIDE):
                days.setdefault(stored.period.start, []).append(stored.summary())
    live_from = max(query.start, done + timedelta(days=1)) if done else query.start
    live = list(days_between(live_from, query.end - timedelta(days=1)))
    for day in live:  # not aggregated yet: that tenant's records of the day, as the job would aggregate them
        fresh, _ = aggregate_day(store.read_tenant_records(query.tenant, day, zone), Period("daily", day, zone))
        days[day] = [s for s in fresh.values() if _wanted(s, query, by_owner)]
    rows = []
    for first, after in windows(query, zone):
        groups: dict[tuple, Summary] = {}
        for day in days_between(first, after - timedelta(days=1)):
            for s in days.get(day, ()):
                key = (s.owner_id if by_owner else None, s.metric_type if "metric_type" in query.group_by else None)
                merged = groups.get(key)
                if merged is None:
                    merged = groups[key] = Summary(query.tenant, s.owner_id, s.metric_type, s.period)
                merged.merge(s)
        complete = not live or after <= live[0]
        for key in sorted(groups, key=lambda k: tuple(x or "" for x in k)):
            rows.append(_row(groups[key], key, first, after, zone, complete, now))
    return rows, not live


def _wanted(s: Summary, query: UsageQuery, by_owner: bool) -> bool:
    if query.metric_type is not None and s.metric_type != query.metric_type:
        return False
    if query.owner is not None:
        return s.owner_id == query.owner
    return (s.owner_id != TENANT_WIDE) if by_owner else (s.owner_id == TENANT_WIDE)


def _row(s: Summary, key: tuple, first: date, after: date, zone: str, complete: bool, now: datetime) -> dict[str, Any]:
    figures = s.figures()
    row: dict[str, Any] = {
        "from": first.isoformat(),
        "to": after.isoformat(),
        "zone": zone,
        "starts_at": utc_text(local_midnight(first, zone)),
        "ends_at": utc_text(local_midnight(after, zone)),
    }
    if key[0] is not None:
        row["owner_id"] = key[0]
    if key[1] is not None:
        row["metric_type"] = key[1]
    row.update({name: figures[name] for name in COUNTERS + DURATION_FIELDS})
    row["complete"] = complete
    if not complete:
        row["as_of"] = utc_text(now)
    return row


def columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The CSV header of ``rows``: every key, in the first row's order, then any later ones."""
    out: list[str] = []
    for row in rows:
        out.extend(k for k in row if k not in out)
    return out
