"""Importing a table's history: a parallel Scan of another system's table, read with a mapping, stored as records.

Each segment of the Scan runs on its own thread. A segment's page is mapped,
its records stored (which leaves invalidation markers on the closed days they
land in, so the next run, or a backfill, computes their summaries), and only
then is the page's last evaluated key written to the checkpoint: an import
stopped at any point resumes from there, and a page read twice stores the
same records again, which counts nothing twice. A read budget in capacity
units per second keeps the import from starving the table's own traffic.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rollwise.errors import ConfigError, StoreError
from rollwise.retry import Patience
from rollwise.summaries.ingest.dynamodb_items import ItemError, item_values
from rollwise.summaries.ingest.mapping import Mapping
from rollwise.summaries.model import RecordError
from rollwise.summaries.store import SummaryStore
from rollwise.threads import each

# 2: a checkpoint names its table's ARN and creation time (1 named the table by name only).
CHECKPOINT_VERSION = 2
REASONS_KEPT = 100  # rejected items beyond these are counted, not listed


@dataclass
class ImportReport:
    items: int = 0
    stored: int = 0
    skipped: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    read_units: float = 0.0
    resumed: bool = False
    failed_segments: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "stored": self.stored,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "read_units": round(self.read_units, 1),
        }

    def add(self, figures: dict[str, Any]) -> None:
        self.items += figures.get("items", 0)
        self.stored += figures.get("stored", 0)
        self.skipped += figures.get("skipped", 0)
        self.rejected += figures.get("rejected", 0)
        self.read_units += figures.get("read_units", 0.0)


class ReadBudget:
    """At most ``units_per_second`` read units on average, over every thread: a request waits while the
    budget is spent; what a page consumed is only known after it, so the budget may go briefly into debt."""

    def __init__(self, units_per_second: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if units_per_second <= 0:
            raise ConfigError(f"the read rate must be positive, got {units_per_second}")
        self.rate, self.clock, self.sleep = units_per_second, clock, sleep
        self.available = units_per_second  # a second's worth to start
        self.updated = clock()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.available = min(self.rate, self.available + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self) -> None:
        while True:
            with self.lock:
                self._refill()
                if self.available >= 0:  # not in debt
                    return
                pause = -self.available / self.rate
            self.sleep(pause)

    def spend(self, units: float) -> None:
        with self.lock:
            self._refill()
            self.available -= units


@dataclass(frozen=True)
class SourceTable:
    """The table an import reads, as DynamoDB tells one table from another: a table deleted and created
    again under the same name (or another account's of that name) has another ARN or creation time."""

    name: str
    arn: str
    created: str  # DescribeTable's CreationDateTime, ISO 8601
    items: int | None = None  # DescribeTable's ItemCount: updated every few hours, a guide for the progress bar

    def describe(self) -> str:
        return f"{self.arn} (created {self.created})"

    def checkpoint_name(self) -> str:
        """The default checkpoint's file name: the table's name and a digest of what tells it from another of that name."""
        digest = hashlib.sha256(f"{self.arn}\n{self.created}".encode()).hexdigest()[:12]
        return f"{self.name}-{digest}.json"


def describe_source(client: Any, table: str, patience: Patience | None = None) -> SourceTable:
    """The table's ARN, creation time and item count (one DescribeTable)."""
    from rollwise.dynamodb import Table

    found = Table(table, client=client, patience=(lambda: patience) if patience else None).request("describe_table")["Table"]
    created = found["CreationDateTime"]
    return SourceTable(table, found["TableArn"], created.isoformat() if hasattr(created, "isoformat") else str(created), found.get("ItemCount"))


def default_checkpoint(source: SourceTable, folder: Path) -> Path:
    """Where an import keeps its progress unless told: ``<folder>/<table>-<digest>.json`` (the folder:
    :meth:`~rollwise.summaries.settings.IngestSettings.checkpoints`)."""
    return folder / source.checkpoint_name()


class Checkpoint:
    """Where each segment of one table's import stands: its last evaluated key, or done. Written whole,
    atomically, after each stored page; it names the table's ARN and creation time, so it is never
    taken for another table's."""

    def __init__(self, path: Path | None, source: SourceTable, segments: int, mapping: str) -> None:
        self.path, self.source, self.segments, self.mapping = path, source, segments, mapping
        self.positions: dict[int, Any] = {}  # segment -> last evaluated key (typed), or True when done
        self.figures: dict[str, Any] = {}
        self.lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | None, source: SourceTable, segments: int, mapping: str, restart: bool = False) -> Checkpoint:
        cp = cls(path, source, segments, mapping)
        if path is None or restart or not path.exists():
            return cp
        start_over = "pass --restart to import this table from the start (the checkpoint is replaced), or another --checkpoint"
        try:
            doc = orjson.loads(path.read_bytes())
            if doc.get("version") != CHECKPOINT_VERSION:
                raise ValueError(f"it is of version {doc.get('version')!r}, written by another rollwise; this one reads {CHECKPOINT_VERSION}")
            theirs = SourceTable(doc["table"], doc["table_arn"], doc["created"])
            positions = {int(k): v for k, v in doc["positions"].items()}
            segments_then = int(doc["segments"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"checkpoint {path} cannot be read ({exc}): {start_over}") from None
        if (theirs.arn, theirs.created) != (source.arn, source.created):
            raise ConfigError(f"checkpoint {path} is of table {theirs.describe()}, not of {source.describe()}: {start_over}")
        if segments_then != segments:
            raise ConfigError(
                f"checkpoint {path} is of an import in {segments_then} segments, not {segments}: pass --segments "
                f"{segments_then} to resume it, or {start_over}"
            )
        cp.positions, cp.figures = positions, doc.get("figures", {})
        return cp

    @property
    def resumed(self) -> bool:
        return bool(self.positions)

    def done(self, segment: int) -> bool:
        return self.positions.get(segment) is True

    def complete(self) -> bool:
        return all(self.done(s) for s in range(self.segments))

    def advance(self, segment: int, last_key: Any, figures: dict[str, Any]) -> None:
        with self.lock:
            self.positions[segment] = last_key if last_key else True
            for name, value in figures.items():
                self.figures[name] = self.figures.get(name, 0) + value
            if self.path is not None:
                doc = {
                    "version": CHECKPOINT_VERSION,
                    "table": self.source.name,
                    "table_arn": self.source.arn,
                    "created": self.source.created,
                    "segments": self.segments,
                    "mapping": self.mapping,
                    "positions": {str(k): v for k, v in sorted(self.positions.items())},
                    "figures": self.figures,
                }
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.path.with_name(self.path.name + ".tmp")
                temporary.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
                os.replace(temporary, self.path)


def _scan(client: Any, patience: Patience, **kwargs: Any) -> dict[str, Any]:
    from rollwise.dynamodb import Table

    return Table(kwargs.pop("TableName"), client=client, patience=lambda: patience).request("scan", **kwargs)


def import_table(
    client: Any,
    table: str,
    mapping: Mapping,
    store: SummaryStore,
    segments: int = 4,
    budget: ReadBudget | None = None,
    checkpoint: Checkpoint | None = None,
    page_size: int | None = None,
    on_items: Callable[[int], None] | None = None,
) -> ImportReport:
    """Scan ``table`` in ``segments`` parallel segments, storing the records ``mapping`` finds.

    A segment that fails (a table throttles past the store's retry time, the
    store refuses) stops; the others go on; its checkpoint position stays
    where its last stored page left it. Returns what was read and stored.
    """
    if segments < 1:
        raise ConfigError(f"segments must be at least 1, got {segments}")
    checkpoint = checkpoint or Checkpoint(None, SourceTable(table, "", ""), segments, mapping.name)
    report = ImportReport(resumed=checkpoint.resumed)
    report.add(checkpoint.figures)
    lock = threading.Lock()

    def scan_segment(segment: int) -> None:
        start = checkpoint.positions.get(segment)
        while start is not True:
            request: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": segments, "ReturnConsumedCapacity": "TOTAL"}
            if start:
                request["ExclusiveStartKey"] = start
            if page_size:
                request["Limit"] = page_size
            if budget:
                budget.wait()
            page = _scan(client, store.patience_now(), **request)
            units = float((page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0.0)
            if budget:
                budget.spend(units)
            records: list[dict[str, Any]] = []
            figures: dict[str, Any] = {"items": len(page.get("Items", [])), "skipped": 0, "rejected": 0, "read_units": units}
            reasons: list[str] = []
            for item in page.get("Items", []):
                try:
                    values = item_values(item)
                    record = mapping.record(values)
                except (ItemError, RecordError) as exc:
                    figures["rejected"] += 1
                    reasons.append(f"segment {segment}: {exc}")
                    continue
                if record is None:
                    figures["skipped"] += 1
                else:
                    records.append(record)
            store.put_records(records)
            figures["stored"] = len(records)
            start = page.get("LastEvaluatedKey") or True
            checkpoint.advance(segment, start if start is not True else None, figures)
            with lock:
                report.add(figures)
                report.reasons.extend(reasons[: max(0, REASONS_KEPT - len(report.reasons))])
            if on_items:
                on_items(figures["items"])

    def fold(segment: int, outcome: Any) -> None:
        if isinstance(outcome, StoreError):
            report.failed_segments[segment] = str(outcome)
        elif isinstance(outcome, Exception):
            raise outcome

    each([s for s in range(segments) if not checkpoint.done(s)], scan_segment, fold, segments)
    return report
