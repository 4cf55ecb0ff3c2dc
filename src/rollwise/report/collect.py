"""What the report reads: through the jobs' own read paths, into plain data for the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from rollwise import objects
from rollwise.periods import days_between, period_containing
from rollwise.runs.read import aggregates_of_day
from rollwise.sketch import Distribution
from rollwise.summaries.model import TENANT_WIDE
from rollwise.timestamps import parse_timestamp
from rollwise.windows import stamp_in_name


@dataclass
class RunsData:
    aggregates: list[dict] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # aggregates that are not ours to read: key, reason


def read_runs(job: Any, first: date, last: date, advance: Callable[[], None] = lambda: None) -> RunsData:
    """The range's aggregates (by day), and the notes of files quarantined in it."""
    data = RunsData()
    for day in days_between(first, last):
        data.aggregates.extend(aggregates_of_day(job.store, job.layout, day, lambda key, why: data.unreadable.append((key, why)), keep_state=True))
        advance()
    for meta in objects.list_objects(job.store, job.layout.quarantine):
        if not job.layout.is_note(meta.key):
            continue
        stamp = stamp_in_name(meta.key)
        when = (stamp or meta.last_modified).date()
        if first <= when <= last:
            blob = objects.read_if_exists(job.store, meta.key)
            if blob is not None:
                data.quarantined.append(orjson.loads(blob.data))
    return data


def read_summaries(store: Any, first: date, last: date, tenant: str | None, advance: Callable[[], None] = lambda: None) -> dict[str, list]:
    """Tenant-wide daily summaries per tenant, read by period partition (no scan, no tenant list needed)."""
    by_tenant: dict[str, list] = {}
    zones = [store.zone_of(tenant)] if tenant else sorted(store.zones())  # each tenant's days are its zone's local days
    for day in days_between(first, last):
        shards = [store.shard_of(tenant)] if tenant else range(store.shards)
        for zone in zones:
            period = period_containing("daily", day, zone)
            for shard in shards:
                for s in store.read_summaries(period, shard).values():
                    if s.owner_id == TENANT_WIDE and (tenant is None or s.tenant_id == tenant):
                        by_tenant.setdefault(s.tenant_id, []).append(s)
        advance()
    if tenant and tenant not in by_tenant:
        by_tenant[tenant] = []
    return by_tenant


def latest(store: Any, tenant: str, kind: str, last: date) -> tuple[date | None, list]:
    """The latest closed ``kind`` period of a tenant starting by ``last``, and its tenant-wide rows."""
    rows = list(store.query_summaries(tenant, kind, until=last, owner_id=TENANT_WIDE))
    if not rows:
        return None, []
    start = max(r.period.start for r in rows)
    return start, [r for r in rows if r.period.start == start]


def daily_percentiles(rows: list, days: list[date]) -> tuple[list[float | None], list[float | None]]:
    """Per day, p50 and p95 over every metric type: their sketches merged, since percentiles do not add."""
    merged: dict[date, Any] = {}
    for s in rows:
        day = merged.get(s.period.start)
        if day is None:
            merged[s.period.start] = s.summary()
        else:
            day.durations.merge(s.summary().durations)
    p50, p95 = [], []
    for d in days:
        figures = merged[d].durations.quantiles((0.5, 0.95)) if d in merged else (None, None)
        p50.append(figures[0])
        p95.append(figures[1])
    return p50, p95


def per_day(rows: list, days: list[date], name: str) -> list[float]:
    totals = {d: 0.0 for d in days}
    for s in rows:
        totals[s.period.start] += s.figures[name] or 0
    return [totals[d] for d in days]


def time_buckets(docs: list[dict]) -> tuple[timedelta, datetime, datetime]:
    """How finely to draw windows over time: each window while they span half a day at most,
    hours up to four days, days beyond; and the axis's start and end, whole buckets."""
    starts = [parse_timestamp(d["window_start"]) for d in docs]
    ends = [parse_timestamp(d["window_end"]) for d in docs]
    span = max(ends) - min(starts)
    if span <= timedelta(hours=12):
        bucket = min(e - s for s, e in zip(starts, ends, strict=True))
    elif span <= timedelta(days=4):
        bucket = timedelta(hours=1)
    else:
        bucket = timedelta(days=1)
    midnight = min(starts).replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + bucket * ((min(starts) - midnight) // bucket)
    last = midnight + bucket * -((midnight - max(ends)) // bucket)
    return bucket, first, last


def per_bucket(docs: list[dict], bucket: timedelta, origin: datetime) -> dict[datetime, dict[str, Any]]:
    """Windows summed per bucket (by where they start): counts added, processing-time sketches merged."""
    out: dict[datetime, dict[str, Any]] = {}
    for d in docs:
        start = parse_timestamp(d["window_start"])
        t = origin + bucket * ((start - origin) // bucket)
        b = out.setdefault(t, {"matches": 0, "no_matches": 0, "errors": 0, "files": 0, "time": Distribution()})
        for name in ("matches", "no_matches", "errors", "files"):
            b[name] += d["stats"][name]
        state = (d.get("merge_state") or {}).get("opportunity_time")
        if state and state.get("sketch"):
            b["time"].merge(Distribution.from_state(state))
    return out


def headline(rows: list) -> dict[str, float | None]:
    """A tenant's figures over a range, from its tenant-wide daily summaries: executions submitted,
    success rate of those finished, p95 duration (sketches merged), throttled and rejected."""
    total = {
        name: sum(s.figures[name] or 0 for s in rows)
        for name in ("submission_count", "success_count", "failure_count", "cancelled_count", "timeout_count", "throttled_count", "rejected_count")
    }
    finished = total["success_count"] + total["failure_count"] + total["cancelled_count"] + total["timeout_count"]
    durations = Distribution()
    for s in rows:
        durations.merge(s.summary().durations)
    return {
        "executions": total["submission_count"],
        "success rate %": 100 * total["success_count"] / finished if finished else None,
        "p95 duration ms": durations.quantiles((0.95,))[0] if durations.count else None,
        "throttled": total["throttled_count"],
        "rejected": total["rejected_count"],
    }
