"""The Lambda handler against moto server, configured only through the environment."""

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime

import pytest

from rollwise.errors import ConfigError
from rollwise.handlers import aggregate_summaries
from rollwise.handlers.common import EventError
from rollwise.result import JobFailed
from rollwise.samples import sample_executions
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore


@pytest.fixture
def lambda_env(moto_server, monkeypatch):
    table = f"summaries-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("DYNAMODB_TABLE_NAME", table)
    store = DynamoDBSummaryStore(table)
    store.create()
    with Recorder(store, now=datetime(2024, 1, 16, tzinfo=UTC)) as rec:
        for raw in sample_executions(date(2024, 1, 8), 7, per_day=30, tenants=2, owners=2):
            rec.record(raw)
    return store


def scheduled(time, event_id="evt-1"):
    return {"version": "0", "id": event_id, "detail-type": "Scheduled Event", "source": "aws.events", "time": time, "detail": {}}


def log_lines(captured):
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_missing_table_name_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DYNAMODB_TABLE_NAME", raising=False)
    with pytest.raises(ConfigError, match="DYNAMODB_TABLE_NAME is not set"):
        aggregate_summaries.lambda_handler(scheduled("2024-01-15T02:00:00Z"), None)


def invoke_in_subprocess(event):
    """A cold interpreter, as Lambda starts one: what the handler prints is what CloudWatch gets."""
    script = (
        "import json, sys; from rollwise.handlers.aggregate_summaries import lambda_handler; "
        "print(json.dumps(lambda_handler(json.loads(sys.argv[1]), None)))"
    )
    done = subprocess.run([sys.executable, "-c", script, json.dumps(event)], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    lines = log_lines(done.stdout)
    emf = [line for line in lines[:-1] if "_aws" in line]
    return lines[-1], [line for line in lines[:-1] if "_aws" not in line], emf


def test_scheduled_event_uses_the_event_time(lambda_env):
    response, lines, emf = invoke_in_subprocess(scheduled("2024-01-15T02:00:00Z"))
    assert response["statusCode"] == 200
    body = response["body"]
    assert set(body) >= {"message", "periods", "metrics_processed", "summaries_created", "summaries_updated", "summaries_unchanged", "errors"}
    # The markers written for the whole (closed) week are consumed too: every day of it is aggregated.
    assert body["periods"] == [f"daily:2024-01-{d:02d}" for d in range(8, 15)] + ["weekly:2024-01-08"]
    assert body["metrics_processed"] > 200 and body["summaries_created"] > 0 and body["errors"] == []
    assert lines and all(line["correlation_id"] == "evt-1" and line["service"] == "rollwise-summaries" for line in lines)
    assert any(line["message"] == "period aggregated" and line["period"] == "weekly:2024-01-08" for line in lines)
    assert lines[-1]["message"] == "summaries run finished" and lines[-1]["result"] == body
    (metrics,) = emf  # CloudWatch embedded metric format: one line, every figure
    names = {m["Name"] for m in metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"RecordsAggregated", "SummariesWritten", "SummaryFailures", "SummariesDeferred", "ExpiredDays"}
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "rollwise-tests"
    assert metrics["RecordsAggregated"] == [body["metrics_processed"]]  # Powertools writes values as lists
    assert metrics["SummariesWritten"] == [body["summaries_created"] + body["summaries_updated"]]
    assert metrics["SummaryFailures"] == [0] and metrics["service"] == "rollwise-summaries"

    retry = aggregate_summaries.lambda_handler(scheduled("2024-01-15T02:00:00Z", "evt-2"), None)["body"]
    assert retry["periods"] == ["daily:2024-01-14", "weekly:2024-01-08"]
    assert retry["summaries_created"] == retry["summaries_updated"] == 0 and retry["summaries_unchanged"] > 0


def test_backfill_event(lambda_env):
    body = aggregate_summaries.lambda_handler(
        {"backfill": True, "start_date": "2024-01-08", "end_date": "2024-01-09", "time": "2024-01-20T00:00:00Z"}, None
    )["body"]
    # the closed week of the range is computed whole
    assert body["periods"] == [f"daily:2024-01-{d:02d}" for d in range(8, 15)] + ["weekly:2024-01-08"]
    rows = list(lambda_env.query_summaries("tenant-000", "daily", owner_id="__tenant__"))
    assert {r.period.start for r in rows} == {date(2024, 1, d) for d in range(8, 15)}


@pytest.mark.parametrize(
    "event,message",
    [
        ({"backfill": True, "start_date": "2024-01-08"}, "needs start_date and end_date"),
        ({"backfill": True, "start_date": "2024-01-09", "end_date": "2024-01-08"}, "is after end_date"),
        ({"time": "last tuesday"}, "event field 'time'"),
    ],
)
def test_bad_events_are_refused(lambda_env, event, message):
    with pytest.raises(EventError, match=message):
        aggregate_summaries.lambda_handler(event, None)


def test_a_failed_group_raises_after_the_others_finish(lambda_env, monkeypatch):
    bad = lambda_env.shard_of("tenant-000")
    real = DynamoDBSummaryStore.read_records

    def flaky(self, day, shard, zone="UTC"):
        if shard == bad:
            raise ConnectionError("throttled for good")
        return real(self, day, shard, zone)

    monkeypatch.setattr(DynamoDBSummaryStore, "read_records", flaky)
    with pytest.raises(JobFailed, match="summaries: 8 failure\\(s\\): daily:2024-01-08 shard") as info:
        aggregate_summaries.lambda_handler(scheduled("2024-01-15T02:00:00Z"), None)
    result = info.value.result
    assert len(result.errors) == 8  # seven days and the week of that shard
    good = lambda_env.shard_of("tenant-001")
    assert good != bad and result.summaries_created > 0
    assert list(lambda_env.query_summaries("tenant-001", "weekly"))
    assert not list(lambda_env.query_summaries("tenant-000", "weekly"))


def test_the_cli_backfill_payload_is_what_the_handler_takes(lambda_env):
    from typer.testing import CliRunner

    from rollwise.cli import app, backfill_payload

    dry = CliRunner().invoke(app, ["deploy", "invoke-backfill", "2024-01-08", "2024-01-10", "--dry-run", "--function", "rollwise-AggregateSummaries"])
    assert dry.exit_code == 0
    payload = json.loads(dry.output.splitlines()[0])
    assert payload == backfill_payload(date(2024, 1, 8), date(2024, 1, 10))
    assert "aws lambda invoke --function-name rollwise-AggregateSummaries" in dry.output and "--payload '" in dry.output
    body = aggregate_summaries.lambda_handler({**payload, "time": "2024-01-20T00:00:00Z"}, None)["body"]
    assert body["periods"] == [f"daily:2024-01-{d:02d}" for d in range(8, 15)] + ["weekly:2024-01-08"]


def test_the_step_functions_path_gives_the_single_run_result(lambda_env):
    """What the state machine does (plan, one call per shard, finalize), through the handler."""
    import copy

    event = scheduled("2024-01-15T02:00:00Z")
    planned = aggregate_summaries.lambda_handler({**event, "action": "plan"}, None)
    assert planned["shards"] == sorted(planned["shards"]) and planned["plan"]["periods"][-1][0] == "weekly:2024-01-08"
    plan = json.loads(json.dumps(planned["plan"]))  # what Step Functions carries is JSON
    results = [aggregate_summaries.lambda_handler({"action": "shard", "plan": copy.deepcopy(plan), "shard": s}, None) for s in planned["shards"]]
    final = aggregate_summaries.lambda_handler({"action": "finalize", "plan": plan, "results": json.loads(json.dumps(results))}, None)
    body = final["body"]
    assert body["errors"] == [] and body["summaries_created"] > 0
    assert lambda_env.invalidations() == []  # the markers this plan consumed are cleared at the end
    again = aggregate_summaries.lambda_handler(scheduled("2024-01-15T02:00:00Z", "evt-3"), None)["body"]
    assert again["summaries_created"] == again["summaries_updated"] == 0
    expected = sum(
        len(list(lambda_env.query_summaries(t, kind, since=date(2024, 1, 8), until=date(2024, 1, 14))))
        for t in ("tenant-000", "tenant-001")
        for kind in ("weekly",)
    ) + sum(len(list(lambda_env.query_summaries(t, "daily", since=date(2024, 1, 14), until=date(2024, 1, 14)))) for t in ("tenant-000", "tenant-001"))
    assert again["periods"] == ["daily:2024-01-14", "weekly:2024-01-08"] and again["summaries_unchanged"] == expected > 0


@pytest.mark.parametrize("event", [[{"time": "2024-01-15T02:00:00Z"}], "2024-01-15", 7])
def test_an_event_that_is_not_an_object_is_refused_by_name(lambda_env, event):
    with pytest.raises(EventError, match=f"the event must be a JSON object, got {type(event).__name__}"):
        aggregate_summaries.lambda_handler(event, None)


def test_unknown_action_is_refused(lambda_env):
    with pytest.raises(EventError, match="'action' must be run, plan, shard or finalize"):
        aggregate_summaries.lambda_handler({"action": "explode"}, None)


class AlmostOutOfTime:
    """A Lambda context with less time left than the handler's safety margin."""

    aws_request_id = "req-late"
    function_name = "rollwise-summaries"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rollwise-summaries"

    def get_remaining_time_in_millis(self):
        return (aggregate_summaries.SAFETY_SECONDS - 1) * 1000


def test_a_run_with_no_time_left_starts_nothing_and_says_so(lambda_env):
    from rollwise.summaries.job import scheduled_plan

    plan = scheduled_plan(lambda_env, datetime(2024, 1, 15, 2, tzinfo=UTC))
    groups = {(p.start.isoformat(), s) for p, shards in plan.periods.items() for s in shards}
    assert len(plan.periods) > 2 and len(groups) > len(plan.periods)  # the late days' markers, the 14th of every shard, the week
    body = aggregate_summaries.lambda_handler(scheduled("2024-01-15T02:00:00Z"), AlmostOutOfTime())["body"]
    assert body["errors"] == [] and body["summaries_created"] == 0 and body["metrics_processed"] == 0
    left = sum(len(shards) for shards in plan.periods.values())
    assert len(body["deferred"]) == left
    assert body["message"] == f"aggregated {len(plan.periods)} period(s); {left} period shard(s) left to the next run"
    # each period left is marked on its first day (the plan's own markers are kept, rewritten)
    assert {(m.day.isoformat(), m.shard) for m in lambda_env.invalidations()} == groups | {(m.day.isoformat(), m.shard) for m in plan.markers}
    nxt = aggregate_summaries.lambda_handler(scheduled("2024-01-16T02:00:00Z", "evt-2"), None)["body"]
    assert nxt["errors"] == [] and nxt["deferred"] == [] and nxt["summaries_created"] > 0
    assert "weekly:2024-01-08" in nxt["periods"] and lambda_env.invalidations() == []
