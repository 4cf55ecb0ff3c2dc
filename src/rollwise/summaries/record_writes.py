"""The record write policy: where an execution's record is kept, how a record whose days changed moves, how
one is forgotten, and which closed days a write marks for the next run.

* execution records are kept once per local day of their tenant's zone they have an event on, under
  ``(day key, shard)`` (``2024-03-10`` in UTC, ``2024-03-10@Asia/Kolkata`` elsewhere), so a run reads one
  zone's day with a handful of key lookups whatever the history kept or the other zones hold;
* beside them, each execution's locator lists the ``(day, shard)`` places holding a copy, so a record written
  again with other days moves: its old copies are deleted (the locator grows before copies are written and
  shrinks after the stale ones are gone, so it always covers every copy);
* a write that lands in an already closed day (or leaves one) also writes an invalidation marker
  ``(day, shard, token)``, so the next run re-reads only what changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from rollwise.periods import Period, day_key, local_day, parse_day_key
from rollwise.summaries.model import Invalidation, record_days
from rollwise.summaries.retention import expires_at
from rollwise.summaries.stored_items import Places, RecordItem
from rollwise.summaries.tenant_zones import TenantZones
from rollwise.timestamps import utc_now


def closed_places(places: Iterable[tuple[str, int]], now: datetime) -> list[tuple[date, str, int]]:
    """(day, zone, shard) of the places whose local day is over at ``now`` in its zone: written into, they need a marker."""
    out = set()
    for key, shard in places:
        day, zone = parse_day_key(key)
        if day < local_day(now, zone):
            out.add((day, zone, shard))
    return sorted(out)


def markers(closed: Iterable[tuple[date, str, int]]) -> list[Invalidation]:
    """A new marker for each closed place: a fresh token, so a marker rewritten after a run read it survives its clear."""
    return [Invalidation(day, shard, uuid.uuid4().hex, zone) for day, zone, shard in closed]


class RecordWrites(TenantZones):
    """Writing, moving and forgetting records over a backend's record, locator and marker items."""

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
            self._put_invalidations(markers(closed))  # after the records, never before: a run that sees the marker must see the data
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
            self._put_invalidations(markers(closed))
        return sum(len(places) for places in found.values())

    def leave_for_next_run(self, periods: Iterable[Period], shard: int) -> None:
        """Mark periods a run did not get to (out of time): the next run recomputes each
        (a marker on a period's first day brings its day and every closed period containing it)."""
        days = sorted({(p.start, p.zone) for p in periods})
        if days:
            with self.closing():
                self._put_invalidations(markers((day, zone, shard) for day, zone in days))

    def locator_expiry(self, places: Places) -> int | None:
        """A locator lives as long as its longest-lived copy."""
        found = [expires_at(day, self.retention_days) for day, _ in places]
        return max(found) if found and None not in found else None  # type: ignore[type-var]

    def every_record(self) -> Iterator[Mapping[str, Any]]:
        """Every stored record once (its copy on its first event day), whatever the day or shard: for
        moving a store's records into another (resharding). On DynamoDB this is a Scan: never used by a run."""
        for key, record in self._record_copies():
            day, zone = parse_day_key(key)
            if day.isoformat() == min(record_days(record, zone)):
                yield record
