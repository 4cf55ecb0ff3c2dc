"""The ``rollwise`` commands end to end: summaries on SQLite and DynamoDB (moto server), runs on a folder and S3."""

import json
import uuid
from datetime import date

import orjson
import pytest
from runs_helpers import keys, open_store, write_small_run
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.samples import sample_executions

runner = CliRunner()


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    moto = request.getfixturevalue("moto_server")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    url = f"dynamodb://cli-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(app, ["summaries", "init", "--store", url])
    assert result.exit_code == 0 and "created" in result.output
    assert "already exists" in runner.invoke(app, ["summaries", "init", "--store", url]).output
    return url


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def test_ingest_keeps_good_lines_and_names_bad_ones(store_url, tmp_path):
    good = list(sample_executions(date(2024, 1, 8), 7, per_day=20, tenants=2, owners=2))
    rows = good[:50] + ["{not json", {"tenant_id": "t"}] + good[50:] + [{**good[0], "status": "exploded"}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    result = runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", store_url])
    assert result.exit_code == 1
    assert f"stored {len(good)} record(s), rejected 3" in result.output
    assert "in.jsonl:51: invalid JSON" in result.output
    assert "in.jsonl:52: owner_id is required" in result.output
    assert f"in.jsonl:{len(rows)}: status must be one of" in result.output

    run = runner.invoke(app, ["summaries", "run", "--at", "2024-01-15T02:00:00Z", "--store", store_url, "--json"])
    assert run.exit_code == 0, run.output
    body = orjson.loads(run.output)
    assert body["errors"] == [] and "weekly:2024-01-08" in body["periods"]

    shown = runner.invoke(app, ["summaries", "show", "--tenant", "tenant-000", "--period", "weekly", "--owner", "__tenant__", "--json", "--store", store_url])
    assert shown.exit_code == 0, shown.output
    lines = [orjson.loads(line) for line in shown.output.splitlines()]
    assert lines and {line["metric_type"] for line in lines} <= {"profile_enrichment", "document_ocr", "lead_scoring"}
    expected_fields = {"tenant_id", "owner_id", "metric_type", "period_type", "period_start", "period_end", "submission_count",
                       "success_count", "failure_count", "cancelled_count", "timeout_count", "total_profiles", "throttled_count",
                       "rejected_count", "duration_count", "total_duration_ms", "min_duration_ms", "max_duration_ms",
                       "avg_duration_ms", "p50_duration_ms", "p90_duration_ms", "p95_duration_ms", "p99_duration_ms"}
    assert set(lines[0]) == expected_fields
    assert lines[0]["period_start"] == "2024-01-08" and lines[0]["period_end"] == "2024-01-14"
    tenant0 = [g for g in good if g["tenant_id"] == "tenant-000"]
    assert sum(line["submission_count"] for line in lines) == len(tenant0)

    table = runner.invoke(app, ["summaries", "show", "--tenant", "tenant-000", "--period", "daily", "--since", "2024-01-10", "--until", "2024-01-10", "--store", store_url])
    assert table.exit_code == 0 and "2024-01-10" in table.output and "2024-01-11" not in table.output


def test_backfill_dry_run_writes_nothing(store_url, tmp_path):
    records = list(sample_executions(date(2024, 1, 8), 3, per_day=10))
    write_jsonl(tmp_path / "in.jsonl", records)
    assert runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", store_url]).exit_code == 0
    dry = runner.invoke(app, ["summaries", "backfill", "2024-01-08", "2024-01-10", "--dry-run", "--at", "2024-02-01T00:00:00Z", "--store", store_url])
    assert dry.exit_code == 0
    assert "daily:2024-01-08" in dry.output and "weekly:2024-01-08" in dry.output and "monthly:2024-01-01" in dry.output
    shown = runner.invoke(app, ["summaries", "show", "--tenant", "tenant-000", "--period", "daily", "--json", "--store", store_url])
    assert shown.output.strip() == ""
    real = runner.invoke(app, ["summaries", "backfill", "2024-01-08", "2024-01-10", "--at", "2024-02-01T00:00:00Z", "--json", "--store", store_url])
    assert real.exit_code == 0 and orjson.loads(real.output)["summaries_created"] > 0
    shown = runner.invoke(app, ["summaries", "show", "--tenant", "tenant-000", "--period", "monthly", "--owner", "__tenant__",
                                "--json", "--store", store_url])
    month = [orjson.loads(line) for line in shown.output.splitlines()]
    assert {m["period_start"] for m in month} == {"2024-01-01"}
    assert sum(m["submission_count"] for m in month) == sum(r["tenant_id"] == "tenant-000" for r in records) > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["summaries", "show", "--tenant", "t", "--period", "hourly"], "--period must be one of"),
        (["summaries", "run", "--at", "2024-01-01T00:00"], "--at: '2024-01-01T00:00' has no time zone"),
        (["summaries", "backfill", "2024-02-01", "2024-01-01"], "is after END"),
        (["summaries", "run", "--store", "postgres://x"], "is not supported"),
    ],
)
def test_bad_arguments_are_named(args, message, tmp_path):
    result = runner.invoke(app, args + (["--store", f"sqlite:///{tmp_path}/x.db"] if "--store" not in args else []))
    assert result.exit_code == 2
    assert message in result.output


def test_merge_dry_run_then_merge_then_show(runs_url):
    good, bad = write_small_run(runs_url)
    dry = runner.invoke(app, ["runs", "merge", "--bucket", runs_url, "--at", "2024-01-15T13:20:00Z", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    planned = orjson.loads(dry.output)["dry_run"]
    assert [(p["aggregate"], p["files"]) for p in planned] == [("runs/20240115t1305Z.json", 4), ("runs/20240115t1310Z.json", 3)]
    assert set(keys(open_store(runs_url), "runs")) == good | bad

    done = runner.invoke(app, ["runs", "merge", "--bucket", runs_url, "--at", "2024-01-15T13:20:00Z", "--json", "--archive-mode", "bundle"])
    assert done.exit_code == 0, done.output
    body = orjson.loads(done.output)
    assert (body["files_processed"], body["files_quarantined"], body["files_archived"]) == (6, 1, 6)

    one = runner.invoke(app, ["runs", "show", "20240115t1305Z", "--bucket", runs_url, "--json"])
    assert one.exit_code == 0, one.output
    doc = orjson.loads(one.output)
    assert doc["stats"]["files"] == 3 and "merge_state" not in doc
    day = runner.invoke(app, ["runs", "show", "--date", "20240115", "--bucket", runs_url, "--json"])
    assert day.exit_code == 0, day.output
    assert [orjson.loads(line)["window_end"] for line in day.output.splitlines()] == ["2024-01-15T13:05:00Z", "2024-01-15T13:10:00Z"]
    table = runner.invoke(app, ["runs", "show", "--date", "20240115", "--bucket", runs_url])
    assert table.exit_code == 0, table.output
    assert "2024-01-15T13:10:00Z" in table.output and "X1 (0.99)" in table.output


@pytest.mark.parametrize("args,message,code", [
    (["runs", "show"], "give either a WINDOW stamp or --date", 2),
    (["runs", "show", "20240115t1305Z"], "no aggregate runs/20240115t1305Z.json", 1),
    (["runs", "show", "noon"], "'noon' is not a window stamp like 20240115t1305Z", 2),
    (["runs", "merge", "--archive-mode", "zip"], "--archive-mode must be one of move, bundle, got 'zip'", 2),
])
def test_bad_runs_arguments_are_named(args, message, code, tmp_path):
    (tmp_path / "bucket").mkdir()
    result = runner.invoke(app, args + ["--bucket", f"file://{tmp_path / 'bucket'}"])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_an_unsupported_bucket_url():
    result = runner.invoke(app, ["runs", "merge", "--bucket", "ftp://x"])
    assert result.exit_code == 2 and "object store URL 'ftp://x' is not supported" in result.output
