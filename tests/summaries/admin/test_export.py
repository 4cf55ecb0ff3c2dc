"""Summaries exported for SQL: one file per period under hive partitions, read back with DuckDB."""

import csv
import io
from datetime import UTC, date, datetime

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from rollwise import objects
from rollwise.cli import app
from rollwise.periods import Period
from rollwise.samples import sample_executions
from rollwise.summaries.admin.export import COLUMNS, export_summaries, periods_overlapping
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import backfill_plan, run
from support.runs import open_store

AT = datetime(2024, 3, 1, tzinfo=UTC)


def summarized(store):
    recorder = Recorder(store, now=AT)
    for r in sample_executions(date(2024, 1, 8), 14, per_day=25, tenants=3, owners=2):
        recorder.record(r)
    recorder.flush()
    assert not run(store, backfill_plan(store, date(2024, 1, 8), date(2024, 1, 21), AT)).failures()
    return store


def test_periods_overlapping_a_range():
    found = periods_overlapping(date(2024, 1, 30), date(2024, 2, 1))
    assert [p.label() for p in found] == [
        "daily:2024-01-30",
        "daily:2024-01-31",
        "daily:2024-02-01",
        "weekly:2024-01-29",
        "monthly:2024-01-01",
        "monthly:2024-02-01",
        "yearly:2024-01-01",
    ]


@pytest.mark.shards(2)  # a period's file gathers its summaries from every shard
def test_every_summary_of_the_range_in_one_file_per_period_equal_to_the_store(summary_store, tmp_path):
    store = summarized(summary_store)
    target = open_store(f"file://{tmp_path / 'out'}")
    report = export_summaries(store, target, "summaries/", periods_overlapping(date(2024, 1, 8), date(2024, 1, 21)))
    assert len(report.written) == 14 + 2 + 1  # days, weeks, January; 2024 was not over: no yearly summary, no file
    assert "summaries/period_type=daily/period_start=2024-01-08/summaries.jsonl" in report.written
    expected = []
    for tenant in ("tenant-000", "tenant-001", "tenant-002"):
        for kind in ("daily", "weekly", "monthly", "yearly"):
            expected += [s.to_dict() for s in store.query_summaries(tenant, kind, date(2024, 1, 1), date(2024, 1, 31))]
    assert report.rows == len(expected) > 100
    rows = duckdb.sql(f"""
        SELECT period_type, CAST(period_start AS VARCHAR), tenant_id, sum(submission_count), sum(success_count), sum(total_profiles), count(*)
        FROM read_json('{tmp_path}/out/summaries/*/*/*.jsonl', hive_partitioning = true, format = 'newline_delimited')
        GROUP BY ALL ORDER BY ALL""").fetchall()
    totals: dict[tuple, list[int]] = {}
    for s in expected:
        t = totals.setdefault((s["period_type"], s["period_start"], s["tenant_id"]), [0, 0, 0, 0])
        t[0] += s["submission_count"]
        t[1] += s["success_count"]
        t[2] += s["total_profiles"]
        t[3] += 1
    assert [(k, list(v)) for *k, v in [(*r[:3], r[3:]) for r in rows]] == [(list(k), v) for k, v in sorted(totals.items())]


def test_csv_has_every_column_and_a_period_with_no_summaries_left_loses_its_file(tmp_path, request):
    from support.stores import make_summary_store

    store = summarized(make_summary_store("sqlite", request, tmp_path))
    target = open_store(f"file://{tmp_path / 'out'}")
    day = Period("daily", date(2024, 1, 9))
    export_summaries(store, target, "", [day], "csv")
    key = "period_type=daily/period_start=2024-01-09/summaries.csv"
    table = list(csv.DictReader(io.StringIO(objects.read(target, key).data.decode())))
    assert tuple(table[0]) == COLUMNS and len(table) == len(store.read_summaries(day, 0)) + sum(
        len(store.read_summaries(day, s)) for s in range(1, store.shards)
    )
    for shard in range(store.shards):
        gone = list(store.read_summaries(day, shard))
        store.write_summaries(day, shard, [], gone)
    again = export_summaries(store, target, "", [day], "csv")
    assert again.removed == [key] and objects.exists(target, key) is None


def test_the_export_command_writes_to_s3_with_yesterday_by_default(moto_server, monkeypatch, tmp_path):
    import boto3

    from rollwise.summaries.stores import open_summary_store

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1").create_bucket(Bucket="exports")
    db = f"sqlite:///{tmp_path / 's.db'}"
    summarized(open_summary_store(db, 8, create=True))
    runner = CliRunner()
    result = runner.invoke(app, ["summaries", "export", "--to", "s3://exports/rollwise", "--store", db, "--at", "2024-01-16T03:00:00Z", "-q"])
    assert result.exit_code == 0, result.output
    assert "2024-01-15..2024-01-15" in result.output and "in 3 file(s)" in result.output
    target = open_store("s3://exports")
    keys = sorted(m.key for m in objects.list_objects(target, "rollwise/"))
    assert keys == [
        f"rollwise/period_type={k}/period_start={d}/summaries.jsonl"
        for k, d in (("daily", "2024-01-15"), ("monthly", "2024-01-01"), ("weekly", "2024-01-15"))
    ]
    daily = [orjson.loads(line) for line in objects.read(target, keys[0]).data.splitlines()]
    assert {r["period_start"] for r in daily} == {"2024-01-15"} and sum(r["submission_count"] for r in daily if r["owner_id"] != "__tenant__") == 25
    bad = runner.invoke(app, ["summaries", "export", "--to", "s3://exports", "--store", db, "--format", "parquet"])
    assert bad.exit_code == 2 and "--format must be one of jsonl, csv" in bad.output
