"""SQLite: the embedded default, so the job runs without an AWS account.

Days are stored as day keys (``2024-03-10``, ``2024-03-10@Asia/Kolkata``);
a summary carries its zone in a column, added to a database made before
zones existed when it is first opened.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from rollwise.periods import UTC_ZONE, Period, day_key, parse_day_key, period_containing
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.retention import expires_at
from rollwise.summaries.store import SummaryStore
from rollwise.summaries.stored_items import Places, RecordItem, StoredSummary, places_of, places_text
from rollwise.summaries.tenant_zones import DEFAULT_SHARDS

SCHEMA = """
CREATE TABLE IF NOT EXISTS execution_records (
    day TEXT NOT NULL, shard INTEGER NOT NULL, tenant_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (day, shard, tenant_id, execution_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_locators (
    tenant_id TEXT NOT NULL, execution_id TEXT NOT NULL, places TEXT NOT NULL,
    PRIMARY KEY (tenant_id, execution_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invalidations (
    day TEXT NOT NULL, shard INTEGER NOT NULL, token TEXT NOT NULL,
    PRIMARY KEY (day, shard)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS summaries (
    period_type TEXT NOT NULL, period_start TEXT NOT NULL, shard INTEGER NOT NULL,
    tenant_id TEXT NOT NULL, owner_id TEXT NOT NULL, metric_type TEXT NOT NULL,
    figures BLOB NOT NULL, sketch BLOB NOT NULL, zone TEXT NOT NULL DEFAULT 'UTC',
    PRIMARY KEY (period_type, period_start, shard, tenant_id, owner_id, metric_type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenant_zones (
    tenant_id TEXT NOT NULL PRIMARY KEY, zone TEXT NOT NULL, moving_from TEXT
);
CREATE TABLE IF NOT EXISTS zone_schedule (
    zone TEXT NOT NULL PRIMARY KEY, through TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS store_settings (
    name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shard_leases (
    shard INTEGER NOT NULL PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS summaries_by_tenant ON summaries (tenant_id, period_type, period_start);
CREATE INDEX IF NOT EXISTS summaries_by_owner ON summaries (tenant_id, period_type, owner_id, period_start);
CREATE INDEX IF NOT EXISTS summaries_by_metric ON summaries (tenant_id, period_type, metric_type, period_start);
"""


class SQLiteSummaryStore(SummaryStore):
    def __init__(self, path: str | Path, shards: int = DEFAULT_SHARDS) -> None:
        super().__init__(shards)
        self.path = str(path)
        self._local = threading.local()

    def exists(self) -> bool:
        return self.path == ":memory:" or Path(self.path).is_file()

    def __getstate__(self) -> dict:
        # A connection belongs to its process: another process opens its own.
        return {**super().__getstate__(), "path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            _upgrade(db)
            self._local.db = db
        return db

    def create(self) -> bool:
        db = self._db
        before = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        db.executescript(SCHEMA)
        return before == 0

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    def _read_shards(self) -> int | None:
        try:
            row = self._db.execute("SELECT value FROM store_settings WHERE name = 'shards'").fetchone()
        except sqlite3.OperationalError:  # a database made before the setting was kept: none stored
            return None
        return int(row[0]) if row else None

    def _keep_shards(self, shards: int) -> int:
        with self._db as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS store_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT OR IGNORE INTO store_settings VALUES ('shards', ?)", (str(shards),))
            return int(db.execute("SELECT value FROM store_settings WHERE name = 'shards'").fetchone()[0])

    def _read_locators(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Places]:
        db, out = self._db, {}
        for tenant, execution in keys:
            row = db.execute("SELECT places FROM record_locators WHERE tenant_id = ? AND execution_id = ?", (tenant, execution)).fetchone()
            if row:
                out[(tenant, execution)] = places_of(row[0])
        return out

    def _put_locators(self, locators) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO record_locators VALUES (?, ?, ?)", [(t, e, places_text(p)) for (t, e), p in locators.items()])

    def _delete_locators(self, keys: list[tuple[str, str]]) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany("DELETE FROM record_locators WHERE tenant_id = ? AND execution_id = ?", keys)

    def _delete_record_items(self, keys: list[tuple[str, int, str, str]]) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany("DELETE FROM execution_records WHERE day = ? AND shard = ? AND tenant_id = ? AND execution_id = ?", keys)

    def _put_record_items(self, items: list[RecordItem]) -> None:
        rows = [(i.day, i.shard, i.tenant_id, i.execution_id, orjson.dumps(i.record)) for i in items]
        with self._db as db:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO execution_records VALUES (?, ?, ?, ?, ?)", rows)

    def _put_invalidations(self, markers: list[Invalidation]) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR REPLACE INTO invalidations VALUES (?, ?, ?)",
                [(day_key(m.day, m.zone), m.shard, m.token) for m in markers],
            )

    def _read_zones(self) -> dict[str, tuple[str, str | None]]:
        try:
            return {t: (z, f) for t, z, f in self._db.execute("SELECT tenant_id, zone, moving_from FROM tenant_zones")}
        except sqlite3.OperationalError:  # no store yet
            return {}

    def _put_zone(self, tenant_id: str, zone: str, moving_from: str | None) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.execute("INSERT OR REPLACE INTO tenant_zones VALUES (?, ?, ?)", (tenant_id, zone, moving_from))

    def expire_records(self, now: datetime) -> int:
        """Delete every record copy past its lifetime, and the locators left with no copy that lives."""
        if not self.retention_days:
            return 0
        with self._db as db:
            db.execute("BEGIN IMMEDIATE")
            days = [d for (d,) in db.execute("SELECT DISTINCT day FROM execution_records")]
            gone = [d for d in days if (expiry := expires_at(d, self.retention_days)) is not None and expiry <= now.timestamp()]
            deleted = sum(db.execute("DELETE FROM execution_records WHERE day = ?", (d,)).rowcount for d in gone)
            stale = [
                (t, e)
                for t, e, places in db.execute("SELECT tenant_id, execution_id, places FROM record_locators")
                if (self.locator_expiry(places_of(places)) or float("inf")) <= now.timestamp()
            ]
            db.executemany("DELETE FROM record_locators WHERE tenant_id = ? AND execution_id = ?", stale)
        return deleted

    def known_tenants(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT tenant_id FROM summaries UNION SELECT tenant_id FROM tenant_zones")
        return sorted(t for (t,) in rows)

    def read_tenant_records(self, tenant_id: str, day: date, zone: str) -> Iterator[Mapping[str, Any]]:
        rows = self._db.execute(
            "SELECT record FROM execution_records WHERE day = ? AND shard = ? AND tenant_id = ? ORDER BY execution_id",
            (day_key(day, zone), self.shard_of(tenant_id), tenant_id),
        )
        for (blob,) in rows:
            yield orjson.loads(blob)

    def _read_done(self) -> dict[str, date]:
        try:
            return {zone: date.fromisoformat(through) for zone, through in self._db.execute("SELECT zone, through FROM zone_schedule")}
        except sqlite3.OperationalError:
            return {}

    def _put_done(self, done: Mapping[str, date]) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO zone_schedule VALUES (?, ?) ON CONFLICT (zone) DO UPDATE SET through = excluded.through"
                " WHERE zone_schedule.through < excluded.through",
                [(z, d.isoformat()) for z, d in done.items()],
            )

    def _acquire_lease(self, shard: int, owner: str, now: float, until: float) -> bool:
        with self._db as db:
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute(
                "INSERT INTO shard_leases VALUES (?, ?, ?) ON CONFLICT (shard)"
                " DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
                " WHERE shard_leases.expires_at < ? OR shard_leases.owner = excluded.owner",
                (shard, owner, until, now),
            )
            return cursor.rowcount == 1

    def _renew_lease(self, shard: int, owner: str, until: float) -> bool:
        with self._db as db:
            db.execute("BEGIN IMMEDIATE")
            return db.execute("UPDATE shard_leases SET expires_at = ? WHERE shard = ? AND owner = ?", (until, shard, owner)).rowcount == 1

    def _release_lease(self, shard: int, owner: str) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.execute("DELETE FROM shard_leases WHERE shard = ? AND owner = ?", (shard, owner))

    def _record_copies(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        loads = orjson.loads
        for day, blob in self._db.execute("SELECT day, record FROM execution_records ORDER BY day, shard, tenant_id, execution_id"):
            yield day, loads(blob)

    def read_records(self, day: date, shard: int, zone: str = UTC_ZONE) -> Iterator[Mapping[str, Any]]:
        cursor = self._db.execute(
            "SELECT record FROM execution_records WHERE day = ? AND shard = ? ORDER BY tenant_id, execution_id",
            (day_key(day, zone), shard),
        )
        loads = orjson.loads
        for (blob,) in cursor:
            yield loads(blob)

    def invalidations(self) -> list[Invalidation]:
        rows = self._db.execute("SELECT day, shard, token FROM invalidations ORDER BY day, shard").fetchall()
        return [_marker(d, s, t) for d, s, t in rows]

    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        with self._db as db:
            db.execute("BEGIN")
            db.executemany(
                "DELETE FROM invalidations WHERE day = ? AND shard = ? AND token = ?",
                [(day_key(m.day, m.zone), m.shard, m.token) for m in markers],
            )

    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]:
        rows = self._db.execute(
            "SELECT tenant_id, owner_id, metric_type, figures, sketch FROM summaries"
            " WHERE period_type = ? AND period_start = ? AND shard = ? AND zone = ?",
            (period.kind, period.start.isoformat(), shard, period.zone),
        )
        return {(t, o, m): _summary(t, o, m, period, f, sk) for t, o, m, f, sk in rows}

    def summaries_within(self, kind: str, within: Period, shard: int) -> Iterator[StoredSummary]:
        rows = self._db.execute(
            "SELECT period_start, tenant_id, owner_id, metric_type, figures, sketch FROM summaries"
            " WHERE period_type = ? AND period_start BETWEEN ? AND ? AND shard = ? AND zone = ?"
            " ORDER BY period_start, tenant_id, owner_id, metric_type",
            (kind, within.start.isoformat(), within.end.isoformat(), shard, within.zone),
        )
        for start, t, o, m, f, sk in rows:
            yield _summary(t, o, m, period_containing(kind, date.fromisoformat(start), within.zone), f, sk)

    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None:
        rows = []
        for s in puts:
            figures = {k: v for k, v in s.figures.items() if k != "sketch"}
            rows.append(
                (
                    period.kind,
                    period.start.isoformat(),
                    shard,
                    s.tenant_id,
                    s.owner_id,
                    s.metric_type,
                    orjson.dumps(figures),
                    s.figures["sketch"],
                    period.zone,
                )
            )
        with self._db as db:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR REPLACE INTO summaries (period_type, period_start, shard, tenant_id, owner_id, metric_type, figures,"
                " sketch, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(
                "DELETE FROM summaries WHERE period_type = ? AND period_start = ? AND shard = ?"
                " AND tenant_id = ? AND owner_id = ? AND metric_type = ? AND zone = ?",
                [(period.kind, period.start.isoformat(), shard, *k, period.zone) for k in deletes],
            )

    def query_summaries(self, tenant_id, period_type, since=None, until=None, owner_id=None, metric_type=None) -> Iterator[StoredSummary]:
        sql = ["SELECT period_start, owner_id, metric_type, figures, sketch, zone FROM summaries WHERE tenant_id = ? AND period_type = ?"]
        args: list[Any] = [tenant_id, period_type]
        if owner_id is not None:
            sql.append("AND owner_id = ?")
            args.append(owner_id)
        if metric_type is not None:
            sql.append("AND metric_type = ?")
            args.append(metric_type)
        if since is not None:
            sql.append("AND period_start >= ?")
            args.append(period_containing(period_type, since).start.isoformat())
        if until is not None:
            sql.append("AND period_start <= ?")
            args.append(until.isoformat())
        sql.append("ORDER BY period_start, owner_id, metric_type")
        for start, o, m, f, sk, zone in self._db.execute(" ".join(sql), args):
            yield _summary(tenant_id, o, m, period_containing(period_type, date.fromisoformat(start), zone), f, sk)


def _marker(key: str, shard: int, token: str) -> Invalidation:
    day, zone = parse_day_key(key)
    return Invalidation(day, shard, token, zone)


def _upgrade(db: sqlite3.Connection) -> None:
    """Bring a database made by an earlier version up to this schema (zones)."""
    columns = [row[1] for row in db.execute("PRAGMA table_info(summaries)")]
    if columns and "zone" not in columns:
        db.execute("ALTER TABLE summaries ADD COLUMN zone TEXT NOT NULL DEFAULT 'UTC'")
    if columns:
        db.execute("CREATE TABLE IF NOT EXISTS tenant_zones (tenant_id TEXT NOT NULL PRIMARY KEY, zone TEXT NOT NULL, moving_from TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS zone_schedule (zone TEXT NOT NULL PRIMARY KEY, through TEXT NOT NULL)")


def _summary(t: str, o: str, m: str, period: Period, figures: bytes, sketch: bytes) -> StoredSummary:
    stored = orjson.loads(figures)
    stored["sketch"] = sketch
    return StoredSummary.load(t, o, m, period, stored)
