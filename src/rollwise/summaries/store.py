"""The storage interface of the summaries job: one base class, one module per backend.

The base class holds everything the backends share (which shard a tenant lives
in, which days a record touches, when to write an invalidation, how a summary
is laid out for storage); a backend only moves items.

Layout, the same in every backend:

* every tenant has a time zone (UTC unless set; :meth:`SummaryStore.set_zone`),
  and its days, weeks, months and years are local to it;
* execution records are kept once per local day of their tenant's zone they
  have an event on, under ``(day key, shard)`` (``2024-03-10`` in UTC,
  ``2024-03-10@Asia/Kolkata`` elsewhere), so a run reads one zone's day with a
  handful of key lookups whatever the history kept or the other zones hold;
* beside them, each execution's locator lists the ``(day, shard)`` places
  holding a copy, so a record written again with other days moves: its old
  copies are deleted (the locator grows before copies are written and shrinks
  after the stale ones are gone, so it always covers every copy);
* a write that lands in an already closed day (or leaves one) also writes an
  invalidation marker ``(day, shard, token)``, so the next run re-reads only
  what changed;
* summaries are kept under ``(period type, period start, zone, shard)`` with
  ``(tenant, owner, metric type)`` inside, and indexed by tenant for reading;
  the parts a longer period merges (its days, or a year's months) are read
  together, as a range;
* a run computes a shard only while holding the shard's lease, so two
  overlapping runs never interleave their reads and writes of one shard: the
  second leaves the shard (and its markers) to the next run, and a run that
  could not renew its lease in time writes nothing more.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rollwise.errors import StoreError
from rollwise.periods import UTC_ZONE, Period, day_key, local_day, parse_day_key, zone_info
from rollwise.retry import Patience
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
from rollwise.summaries.retention import expires_at
from rollwise.summaries.settings import SummariesSettings
from rollwise.timestamps import utc_now

log = logging.getLogger(__name__)
DEFAULT_SHARDS: int = SummariesSettings.shards  # the settings field's default
DEFAULT_RETRY_SECONDS: int = SummariesSettings.retry_seconds
DEFAULT_ZONE: str = SummariesSettings.default_zone


# How long a long-lived reader or writer (a warm Lambda, `rollwise serve`) keeps the tenants' zones and each zone's
# last aggregated day before reading the settings again: a zone change reaches it within this time.
ZONES_MAX_AGE_SECONDS = 60

# How long a run's hold on a shard lasts unless renewed: a run renews it after a quarter, and writes
# nothing once half of it is gone unrenewed (a suspended process). A crashed run blocks its shard this long.
LEASE_SECONDS = 600


class GroupBusy(Exception):
    """The shard is being computed by another run, or this run lost its hold: not a failure,
    the shard's periods and markers are left to the next run."""


class Hold:
    """A run's lease on one shard: :meth:`check` right before each write."""

    def __init__(self, store: SummaryStore, shard: int, owner: str) -> None:
        self.store, self.shard, self.owner = store, shard, owner
        self.renewed = time.time()

    def check(self) -> None:
        """Raise :class:`GroupBusy` if the hold may have lapsed; renew it once a quarter of it is gone."""
        now = time.time()
        if now - self.renewed >= LEASE_SECONDS / 2:
            raise GroupBusy(f"held longer than half its {LEASE_SECONDS} s lease without renewing it; left to the next run")
        if now - self.renewed >= LEASE_SECONDS / 4:
            if not self.store._renew_lease(self.shard, self.owner, now):
                raise GroupBusy("its lease was taken by another run; left to the next run")
            self.renewed = now


Places = frozenset[tuple[str, int]]  # the (day key, shard) places of an execution's copies


def places_text(places: Places) -> str:
    """A locator's places as backends store them: ``2024-01-09#3 2024-01-10#3``."""
    return " ".join(f"{day}#{shard}" for day, shard in sorted(places))


def places_of(text: str) -> Places:
    return frozenset((day, int(shard)) for day, _, shard in (p.partition("#") for p in text.split()))


@dataclass(frozen=True)
class RecordItem:
    day: str
    shard: int
    tenant_id: str
    execution_id: str
    record: Mapping[str, Any]
    expires: int | None = None  # epoch seconds (the TTL attribute), when records are kept for a while only


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
    def of(cls, summary: Summary, sketch: bytes | None = None) -> StoredSummary:
        return cls(summary.tenant_id, summary.owner_id, summary.metric_type, summary.period, stored_figures(summary, sketch))

    def identity(self) -> tuple:
        return (*(self.figures[name] for name in IDENTITY_FIELDS), self.figures["sketch"])

    @classmethod
    def load(cls, tenant_id: str, owner_id: str, metric_type: str, period: Period, figures: Mapping[str, Any]) -> StoredSummary:
        """From what a backend read: absent figures are None, like in :func:`stored_figures`."""
        full = {name: figures.get(name) for name in NUMBER_FIELDS}
        full["sketch"] = figures.get("sketch") or b""
        return cls(tenant_id, owner_id, metric_type, period, full)

    @property
    def key(self) -> SummaryKey:
        return (self.tenant_id, self.owner_id, self.metric_type)

    def summary(self) -> Summary:
        f = self.figures
        s = Summary(
            self.tenant_id,
            self.owner_id,
            self.metric_type,
            self.period,
            durations=Distribution.restore(
                f["duration_count"] or 0, f["total_duration_ms"] or 0, f["min_duration_ms"], f["max_duration_ms"], f["sketch"]
            ),
        )
        for name in EVENT_COUNTERS:
            setattr(s, name, f[name] or 0)
        return s

    def to_dict(self) -> dict[str, Any]:
        return summary_row(self.tenant_id, self.owner_id, self.metric_type, self.period, self.figures)


def closed_places(places: Iterable[tuple[str, int]], now: datetime) -> list[tuple[date, str, int]]:
    """(day, zone, shard) of the places whose local day is over at ``now`` in its zone: written into, they need a marker."""
    out = set()
    for key, shard in places:
        day, zone = parse_day_key(key)
        if day < local_day(now, zone):
            out.add((day, zone, shard))
    return sorted(out)


class SummaryStore(ABC):
    """Where execution records, invalidations and summaries live."""

    def __init__(self, shards: int = DEFAULT_SHARDS, default_zone: str = DEFAULT_ZONE) -> None:
        if shards < 1:
            raise ValueError(f"shards must be at least 1, got {shards}")
        zone_info(default_zone)
        self.configured_shards = shards
        self.default_zone = default_zone  # the zone of tenants with none set
        self.retention_days = 0  # records' lifetime in days after their day; 0: forever
        self._zones: dict[str, str] | None = None  # tenant -> zone as stored, read once
        self._zones_read_at = 0.0
        self._shards: int | None = None  # as stored (settled)
        self._unsettled: int | None = None  # nothing stored yet: the configured count, for readers only
        # The retry time of the work under way (a run, a command, a flush), set by whoever starts it; None
        # outside any: then each request gets its own ``retry_seconds``, so no wait is spent over the store's life.
        self.patience: Patience | None = None
        self.retry_seconds: float = DEFAULT_RETRY_SECONDS
        self._closing = False
        # The workflow SDK's table, when summaries are also written there as its model's items
        # (rollwise.summaries.sdk.table.SdkSummaryTable; ROLLWISE_SDK_SUMMARIES_TABLE).
        self.sdk_table: Any = None

    def __getstate__(self) -> dict:
        """What another process needs (a worker of ``--workers``): the settings, never a connection."""
        return {
            "configured_shards": self.configured_shards,
            "_shards": self._shards,
            "_unsettled": self._unsettled,
            "patience": self.patience,
            "retry_seconds": self.retry_seconds,
            "_closing": False,
            "default_zone": self.default_zone,
            "retention_days": self.retention_days,
            "_zones": self._zones,
            "_zones_read_at": self._zones_read_at,
            "sdk_table": self.sdk_table,
        }

    def mirror_summaries(self, period: Period, current: list[StoredSummary], removed: list[SummaryKey]) -> None:
        """The period's summaries into the workflow SDK's table too, when one is set. Called before the store's
        own write: if it fails, the store still holds the old figures and the next run computes the period again."""
        if self.sdk_table is not None and (current or removed):
            self.sdk_table.patience = self.patience_now
            self.sdk_table.write(period, current, removed)

    def patience_now(self) -> Patience:
        """The patience of a request starting now: the work's under way, or a new one of ``retry_seconds``
        for a request outside any; the closing writes' within :meth:`closing`."""
        work = self.patience or Patience.for_seconds(self.retry_seconds)
        return work.closing() if self._closing else work

    @contextmanager
    def working(self, patience: Patience) -> Iterator[Patience]:
        """A piece of work with its own retry time (a producer's flush, a request): its requests share it,
        and what it spends is not taken from the work around it or from the next one."""
        before, self.patience = self.patience, patience
        try:
            yield patience
        finally:
            self.patience = before

    @contextmanager
    def closing(self) -> Iterator[None]:
        """Writes that put things in order after the work (markers of what is left, leases given back):
        retried on their own time, which is still there once the run's retry time is spent."""
        before, self._closing = self._closing, True
        try:
            yield
        finally:
            self._closing = before

    @property
    def shards(self) -> int:
        """The store's shard count, kept in the store itself so that every writer and the job
        read the same one (a mismatch would put records where the job never looks). Reading
        stores nothing: a store without a count is read with the configured one."""
        if self._shards is not None:
            return self._shards
        if self._unsettled is None:
            stored = self._read_shards()
            if stored is not None:
                self._shards = stored
                return stored
            self._unsettled = self.configured_shards
        return self._unsettled

    def settle_shards(self) -> int:
        """For writers and the job, before they place anything: the stored count, or the configured
        one stored if none is (the first process wins; every later one follows the store)."""
        if self._shards is None:
            self._shards = self._read_shards() or self._keep_shards(self.configured_shards)
            self._unsettled = None
        return self._shards

    @abstractmethod
    def _read_shards(self) -> int | None:
        """The shard count the store holds, or None."""

    @abstractmethod
    def _keep_shards(self, shards: int) -> int:
        """Store ``shards`` unless a count is already stored; return the stored count."""

    def shard_of(self, tenant_id: str) -> int:
        """A tenant's shard: all its records and summaries live in one, so a
        shard can be aggregated on its own, tenant-wide summaries included."""
        return zlib.crc32(tenant_id.encode()) % self.shards

    # -- tenants' zones --------------------------------------------------------
    def tenant_zones(self) -> dict[str, str]:
        """The zone of every tenant that has one set (one read, kept for this store object's life)."""
        if self._zones is None:
            self._zones = {tenant: zone for tenant, (zone, _) in self._read_zones().items()}
            self._zones_read_at = time.monotonic()
        return self._zones

    def zone_moves(self) -> dict[str, str]:
        """Tenants whose history is still being moved into their zone, with the zone it comes from."""
        return {tenant: moving_from for tenant, (_, moving_from) in self._read_zones().items() if moving_from}

    def forget_zones(self, older_than: float = 0.0) -> None:
        """Read the zones again on next use if read over ``older_than`` seconds ago: a long-lived writer
        (a warm Lambda) follows a zone change within that time."""
        if time.monotonic() - self._zones_read_at >= older_than:
            self._zones = None
            self._forget_settings()

    def _forget_settings(self) -> None:  # noqa: B027 - a hook: a backend that keeps nothing has nothing to drop
        """Drop what the backend keeps of the store's settings, to read them again (see :meth:`forget_zones`)."""

    def known_tenants(self) -> list[str]:
        """Tenants this store can name without a scan: those with a zone set (SQLite knows every one)."""
        return sorted(self.tenant_zones())

    def zone_of(self, tenant_id: str) -> str:
        return self.tenant_zones().get(tenant_id, self.default_zone)

    def zones(self) -> set[str]:
        """Every zone a tenant can be in: those set, and the default."""
        return {self.default_zone, *self.tenant_zones().values()}

    def set_zone(self, tenant_id: str, zone: str, moving_from: str | None = None) -> None:
        """Store ``tenant_id``'s zone (:class:`~rollwise.periods.UnknownZone` for a name not in the IANA database),
        and the zone its history is being moved from, until it is. Moving the history is
        :func:`rollwise.summaries.admin.zone_change.change_zone`."""
        zone_info(zone)
        self._put_zone(tenant_id, zone, moving_from)
        if self._zones is not None:
            self._zones[tenant_id] = zone

    @abstractmethod
    def _read_zones(self) -> dict[str, tuple[str, str | None]]:
        """Every tenant's stored zone, and the zone its history is being moved from (or None)."""

    @abstractmethod
    def _put_zone(self, tenant_id: str, zone: str, moving_from: str | None) -> None: ...

    def schedule(self) -> dict[str, date | None]:
        """Every zone a tenant is in, with the last local day aggregated in it (None: never)."""
        done = self._read_done()
        return {zone: done.get(zone) for zone in sorted(self.zones())}

    def mark_done(self, done: Mapping[str, date]) -> None:
        """Record each zone's last aggregated day (never moving one back)."""
        if done:
            self._put_done(done)

    def locator_expiry(self, places: Places) -> int | None:
        """A locator lives as long as its longest-lived copy."""
        found = [expires_at(day, self.retention_days) for day, _ in places]
        return max(found) if found and None not in found else None  # type: ignore[type-var]

    def enable_expiry(self) -> None:  # noqa: B027 - a hook: a backend without TTL expires records in expire_records
        """Have the backend delete records past their lifetime by itself, where it can (DynamoDB's TTL)."""

    def expire_records(self, now: datetime) -> int:
        """Delete the records past their lifetime, for a backend without TTL (DynamoDB's TTL does it there)."""
        return 0

    @abstractmethod
    def _read_done(self) -> dict[str, date]: ...

    @abstractmethod
    def _put_done(self, done: Mapping[str, date]) -> None: ...

    # -- write side ---------------------------------------------------------
    def put_records(self, records: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
        """Store normalized records, moving any earlier copy that is on a day the record no
        longer has an event on; mark every closed day written or left. Returns the copies written.

        A write costs a consistent read of each execution's locator, a write of it when
        the record's days change, and a delete of each copy it leaves.
        """
        self.settle_shards()
        now = now or utc_now()
        latest: dict[tuple[str, str], Mapping[str, Any]] = {}
        for r in records:
            latest[(r["tenant_id"], r["execution_id"])] = r  # written twice in one batch: the last state
        if not latest:
            return 0
        before = self._read_locators(list(latest))
        after = {}
        for key, r in latest.items():
            zone = self.zone_of(key[0])
            after[key] = frozenset((day_key(day, zone), self.shard_of(key[0])) for day in record_days(r, zone))
        grown = {key: before.get(key, frozenset()) | places for key, places in after.items() if not places <= before.get(key, frozenset())}
        if grown:
            self._put_locators(grown)  # first: no copy is ever where its locator does not point
        self._put_record_items(
            [
                RecordItem(day, shard, key[0], key[1], latest[key], expires_at(day, self.retention_days))
                for key, places in after.items()
                for day, shard in sorted(places)
            ]
        )
        stale = {key: before[key] - after[key] for key in latest if before.get(key, frozenset()) - after[key]}
        if stale:
            self._delete_record_items([(day, shard, key[0], key[1]) for key, places in stale.items() for day, shard in sorted(places)])
            self._put_locators({key: after[key] for key in stale})
        closed = closed_places((place for places in (*after.values(), *stale.values()) for place in places), now)
        if closed:
            # After the records, never before: a run that sees the marker must see the data.
            self._put_invalidations([Invalidation(day, shard, uuid.uuid4().hex, zone) for day, zone, shard in closed])
        return sum(len(places) for places in after.values())

    def forget_records(self, keys: Iterable[tuple[str, str]], now: datetime | None = None) -> int:
        """Delete every copy of these executions' records (by tenant and execution id) and mark the
        closed days they leave. Returns the copies deleted; an unknown execution is no error."""
        self.settle_shards()
        now = now or utc_now()
        found = self._read_locators(list(dict.fromkeys(keys)))
        if not found:
            return 0
        self._delete_record_items([(day, shard, key[0], key[1]) for key, places in found.items() for day, shard in sorted(places)])
        self._delete_locators(list(found))  # after the copies: a locator always covers every copy
        closed = closed_places((place for places in found.values() for place in places), now)
        if closed:
            self._put_invalidations([Invalidation(day, shard, uuid.uuid4().hex, zone) for day, zone, shard in closed])
        return sum(len(places) for places in found.values())

    @abstractmethod
    def _read_locators(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Places]:
        """The (day, shard) places of the executions that have a locator (consistent read)."""

    @abstractmethod
    def _put_locators(self, locators: Mapping[tuple[str, str], Places]) -> None: ...

    @abstractmethod
    def _delete_locators(self, keys: list[tuple[str, str]]) -> None: ...

    @abstractmethod
    def _put_record_items(self, items: list[RecordItem]) -> None: ...

    @abstractmethod
    def _delete_record_items(self, keys: list[tuple[str, int, str, str]]) -> None:
        """Delete copies by (day, shard, tenant, execution id)."""

    @abstractmethod
    def _put_invalidations(self, markers: list[Invalidation]) -> None: ...

    # -- job side -----------------------------------------------------------
    def leave_for_next_run(self, periods: Iterable[Period], shard: int) -> None:
        """Mark periods a run did not get to (out of time): the next run recomputes each
        (a marker on a period's first day brings its day and every closed period containing it)."""
        days = sorted({(p.start, p.zone) for p in periods})
        if days:
            with self.closing():
                self._put_invalidations([Invalidation(day, shard, uuid.uuid4().hex, zone) for day, zone in days])

    @contextmanager
    def holding(self, shard: int) -> Iterator[Hold]:
        """Hold the shard's lease while computing its periods (:class:`GroupBusy` if another run has it).

        Taking, renewing and giving back are each safe to repeat (a retry of a request whose answer
        was lost): the run's own lease is its own, and a lease already given back is given back.
        A lease that cannot be given back expires after LEASE_SECONDS."""
        hold = Hold(self, shard, uuid.uuid4().hex)
        if not self._acquire_lease(shard, hold.owner, hold.renewed):
            raise GroupBusy("being computed by another run; left to the next run")
        try:
            yield hold
        finally:
            try:
                with self.closing():
                    self._release_lease(shard, hold.owner)
            except StoreError as exc:
                log.warning("lease not given back: it expires by itself", extra={"shard": shard, "seconds": LEASE_SECONDS, "error": str(exc)})

    @abstractmethod
    def _acquire_lease(self, shard: int, owner: str, now: float) -> bool:
        """Take the shard's lease until ``now + LEASE_SECONDS`` if nobody else holds an unexpired one
        (one conditional write; ``owner`` holding it already is success)."""

    @abstractmethod
    def _renew_lease(self, shard: int, owner: str, now: float) -> bool:
        """Extend the lease to ``now + LEASE_SECONDS`` if it is still ``owner``'s."""

    @abstractmethod
    def _release_lease(self, shard: int, owner: str) -> None:
        """Give the lease back, only if it is still ``owner``'s."""

    @abstractmethod
    def read_records(self, day: date, shard: int, zone: str = UTC_ZONE) -> Iterator[Mapping[str, Any]]:
        """Every stored record of ``shard`` with an event on the local ``day`` of ``zone``."""

    @abstractmethod
    def read_tenant_records(self, tenant_id: str, day: date, zone: str) -> Iterator[Mapping[str, Any]]:
        """The stored records of one tenant with an event on the local ``day`` of ``zone`` (one range read)."""

    def every_record(self) -> Iterator[Mapping[str, Any]]:
        """Every stored record once (its copy on its first event day), whatever the day or shard: for
        moving a store's records into another (resharding). On DynamoDB this is a Scan: never used by a run."""
        for key, record in self._record_copies():
            day, zone = parse_day_key(key)
            if day.isoformat() == min(record_days(record, zone)):
                yield record

    @abstractmethod
    def _record_copies(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """Every stored copy of every record, with its day key."""

    @abstractmethod
    def invalidations(self) -> list[Invalidation]: ...

    @abstractmethod
    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        """Delete markers whose token is unchanged; a marker rewritten since it
        was read stays for the next run."""

    @abstractmethod
    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]: ...

    @abstractmethod
    def summaries_within(self, kind: str, within: Period, shard: int) -> Iterator[StoredSummary]:
        """Every ``kind`` summary of the shard whose period starts inside ``within`` (a week's or a
        month's days, a year's months), streamed: a longer period merges them in a few reads, not one per part."""

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
