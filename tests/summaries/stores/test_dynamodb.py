"""The DynamoDB store's own behaviour: its items, its errors, its retries bounded by time."""

import uuid
from datetime import date

import pytest

from rollwise.errors import OutOfRetryTime
from rollwise.periods import period_containing
from rollwise.retry import Patience
from rollwise.summaries.model import Invalidation, Summary
from rollwise.summaries.stored_items import RecordItem, StoredSummary
from rollwise.summaries.stores import dynamodb as ddb
from support.clock import FakeClock
from support.stores import dynamodb_client


def test_each_item_type_round_trips_through_its_builder_and_parser():
    record = {"tenant_id": "t", "execution_id": "e", "status": "queued"}
    item = ddb.record_item(RecordItem("2024-01-15", 3, "t", "e", record))
    assert (item["PK"]["S"], item["SK"]["S"]) == ("REC#2024-01-15#003", "t#e") and ddb.parse_record(item) == record
    marker = Invalidation(date(2024, 1, 15), 7, "tok")
    assert ddb.parse_marker(ddb.marker_item(marker)) == marker
    period = period_containing("weekly", date(2024, 1, 15))
    s = Summary("t", "u", "m", period, submission_count=3)
    s.durations.add(120.0)
    stored = StoredSummary.of(s)
    item = ddb.summary_item(period, 2, stored)
    assert (item["PK"]["S"], item["SK"]["S"]) == ("SUM#weekly#2024-01-01#002", "2024-01-15#t#u#m") and item["GSI2PK"]["S"] == "t#weekly#O#u"
    assert ddb.parse_summary(item, "weekly", period) == stored == ddb.parse_summary(item, "weekly")


class Throttling:
    """A client that leaves every write unprocessed, as a throttled table does."""

    def __init__(self, real):
        self.real, self.calls = real, 0
        self.meta = real.meta

    def batch_write_item(self, RequestItems):
        self.calls += 1
        return {"UnprocessedItems": RequestItems}


def test_unprocessed_items_are_retried_with_backoff_until_the_retry_time_is_spent(moto_server):
    clock = FakeClock()
    client = Throttling(dynamodb_client(moto_server.url))
    store = ddb.DynamoDBSummaryStore("anything", client=client)
    store.patience = Patience(seconds=30, clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: 1.0)
    with pytest.raises(
        OutOfRetryTime,
        match=r"BatchWriteItem on table 'anything': 1 write\(s\) still unprocessed after 30 s of "
        r"retries: .*raise its capacity or switch it to on-demand, then run again",
    ):
        store._put_invalidations([Invalidation(date(2024, 1, 1), 0, "x")])
    # 0.05, 0.1, 0.2 ... doubling up to the 5 s cap, the last wait cut to what was left of the 30 s
    assert clock.sleeps[:7] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2] and set(clock.sleeps[7:-1]) == {5.0}
    assert sum(clock.sleeps) == pytest.approx(30) and client.calls == len(clock.sleeps) + 1


def test_a_missing_table_is_named_with_its_region_and_the_fix(moto_server):
    name = f"missing-{uuid.uuid4().hex[:6]}"
    store = ddb.DynamoDBSummaryStore(name, client=dynamodb_client(moto_server.url))
    with pytest.raises(ddb.TableNotFound) as info:
        store.invalidations()
    assert str(info.value) == f"table '{name}' not found in us-east-1: create it with rollwise summaries init --store dynamodb://{name}"


def test_create_returns_once_the_table_is_active():
    """DynamoDB keeps a new table in CREATING for seconds; the suite's dynalite makes it ACTIVE at once, so this one
    keeps dynalite's own 500 ms: ``create()`` returns a table ready for writes, never one still CREATING."""
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.emulators import start_dynalite

    emu = start_dynalite(table_state_ms=500)
    try:
        client = dynamodb_client(emu.url)
        store = DynamoDBSummaryStore(f"creating-{uuid.uuid4().hex[:8]}", shards=2, client=client)
        assert store.create() is True
        assert client.describe_table(TableName=store.table_name)["Table"]["TableStatus"] == "ACTIVE"
    finally:
        emu.stop()
