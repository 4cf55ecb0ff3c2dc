"""Stream ingest: the workflow SDK's table, its stream as Lambda delivers it, rollwise's summaries at the end.

The source table and rollwise's table are on moto server; the SDK writes the
items itself (:mod:`workflow_sdk`), the stream records are moto's, read with
the DynamoDB Streams API and cut into Lambda events.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from rollwise.handlers import ingest_stream
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
from rollwise.timestamps import utc_now
from support.workflow_sdk import (
    Execution,
    assert_true_summaries,
    coordination_item,
    create_table,
    expected,
    save_all,
    scenario,
    sdk_database,
    stream_events,
    summaries_of,
)


@pytest.fixture
def source(moto_server):
    """The SDK's table with its stream, and a function returning the stream's new records as Lambda events."""
    client = boto3.client("dynamodb", endpoint_url=moto_server.url, region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_server.url, region_name="us-east-1")
    name = f"workflows-{uuid.uuid4().hex[:8]}"
    arn = create_table(client, name)
    seen: set[str] = set()

    def new_events(batch_size: int = 100) -> list[dict]:
        events = []
        for event in stream_events(streams, arn, batch_size=10_000):
            fresh = [r for r in event["Records"] if r["eventID"] not in seen]
            seen.update(r["eventID"] for r in fresh)
            events += [{"Records": fresh[i : i + batch_size]} for i in range(0, len(fresh), batch_size)]
        return events

    return {"name": name, "client": client, "db": sdk_database(moto_server.url), "events": new_events}


@pytest.fixture
def store(moto_server, monkeypatch):
    table = f"rollwise-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("DYNAMODB_TABLE_NAME", table)
    monkeypatch.delenv("ROLLWISE_MAPPING", raising=False)
    monkeypatch.delenv("ROLLWISE_ON_REMOVE", raising=False)
    s = DynamoDBSummaryStore(table, shards=2)  # the stream, not the shards, is under test
    s.create()
    return s


def deliver(events) -> list[dict]:
    return [ingest_stream.lambda_handler(event, None) for event in events]


def test_sdk_items_streamed_through_the_handler_give_the_true_summaries(source, store):
    executions = scenario(date(2026, 3, 1), days=12, per_day=10)
    children = [e for e in executions if not e.is_root]
    assert children and any(e.status == "rejected" for e in executions) and any(e.throttled_at for e in executions)
    save_all(source["db"], source["name"], executions, [coordination_item(e.id, e.tenant) for e in executions[:5]])

    events = source["events"]()
    responses = deliver(events)

    assert all(r == {"batchItemFailures": []} for r in responses)
    result = run(store, scheduled_plan(store, utc_now()))
    assert not result.failures()
    last = max(e.completed or e.created for e in executions).date()
    assert_true_summaries(store, executions, last)


def test_a_change_of_day_moves_the_record_and_a_child_is_never_counted(source, store):
    first = Execution("exec-1", "tenant-0", "owner-0", "lambda", "pending", datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    child = Execution(
        "exec-2",
        "tenant-0",
        "owner-0",
        "lambda",
        "succeeded",
        first.created,
        first.created,
        first.created + timedelta(seconds=5),
        5000,
        1,
        root_id="exec-1",
    )
    save_all(source["db"], source["name"], [first, child], stages=False)
    deliver(source["events"]())
    corrected = Execution(
        "exec-1",
        "tenant-0",
        "owner-0",
        "lambda",
        "succeeded",
        datetime(2026, 3, 4, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 1, 0, 5, tzinfo=UTC),
        datetime(2026, 3, 4, 1, 1, 5, tzinfo=UTC),
        60000,
        2,
    )
    save_all(source["db"], source["name"], [corrected], stages=False)
    assert deliver(source["events"]()) == [{"batchItemFailures": []}]

    run(store, scheduled_plan(store, utc_now()))
    assert summaries_of(store, "daily") == expected([corrected, child], date(2026, 3, 31), "daily")
    assert [r["execution_id"] for r in store.read_records(date(2026, 3, 2), store.shard_of("tenant-0"))] == []


def sequence_numbers(event) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


def test_one_bad_record_is_reported_and_its_neighbours_are_stored(source, store):
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    good = [Execution(f"good-{i}", "tenant-1", "owner-1", "sqs", "queued_by_mistake" if i == 1 else "pending", day) for i in range(3)]
    save_all(source["db"], source["name"], good, stages=False)
    [event] = source["events"]()

    response = ingest_stream.lambda_handler(event, None)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[1]}]}
    stored = {r["execution_id"] for r in store.read_records(day.date(), store.shard_of("tenant-1"))}
    assert stored == {"good-0", "good-2"}


def test_a_batch_whose_store_fails_reports_every_unstored_record(source, store, gateway, monkeypatch):
    """The store denies writes (IAM's answer): every mapped record is reported, none is dropped; skipped items are not."""
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    save_all(
        source["db"],
        source["name"],
        [Execution(f"e-{i}", "tenant-1", "owner-1", "sqs", "pending", day) for i in range(3)],
        [coordination_item("e-0", "tenant-1")],
        stages=False,
    )
    [event] = source["events"]()
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    from support.gateway import Reply

    gateway.decide = lambda r: (
        Reply(
            400,
            json.dumps(
                {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": "not authorized to perform: dynamodb:BatchGetItem"}
            ).encode(),
            {"Content-Type": "application/x-amz-json-1.0"},
        )
        if r.header("x-amz-target").endswith("BatchGetItem")
        else None
    )

    response = ingest_stream.lambda_handler(event, None)

    executions = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"].startswith("execution#")]
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(sequence_numbers({"Records": executions}))
    assert len(executions) == 3 and len(event["Records"]) == 4


def remove_event(event_name_record: dict, by_ttl: bool) -> dict:
    record = json.loads(json.dumps(event_name_record))
    if by_ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return {"Records": [record]}


@pytest.mark.parametrize("policy", ["ignore", "forget"])
def test_removals_are_ignored_by_default_and_ttl_expiry_never_erases_history(source, store, monkeypatch, policy):
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    save_all(source["db"], source["name"], [Execution("e-1", "tenant-2", "owner-1", "sqs", "pending", day)], stages=False)
    deliver(source["events"]())
    source["client"].delete_item(TableName=source["name"], Key={"pk": {"S": "execution#e-1"}, "sk": {"S": "execution"}})
    [removal] = [r for e in source["events"]() for r in e["Records"]]
    assert removal["eventName"] == "REMOVE"
    if policy == "forget":
        monkeypatch.setenv("ROLLWISE_ON_REMOVE", "forget")
    shard = store.shard_of("tenant-2")

    assert ingest_stream.lambda_handler(remove_event(removal, by_ttl=True), None) == {"batchItemFailures": []}
    assert [r["execution_id"] for r in store.read_records(day.date(), shard)] == ["e-1"]

    assert ingest_stream.lambda_handler(remove_event(removal, by_ttl=False), None) == {"batchItemFailures": []}
    left = [r["execution_id"] for r in store.read_records(day.date(), shard)]
    assert left == (["e-1"] if policy == "ignore" else [])
    if policy == "forget":  # the closed day it left is marked, so the next run recounts it
        assert (day.date(), shard) in {(m.day, m.shard) for m in store.invalidations()}
