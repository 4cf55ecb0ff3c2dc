"""The SQLite store: a database made before zones existed opens, keeps its summaries, and takes zones."""

import sqlite3
from datetime import UTC, date, datetime

from rollwise.periods import Period
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

BEFORE_ZONES = """
CREATE TABLE execution_records (day TEXT NOT NULL, shard INTEGER NOT NULL, tenant_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    record BLOB NOT NULL, PRIMARY KEY (day, shard, tenant_id, execution_id)) WITHOUT ROWID;
CREATE TABLE record_locators (tenant_id TEXT NOT NULL, execution_id TEXT NOT NULL, places TEXT NOT NULL,
    PRIMARY KEY (tenant_id, execution_id)) WITHOUT ROWID;
CREATE TABLE invalidations (day TEXT NOT NULL, shard INTEGER NOT NULL, token TEXT NOT NULL, PRIMARY KEY (day, shard)) WITHOUT ROWID;
CREATE TABLE summaries (period_type TEXT NOT NULL, period_start TEXT NOT NULL, shard INTEGER NOT NULL,
    tenant_id TEXT NOT NULL, owner_id TEXT NOT NULL, metric_type TEXT NOT NULL, figures BLOB NOT NULL, sketch BLOB NOT NULL,
    PRIMARY KEY (period_type, period_start, shard, tenant_id, owner_id, metric_type)) WITHOUT ROWID;
CREATE TABLE store_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE shard_leases (shard INTEGER NOT NULL PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
INSERT INTO store_settings VALUES ('shards', '2');
INSERT INTO summaries VALUES ('daily', '2024-01-09', 1, 'acme', '__tenant__', 'ocr', '{"submission_count": 7}', x'');
"""


def test_a_database_made_before_zones_opens_with_its_summaries_in_utc(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(BEFORE_ZONES)
    store = SQLiteSummaryStore(path)
    (old,) = store.query_summaries("acme", "daily")
    assert old.period == Period("daily", date(2024, 1, 9), "UTC") and old.figures["submission_count"] == 7
    store.set_zone("kolkata-co", "Asia/Kolkata")
    with Recorder(store, now=datetime(2024, 1, 10, tzinfo=UTC)) as rec:
        rec.record(
            {
                "tenant_id": "kolkata-co",
                "owner_id": "o",
                "metric_type": "ocr",
                "execution_id": "e1",
                "status": "queued",
                "submitted_at": "2024-01-10T20:00:00Z",
            }
        )  # 2024-01-11 01:30 in Kolkata
    result = run(store, scheduled_plan(store, datetime(2024, 1, 11, 21, tzinfo=UTC)))
    assert result.periods == ["daily:2024-01-10", "daily:2024-01-11@Asia/Kolkata"] and result.summaries_created == 2
    assert {s.period.zone for s in store.query_summaries("kolkata-co", "daily")} == {"Asia/Kolkata"}
