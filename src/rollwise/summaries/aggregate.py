"""The one aggregation core: records into daily summaries, summaries into longer ones.

Pure functions over iterators. Every store feeds these same functions, so a
summary is the same whichever backend produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from rollwise.periods import Period, period_containing
from rollwise.summaries.model import TENANT_WIDE, TERMINAL, Summary, SummaryKey
from rollwise.timestamps import utc_text


def aggregate_day(records: Iterable[Mapping[str, Any]], day: date | Period) -> tuple[dict[SummaryKey, Summary], int]:
    """Daily summaries of one local day (a UTC date, or a daily period of any zone) from stored
    records, and how many records were read.

    A submission (with its throttles and rejection) counts on the day of
    ``submitted_at``; an outcome, its profiles and its duration on the day of
    ``completed_at``. Records without an event on the day are ignored.
    Stored timestamps are UTC text of one layout, so an instant is inside the
    day when its text to the second lies between the day's two midnights'.
    """
    period = day if isinstance(day, Period) else period_containing("daily", day)
    first, after = utc_text(period.starts_at)[:19], utc_text(period.ends_at)[:19]
    groups: dict[SummaryKey, Summary] = {}
    durations: dict[SummaryKey, list] = {}  # added to each sketch at once: one bin update per distinct key
    seen = 0
    for r in records:
        seen += 1
        key = (r["tenant_id"], r["owner_id"], r["metric_type"])
        s = groups.get(key)
        if s is None:
            s = groups[key] = Summary(key[0], key[1], key[2], period)
        if first <= r["submitted_at"][:19] < after:
            s.submission_count += 1
            s.throttled_count += r["throttled"]
            s.rejected_count += r["rejected"]
        completed = r["completed_at"]
        if completed is not None and first <= completed[:19] < after:
            setattr(s, TERMINAL[r["status"]], getattr(s, TERMINAL[r["status"]]) + 1)
            s.total_profiles += r["profiles"]
            if r["duration_ms"] is not None:
                durations.setdefault(key, []).append(r["duration_ms"])
    for key, values in durations.items():
        groups[key].durations.add_many(values)
    for key in [k for k, s in groups.items() if _empty(s)]:
        del groups[key]
    return with_tenant_wide(groups.values(), period), seen


def _empty(s: Summary) -> bool:
    return not (s.submission_count or s.success_count or s.failure_count or s.cancelled_count or s.timeout_count)


def with_tenant_wide(owner_summaries: Iterable[Summary], period: Period) -> dict[SummaryKey, Summary]:
    """Owner summaries plus, per (tenant, metric type), their merge under owner ``__tenant__``."""
    out: dict[SummaryKey, Summary] = {}
    for s in owner_summaries:
        out[s.key] = s
        wide_key = (s.tenant_id, TENANT_WIDE, s.metric_type)
        wide = out.get(wide_key)
        if wide is None:
            wide = out[wide_key] = Summary(s.tenant_id, TENANT_WIDE, s.metric_type, period)
        wide.merge(s)
    return out


def merge_summaries(parts: Iterable[Summary], period: Period) -> dict[SummaryKey, Summary]:
    """Summaries of ``period`` merged from summaries of shorter periods inside it.

    Tenant-wide parts merge into tenant-wide results like any other key, so no
    re-derivation is needed.
    """
    out: dict[SummaryKey, Summary] = {}
    for part in parts:
        if part.period.zone != period.zone or not (period.start <= part.period.start and part.period.end <= period.end):
            raise ValueError(f"{part.period} does not lie inside {period}")
        s = out.get(part.key)
        if s is None:
            s = out[part.key] = Summary(part.tenant_id, part.owner_id, part.metric_type, period)
        s.merge(part)
    return out
