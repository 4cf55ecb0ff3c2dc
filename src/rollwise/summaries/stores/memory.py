"""In memory: the smallest backend, for tests and for trying the library. Its items live in dicts of one
process; every policy (zones, record moves, markers, leases) is the base class's, as on SQLite and DynamoDB."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import orjson

from rollwise.periods import UTC_ZONE, Period, day_key, parse_day_key, period_containing
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.store import SummaryStore
from rollwise.summaries.stored_items import Places, RecordItem, StoredSummary
from rollwise.summaries.tenant_zones import DEFAULT_SHARDS

Where = tuple[str, int]  # (day key, shard)


class MemorySummaryStore(SummaryStore):
    def __init__(self, shards: int = DEFAULT_SHARDS) -> None:
        super().__init__(shards)
        self._lock = threading.Lock()  # conditional puts are atomic, as a table's are
        self._settings: dict[str, int] = {}
        self._zone_items: dict[str, tuple[str, str | None]] = {}
        self._done: dict[str, date] = {}
        self._locators: dict[tuple[str, str], Places] = {}
        self._records: dict[Where, dict[tuple[str, str], bytes]] = {}
        self._markers: dict[Where, str] = {}
        self._leases: dict[int, tuple[str, float]] = {}
        self._summaries: dict[tuple[str, date, str, int], dict[SummaryKey, StoredSummary]] = {}

    def create(self) -> bool:
        created, self._settings["made"] = "made" not in self._settings, 1
        return created

    def describe(self) -> str:
        return "memory"

    def _read_shards(self) -> int | None:
        return self._settings.get("shards")

    def _keep_shards(self, shards: int) -> int:
        with self._lock:
            return self._settings.setdefault("shards", shards)

    def _read_zones(self) -> dict[str, tuple[str, str | None]]:
        return dict(self._zone_items)

    def _put_zone(self, tenant_id: str, zone: str, moving_from: str | None) -> None:
        self._zone_items[tenant_id] = (zone, moving_from)

    def _read_done(self) -> dict[str, date]:
        return dict(self._done)

    def _put_done(self, done: Mapping[str, date]) -> None:
        with self._lock:
            for zone, day in done.items():
                self._done[zone] = max(day, self._done.get(zone, day))

    def _read_locators(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Places]:
        return {key: self._locators[key] for key in keys if key in self._locators}

    def _put_locators(self, locators: Mapping[tuple[str, str], Places]) -> None:
        self._locators.update(locators)

    def _delete_locators(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            self._locators.pop(key, None)

    def _put_record_items(self, items: list[RecordItem]) -> None:
        for i in items:  # kept as bytes, as a table keeps them: a caller's later change to a dict is not the store's
            self._records.setdefault((i.day, i.shard), {})[(i.tenant_id, i.execution_id)] = orjson.dumps(i.record)

    def _delete_record_items(self, keys: list[tuple[str, int, str, str]]) -> None:
        for day, shard, tenant, execution in keys:
            self._records.get((day, shard), {}).pop((tenant, execution), None)

    def read_records(self, day: date, shard: int, zone: str = UTC_ZONE) -> Iterator[Mapping[str, Any]]:
        found = self._records.get((day_key(day, zone), shard), {})
        return iter([orjson.loads(found[key]) for key in sorted(found)])

    def read_tenant_records(self, tenant_id: str, day: date, zone: str) -> Iterator[Mapping[str, Any]]:
        found = self._records.get((day_key(day, zone), self.shard_of(tenant_id)), {})
        return iter([orjson.loads(found[key]) for key in sorted(found) if key[0] == tenant_id])

    def _record_copies(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for (day, _), found in sorted(self._records.items()):
            yield from [(day, orjson.loads(found[key])) for key in sorted(found)]

    def _put_invalidations(self, markers: list[Invalidation]) -> None:
        self._markers.update({(day_key(m.day, m.zone), m.shard): m.token for m in markers})

    def invalidations(self) -> list[Invalidation]:
        found = [(parse_day_key(key), shard, token) for (key, shard), token in sorted(self._markers.items())]
        return [Invalidation(day, shard, token, zone) for (day, zone), shard, token in found]

    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        with self._lock:
            for m in markers:
                if self._markers.get(where := (day_key(m.day, m.zone), m.shard)) == m.token:
                    del self._markers[where]

    def _acquire_lease(self, shard: int, owner: str, now: float, until: float) -> bool:
        with self._lock:
            holder, expires = self._leases.get(shard, (owner, now - 1))
            if holder != owner and expires >= now:
                return False
            self._leases[shard] = (owner, until)
            return True

    def _renew_lease(self, shard: int, owner: str, until: float) -> bool:
        with self._lock:
            if self._leases.get(shard, ("", 0.0))[0] != owner:
                return False
            self._leases[shard] = (owner, until)
            return True

    def _release_lease(self, shard: int, owner: str) -> None:
        with self._lock:
            if self._leases.get(shard, ("", 0.0))[0] == owner:
                del self._leases[shard]

    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]:
        return dict(self._summaries.get((period.kind, period.start, period.zone, shard), {}))

    def summaries_within(self, kind: str, within: Period, shard: int) -> Iterator[StoredSummary]:
        for (k, start, zone, s), found in sorted(self._summaries.items()):
            if (k, zone, s) == (kind, within.zone, shard) and within.start <= start <= within.end:
                yield from [found[key] for key in sorted(found)]

    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None:
        found = self._summaries.setdefault((period.kind, period.start, period.zone, shard), {})
        found.update({s.key: s for s in puts})
        for key in deletes:
            found.pop(key, None)

    def query_summaries(self, tenant_id, period_type, since=None, until=None, owner_id=None, metric_type=None) -> Iterator[StoredSummary]:
        first = period_containing(period_type, since).start if since else None
        found = [
            s
            for (kind, start, _, _), summaries in self._summaries.items()
            if kind == period_type and (first is None or start >= first) and (until is None or start <= until)
            for s in summaries.values()
            if s.tenant_id == tenant_id and owner_id in (None, s.owner_id) and metric_type in (None, s.metric_type)
        ]
        return iter(sorted(found, key=lambda s: (s.period.start, s.owner_id, s.metric_type)))
