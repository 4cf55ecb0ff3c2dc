"""Moving a tenant to another time zone: its records re-keyed by its new local days, its closed periods
recomputed in the new zone, the old zone's summaries removed. Nothing of another tenant is read or written
but the summaries of its new zone's shard, recomputed (and left as they are when unchanged).

The steps are each safe to repeat, and the zone setting says where the history comes from until it has
all moved (``moving_from``), so an interrupted change is finished by running the same command again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rollwise.periods import PERIOD_TYPES, Period, closed_periods_containing, days_between, local_day, zone_info
from rollwise.summaries.job import RunResult, run
from rollwise.summaries.model import record_days
from rollwise.summaries.plan import Plan, last_due_day
from rollwise.summaries.store import SummaryStore

log = logging.getLogger(__name__)


@dataclass
class ZoneChange:
    tenant_id: str
    old_zone: str
    new_zone: str
    days_read: int = 0
    records_moved: int = 0
    periods: list[str] = field(default_factory=list)
    summaries_removed: int = 0
    dry_run: bool = False
    run: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def failures(self) -> list[str]:
        return list(self.run.get("errors", []))


def _history_days(store: SummaryStore, tenant_id: str, zone: str, now: datetime) -> list[date]:
    """The local days of ``zone`` that can hold the tenant's records there: each day it has a daily
    summary of, and every day since the last one (not summarised yet)."""
    days = {s.period.start for s in store.query_summaries(tenant_id, "daily") if s.period.zone == zone}
    today = local_day(now, zone)
    since = max(days, default=today - timedelta(days=7)) + timedelta(days=1)
    return sorted(days | set(days_between(min(since, today), today + timedelta(days=1))))


def change_zone(
    store: SummaryStore,
    tenant_id: str,
    zone: str,
    now: datetime,
    delay_hours: int,
    dry_run: bool = False,
    on_day: Callable[[int], None] = lambda total: None,
    on_period: Callable[[], None] | None = None,
) -> ZoneChange:
    """Set ``tenant_id``'s zone to ``zone`` and move its history (see the module). ``on_day(total)`` is
    called once per old-zone day read; ``on_period`` once per period shard computed."""
    zone_info(zone)
    store.settle_shards()
    pending = store.zone_moves().get(tenant_id)
    old = pending or store.zone_of(tenant_id)
    change = ZoneChange(tenant_id, old, zone, dry_run=dry_run)
    if old == zone:
        return change
    if not dry_run:
        store.set_zone(tenant_id, zone, moving_from=old)  # writers follow the new zone from here on
    days = _history_days(store, tenant_id, old, now)
    moved: dict[tuple[str, str], Mapping[str, Any]] = {}
    for day in days:
        for record in store.read_tenant_records(tenant_id, day, old):
            moved[(record["tenant_id"], record["execution_id"])] = record
        change.days_read += 1
        on_day(len(days))
    # Records already moved by an interrupted change are found in the new zone's days the summaries name.
    new_days = {d for r in moved.values() for d in record_days(r, zone)}
    change.records_moved = len(moved)
    if not dry_run and moved:
        store.put_records(moved.values(), now=now)  # re-keyed by the new zone's days; the old copies are deleted
    due = last_due_day(now, zone, delay_hours)
    new_days |= {s.period.start.isoformat() for s in store.query_summaries(tenant_id, "daily") if s.period.zone == zone}
    closed = closed_periods_containing((date.fromisoformat(d) for d in new_days), due + timedelta(days=1), zone)
    shard = store.shard_of(tenant_id)
    plan = Plan(now.date(), {p: frozenset({shard}) for p in sorted(closed, key=lambda p: (PERIOD_TYPES.index(p.kind), p.start))})
    change.periods = plan.describe()
    old_summaries = [s for kind in PERIOD_TYPES for s in store.query_summaries(tenant_id, kind) if s.period.zone != zone]
    change.summaries_removed = len(old_summaries)
    if dry_run:
        return change
    result: RunResult = run(store, plan, on_period=on_period)
    change.run = result.body()
    if result.failures() or result.deferred:
        return change  # the zone stays marked as moving: the same command again finishes it
    by_period: dict[Period, list] = {}
    for s in old_summaries:
        by_period.setdefault(s.period, []).append(s.key)
    for period, keys in by_period.items():
        store.mirror_summaries(period, [], keys)
        store.write_summaries(period, shard, [], keys)
    store.set_zone(tenant_id, zone)  # moved: nothing more to finish
    log.info("zone changed", extra=change.to_json())
    return change


def tenant_zone_rows(store: SummaryStore) -> list[dict[str, Any]]:
    """Every tenant with a zone set, for ``tenants list``."""
    moves = store.zone_moves()
    return [{"tenant_id": t, "zone": z, **({"moving_from": moves[t]} if t in moves else {})} for t, z in sorted(store.tenant_zones().items())]
