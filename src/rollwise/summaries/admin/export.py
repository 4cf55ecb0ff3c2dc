"""Summaries as files for SQL: one object per period, under Hive-style partitions.

::

    <prefix>period_type=<daily|weekly|monthly|yearly>/period_start=<YYYY-MM-DD>/summaries.<jsonl|csv>

Each object holds every summary of one period, all tenants, one row each (the
columns of ``summaries show --json``): a period is named by its local dates, so
the object of 2024-03-10 holds every zone's 2024-03-10, each row with its zone
and the UTC instants it starts and ends at. Exporting a period again replaces its
object, so a nightly export after the nightly run keeps the files equal to the
store; a period whose summaries are all gone loses its object.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from rollwise import objects
from rollwise.periods import PERIOD_TYPES, Period, period_containing
from rollwise.summaries.model import COUNTERS, DURATION_FIELDS
from rollwise.summaries.store import SummaryStore

FORMATS = ("jsonl", "csv")
COLUMNS = (
    "tenant_id",
    "owner_id",
    "metric_type",
    "period_type",
    "period_start",
    "period_end",
    "zone",
    "starts_at",
    "ends_at",
    *COUNTERS,
    *DURATION_FIELDS,
)


def export_key(prefix: str, period: Period, fmt: str) -> str:
    return f"{prefix}period_type={period.kind}/period_start={period.start.isoformat()}/summaries.{fmt}"


def periods_overlapping(first: date, last: date, kinds: Iterable[str] = PERIOD_TYPES) -> list[Period]:
    """Every period of ``kinds`` with a day in ``first..last``, in time order per kind."""
    out = []
    for kind in kinds:
        p = period_containing(kind, first)
        while p.start <= last:
            out.append(p)
            p = period_containing(kind, p.next_start)
    return out


def encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "jsonl":
        return b"".join(orjson.dumps(r) + b"\n" for r in rows)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"objects_written": len(self.written), "objects_removed": len(self.removed), "summaries": self.rows, "written": self.written}


def export_summaries(
    store: SummaryStore,
    target: objects.ObjectStore,
    prefix: str,
    periods: Iterable[Period],
    fmt: str = "jsonl",
    on_period: Callable[[], None] = lambda: None,
) -> ExportReport:
    """Write one object per period (every shard's summaries of it, sorted by key)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    report = ExportReport()
    for period in periods:
        found = {}
        for zone in sorted(store.zones()):
            for shard in range(store.shards):
                found.update(store.read_summaries(period.in_zone(zone), shard))
        rows = [found[k].to_dict() for k in sorted(found)]
        key = export_key(prefix, period, fmt)
        if rows:
            objects.write(target, key, encode(rows, fmt))
            report.written.append(key)
            report.rows += len(rows)
        elif objects.exists(target, key) is not None:
            outcome = objects.delete_many(target, [key])
            if outcome.failed:
                raise outcome.failed[key]
            report.removed.append(key)
        on_period()
    return report
