"""Records kept for a while only: a TTL attribute on DynamoDB, a delete on SQLite, and days below the
retention floor never recomputed (their summaries stay as they are)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from typer.testing import CliRunner

from rollwise.periods import Period
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import backfill_plan, run, scheduled_plan
from rollwise.summaries.plan import BelowRetentionFloor
from rollwise.summaries.retention import floor
from support.summaries import stored_local

UTC = UTC
RETENTION = 30


def execution(n: int, submitted: datetime, tenant: str = "t1") -> dict:
    return {
        "tenant_id": tenant,
        "owner_id": "o",
        "metric_type": "ocr",
        "execution_id": f"e-{n}",
        "status": "succeeded",
        "submitted_at": submitted.isoformat(),
        "completed_at": (submitted + timedelta(minutes=3)).isoformat(),
        "duration_ms": 180_000.0,
    }


def test_the_floor_is_a_day_inside_the_retention():
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert floor(now, "UTC", 0) is None
    # 2024-05-02's records expire at 2024-06-02T00:00Z; with a day of margin it is frozen from 2024-06-01T00:00Z
    assert floor(now, "UTC", RETENTION) == date(2024, 5, 3)
    assert floor(now, "Pacific/Kiritimati", RETENTION) == date(2024, 5, 4)  # already 2024-06-02 there


@pytest.mark.parametrize("backend", ["moto", "dynalite"])
def test_records_and_locators_carry_their_expiry_as_configured(backend, request, tmp_path):
    from rollwise.summaries.stores.dynamodb_layout import TTL_ATTRIBUTE, locator_key, record_key
    from support.stores import make_summary_store

    store = make_summary_store(backend, request, tmp_path)
    store.set_zone("t-kol", "Asia/Kolkata")
    store.retention_days = RETENTION
    submitted = datetime(2024, 3, 10, 20, tzinfo=UTC)  # 2024-03-11 in Kolkata
    with Recorder(store, now=submitted) as rec:
        rec.record(execution(1, submitted, "t-kol"))
    get = lambda key: store.client.get_item(TableName=store.table_name, Key=key)["Item"]  # noqa: E731
    item = get(record_key("2024-03-11@Asia/Kolkata", store.shard_of("t-kol"), "t-kol", "e-1"))
    day_end = Period("daily", date(2024, 3, 11), "Asia/Kolkata").ends_at  # 2024-03-11T18:30Z
    assert int(item[TTL_ATTRIBUTE]["N"]) == int((day_end + timedelta(days=RETENTION)).timestamp())
    assert int(get(locator_key("t-kol", "e-1"))[TTL_ATTRIBUTE]["N"]) == int(item[TTL_ATTRIBUTE]["N"])
    store.retention_days = 0
    with Recorder(store, now=submitted) as rec:  # kept forever: no attribute
        rec.record(execution(2, submitted, "t-kol"))
    assert TTL_ATTRIBUTE not in get(record_key("2024-03-11@Asia/Kolkata", store.shard_of("t-kol"), "t-kol", "e-2"))
    assert TTL_ATTRIBUTE not in get(locator_key("t-kol", "e-2"))


def test_init_turns_on_the_tables_ttl_when_records_expire(moto_server, monkeypatch):
    """moto answers UpdateTimeToLive as AWS does; dynalite does not implement it (the stack test covers the deploy)."""
    from rollwise.cli import app

    table = f"ttl-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("ROLLWISE_RECORD_RETENTION_DAYS", str(RETENTION))
    result = CliRunner().invoke(app, ["summaries", "init", "--store", f"dynamodb://{table}"])
    assert result.exit_code == 0, result.output
    from support.stores import dynamodb_client

    ttl = dynamodb_client(moto_server.url).describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires")


def test_sqlite_deletes_expired_records_in_the_run(tmp_path):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(tmp_path / "s.db", shards=2)
    store.create()
    store.retention_days = RETENTION
    with Recorder(store, now=datetime(2024, 1, 1, tzinfo=UTC)) as rec:
        rec.record(execution(1, datetime(2024, 1, 1, 10, tzinfo=UTC)))
        rec.record(execution(2, datetime(2024, 2, 20, 10, tzinfo=UTC)))
    run(store, scheduled_plan(store, datetime(2024, 3, 1, 2, tzinfo=UTC)))
    shard = store.shard_of("t1")
    assert list(store.read_records(date(2024, 1, 1), shard)) == []  # past 30 days: gone
    assert [r["execution_id"] for r in store.read_records(date(2024, 2, 20), shard)] == ["e-2"]
    assert set(store._read_locators([("t1", "e-1"), ("t1", "e-2")])) == {("t1", "e-2")}


def test_below_the_floor_nothing_is_recomputed(summary_store):
    """A backfill reaching below the floor is refused naming it; a late record on a frozen day leaves its
    summaries as they are, is reported, and its marker is cleared."""
    summary_store.retention_days = RETENTION
    old_day = datetime(2024, 1, 10, 9, tzinfo=UTC)
    with Recorder(summary_store, now=old_day) as rec:
        rec.record(execution(1, old_day))
    run(summary_store, scheduled_plan(summary_store, datetime(2024, 1, 11, 2, tzinfo=UTC)))
    before = stored_local(summary_store, ["t1"], "daily")
    assert before[("t1", "o", "ocr", "2024-01-10", "UTC")]["submission_count"] == 1

    later = datetime(2024, 3, 1, 12, tzinfo=UTC)  # the floor is 2024-02-01: 2024-01-31 expires within a day
    with pytest.raises(BelowRetentionFloor, match="below the retention floor 2024-02-01"):
        backfill_plan(summary_store, date(2024, 1, 1), date(2024, 2, 29), later)
    assert backfill_plan(summary_store, date(2024, 2, 1), date(2024, 2, 29), later).periods

    with Recorder(summary_store, now=later) as rec:  # a writer sending very old data
        rec.record(execution(2, old_day + timedelta(hours=1)))
    assert [m.day for m in summary_store.invalidations()] == [date(2024, 1, 10)]
    result = run(summary_store, scheduled_plan(summary_store, datetime(2024, 3, 2, 2, tzinfo=UTC)))
    assert result.expired_days == ["2024-01-10"] and result.errors == []
    assert "daily:2024-01-10" not in result.periods and result.body()["expired_days"] == ["2024-01-10"]
    assert result.metrics()["ExpiredDays"] == 1
    assert stored_local(summary_store, ["t1"], "daily")[("t1", "o", "ocr", "2024-01-10", "UTC")] == before[("t1", "o", "ocr", "2024-01-10", "UTC")]
    assert summary_store.invalidations() == []


def test_the_cli_refuses_a_backfill_below_the_floor_and_marks_frozen_periods(tmp_path, monkeypatch):
    from rollwise.cli import app

    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("ROLLWISE_RECORD_RETENTION_DAYS", "30")
    runner = CliRunner()
    assert runner.invoke(app, ["summaries", "init", "--store", url]).exit_code == 0
    (tmp_path / "r.jsonl").write_bytes(orjson.dumps(execution(1, datetime(2020, 1, 10, 9, tzinfo=UTC))) + b"\n")
    assert runner.invoke(app, ["summaries", "ingest", str(tmp_path / "r.jsonl"), "--store", url]).exit_code == 0
    assert runner.invoke(app, ["summaries", "run", "--at", "2020-01-11T02:00:00Z", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["summaries", "backfill", "2020-01-01", "2020-01-31", "--store", url])
    assert result.exit_code == 2 and "below the retention floor" in result.output and "Traceback" not in result.output
    shown = [
        orjson.loads(line)
        for line in runner.invoke(app, ["summaries", "show", "--tenant", "t1", "--period", "daily", "--store", url, "--json"]).output.splitlines()
    ]
    assert shown and all(row["frozen"] for row in shown)
    assert shown[0]["zone"] == "UTC" and shown[0]["starts_at"] == "2020-01-10T00:00:00Z"
