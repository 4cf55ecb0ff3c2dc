"""What a summaries backend does: item operations only. Reads and writes of records, locators, markers,
summaries and settings, conditional puts for leases, and queries; each backend (SQLite, DynamoDB, memory) fills
these hooks in one module. The policies above them (tenants' zones and the shard count, the record write
policy, leases, the SDK mirror) are written once, in modules named for them, and hold for every backend.

A backend's requests are retried for the time of the work under way (:attr:`SummaryBackend.patience`), never
for a time counted over the object's life.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from rollwise.periods import UTC_ZONE, Period
from rollwise.retry import Patience
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.settings import SummariesSettings
from rollwise.summaries.stored_items import Places, RecordItem, StoredSummary

DEFAULT_RETRY_SECONDS: int = SummariesSettings.retry_seconds


class SummaryBackend(ABC):
    """The item hooks every backend fills, and the retry time its requests take."""

    retention_days = 0  # records' lifetime in days after their day; 0: forever

    def __init__(self) -> None:
        # The retry time of the work under way (a run, a command, a flush), set by whoever starts it; None
        # outside any: then each request gets its own ``retry_seconds``, so no wait is spent over the store's life.
        self.patience: Patience | None = None
        self.retry_seconds: float = DEFAULT_RETRY_SECONDS
        self._closing = False

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

    @abstractmethod
    def create(self) -> bool:
        """Create the tables and indexes if missing; True when something was created."""

    def describe(self) -> str:
        return type(self).__name__

    # -- settings: the shard count, tenants' zones, each zone's last aggregated day ----------------------------
    @abstractmethod
    def _read_shards(self) -> int | None:
        """The shard count the store holds, or None."""

    @abstractmethod
    def _keep_shards(self, shards: int) -> int:
        """Store ``shards`` unless a count is already stored; return the stored count."""

    @abstractmethod
    def _read_zones(self) -> dict[str, tuple[str, str | None]]:
        """Every tenant's stored zone, and the zone its history is being moved from (or None)."""

    @abstractmethod
    def _put_zone(self, tenant_id: str, zone: str, moving_from: str | None) -> None: ...

    @abstractmethod
    def _read_done(self) -> dict[str, date]: ...

    @abstractmethod
    def _put_done(self, done: Mapping[str, date]) -> None:
        """Store each zone's last aggregated day, never moving one back."""

    def _forget_settings(self) -> None:  # noqa: B027 - a hook: a backend that keeps nothing has nothing to drop
        """Drop what the backend keeps of the store's settings, to read them again."""

    # -- records, their locators and the invalidation markers -------------------------------------------------
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
    def read_records(self, day: date, shard: int, zone: str = UTC_ZONE) -> Iterator[Mapping[str, Any]]:
        """Every stored record of ``shard`` with an event on the local ``day`` of ``zone``."""

    @abstractmethod
    def read_tenant_records(self, tenant_id: str, day: date, zone: str) -> Iterator[Mapping[str, Any]]:
        """The stored records of one tenant with an event on the local ``day`` of ``zone`` (one range read)."""

    @abstractmethod
    def _record_copies(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """Every stored copy of every record, with its day key."""

    def enable_expiry(self) -> None:  # noqa: B027 - a hook: a backend without TTL expires records in expire_records
        """Have the backend delete records past their lifetime by itself, where it can (DynamoDB's TTL)."""

    def expire_records(self, now: datetime) -> int:
        """Delete the records past their lifetime, for a backend without TTL (DynamoDB's TTL does it there)."""
        return 0

    @abstractmethod
    def _put_invalidations(self, markers: list[Invalidation]) -> None: ...

    @abstractmethod
    def invalidations(self) -> list[Invalidation]: ...

    @abstractmethod
    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        """Delete markers whose token is unchanged; a marker rewritten since it
        was read stays for the next run."""

    # -- leases: conditional puts ------------------------------------------------------------------------------
    @abstractmethod
    def _acquire_lease(self, shard: int, owner: str, now: float, until: float) -> bool:
        """Take the shard's lease until ``until`` if nobody else holds one unexpired at ``now``
        (one conditional write; ``owner`` holding it already is success)."""

    @abstractmethod
    def _renew_lease(self, shard: int, owner: str, until: float) -> bool:
        """Extend the lease to ``until`` if it is still ``owner``'s."""

    @abstractmethod
    def _release_lease(self, shard: int, owner: str) -> None:
        """Give the lease back, only if it is still ``owner``'s."""

    # -- summaries ---------------------------------------------------------------------------------------------
    @abstractmethod
    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]: ...

    @abstractmethod
    def summaries_within(self, kind: str, within: Period, shard: int) -> Iterator[StoredSummary]:
        """Every ``kind`` summary of the shard whose period starts inside ``within`` (a week's or a
        month's days, a year's months), streamed: a longer period merges them in a few reads, not one per part."""

    @abstractmethod
    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None: ...

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
