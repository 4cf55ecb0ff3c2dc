"""The storage interface of the summaries job: one base class, one module per backend.

The base class holds everything the backends share (which shard a tenant lives
in, which days a record touches, when to write an invalidation, how a summary
is laid out for storage); a backend only moves items.

Layout, the same in every backend:

* execution records are kept once per UTC day they have an event on, under
  ``(day, shard)``, so the nightly run reads one day with a handful of key
  lookups whatever the history kept;
* a write that lands in an already closed day also writes an invalidation
  marker ``(day, shard, token)``, so the next run re-reads only what changed;
* summaries are kept under ``(period type, period start, shard)`` with
  ``(tenant, owner, metric type)`` inside, and indexed by tenant for reading.
"""

from __future__ import annotations

import uuid
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Iterator, Mapping

from rollwise.periods import Period, utc_day
from rollwise.sketch import Distribution, plain
from rollwise.summaries.model import (
    COUNTERS,
    DURATION_FIELDS,
    EVENT_COUNTERS,
    Invalidation,
    Summary,
    SummaryKey,
    record_days,
    summary_row,
)
from rollwise.summaries.settings import SummariesSettings
from rollwise.timestamps import utc_now

DEFAULT_SHARDS: int = SummariesSettings.shards  # the settings field's default


@dataclass(frozen=True)
class RecordItem:
    day: str
    shard: int
    tenant_id: str
    execution_id: str
    record: Mapping[str, Any]


NUMBER_FIELDS = COUNTERS + DURATION_FIELDS


IDENTITY_FIELDS = COUNTERS + ("min_duration_ms", "max_duration_ms")


def identity(summary: Summary, sketch: bytes) -> tuple:
    """What decides whether two summaries are the same: exact figures and
    sketch bytes. Averages and percentiles derive from these, so an unchanged
    summary is recognised without computing them."""
    return (*(plain(getattr(summary, name)) for name in IDENTITY_FIELDS), sketch)


def stored_figures(summary: Summary, sketch: bytes | None = None) -> dict[str, Any]:
    """What a backend persists of a summary: every figure, and the sketch's bytes."""
    from rollwise.sketch import encode

    figures = summary.figures()
    figures["sketch"] = encode(summary.durations.sketch) if sketch is None else sketch
    return figures


@dataclass(frozen=True)
class StoredSummary:
    """A summary as a store holds it: figures ready to show, the sketch still encoded.

    Reading, comparing and showing need no sketch decoding; only merging
    into a longer period does (:meth:`summary`).
    """

    tenant_id: str
    owner_id: str
    metric_type: str
    period: Period
    figures: Mapping[str, Any]

    @classmethod
    def of(cls, summary: Summary, sketch: bytes | None = None) -> "StoredSummary":
        return cls(summary.tenant_id, summary.owner_id, summary.metric_type, summary.period, stored_figures(summary, sketch))

    def identity(self) -> tuple:
        return (*(self.figures[name] for name in IDENTITY_FIELDS), self.figures["sketch"])

    @classmethod
    def load(cls, tenant_id: str, owner_id: str, metric_type: str, period: Period, figures: Mapping[str, Any]) -> "StoredSummary":
        """From what a backend read: absent figures are None, like in :func:`stored_figures`."""
        full = {name: figures.get(name) for name in NUMBER_FIELDS}
        full["sketch"] = figures.get("sketch") or b""
        return cls(tenant_id, owner_id, metric_type, period, full)

    @property
    def key(self) -> SummaryKey:
        return (self.tenant_id, self.owner_id, self.metric_type)

    def summary(self) -> Summary:
        f = self.figures
        s = Summary(self.tenant_id, self.owner_id, self.metric_type, self.period,
                    durations=Distribution.restore(f["duration_count"] or 0, f["total_duration_ms"] or 0, f["min_duration_ms"],
                                                   f["max_duration_ms"], f["sketch"]))
        for name in EVENT_COUNTERS:
            setattr(s, name, f[name] or 0)
        return s

    def to_dict(self) -> dict[str, Any]:
        return summary_row(self.tenant_id, self.owner_id, self.metric_type, self.period, self.figures)


class SummaryStore(ABC):
    """Where execution records, invalidations and summaries live."""

    def __init__(self, shards: int = DEFAULT_SHARDS) -> None:
        if shards < 1:
            raise ValueError(f"shards must be at least 1, got {shards}")
        self.shards = shards

    def shard_of(self, tenant_id: str) -> int:
        """A tenant's shard: all its records and summaries live in one, so a
        shard can be aggregated on its own, tenant-wide summaries included."""
        return zlib.crc32(tenant_id.encode()) % self.shards

    # -- write side ---------------------------------------------------------
    def put_records(self, records: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
        """Store normalized records; mark the closed days they land in."""
        today = utc_day(now or utc_now()).isoformat()
        items: list[RecordItem] = []
        closed: set[tuple[str, int]] = set()
        for r in records:
            shard = self.shard_of(r["tenant_id"])
            for day in record_days(r):
                items.append(RecordItem(day, shard, r["tenant_id"], r["execution_id"], r))
                if day < today:
                    closed.add((day, shard))
        if not items:
            return 0
        self._put_record_items(items)
        if closed:
            # After the records, never before: a run that sees the marker must see the data.
            self._put_invalidations([Invalidation(date.fromisoformat(d), s, uuid.uuid4().hex) for d, s in sorted(closed)])
        return len(items)

    @abstractmethod
    def _put_record_items(self, items: list[RecordItem]) -> None: ...

    @abstractmethod
    def _put_invalidations(self, markers: list[Invalidation]) -> None: ...

    # -- job side -----------------------------------------------------------
    @abstractmethod
    def read_records(self, day: date, shard: int) -> Iterator[Mapping[str, Any]]:
        """Every stored record with an event on ``day`` in ``shard``."""

    @abstractmethod
    def invalidations(self) -> list[Invalidation]: ...

    @abstractmethod
    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        """Delete markers whose token is unchanged; a marker rewritten since it
        was read stays for the next run."""

    @abstractmethod
    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]: ...

    @abstractmethod
    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None: ...

    # -- read side ----------------------------------------------------------
    @abstractmethod
    def query_summaries(
        self,
        tenant_id: str,
        period_type: str,
        since: date | None = None,
        until: date | None = None,
        owner_id: str | None = None,
        metric_type: str | None = None,
    ) -> Iterator[StoredSummary]:
        """Summaries of one tenant, by period start, without a scan."""

    @abstractmethod
    def create(self) -> bool:
        """Create the tables and indexes if missing; True when something was created."""

    def describe(self) -> str:
        return type(self).__name__
