"""The writer side: records validated at once, written in batches, and never dropped when a write fails."""

import uuid
from datetime import UTC, date, datetime

import pytest
from botocore.exceptions import ClientError

from rollwise.errors import OutOfRetryTime
from rollwise.retry import Patience
from rollwise.samples import sample_executions
from rollwise.summaries.ingest.recorder import IngestFailed, Recorder, ingest_lines
from rollwise.summaries.model import RecordError
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
from support.clock import FakeClock
from support.stores import dynamodb_client


class ThrottledClient:
    """A DynamoDB client whose writes are refused while ``throttled`` (after botocore's own retries gave up)."""

    def __init__(self, real):
        self.real, self.throttled = real, True

    def __getattr__(self, name):
        return getattr(self.real, name)

    def batch_write_item(self, **kwargs):
        if self.throttled:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds the allowed throughput"}},
                "BatchWriteItem",
            )
        return self.real.batch_write_item(**kwargs)


@pytest.fixture
def throttled_store(moto_server):
    client = ThrottledClient(dynamodb_client(moto_server.url))
    store = DynamoDBSummaryStore(f"rec-{uuid.uuid4().hex[:8]}", shards=2, client=client)
    store.patience = Patience.for_seconds(0.2)  # a throttled table outlasts the writer's time for retries
    client.throttled = False
    store.create()
    client.throttled = True
    return store, client


def stored(store):
    return sum(1 for d in (date(2024, 1, 8), date(2024, 1, 9)) for s in range(store.shards) for _ in store.read_records(d, s))


def test_a_failed_write_keeps_the_records_for_a_retry(throttled_store):
    store, client = throttled_store
    records = list(sample_executions(date(2024, 1, 8), 1, per_day=50, tenants=2))
    recorder = Recorder(store, batch_size=100, now=datetime(2024, 1, 9, 23, tzinfo=UTC), patience=None)  # the store's 0.2 s
    for raw in records:
        recorder.record(raw)
    with pytest.raises(OutOfRetryTime, match="still answered ProvisionedThroughputExceededException after 0 s of retries"):
        recorder.flush()
    assert len(recorder.pending) == 50 and recorder.written == 0
    client.throttled = False  # the table recovers
    recorder.flush()
    assert recorder.pending == [] and recorder.written == 50
    assert stored(store) == sum(2 if r.get("completed_at", "")[:10] not in ("", r["submitted_at"][:10]) else 1 for r in records)


def test_ingest_says_what_was_stored_and_what_was_not(throttled_store):
    store, client = throttled_store
    client.throttled = False
    lines = [orjson_line(r) for r in sample_executions(date(2024, 1, 8), 1, per_day=30, tenants=2)]
    recorder = Recorder(store, batch_size=10, now=datetime(2024, 1, 9, 23, tzinfo=UTC), patience=None)
    calls = []

    def throttle_after_two_batches(size):
        calls.append(size)
        if len(calls) == 21:
            client.throttled = True

    with pytest.raises(IngestFailed) as info:
        ingest_lines(lines, recorder, on_line=throttle_after_two_batches)
    report = info.value.report
    assert report.stored == 20 and len(recorder.pending) == 10
    assert str(info.value).startswith("stored 20 record(s); 10 validated but not stored: BatchWriteItem on table")


def test_a_bad_record_is_refused_where_it_is_made(tmp_path):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(tmp_path / "s.db")
    store.create()
    recorder = Recorder(store)
    with pytest.raises(RecordError, match="status must be one of"):
        recorder.record(
            {"tenant_id": "t", "owner_id": "o", "metric_type": "m", "execution_id": "e", "status": "done", "submitted_at": "2024-01-08T00:00:00Z"}
        )
    assert recorder.pending == []


def orjson_line(doc):
    import orjson

    return orjson.dumps(doc)


def test_a_producers_flush_on_a_table_that_throttles_every_write_gives_up_within_its_patience(dynalite, monkeypatch):
    """A producer calls the Recorder inline: a throttled table costs each flush its few seconds, never minutes;
    the buffer is kept; an hour later the same store object waits as long again (the time is the flush's,
    not the store's); once the table answers, every record is stored."""
    from rollwise.config import AwsSettings
    from rollwise.summaries.ingest.recorder import RETRY_SECONDS, flush_patience
    from support.backoff import scale_backoff
    from support.dynamodb_faults import throttled
    from support.gateway import Gateway

    scale_backoff(monkeypatch)  # botocore's own quick retries: its schedule, in a hundredth of the time
    throttling = True
    gateway = Gateway(
        dynalite.url,
        decide=lambda request: throttled() if throttling and request.header("x-amz-target").endswith(".BatchWriteItem") else None,
    )
    try:
        store = DynamoDBSummaryStore(f"rec-{uuid.uuid4().hex[:8]}", shards=2, aws=AwsSettings(endpoint_url=gateway.url))
        store.create()
        clock = FakeClock()

        def patience():  # the Recorder's own, on the fake clock
            return Patience(seconds=RETRY_SECONDS, closing=Patience(seconds=0), clock=lambda: clock.now, sleep=clock.sleep)

        records = list(sample_executions(date(2024, 1, 8), 1, per_day=50, tenants=2))
        recorder = Recorder(store, batch_size=100, now=datetime(2024, 1, 9, 23, tzinfo=UTC), patience=patience)
        for raw in records:
            recorder.record(raw)
        for later in (0, 3600):
            clock.now += later
            before, writes = clock.slept, sum(1 for r in gateway.requests if r.header("x-amz-target").endswith(".BatchWriteItem"))
            with pytest.raises(OutOfRetryTime, match=f"BatchWriteItem on table .* after {RETRY_SECONDS:.0f} s of retries"):
                recorder.flush()
            assert clock.slept - before == pytest.approx(RETRY_SECONDS)  # all of its patience, and no more
            assert sum(1 for r in gateway.requests if r.header("x-amz-target").endswith(".BatchWriteItem")) - writes > 3  # it retried
            assert len(recorder.pending) == 50 and recorder.written == 0
        throttling = False
        recorder.flush()
        assert recorder.pending == [] and recorder.written == 50
        assert stored(store) == sum(2 if r.get("completed_at", "")[:10] not in ("", r["submitted_at"][:10]) else 1 for r in records)
    finally:
        gateway.stop()
    # The default: seconds, not the CLI's minutes, and nothing kept for closing writes.
    default = flush_patience()
    assert default.seconds == RETRY_SECONDS <= 10 and default.closing().seconds == 0


def test_a_store_outside_any_work_gives_each_request_its_own_retry_time(tmp_path):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(tmp_path / "s.db")
    first = store.patience_now()
    first.waited = first.seconds  # a request that spent all of its time
    assert not store.patience_now().spent and store.patience_now() is not first
    with store.working(Patience(seconds=1)) as work:
        assert store.patience_now() is work  # the requests of a piece of work share its time
    assert store.patience is None
