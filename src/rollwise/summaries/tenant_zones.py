"""Tenants, their zones and shards: which shard a tenant lives in, which zone its days are local to, and the
last day aggregated in each zone. Kept in the store itself so that every writer and the job agree."""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from datetime import date

from rollwise.periods import zone_info
from rollwise.summaries.backend import SummaryBackend
from rollwise.summaries.settings import SummariesSettings

DEFAULT_SHARDS: int = SummariesSettings.shards  # the settings field's default
DEFAULT_ZONE: str = SummariesSettings.default_zone

# How long a long-lived reader or writer (a warm Lambda, `rollwise serve`) keeps the tenants' zones and each zone's
# last aggregated day before reading the settings again: a zone change reaches it within this time.
ZONES_MAX_AGE_SECONDS = 60


class TenantZones(SummaryBackend):
    """The shard count and the tenants' zones over a backend's settings items, read once and kept."""

    def __init__(self, shards: int = DEFAULT_SHARDS, default_zone: str = DEFAULT_ZONE) -> None:
        super().__init__()
        if shards < 1:
            raise ValueError(f"shards must be at least 1, got {shards}")
        zone_info(default_zone)
        self.configured_shards = shards
        self.default_zone = default_zone  # the zone of tenants with none set
        self._zones: dict[str, str] | None = None  # tenant -> zone as stored, read once
        self._zones_read_at = 0.0
        self._shards: int | None = None  # as stored (settled)
        self._unsettled: int | None = None  # nothing stored yet: the configured count, for readers only

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

    def shard_of(self, tenant_id: str) -> int:
        """A tenant's shard: all its records and summaries live in one, so a
        shard can be aggregated on its own, tenant-wide summaries included."""
        return zlib.crc32(tenant_id.encode()) % self.shards

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

    def schedule(self) -> dict[str, date | None]:
        """Every zone a tenant is in, with the last local day aggregated in it (None: never)."""
        done = self._read_done()
        return {zone: done.get(zone) for zone in sorted(self.zones())}

    def mark_done(self, done: Mapping[str, date]) -> None:
        """Record each zone's last aggregated day (never moving one back)."""
        if done:
            self._put_done(done)
