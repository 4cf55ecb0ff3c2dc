"""Changing the shard count: copy a store's records into a new store that has the new count, then
compute every closed period there.

A store's count is fixed (each record and summary is placed by it), so the count never changes in
place: the old store stays as it is until the deploy points at the new one, and going back is
pointing back. The copy writes no invalidation markers; the backfill after it covers every closed
day. Run again after the switch, it picks up what writers put into the old store meanwhile:
records are stored again (nothing counts twice) and only changed summaries are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rollwise.errors import ConfigError
from rollwise.periods import utc_day
from rollwise.summaries.job import RunResult, backfill_plan, run
from rollwise.summaries.model import record_days
from rollwise.summaries.retention import floor
from rollwise.summaries.store import SummaryStore
from rollwise.timestamps import EARLIEST

BATCH = 500


@dataclass
class ReshardReport:
    source_shards: int
    target_shards: int
    records: int = 0
    first_day: date | None = None
    last_day: date | None = None
    backfill: RunResult = field(default_factory=RunResult)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_shards": self.source_shards,
            "target_shards": self.target_shards,
            "records": self.records,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "backfill": self.backfill.body(),
        }


def reshard(
    source: SummaryStore,
    target: SummaryStore,
    reference: datetime,
    workers: int = 1,
    on_records: Callable[[int], None] = lambda n: None,
    on_period: Callable[[], None] | None = None,
) -> ReshardReport:
    """Copy every record of ``source`` into ``target`` (a store holding ``target.configured_shards``
    shards, or none yet), then compute every period closed at ``reference`` over the copied days."""
    if source.describe() == target.describe():
        raise ConfigError(f"{source.describe()}: a store cannot be resharded into itself; give a new store")
    if target.settle_shards() != target.configured_shards:
        raise ConfigError(
            f"{target.describe()} already holds {target.shards} shards, not {target.configured_shards}: give a new store, or its own count"
        )
    report = ReshardReport(source.shards, target.shards)
    for tenant, zone in source.tenant_zones().items():  # before the records: they are placed by their tenant's local days
        target.set_zone(tenant, zone)
    batch: list = []

    def flush() -> None:
        target.put_records(batch, now=EARLIEST)  # nothing is "closed" before 1970: no markers
        on_records(len(batch))
        batch.clear()

    for record in source.every_record():
        days = sorted(record_days(record))
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        report.first_day = min(report.first_day or first, first)
        report.last_day = max(report.last_day or last, last)
        batch.append(record)
        report.records += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    yesterday = utc_day(reference) - timedelta(days=1)
    if report.first_day is not None and report.last_day is not None and report.first_day <= yesterday:
        # UTC days bound the records; a zone's local days reach a day further either way
        first = report.first_day - timedelta(days=1)
        floors = [f for f in (floor(reference, zone, target.retention_days) for zone in target.zones()) if f is not None]
        first = max([first, *floors])  # below the retention floor nothing is recomputed
        plan = backfill_plan(target, first, min(report.last_day + timedelta(days=1), yesterday), reference)
        report.backfill = run(target, plan, on_period=on_period, workers=workers)
    return report
