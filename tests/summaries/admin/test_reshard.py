"""Changing the shard count by moving to a new store: the same summaries, every record, writers following the new count."""

from datetime import UTC, date, datetime

import pytest

from rollwise.errors import ConfigError
from rollwise.summaries.admin.reshard import reshard
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import run, scheduled_plan
from support.summaries import dump, live_days, nightly


def wide_week(store, start):
    (row,) = [
        s.to_dict()
        for s in store.query_summaries("tenant-001", "weekly", since=start, until=start, owner_id="__tenant__", metric_type="document_ocr")
    ]
    return row


@pytest.mark.parametrize("kinds", [("sqlite", "sqlite"), ("moto", "dynalite")])
def test_a_reshard_gives_the_same_summaries_and_writers_follow_the_new_count(kinds, request, tmp_path):
    from support.stores import make_summary_store

    source = make_summary_store(kinds[0], request, tmp_path / "source", shards=2)
    target = make_summary_store(kinds[1], request, tmp_path / "target", shards=4)
    live_days(source, date(2024, 1, 25), 12, per_day=20)  # through Feb 5: days, the week of Jan 29, January
    executions = sorted((r["tenant_id"], r["execution_id"]) for r in source.every_record())
    assert len(executions) == len(set(executions)) == 12 * 20  # each record once, though stored on up to two days

    report = reshard(source, target, nightly(date(2024, 2, 5)))
    assert (report.source_shards, report.target_shards, report.records) == (2, 4, 240)
    assert report.backfill.errors == [] and report.backfill.summaries_created > 0
    assert target.shards == 4 and target._read_shards() == 4 and target.invalidations() == []
    assert sorted((r["tenant_id"], r["execution_id"]) for r in target.every_record()) == executions
    assert dump(target) == dump(source) != []

    # A writer still configured for the old count follows the store's, and the next run counts its record.
    before = wide_week(target, date(2024, 1, 29))
    writer = type(target).__new__(type(target))
    writer.__dict__.update(target.__dict__)
    writer.configured_shards, writer._shards, writer._unsettled = 2, None, None
    with Recorder(writer, now=datetime(2024, 2, 6, 12, tzinfo=UTC)) as rec:
        rec.record(
            {
                "tenant_id": "tenant-001",
                "owner_id": "user-000",
                "metric_type": "document_ocr",
                "execution_id": "late-1",
                "status": "queued",
                "submitted_at": "2024-01-30T10:00:00Z",
            }
        )
    after_run = run(target, scheduled_plan(target, nightly(date(2024, 2, 6))))
    assert after_run.errors == [] and "weekly:2024-01-29" in after_run.periods
    assert wide_week(target, date(2024, 1, 29))["submission_count"] == before["submission_count"] + 1


def test_a_store_holding_another_count_is_refused(request, tmp_path):
    from support.stores import make_summary_store

    source = make_summary_store("sqlite", request, tmp_path / "source", shards=4)
    target = make_summary_store("sqlite", request, tmp_path / "target", shards=2)
    assert target.settle_shards() == 2
    target.configured_shards = 16
    with pytest.raises(ConfigError, match="already holds 2 shards, not 16"):
        reshard(source, target, nightly(date(2024, 2, 5)))
    with pytest.raises(ConfigError, match="cannot be resharded into itself"):
        reshard(source, source, nightly(date(2024, 2, 5)))
