"""The ``rollwise`` commands end to end: summaries on SQLite and DynamoDB (moto server), runs on a folder and S3."""

import json
import uuid
from datetime import UTC, date

import orjson
import pytest
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.samples import sample_executions
from support.runs import keys, open_store, write_small_run

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


def ingest(rows, store_url, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", rows)
    return runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", store_url])


def test_ingest_keeps_good_lines_and_names_bad_ones(store_url, tmp_path):
    good = list(sample_executions(date(2024, 1, 8), 7, per_day=20, tenants=2, owners=2))
    rows = good[:50] + ["{not json", {"tenant_id": "t"}] + good[50:] + [{**good[0], "status": "exploded"}]
    result = ingest(rows, store_url, tmp_path)
    assert result.exit_code == 1
    assert f"stored {len(good)} record(s), rejected 3" in result.output
    assert "in.jsonl:51: invalid JSON" in result.output
    assert "in.jsonl:52: owner_id is required" in result.output
    assert f"in.jsonl:{len(rows)}: status must be one of" in result.output

    run = runner.invoke(app, ["summaries", "run", "--at", "2024-01-15T02:00:00Z", "--store", store_url, "--json"])
    assert run.exit_code == 0, run.output
    body = orjson.loads(run.output)
    assert body["errors"] == [] and "weekly:2024-01-08" in body["periods"]

    shown = runner.invoke(
        app, ["summaries", "show", "--tenant", "tenant-000", "--period", "weekly", "--owner", "__tenant__", "--json", "--store", store_url]
    )
    assert shown.exit_code == 0, shown.output
    lines = [orjson.loads(line) for line in shown.output.splitlines()]
    assert lines and {line["metric_type"] for line in lines} <= {"profile_enrichment", "document_ocr", "lead_scoring"}
    expected_fields = {
        "tenant_id",
        "owner_id",
        "metric_type",
        "period_type",
        "period_start",
        "period_end",
        "submission_count",
        "success_count",
        "failure_count",
        "cancelled_count",
        "timeout_count",
        "total_profiles",
        "throttled_count",
        "rejected_count",
        "duration_count",
        "total_duration_ms",
        "min_duration_ms",
        "max_duration_ms",
        "avg_duration_ms",
        "p50_duration_ms",
        "p90_duration_ms",
        "p95_duration_ms",
        "p99_duration_ms",
        "zone",
        "starts_at",
        "ends_at",
        "frozen",
    }
    assert set(lines[0]) == expected_fields
    assert lines[0]["period_start"] == "2024-01-08" and lines[0]["period_end"] == "2024-01-14"
    assert (lines[0]["zone"], lines[0]["starts_at"], lines[0]["ends_at"], lines[0]["frozen"]) == (
        "UTC",
        "2024-01-08T00:00:00Z",
        "2024-01-15T00:00:00Z",
        False,
    )
    tenant0 = [g for g in good if g["tenant_id"] == "tenant-000"]
    assert sum(line["submission_count"] for line in lines) == len(tenant0)

    table = runner.invoke(
        app,
        ["summaries", "show", "--tenant", "tenant-000", "--period", "daily", "--since", "2024-01-10", "--until", "2024-01-10", "--store", store_url],
    )
    assert table.exit_code == 0 and "2024-01-10" in table.output and "2024-01-11" not in table.output


def test_backfill_dry_run_writes_nothing(store_url, tmp_path):
    records = list(sample_executions(date(2024, 1, 8), 3, per_day=10))
    write_jsonl(tmp_path / "in.jsonl", records)
    assert runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", store_url]).exit_code == 0
    dry = runner.invoke(app, ["summaries", "backfill", "2024-01-08", "2024-01-10", "--dry-run", "--at", "2024-02-01T02:00:00Z", "--store", store_url])
    assert dry.exit_code == 0
    assert "daily:2024-01-08" in dry.output and "weekly:2024-01-08" in dry.output and "monthly:2024-01-01" in dry.output
    shown = runner.invoke(app, ["summaries", "show", "--tenant", "tenant-000", "--period", "daily", "--json", "--store", store_url])
    assert shown.output.strip() == ""
    real = runner.invoke(app, ["summaries", "backfill", "2024-01-08", "2024-01-10", "--at", "2024-02-01T02:00:00Z", "--json", "--store", store_url])
    assert real.exit_code == 0 and orjson.loads(real.output)["summaries_created"] > 0
    shown = runner.invoke(
        app, ["summaries", "show", "--tenant", "tenant-000", "--period", "monthly", "--owner", "__tenant__", "--json", "--store", store_url]
    )
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


@pytest.mark.parametrize(
    "args,message,code",
    [
        (["runs", "show"], "give either a WINDOW stamp or --date", 2),
        (["runs", "show", "20240115t1305Z"], "no aggregate runs/20240115t1305Z.json", 1),
        (["runs", "show", "noon"], "'noon' is not a window stamp like 20240115t1305Z", 2),
        (["runs", "merge", "--archive-mode", "zip"], "--archive-mode must be one of move, bundle, got 'zip'", 2),
    ],
)
def test_bad_runs_arguments_are_named(args, message, code, tmp_path):
    (tmp_path / "bucket").mkdir()
    result = runner.invoke(app, args + ["--bucket", f"file://{tmp_path / 'bucket'}"])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_an_unsupported_bucket_url():
    result = runner.invoke(app, ["runs", "merge", "--bucket", "ftp://x"])
    assert result.exit_code == 2 and "object store URL 'ftp://x' is not supported" in result.output


def test_out_of_range_numbers_are_rejected_by_line_and_their_batch_is_stored(store_url, tmp_path):
    good = list(sample_executions(date(2024, 1, 8), 2, per_day=10, tenants=2, owners=2))
    rows = (
        good[:5]
        + [{**good[0], "execution_id": "huge-duration", "duration_ms": 1e20}, {**good[1], "execution_id": "huge-profiles", "profiles": 2**63}]
        + good[5:]
    )
    result = ingest(rows, store_url, tmp_path)
    assert result.exit_code == 1
    assert f"stored {len(good)} record(s), rejected 2" in result.output
    assert "in.jsonl:6: duration_ms must be from 0 to 100,000,000,000 ms, got 1e+20" in result.output
    assert "in.jsonl:7: profiles must be a whole number from 0 to 1,000,000,000, got 9223372036854775808" in result.output
    run = runner.invoke(app, ["summaries", "run", "--at", "2024-01-10T02:00:00Z", "--store", store_url, "--json"])
    assert run.exit_code == 0 and orjson.loads(run.output)["errors"] == []


def all_commands():
    import typer.main

    root = typer.main.get_command(app)

    def walk(cmd, path):
        yield path
        # a group has subcommands (typer vendors its own click: no isinstance on click's classes)
        for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
            yield from walk(sub, path + [name])

    return list(walk(root, []))


def test_the_help_walk_reaches_every_command():
    paths = all_commands()
    assert ["summaries", "reshard"] in paths and ["runs", "merge"] in paths and ["deploy", "invoke-backfill"] in paths
    assert len(paths) > 15  # every group and command, not only the root


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "rollwise")
def test_every_help_works(path):
    result = runner.invoke(app, path + ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "Traceback" not in result.output


def test_the_help_of_commands_that_take_urls_shows_them_verbatim():
    assert "s3://BUCKET[/PREFIX]" in runner.invoke(app, ["runs", "merge", "--help"]).output


def test_a_missing_table_names_itself_its_region_and_the_fix(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = runner.invoke(app, ["summaries", "run", "--store", "dynamodb://nope"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "table 'nope' not found in eu-west-1: create it with rollwise summaries init --store dynamodb://nope" in result.output


def test_a_missing_bucket_is_one_line(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    result = runner.invoke(app, ["runs", "merge", "--bucket", "s3://no-such-bucket-here", "--json"])
    assert result.exit_code == 1
    assert "bucket of s3://no-such-bucket-here does not exist" in result.output and "<?xml" not in result.output


def test_invoke_backfill_uses_the_configured_region(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = runner.invoke(app, ["deploy", "invoke-backfill", "2024-01-01", "2024-01-02", "--function", "rollwise-missing"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "arn:aws:lambda:eu-west-1:" in result.output


def test_init_on_a_new_sqlite_file_says_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["summaries", "init", "--store", url]).output.strip().endswith(": created, 8 shard(s)")
    assert runner.invoke(app, ["summaries", "init", "--store", url]).output.strip().endswith(": already exists, 8 shard(s)")


def test_read_only_commands_never_create_a_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = runner.invoke(app, ["summaries", "show", "--tenant", "t", "--period", "daily"])
    assert shown.exit_code == 1 and "no store at" in shown.output and "rollwise summaries init" in shown.output
    runs = runner.invoke(app, ["runs", "show", "--date", "2024-01-15"])
    assert runs.exit_code == 1 and "does not exist" in runs.output
    report = runner.invoke(app, ["report", "--date", "2024-01-15", "--out", str(tmp_path / "r.html")])
    assert report.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["summaries", "show", "--tenant", "t", "--period", "daily", "--since", "2024-02-01", "--until", "2024-01-01"],
            "--since 2024-02-01 is after --until 2024-01-01",
        ),
        (["report", "--since", "2024-02-01", "--until", "2024-01-01", "--out", "x.html"], "--since 2024-02-01 is after --until 2024-01-01"),
        (["summaries", "show", "--tenant", "t", "--period", "daily", "--since", "01/02/2024"], "--since must be a date like 2024-01-15"),
    ],
)
def test_ranges_and_dates_are_checked(args, message, tmp_path):
    result = runner.invoke(app, args + ["--store", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and message in result.output


def test_runs_show_takes_either_date_form_and_either_case_of_t(tmp_path):
    url = f"file://{tmp_path / 'bucket'}"
    write_small_run(url)
    assert runner.invoke(app, ["runs", "merge", "--bucket", url, "--at", "2024-01-15T13:20:00Z", "--quiet"]).exit_code == 0
    dashed = runner.invoke(app, ["runs", "show", "--date", "2024-01-15", "--bucket", url, "--json"]).output
    assert dashed == runner.invoke(app, ["runs", "show", "--date", "20240115", "--bucket", url, "--json"]).output and dashed.count("\n") == 2
    upper = runner.invoke(app, ["runs", "show", "20240115T1305Z", "--bucket", url, "--json"])
    assert upper.exit_code == 0 and orjson.loads(upper.output)["window_end"] == "2024-01-15T13:05:00Z"


def test_a_dry_run_prints_a_readable_plan(tmp_path):
    url = f"file://{tmp_path / 'bucket'}"
    write_small_run(url)
    out = runner.invoke(app, ["runs", "merge", "--bucket", url, "--at", "2024-01-15T13:20:00Z", "--dry-run"]).output
    assert out.splitlines() == [
        "would merge 2 window(s), 7 file(s), writing nothing:",
        "  runs/20240115t1305Z.json  4 file(s), new aggregate",
        "  runs/20240115t1310Z.json  3 file(s), new aggregate",
    ]


def test_the_summaries_table_shows_throttles_and_rejections(store_url, tmp_path):
    rows = [
        {
            "tenant_id": "acme",
            "owner_id": "u",
            "metric_type": "ocr",
            "execution_id": f"e{i}",
            "status": "queued",
            "submitted_at": "2024-01-09T10:00:00Z",
            "throttled": 2,
            "rejected": i == 0,
        }
        for i in range(3)
    ]
    write_jsonl(tmp_path / "in.jsonl", rows)
    assert runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", store_url]).exit_code == 0
    assert runner.invoke(app, ["summaries", "run", "--at", "2024-01-10T02:00:00Z", "--store", store_url]).exit_code == 0
    table = runner.invoke(app, ["summaries", "show", "--tenant", "acme", "--period", "daily", "--owner", "__tenant__", "--store", store_url]).output
    header = next(line for line in table.splitlines() if "submitted" in line)
    assert "throttled" in header and "rejected" in header
    row = next(line for line in table.splitlines() if "2024-01-09" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")][1] == "UTC"
    assert [c.strip() for c in row.strip("│ ").split("│")][4:11] == ["3", "0", "0", "0", "0", "6", "1"]


def test_a_store_error_while_listing_is_a_result_and_an_exit_code_not_a_traceback(gateway, monkeypatch):
    import boto3

    from support.gateway import Reply

    bucket = f"cli-cut-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=gateway.upstream.geturl(), region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    write_small_run(f"s3://{bucket}")
    gateway.decide = lambda r: Reply(200, cut_after=50) if r.method == "GET" and "list-type" in r.query else None
    result = runner.invoke(app, ["runs", "merge", "--bucket", f"s3://{bucket}", "--at", "2024-01-15T13:20:00Z", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    body = orjson.loads(result.output)
    assert [(f["key"], f["operation"]) for f in body["failed_operations"]] == [("runs/raw/", "list")]


def test_a_store_error_in_a_summaries_run_is_an_exit_code_not_a_traceback(gateway, monkeypatch):
    from support.gateway import Reply

    url = f"dynamodb://gw-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    assert runner.invoke(app, ["summaries", "init", "--store", url]).exit_code == 0
    denied = b'{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"not authorized to perform: dynamodb:Query"}'
    gateway.decide = lambda r: (
        Reply(400, denied, {"Content-Type": "application/x-amz-json-1.0"}) if r.header("x-amz-target").endswith("Query") else None
    )
    result = runner.invoke(app, ["summaries", "run", "--at", "2024-01-15T02:00:00Z", "--store", url, "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: Query on table '{url.removeprefix('dynamodb://')}' was denied: not authorized to perform: dynamodb:Query" in result.output


def test_ingest_with_a_mapping_reads_scan_output_stream_records_and_plain_items(tmp_path):
    """A mapping tried locally: ``aws dynamodb scan`` pages, stream records and plain items of the SDK's table."""
    from datetime import datetime, timedelta

    from boto3.dynamodb.types import TypeSerializer

    from rollwise.summaries.ingest.dynamodb_items import plain_value
    from support.workflow_sdk import Execution, coordination_item, workflow_item

    t0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
    done = [Execution(f"e{i}", "acme", "ann", "lambda", "succeeded", t0, t0, t0 + timedelta(seconds=2), 2000, 1) for i in range(3)]
    child = Execution("kid", "acme", "ann", "lambda", "succeeded", t0, t0, t0 + timedelta(seconds=1), 1000, root_id="e0")
    typed = [{k: TypeSerializer().serialize(v) for k, v in workflow_item(e).items()} for e in (*done, child)]
    lines = [
        json.dumps({"Items": typed[:2] + [typed[3]], "Count": 3}),
        json.dumps({"eventID": "1", "eventName": "MODIFY", "dynamodb": {"NewImage": typed[2], "SequenceNumber": "9"}}),
        json.dumps(plain_value(coordination_item("e0", "acme"))),
        json.dumps({**plain_value(workflow_item(done[0])), "id": "e9", "pk": "execution#e9", "root_id": "e9", "status": "paused"}),
        json.dumps({"eventID": "2", "eventName": "REMOVE", "dynamodb": {"OldImage": typed[1], "SequenceNumber": "10"}}),
    ]
    write_jsonl(tmp_path / "items.jsonl", lines)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    result = runner.invoke(app, ["summaries", "ingest", str(tmp_path / "items.jsonl"), "--mapping", "geek-cafe", "--store", url])
    assert result.exit_code == 1
    assert "stored 3 record(s), rejected 1, skipped 2 item(s) the mapping does not take, ignored 1 removal(s)" in result.output
    assert "items.jsonl:4: item pk='execution#e9': status 'paused'" in result.output

    forget = runner.invoke(
        app, ["summaries", "ingest", str(tmp_path / "items.jsonl"), "--mapping", "geek-cafe", "--store", url, "--on-remove", "forget"]
    )
    assert "forgot 1 execution(s)" in forget.output


def test_mapping_prints_a_checked_mapping_to_start_from(tmp_path):
    shown = runner.invoke(app, ["summaries", "mapping", "geek-cafe"])
    assert shown.exit_code == 0 and json.loads(shown.output)["fields"]["metric_type"] == "execution_type"
    (tmp_path / "m.json").write_text('{"fields": {"tenant_id": "t"}, "status": {"field": "s"}}')
    bad = runner.invoke(app, ["summaries", "mapping", str(tmp_path / "m.json")])
    assert bad.exit_code == 2 and "fields must say where owner_id" in bad.output


def test_import_reads_a_table_then_resumes_or_says_it_is_done(moto_server, monkeypatch, tmp_path):
    from support.stores import dynamodb_client
    from support.workflow_sdk import create_table, save_all, scenario, sdk_database

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    table = f"workflows-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_client(moto_server.url), table, stream=False)
    executions = scenario(date(2026, 5, 1), days=2, per_day=10, seed=3)
    save_all(sdk_database(moto_server.url), table, executions, stages=False)
    url, checkpoint = f"sqlite:///{tmp_path / 'i.db'}", tmp_path / "cp.json"
    args = ["summaries", "import", "--table", table, "--store", url, "--checkpoint", str(checkpoint), "--segments", "2", "--read-units", "1000"]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    roots = sum(e.is_root for e in executions)
    assert f"read {len(executions)} item(s): stored {roots} record(s), skipped {len(executions) - roots}, rejected 0" in first.output
    assert "already imported" in runner.invoke(app, args).output
    again = runner.invoke(app, args + ["--restart"])
    assert f"stored {roots} record(s)" in again.output

    missing = runner.invoke(app, ["summaries", "import", "--table", "nope", "--store", url, "--checkpoint", str(tmp_path / "n.json")])
    assert missing.exit_code == 1 and "table 'nope' not found in us-east-1" in missing.output


def test_shards_are_chosen_by_the_rule_kept_by_init_and_changed_by_a_reshard(tmp_path):
    rule = runner.invoke(app, ["summaries", "shards", "--executions-per-day", "10000000"])
    assert rule.exit_code == 0 and rule.output.startswith("8 shard(s) for 10,000,000 executions a day at 256 MB")
    assert rule.output.strip().endswith("one invocation per shard: deploy with the fan-out")
    small = orjson.loads(runner.invoke(app, ["summaries", "shards", "--executions-per-day", "50000", "--json"]).output)
    assert small["shards"] == 1 and small["fits"] is True and small["fanout"] is False

    old, new = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    init = runner.invoke(app, ["summaries", "init", "--store", old, "--shards", "2"])
    assert init.exit_code == 0 and init.output.strip().endswith("created, 2 shard(s)")
    again = runner.invoke(app, ["summaries", "init", "--store", old, "--shards", "4"])
    assert "already exists, 2 shard(s) (it holds 2, not 4: to change it, see summaries reshard)" in again.output
    lines = "\n".join(orjson.dumps(r).decode() for r in sample_executions(date(2024, 1, 8), 3, per_day=25))
    (tmp_path / "in.jsonl").write_text(lines + "\n")
    assert runner.invoke(app, ["summaries", "ingest", str(tmp_path / "in.jsonl"), "--store", old]).exit_code == 0
    moved = runner.invoke(app, ["summaries", "reshard", "--store", old, "--into", new, "--shards", "3", "--at", "2024-01-12T02:00:00Z", "--json"])
    assert moved.exit_code == 0, moved.output
    report = orjson.loads(moved.output)
    assert (report["source_shards"], report["target_shards"], report["records"]) == (2, 3, 75)
    assert (report["first_day"], report["backfill"]["errors"]) == ("2024-01-08", [])
    shown = runner.invoke(app, ["summaries", "init", "--store", new])
    assert "already exists, 3 shard(s)" in shown.output


def test_tenants_set_and_list_a_zone_and_refuse_an_unknown_one(store_url, tmp_path):
    rows = list(sample_executions(date(2024, 1, 8), 7, 30, tenants=2))
    assert ingest(rows, store_url, tmp_path).exit_code == 0
    assert (
        runner.invoke(
            app, ["summaries", "backfill", "2024-01-08", "2024-01-14", "--at", "2024-01-16T03:00:00Z", "--store", store_url, "--quiet"]
        ).exit_code
        == 0
    )
    bad = runner.invoke(app, ["tenants", "set", "tenant-000", "--zone", "Asia/Kolkatta", "--store", store_url])
    assert bad.exit_code == 2 and "--zone: unknown time zone 'Asia/Kolkatta'" in bad.output
    dry = runner.invoke(
        app, ["tenants", "set", "tenant-000", "--zone", "Asia/Kolkata", "--at", "2024-01-16T03:00:00Z", "--dry-run", "--json", "--store", store_url]
    )
    plan = orjson.loads(dry.output)
    moved = sum(1 for r in rows if r["tenant_id"] == "tenant-000")
    assert dry.exit_code == 0 and plan["records_moved"] == moved and "weekly:2024-01-08@Asia/Kolkata" in plan["periods"]
    listed = orjson.loads(runner.invoke(app, ["tenants", "list", "--json", "--store", store_url]).output)
    assert listed == {"default_zone": "UTC", "tenants": []}  # a dry run writes nothing
    done = runner.invoke(app, ["tenants", "set", "tenant-000", "--zone", "Asia/Kolkata", "--at", "2024-01-16T03:00:00Z", "--store", store_url])
    assert done.exit_code == 0 and f"moved tenant-000 from UTC to Asia/Kolkata: {moved} record(s)" in done.output, done.output
    listed = orjson.loads(runner.invoke(app, ["tenants", "list", "--json", "--store", store_url]).output)
    assert listed["tenants"] == [{"tenant_id": "tenant-000", "zone": "Asia/Kolkata"}]
    shown = [
        orjson.loads(line)
        for line in runner.invoke(
            app, ["summaries", "show", "--tenant", "tenant-000", "--period", "weekly", "--store", store_url, "--json"]
        ).output.splitlines()
    ]
    assert shown and {(r["zone"], r["starts_at"]) for r in shown} == {("Asia/Kolkata", "2024-01-07T18:30:00Z")}
    again = runner.invoke(app, ["tenants", "set", "tenant-000", "--zone", "Asia/Kolkata", "--store", store_url])
    assert again.exit_code == 0 and "already" in again.output
