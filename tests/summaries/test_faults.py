"""The summaries job under a faulty network: a proxy in front of moto server and dynalite (tests/support/dynamodb_faults.py).

Three trials: answers of lease requests lost after they reached the table; a heavily throttled table,
its batches answered in part, through every command; and a deadline too short to get through it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from typer.testing import CliRunner

import rollwise.summaries.leases as leases_module
from rollwise.config import AwsSettings
from rollwise.samples import sample_executions
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
from rollwise.summaries.stores.dynamodb_layout import lease_key
from support.backoff import scale_backoff
from support.dynamodb_faults import DynamoFaults, lease_request, lease_shard, writes_to
from support.gateway import Gateway
from support.stores import dynamodb_client
from support.summaries import assert_summaries_are_true, nightly

pytestmark = pytest.mark.slow  # fault trials: a faulty network in front of the emulators

UTC = UTC
TENANTS = [f"tenant-{i:03d}" for i in range(12)]  # enough for every one of 4 shards to hold some


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Every retry's wait, botocore's and rollwise's, a hundredth of what it is (tests/support/backoff.py)."""
    scale_backoff(monkeypatch)


@pytest.fixture(params=["moto", "dynalite"])
def proxied(request):
    """(the emulator's URL, a gateway in front of it)."""
    emu = request.getfixturevalue("moto_server" if request.param == "moto" else "dynalite")
    gateway = Gateway(emu.url)
    yield emu.url, gateway
    gateway.stop()


def executions(first: date, days: int, per_day: int, seed: int = 5) -> list[dict]:
    return list(sample_executions(first, days, per_day, tenants=len(TENANTS), owners=3, seed=seed))


class SlowReads:
    """The store as a slow run sees it: each day's records take 30% of a lease to read, so every write renews the lease."""

    def __init__(self, inner, clock):
        self.inner, self.clock = inner, clock

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read_records(self, day, shard, zone="UTC"):
        yield from self.inner.read_records(day, shard, zone)
        self.clock[0] += leases_module.LEASE_SECONDS * 0.3


def test_leases_survive_answers_lost_after_they_reached_the_table(proxied, monkeypatch):
    """The first acquire, renewal and release of every shard's lease reach the table and their answers are lost;
    botocore sends each again. The run computes every shard, and a run one second later is not held off."""
    endpoint, gateway = proxied
    table = f"faults-{uuid.uuid4().hex[:8]}"
    writer = DynamoDBSummaryStore(table, shards=4, client=dynamodb_client(endpoint))  # another principal, straight to the table
    writer.create()
    assert {writer.shard_of(t) for t in TENANTS} == set(range(4))
    raw = executions(date(2024, 1, 8), 7, per_day=60)
    with Recorder(writer, now=datetime(2024, 1, 14, 23, tzinfo=UTC)) as rec:  # written late: every day but the 14th is marked
        for r in raw:
            rec.record(r)
    faults = DynamoFaults(drop_once=[(lease_request(kind), lease_shard) for kind in ("acquire", "renew", "release")]).install(gateway)
    store = DynamoDBSummaryStore(table, shards=4, aws=AwsSettings(endpoint_url=gateway.url))  # the client rollwise makes
    clock = [1_000_000.0]
    monkeypatch.setattr(leases_module.time, "time", lambda: clock[0])

    first = run(SlowReads(store, clock), scheduled_plan(store, nightly(date(2024, 1, 14))))
    assert first.errors == [] and first.deferred == []
    assert faults.counts["dropped once"] == 3 * 4  # each shard's first acquire, renewal and release
    assert first.periods == [f"daily:2024-01-{d:02d}" for d in range(8, 15)] + ["weekly:2024-01-08"]
    assert first.summaries_created > 0 and first.summaries_updated == first.summaries_removed == 0
    assert [writer.client.get_item(TableName=table, Key=lease_key(s)).get("Item") for s in range(4)] == [None] * 4
    assert writer.invalidations() == []

    clock[0] += 1
    second = run(store, scheduled_plan(store, nightly(date(2024, 1, 14)) + timedelta(seconds=1)))
    assert second.errors == [] and second.deferred == []  # not held off by a lease the first run thought another's
    # every period was computed once: the second run's own (the night's, its markers being gone) finds
    # each summary as the first left it
    assert second.periods == ["daily:2024-01-14", "weekly:2024-01-08"] and second.summaries_unchanged > 0
    assert second.summaries_created == second.summaries_updated == second.summaries_removed == 0
    assert_summaries_are_true(writer, raw, date(2024, 1, 15))


def cli(*args: str):
    from rollwise.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def jsonl(path, rows) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return str(path)


def test_every_command_rides_out_a_heavily_throttled_table(proxied, monkeypatch, tmp_path):
    """60% of batches answered in part, 4% of requests throttled, and 1% each reset, answered 500, or their answers
    lost after they took effect: ingest, a backfill, late data and the next nightly run all exit 0, and the
    summaries are the truth computed from the records."""
    endpoint, gateway = proxied
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    table = f"throttled-{uuid.uuid4().hex[:8]}"
    url = f"dynamodb://{table}"
    assert cli("summaries", "init", "--store", url, "--shards", "4")[0] == 0
    faults = DynamoFaults(seed=19, partial=0.6, throttle=0.04, reset=0.01, server_error=0.01, drop=0.01).install(gateway)
    january = executions(date(2024, 1, 1), 31, per_day=12)
    code, out = cli("summaries", "ingest", jsonl(tmp_path / "jan.jsonl", january), "--store", url, "--quiet")
    assert code == 0 and f"stored {len(january)} record(s), rejected 0" in out, out
    code, out = cli("summaries", "backfill", "2024-01-01", "2024-01-31", "--at", "2024-02-01T12:00:00Z", "--store", url, "--json", "--quiet")
    assert code == 0, out
    backfill = orjson.loads(out)
    assert backfill["errors"] == [] and backfill["deferred"] == [] and "monthly:2024-01-01" in backfill["periods"]
    late = [
        {**january[7], "status": "failed", "completed_at": "2024-01-20T10:00:00Z", "duration_ms": 1234},  # corrected: another day
        *executions(date(2024, 1, 12), 2, per_day=15, seed=77),
    ]  # new executions of closed days
    code, out = cli("summaries", "ingest", jsonl(tmp_path / "late.jsonl", late), "--store", url, "--quiet")
    assert code == 0, out
    code, out = cli("summaries", "run", "--at", "2024-02-02T02:00:00Z", "--store", url, "--json", "--quiet")
    assert code == 0, out
    nightly_run = orjson.loads(out)
    assert nightly_run["errors"] == [] and nightly_run["deferred"] == [] and "monthly:2024-01-01" in nightly_run["periods"]
    # the trial was what it says
    assert faults.counts["partial"] >= 40 and faults.counts["throttle"] >= 10
    assert min(faults.counts[k] for k in ("reset", "server_error", "drop")) >= 1
    truth = DynamoDBSummaryStore(table, shards=4, client=dynamodb_client(endpoint))
    assert_summaries_are_true(truth, january + late, date(2024, 2, 2))
    assert truth.invalidations() == []


class Context:
    """A Lambda context with ``seconds`` left."""

    aws_request_id = "req-1"

    def __init__(self, seconds: float) -> None:
        import time

        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        import time

        return int((self.ends - time.monotonic()) * 1000)


def scheduled(moment: datetime) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": moment.isoformat().replace("+00:00", "Z"),
        "detail": {},
    }


def test_a_deadline_too_short_for_a_throttled_table_leaves_the_rest_to_the_next_run(proxied, monkeypatch):
    """The Lambda retries until its deadline (its remaining time less the margin), then defers what is left,
    marked, and exits 0; the next run completes it. Summary writes throttled every time meet the deadline
    in the middle of a retry: deferred too, not failed."""
    from rollwise.handlers import aggregate_summaries
    from rollwise.summaries.capacity import DEADLINE_MARGIN_SECONDS

    endpoint, gateway = proxied
    table = f"deadline-{uuid.uuid4().hex[:8]}"
    writer = DynamoDBSummaryStore(table, shards=4, client=dynamodb_client(endpoint))
    writer.create()
    january = executions(date(2024, 1, 1), 31, per_day=12)
    with Recorder(writer, now=datetime(2024, 1, 31, 23, tzinfo=UTC)) as rec:  # every closed day marked
        for r in january:
            rec.record(r)
    for name, value in {"DYNAMODB_TABLE_NAME": table, "ROLLWISE_SHARDS": "4", "AWS_ENDPOINT_URL": gateway.url}.items():
        monkeypatch.setenv(name, value)

    faults = DynamoFaults(seed=4, partial=0.6, throttle=0.04).install(gateway)
    short = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 2, 1, 2, tzinfo=UTC)), Context(DEADLINE_MARGIN_SECONDS + 0.5))["body"]
    assert short["errors"] == [] and short["deferred"]  # it answered: no error for Lambda to retry
    assert all(entry.endswith("marked for the next run") for entry in short["deferred"])
    assert "left to the next run" in short["message"]

    summaries_throttled = DynamoFaults(seed=5, throttle_always=writes_to("SUM#")).install(gateway)
    stuck = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 2, 1, 2, tzinfo=UTC)), Context(DEADLINE_MARGIN_SECONDS + 2))["body"]
    assert stuck["errors"] == [] and stuck["deferred"] and summaries_throttled.counts["throttle"] > 1
    assert any(
        "the table throttled it until the run's retry time was spent (BatchWriteItem on table" in entry
        and "raise its capacity or switch it to on-demand" in entry
        for entry in stuck["deferred"]
    )
    assert writer.invalidations() != []

    faults.install(gateway)
    done = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 2, 2, 2, tzinfo=UTC)), Context(300))["body"]
    assert done["errors"] == [] and done["deferred"] == [] and "monthly:2024-01-01" in done["periods"]
    assert_summaries_are_true(writer, january, date(2024, 2, 2))
    assert writer.invalidations() == []


def test_an_error_that_reaches_the_user_names_the_table_the_request_and_the_fix(proxied, monkeypatch):
    endpoint, gateway = proxied
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    table = f"closed-{uuid.uuid4().hex[:8]}"
    assert cli("summaries", "init", "--store", f"dynamodb://{table}")[0] == 0
    DynamoFaults(throttle=1.0).install(gateway)  # a table with no capacity at all
    code, out = cli("summaries", "run", "--at", "2024-02-02T02:00:00Z", "--store", f"dynamodb://{table}", "--retry-seconds", "1")
    assert code == 1 and "Traceback" not in out
    assert (
        f"error: Query on table '{table}': still answered ProvisionedThroughputExceededException after 1 s of retries: the table "
        "is throttled or unavailable; raise its capacity or switch it to on-demand, then run again"
    ) in out
