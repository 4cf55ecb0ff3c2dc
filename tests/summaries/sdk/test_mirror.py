"""Summaries written into the workflow SDK's table as its own ``WorkflowMetricsSummary`` items.

The executions are written by the SDK's own ``WorkflowService`` into its table on moto server, streamed into
rollwise through the ingest handler; the summaries are read back through the SDK's model and the indexes it
defines. The truth is computed here from the execution items the service wrote."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.handlers import ingest_stream
from rollwise.periods import Period
from rollwise.summaries.job import backfill_plan, run, scheduled_plan
from rollwise.summaries.sdk import layout as sdk
from rollwise.summaries.sdk.table import SdkSummaryTable, clean_up
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
from support.workflow_sdk import sdk_database, stream_events

UTC = UTC
OUTCOMES = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count"}


def quietly(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):  # the SDK prints banners
        return fn(*args, **kwargs)


def model():
    with contextlib.redirect_stdout(io.StringIO()):
        from geek_cafe_saas_sdk.modules.workflows.models.workflow_metrics_summary import WorkflowMetricsSummary
    return WorkflowMetricsSummary()


def create_sdk_table(client, name: str) -> str:
    """The SDK's table as its models need it: pk/sk, gsi1-gsi3 (every attribute projected), a stream."""
    names = ["pk", "sk"] + [f"gsi{i}_{k}" for i in (1, 2, 3) for k in ("pk", "sk")]
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": f"gsi{i}",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": f"gsi{i}_pk", "KeyType": "HASH"}, {"AttributeName": f"gsi{i}_sk", "KeyType": "RANGE"}],
            }
            for i in (1, 2, 3)
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return client.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def run_executions(db, table: str) -> None:
    """Two tenants, two owners each, two execution types: executions created, started and ended by the service."""
    with contextlib.redirect_stdout(io.StringIO()):
        from geek_cafe_saas_sdk.core.system_request_context import SystemRequestContext
        from geek_cafe_saas_sdk.modules.workflows.services.workflow_service import WorkflowService
    n = 0
    for tenant in ("tenant-a", "Tenant-B"):
        for owner in ("owner-1", "owner-2"):
            service = WorkflowService(
                dynamodb=db,
                table_name=table,
                record_history=False,
                request_context=SystemRequestContext(tenant_id=tenant, user_id=owner, source="test"),
            )
            for kind in ("ocr", "match"):
                for end in ("succeeded", "failed", "cancelled", "succeeded", "running"):
                    n += 1
                    created = quietly(service.create, name=f"job-{n}", execution_type=kind)
                    assert created.success, created.message
                    execution_id = created.data.id
                    if end == "cancelled":
                        assert quietly(service.cancel, execution_id).success
                        continue
                    assert quietly(service.start, execution_id).success
                    if end == "succeeded":
                        assert quietly(service.complete, execution_id).success
                    elif end == "failed":
                        assert quietly(service.fail, execution_id, error_message="boom").success


def after_today(today):
    """03:00 UTC tomorrow: today is closed then, whatever the hour the test runs at (now + 1 day, run just after
    midnight, is before today's close plus the job's delay)."""
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=3)


def truth(client, table: str) -> dict[tuple[str, str, str], Counter]:
    """Today's figures per (tenant, owner, type), tenant-wide rows included, from the execution items themselves."""
    out: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    items = [i for page in client.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    for item in items:
        if item["sk"]["S"] != "execution":
            continue
        tenant, owner, kind, status = (item[k]["S"] for k in ("tenant_id", "owner_id", "execution_type", "status"))
        for who in (owner, "__tenant__"):
            c = out[(tenant, who, kind)]
            c["submission_count"] += 1
            if status in OUTCOMES:
                c[OUTCOMES[status]] += 1
                if "duration_ms" in item:
                    c["total_duration_ms"] += int(item["duration_ms"]["N"])
    return out


@pytest.fixture
def setup(moto_server, monkeypatch):
    client = boto3.client("dynamodb", endpoint_url=moto_server.url, region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_server.url, region_name="us-east-1")
    source = f"workflows-{uuid.uuid4().hex[:8]}"
    arn = create_sdk_table(client, source)
    table = f"rollwise-{uuid.uuid4().hex[:8]}"
    for name, value in {"AWS_ENDPOINT_URL": moto_server.url, "DYNAMODB_TABLE_NAME": table}.items():
        monkeypatch.setenv(name, value)
    store = DynamoDBSummaryStore(table, shards=2, client=client)  # the mirror, not the shards, is under test
    store.create()
    store.sdk_table = SdkSummaryTable(source, client=client)
    return {"client": client, "source": source, "store": store, "events": lambda: stream_events(streams, arn), "db": sdk_database(moto_server.url)}


def plain(item: dict) -> dict:
    """An item as boto3's resource layer gives it, which is what the SDK's models map."""
    from boto3.dynamodb.types import TypeDeserializer

    return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}


def sdk_items(client, table: str) -> list[dict]:
    items = [i for page in client.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    return [i for i in items if i["pk"]["S"].startswith("execution_metrics_summary#")]


def test_summaries_read_back_through_the_sdks_model_and_its_indexes_equal_the_truth(setup):
    client, source, store = setup["client"], setup["source"], setup["store"]
    run_executions(setup["db"], source)
    assert all(ingest_stream.lambda_handler(e, None) == {"batchItemFailures": []} for e in setup["events"]())
    today = datetime.now(UTC).date()
    result = run(store, scheduled_plan(store, after_today(today)))
    assert not result.failures() and f"daily:{today}" in result.periods

    want = truth(client, source)
    period = Period("daily", today)
    start, end = int(period.starts_at.timestamp()), int(period.ends_at.timestamp())
    daily = [i for i in sdk_items(client, source) if i["period_type"]["S"] == "daily"]
    assert len(daily) == len(want) == 2 * 3 * 2  # per tenant: two owners and the tenant-wide row, two types
    stored = {s.key: s.figures for t in ("tenant-a", "Tenant-B") for s in store.query_summaries(t, "daily", today, today)}
    for item in daily:
        m = model()
        quietly(m.map, plain(item))
        key = (m.tenant_id, m.owner_id, m.metric_type)
        figures = want[key]
        assert (m.period_start_ts, m.period_end_ts) == (start, end)
        assert [m.submission_count, m.success_count, m.failure_count, m.cancelled_count, m.timeout_count] == [
            figures[k] for k in ("submission_count", "success_count", "failure_count", "cancelled_count", "timeout_count")
        ], key
        assert m.total_duration_ms == figures["total_duration_ms"], key
        ours = stored[key]
        assert (
            m.get_metric("p95_duration_ms") == pytest.approx(ours["p95_duration_ms"])
            and m.get_metric("duration_count") == figures["success_count"] + figures["failure_count"]
        )
        assert (m.min_duration_ms, m.max_duration_ms) == (round(ours["min_duration_ms"]), round(ours["max_duration_ms"]))
        # The item's keys are the ones the model builds from its own fields.
        built = quietly(m.to_resource_dictionary)
        assert {k: built[k] for k in ("pk", "sk", *sdk.INDEXES["gsi1"], *sdk.INDEXES["gsi2"], *sdk.INDEXES["gsi3"])} == {
            k: item[k]["S"] for k in ("pk", "sk", *sdk.INDEXES["gsi1"], *sdk.INDEXES["gsi2"], *sdk.INDEXES["gsi3"])
        }

    # Each index, queried with keys the model builds, finds exactly one item per owner, metric type and period.
    for tenant, owner, kind in want:
        probe = model()
        probe.tenant_id, probe.owner_id, probe.metric_type, probe.period_type, probe.period_start_ts = tenant, owner, kind, "daily", start
        keys = quietly(probe.to_resource_dictionary)
        found = {}
        for index in ("gsi1", "gsi2", "gsi3"):
            pk, sk = sdk.INDEXES[index]
            items = client.query(
                TableName=source,
                IndexName=index,
                KeyConditionExpression="#p = :p AND #s = :s",
                ExpressionAttributeNames={"#p": pk, "#s": sk},
                ExpressionAttributeValues={":p": {"S": keys[pk]}, ":s": {"S": keys[sk]}},
            )["Items"]
            found[index] = [i for i in items if (i["owner_id"]["S"], i["metric_type"]["S"]) == (owner, kind) and i["tenant_id"]["S"] == tenant]
        assert [len(found[i]) for i in ("gsi1", "gsi2", "gsi3")] == [1, 1, 1], (tenant, owner, kind)

    # A second run of the same day replaces the items: still exactly one per period.
    before = {i["pk"]["S"] for i in sdk_items(client, source)}
    again = run(store, backfill_plan(store, today, today, after_today(today)))
    assert not again.failures()
    after = sdk_items(client, source)
    assert {i["pk"]["S"] for i in after} == before and len(after) == len(before)
    assert (
        CliRunner()
        .invoke(app, ["summaries", "sdk-check", "--table", source, "--day", today.isoformat(), "--store", f"dynamodb://{store.table_name}"])
        .exit_code
        == 0
    )


def handler_items(tenant: str, owner: str, kind: str, start: datetime, runs: int) -> list[dict]:
    """Items as the SDK's own handler builds them (``_create_summary``): its model, a new random id each run,
    all-time counters; the keys the model's indexes give."""
    from boto3.dynamodb.types import TypeSerializer

    out = []
    for n in range(runs):
        m = model()
        m.tenant_id, m.owner_id, m.metric_type, m.period_type = tenant, owner, kind, "daily"
        m.period_start_ts, m.period_end_ts = start.timestamp(), (start + timedelta(days=1)).timestamp()
        m.submission_count = 100 + n  # the handler's all-time counters
        quietly(m.prep_for_save)
        item = quietly(m.to_resource_dictionary)
        out.append({k: TypeSerializer().serialize(v) for k, v in item.items() if v is not None})
    return out


def test_cleanup_removes_the_sdk_handlers_items_keeps_rollwises_and_every_other_model(setup):
    client, source, store = setup["client"], setup["source"], setup["store"]
    run_executions(setup["db"], source)  # executions, their tracking and metrics items: other models
    others = [i for page in client.get_paginator("scan").paginate(TableName=source) for i in page["Items"]]
    assert any(i["pk"]["S"].startswith("execution_metrics#") and i["sk"]["S"] == "metrics" for i in others)
    duplicates = handler_items("tenant-a", "owner-1", "ocr", datetime(2024, 3, 1, tzinfo=UTC), runs=3) + handler_items(
        "Tenant-B", "__tenant__", "match", datetime(2024, 3, 1, tzinfo=UTC), runs=2
    )
    for item in duplicates:
        client.put_item(TableName=source, Item=item)
    before = CliRunner().invoke(app, ["summaries", "sdk-cleanup", "--table", source, "--dry-run", "--json"])
    assert json.loads(before.output) == {"scanned": 5, "kept": 0, "removed": 5, "dry_run": True}, before.output
    for e in setup["events"]():
        ingest_stream.lambda_handler(e, None)
    today = datetime.now(UTC).date()
    run(store, backfill_plan(store, today, today, after_today(today)))
    ours = sdk_items(client, source)
    ours = [i for i in ours if sdk.written_by_rollwise(i)]
    assert len(ours) == 12 and not any(sdk.written_by_rollwise(i) for i in duplicates)

    runner = CliRunner()
    dry = runner.invoke(app, ["summaries", "sdk-cleanup", "--table", source, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {"scanned": 17, "kept": 12, "removed": 5, "dry_run": True}
    assert len(sdk_items(client, source)) == 17  # nothing removed by a dry run
    done = runner.invoke(app, ["summaries", "sdk-cleanup", "--table", source])
    assert done.exit_code == 0 and "removed 5 not written by rollwise; kept 12" in done.output, done.output
    left = [i for page in client.get_paginator("scan").paginate(TableName=source) for i in page["Items"]]
    assert {i["pk"]["S"] for i in sdk_items(client, source)} == {i["pk"]["S"] for i in ours}
    assert {(i["pk"]["S"], i["sk"]["S"]) for i in others} <= {(i["pk"]["S"], i["sk"]["S"]) for i in left}  # every other model's item
    assert clean_up(store.sdk_table).removed == 0  # again: nothing more


def test_a_summary_removed_by_rollwise_is_removed_from_the_sdk_table_too(setup):
    client, source, store = setup["client"], setup["source"], setup["store"]
    from rollwise.summaries.ingest.recorder import Recorder

    day = datetime(2024, 3, 1, 12, tzinfo=UTC)
    with Recorder(store, now=day) as rec:
        for n, kind in enumerate(("ocr", "match")):
            rec.record(
                {
                    "tenant_id": "t",
                    "owner_id": "o",
                    "metric_type": kind,
                    "execution_id": f"e{n}",
                    "status": "succeeded",
                    "submitted_at": "2024-03-01T10:00:00Z",
                    "completed_at": "2024-03-01T10:00:05Z",
                }
            )
    run(store, backfill_plan(store, day.date(), day.date(), day + timedelta(days=1)))
    assert sorted((i["owner_id"]["S"], i["metric_type"]["S"]) for i in sdk_items(client, source) if i["period_type"]["S"] == "daily") == [
        ("__tenant__", "match"),
        ("__tenant__", "ocr"),
        ("o", "match"),
        ("o", "ocr"),
    ]
    store.forget_records([("t", "e1")], now=day)  # the match execution is gone
    run(store, backfill_plan(store, day.date(), day.date(), day + timedelta(days=1)))
    assert sorted((i["owner_id"]["S"], i["metric_type"]["S"]) for i in sdk_items(client, source) if i["period_type"]["S"] == "daily") == [
        ("__tenant__", "ocr"),
        ("o", "ocr"),
    ]


def test_a_tenants_new_zone_replaces_its_items_with_the_local_periods_instants(setup):
    client, source, store = setup["client"], setup["source"], setup["store"]
    from rollwise.summaries.admin.zone_change import change_zone
    from rollwise.summaries.ingest.recorder import Recorder

    day = datetime(2024, 3, 1, 12, tzinfo=UTC)
    with Recorder(store, now=day) as rec:
        rec.record(
            {
                "tenant_id": "t",
                "owner_id": "o",
                "metric_type": "ocr",
                "execution_id": "e",
                "status": "succeeded",
                "submitted_at": "2024-03-01T10:00:00Z",
                "completed_at": "2024-03-01T10:00:05Z",
            }
        )
    run(store, backfill_plan(store, day.date(), day.date(), day + timedelta(days=1)))
    utc_start = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    assert {int(i["period_start_ts"]["N"]) for i in sdk_items(client, source) if i["period_type"]["S"] == "daily"} == {utc_start}

    change = change_zone(store, "t", "Asia/Kolkata", datetime(2024, 3, 5, tzinfo=UTC), delay_hours=2)
    assert change.summaries_removed > 0
    daily = [i for i in sdk_items(client, source) if i["period_type"]["S"] == "daily"]
    kolkata = Period("daily", day.date(), "Asia/Kolkata")
    assert {int(i["period_start_ts"]["N"]) for i in daily} == {int(kolkata.starts_at.timestamp())} == {utc_start - 5 * 3600 - 1800}
    assert {int(i["period_end_ts"]["N"]) for i in daily} == {int(kolkata.ends_at.timestamp())}
    assert len(daily) == 2 and all(sdk.written_by_rollwise(i) for i in daily)  # the owner's and the tenant-wide item, no old ones
