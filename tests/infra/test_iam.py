"""Each function's role, as AWS would evaluate it, against every request its job makes.

The stack is created by CloudFormation (moto server); each function's inline
policy is read back from IAM as CloudFormation resolved it from the template.
The jobs then run end to end through their handlers, with the function's own
environment, and every AWS request they make goes through a gateway that
evaluates it against that policy (tests/support/iam.py) and answers as AWS would: a
denied request gets AWS's error, and a read of a missing key gets 403 unless
the role may list the bucket. Producers and writers are other principals: they
write straight to the emulator.
"""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from rollwise import objects
from rollwise.config import AwsSettings
from rollwise.handlers import RUNS_HANDLER, SUMMARIES_HANDLER
from rollwise.result import JobFailed
from rollwise.samples import sample_executions
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
from support.iam import Call, Enforcer, decision
from support.runs import item, put, run_summary
from support.stores import dynamodb_client

pytestmark = pytest.mark.slow  # a deploy test: the stack deployed, each role's requests evaluated

UTC = UTC


def as_function(deployed, handler, gateway, monkeypatch, statements=None, **env):
    """Run like the deployed function: its environment, its role's statements enforced on every request."""
    config = deployed.function(handler)
    for name, value in {**config["Environment"]["Variables"], **env}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    enforcer = Enforcer(statements if statements is not None else deployed.role_statements(handler))
    enforcer.install(gateway)
    return enforcer


def scheduled(moment: datetime) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": moment.isoformat().replace("+00:00", "Z"),
        "detail": {},
    }


def producer(deployed):
    """The pipeline that writes raw files: another principal, straight to the emulator."""
    return objects.open_store(f"s3://{deployed.output('BucketName')}", AwsSettings(endpoint_url=deployed.endpoint))


def test_the_merge_role_allows_every_request_of_the_job(deployed, gateway, monkeypatch):
    from rollwise.handlers import merge_runs

    bucket = producer(deployed)
    for i in range(6):
        put(bucket, f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json", item(i, 0.6 + i / 20) if i != 3 else run_summary("r", 4, 2))
    put(bucket, "runs/raw/20240115t1301Z_poison.json", b"{")
    enforcer = as_function(deployed, RUNS_HANDLER, gateway, monkeypatch)
    first = merge_runs.lambda_handler(scheduled(datetime(2024, 1, 15, 13, 20, tzinfo=UTC)), None)["body"]
    put(bucket, "runs/raw/20240115t1302Z_late.json", item(9, 0.99))  # a late file: a conditional replace
    late = merge_runs.lambda_handler(scheduled(datetime(2024, 1, 15, 14, 0, tzinfo=UTC)), None)["body"]
    put(bucket, "runs/raw/20240115t1331Z_b.json", item(20, 0.9))
    monkeypatch.setenv("ROLLWISE_ARCHIVE_MODE", "bundle")
    bundled = merge_runs.lambda_handler(scheduled(datetime(2024, 1, 15, 14, 0, tzinfo=UTC)), None)["body"]
    assert (first["files_processed"], first["files_quarantined"], late["late_files"], bundled["files_archived"]) == (6, 1, 1, 1)
    assert enforcer.denied() == []
    # a first merge of a window read its missing aggregate: S3's 403, told apart by listing
    assert any(verdict != "Allow" for _, verdict in enforcer.implicit)
    actions = {call.action for call, _ in enforcer.checks}
    assert actions >= {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "sns:Publish"}


class OutOfTime:
    """A Lambda context with less time left than the summaries handler's safety margin."""

    aws_request_id = "req-late"

    def get_remaining_time_in_millis(self):
        return 1000


def test_the_summaries_role_allows_every_request_of_the_job(deployed, gateway, monkeypatch):
    from rollwise.handlers import aggregate_summaries

    table = deployed.output("TableName")
    writer = DynamoDBSummaryStore(table, shards=2, client=dynamodb_client(deployed.endpoint))  # the workflow SDK's principal
    with Recorder(writer, now=datetime(2024, 1, 15, tzinfo=UTC)) as rec:
        for raw in sample_executions(date(2024, 1, 8), 7, per_day=20, tenants=3):
            rec.record(raw)
    # two shards instead of the deployed eight: the same requests, a quarter of them
    enforcer = as_function(deployed, SUMMARIES_HANDLER, gateway, monkeypatch, ROLLWISE_SHARDS="2")
    nightly = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 1, 15, 2, tzinfo=UTC)), None)["body"]
    with Recorder(writer, now=datetime(2024, 1, 16, 12, tzinfo=UTC)) as rec:  # late data: a marker
        rec.record(
            {
                "tenant_id": "tenant-001",
                "owner_id": "u",
                "metric_type": "m",
                "execution_id": "late",
                "status": "queued",
                "submitted_at": "2024-01-10T10:00:00Z",
            }
        )
    late = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 1, 17, 2, tzinfo=UTC)), None)["body"]
    backfill = aggregate_summaries.lambda_handler(
        {"backfill": True, "start_date": "2024-01-08", "end_date": "2024-01-09", "time": "2024-01-20T00:00:00Z"}, None
    )["body"]
    planned = aggregate_summaries.lambda_handler({"action": "plan", **scheduled(datetime(2024, 1, 18, 2, tzinfo=UTC))}, None)
    parts = [aggregate_summaries.lambda_handler({"action": "shard", "plan": planned["plan"], "shard": s}, None) for s in planned["shards"]]
    final = aggregate_summaries.lambda_handler({"action": "finalize", "plan": planned["plan"], "results": json.loads(json.dumps(parts))}, None)
    for body in (nightly, late, backfill, final["body"]):
        assert body["errors"] == [] and body["deferred"] == []
    assert nightly["summaries_created"] > 0 and "daily:2024-01-10" in late["periods"]
    # a run with no time left marks its periods for the next run (a write to the markers' partition)
    cut = aggregate_summaries.lambda_handler(scheduled(datetime(2024, 1, 19, 2, tzinfo=UTC)), OutOfTime())["body"]
    assert cut["errors"] == [] and len(cut["deferred"]) == 2 and writer.invalidations() != []
    assert enforcer.denied() == []
    actions = {call.action for call, _ in enforcer.checks}
    assert actions >= {"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "sns:Publish"}


def test_requests_outside_each_role_are_denied(deployed):
    region, account = "us-east-1", "123456789012"
    table = f"arn:aws:dynamodb:{region}:{account}:table/{deployed.output('TableName')}"
    bucket = f"arn:aws:s3:::{deployed.output('BucketName')}"
    alarms = deployed.output("AlarmTopicArn")
    summaries, merge = deployed.role_statements(SUMMARIES_HANDLER), deployed.role_statements(RUNS_HANDLER)
    outside = [
        (summaries, Call("dynamodb:Scan", table)),
        (summaries, Call("dynamodb:BatchWriteItem", table, {"dynamodb:LeadingKeys": ["SUM#daily#2024-01-01#000", "REC#2024-01-08#000"]})),
        (summaries, Call("dynamodb:PutItem", table, {"dynamodb:LeadingKeys": ["SUM#daily#2024-01-01#000"]})),
        (summaries, Call("dynamodb:DeleteItem", table, {"dynamodb:LeadingKeys": ["LOC#acme#ex-1"]})),
        (summaries, Call("dynamodb:PutItem", f"arn:aws:dynamodb:{region}:{account}:table/someone-elses")),
        (summaries, Call("dynamodb:DeleteTable", table)),
        (summaries, Call("sns:Publish", alarms)),
        (summaries, Call("s3:GetObject", f"{bucket}/runs/raw/a.json")),
        (merge, Call("s3:GetObject", f"{bucket}/runs/quarantine/a.json")),
        (merge, Call("s3:PutObject", f"{bucket}/runs/reports/a.json")),
        (merge, Call("s3:ListBucket", bucket, {"s3:prefix": "runs/recordsX/"})),
        (merge, Call("s3:GetObject", f"{bucket}/other/a.json")),
        (merge, Call("s3:DeleteObject", f"{bucket}/runs/20240115t1305Z.json")),
        (merge, Call("s3:PutObject", f"{bucket}/runs/raw/a.json")),
        (merge, Call("s3:ListBucket", bucket, {"s3:prefix": "runs/archive/"})),
        (merge, Call("s3:ListBucket", bucket)),
        (merge, Call("sns:Publish", alarms)),
        (merge, Call("dynamodb:Query", table)),
    ]
    assert [str(call) for statements, call in outside if decision(statements, call) == "Allow"] == []
    inside = [
        (merge, Call("s3:ListBucket", bucket, {"s3:prefix": "runs/raw/"})),
        (merge, Call("s3:GetObject", f"{bucket}/runs/20240115t1305Z.json")),
        (merge, Call("s3:ListBucket", bucket, {"s3:prefix": "runs/records/dt=2024-01-15/"})),
        (merge, Call("s3:PutObject", f"{bucket}/runs/records/dt=2024-01-15/20240115t1305Z-0123456789abcdef.jsonl.gz")),
        (merge, Call("s3:GetObject", f"{bucket}/runs/windows/dt=2024-01-15/20240115t1305Z.json")),
        (summaries, Call("dynamodb:Query", table)),
    ]
    assert all(decision(statements, call) == "Allow" for statements, call in inside)


def test_the_evaluation_follows_aws_rules():
    allow = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/runs/????????t????Z.json"}
    assert decision([allow], Call("s3:getobject", "arn:aws:s3:::b/runs/20240115t1305Z.json")) == "Allow"  # actions ignore case
    assert decision([allow], Call("s3:GetObject", "arn:aws:s3:::b/runs/20240115T1305Z.json")) == "ImplicitDeny"  # resources do not
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert (
        decision([allow, deny], Call("s3:GetObject", "arn:aws:s3:::b/runs/20240115t1305Z.json", {"aws:SecureTransport": "false"})) == "ExplicitDeny"
    )
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b", "Condition": {"StringEquals": {"s3:prefix": ["runs/"]}}}
    assert decision([listing], Call("s3:ListBucket", "arn:aws:s3:::b")) == "ImplicitDeny"  # the key is absent: StringEquals fails
    exists = {**listing, "Condition": {"StringEqualsIfExists": {"s3:prefix": ["runs/"]}}}
    assert decision([exists], Call("s3:ListBucket", "arn:aws:s3:::b")) == "Allow"


def test_the_merge_role_of_the_first_deploy_fails_on_its_first_run(deployed, gateway, monkeypatch):
    """The role the stack had before: listing only under runs/raw/, so a window's missing aggregate reads as 403."""
    from rollwise.handlers import merge_runs

    arn = f"arn:aws:s3:::{deployed.output('BucketName')}"
    current = deployed.role_statements(RUNS_HANDLER)
    old = [s for s in current if s.get("Sid") in ("WriteItsOwnLogs", "PublishRunResults")] + [
        {
            "Sid": "ListRawFiles",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {"StringLike": {"s3:prefix": ["runs/raw/", "runs/raw/*"]}},
        },
        {
            "Sid": "ReadRawFilesAndAggregates",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{arn}/runs/raw/*", f"{arn}/runs/????????t????Z.json"],
        },
        {
            "Sid": "WriteAggregatesArchiveQuarantine",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [f"{arn}/runs/????????t????Z.json", f"{arn}/runs/archive/*", f"{arn}/runs/quarantine/*"],
        },
        {"Sid": "DeleteArchivedRawFiles", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"{arn}/runs/raw/*"},
    ]
    bucket = producer(deployed)
    put(bucket, "runs/raw/20240116t0901Z_a.json", item(1, 0.9))
    enforcer = as_function(deployed, RUNS_HANDLER, gateway, monkeypatch, statements=old)
    with pytest.raises(JobFailed) as failed:
        merge_runs.lambda_handler(scheduled(datetime(2024, 1, 16, 9, 10, tzinfo=UTC)), None)
    (failure,) = failed.value.result.failed
    assert failure.key == "runs/20240116t0905Z.json" and "s3:ListBucket" in failure.error and "denied" in failure.error
    assert "s3:ListBucket on " in "\n".join(enforcer.denied())


def test_the_ingest_role_allows_every_request_of_stream_ingest(deployed_fanout, gateway, monkeypatch):
    """SDK items from a table's stream, through the deployed ingest function's role: records
    stored, moved on a change of day, forgotten on removal (with ``forget``). Lambda's poller
    reads the stream with the role (its rights are checked in the template, test_stack); the
    events come from a twin table here, since moto hands the subscribed stream's records to
    its own Lambda runtime."""
    from rollwise.handlers import INGEST_HANDLER, ingest_stream
    from support.workflow_sdk import Execution, create_table, save_all, sdk_database, stream_events

    ingest_stream._setup.cache_clear()
    t0 = datetime(2026, 3, 2, 23, tzinfo=UTC)
    first = [Execution(f"e{i}", "tenant-0", "owner-0", "lambda", "pending", t0) for i in range(3)]
    moved = Execution(
        "e0", "tenant-0", "owner-0", "lambda", "succeeded", t0 + timedelta(hours=2), t0 + timedelta(hours=2), t0 + timedelta(hours=3), 3_600_000, 2
    )
    source = boto3.client("dynamodb", endpoint_url=deployed_fanout.endpoint, region_name="us-east-1")
    table = f"workflows-{uuid.uuid4().hex[:6]}"
    arn = create_table(source, table)
    db = sdk_database(deployed_fanout.endpoint)
    save_all(db, table, first, stages=False)
    save_all(db, table, [moved], stages=False)
    source.delete_item(TableName=table, Key={"pk": {"S": "execution#e2"}, "sk": {"S": "execution"}})
    streams = boto3.client("dynamodbstreams", endpoint_url=deployed_fanout.endpoint, region_name="us-east-1")
    events = stream_events(streams, arn)
    assert sum(len(e["Records"]) for e in events) == 5
    enforcer = as_function(deployed_fanout, INGEST_HANDLER, gateway, monkeypatch, ROLLWISE_ON_REMOVE="forget")
    try:
        responses = [ingest_stream.lambda_handler(event, None) for event in events]
    finally:
        ingest_stream._setup.cache_clear()
    assert responses == [{"batchItemFailures": []}] * len(events)
    assert enforcer.denied() == []
    # the records and locators; the table's settings (its tenants' zones, a Query) and its shard count, read
    # (and stored, the table being new) on first use
    assert {call.action for call, _ in enforcer.checks} == {
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    }
    store = DynamoDBSummaryStore(deployed_fanout.output("TableName"), shards=8, client=dynamodb_client(deployed_fanout.endpoint))
    shard = store.shard_of("tenant-0")
    assert [r["execution_id"] for r in store.read_records(date(2026, 3, 2), shard)] == ["e1"]
    assert [r["execution_id"] for r in store.read_records(date(2026, 3, 3), shard)] == ["e0"]


def api_event(path: str, query: dict, claims: dict) -> dict:
    from urllib.parse import urlencode

    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query),
        "headers": {},
        "queryStringParameters": query or None,
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "192.0.2.1"},
            "stage": "$default",
            "requestId": "r",
            "authorizer": {"jwt": {"claims": claims}},
        },
    }


def test_the_api_role_allows_every_read_of_the_api_and_nothing_else(deployed, gateway, monkeypatch):
    """The read API as deployed (its environment, its role enforced): usage with today's records, summaries, the
    windows and health all pass; a write of any kind is denied."""
    from rollwise.handlers import API_HANDLER, api

    table = deployed.output("TableName")
    writer = DynamoDBSummaryStore(table, shards=8, client=dynamodb_client(deployed.endpoint))
    with Recorder(writer, now=datetime(2024, 2, 1, tzinfo=UTC)) as rec:
        for raw in sample_executions(date(2024, 2, 1), 3, per_day=20, tenants=2):
            rec.record(raw)
    from rollwise.summaries.job import backfill_plan, run

    run(writer, backfill_plan(writer, date(2024, 2, 1), date(2024, 2, 2), datetime(2024, 2, 3, 12, tzinfo=UTC)))
    bucket = producer(deployed)
    put(bucket, "runs/raw/20240203t1001Z_a.json", item(1, 0.9))
    from rollwise.config import AwsSettings
    from rollwise.runs.job import MergeJob
    from rollwise.runs.settings import MergeSettings

    MergeJob(
        objects.open_store(f"s3://{deployed.output('BucketName')}", AwsSettings(endpoint_url=deployed.endpoint)),
        MergeSettings(bucket=deployed.output("BucketName")),
    ).run(datetime(2024, 2, 3, 10, 20, tzinfo=UTC))
    enforcer = as_function(deployed, API_HANDLER, gateway, monkeypatch)
    api._setup.cache_clear()
    tenant = {"custom:tenant_id": "tenant-000"}
    admin = {"cognito:groups": "[rollwise-admin]"}  # as API Gateway passes a list claim on
    try:
        answers = [
            api.lambda_handler(api_event(path, query, claims), None)
            for path, query, claims in [
                ("/v1/tenants/tenant-000/usage", {"from": "2024-02-01", "to": "2024-02-04", "group_by": "owner"}, tenant),
                ("/v1/tenants/tenant-000/summaries", {"period": "daily"}, tenant),
                ("/v1/runs/windows", {"from": "2024-02-03", "to": "2024-02-04"}, admin),
                ("/v1/runs/windows/20240203t1005Z", {}, admin),
                ("/v1/health", {}, admin),
            ]
        ]
    finally:
        api._setup.cache_clear()
    assert [a["statusCode"] for a in answers] == [200] * 5, [a["body"][:200] for a in answers]
    assert json.loads(answers[0]["body"])["rows"] and json.loads(answers[1]["body"])["summaries"]
    assert enforcer.denied() == []
    assert {call.action for call, _ in enforcer.checks} >= {"dynamodb:Query", "s3:ListBucket", "s3:GetObject"}
    region, account = "us-east-1", "123456789012"
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    statements = deployed.role_statements(API_HANDLER)
    for write in (
        Call("dynamodb:PutItem", arn, {"dynamodb:LeadingKeys": ["SETTINGS"]}),
        Call("dynamodb:BatchWriteItem", arn, {"dynamodb:LeadingKeys": ["SUM#daily#2024-02-01#000"]}),
        Call("dynamodb:DeleteItem", arn, {"dynamodb:LeadingKeys": ["LEASE#000"]}),
        Call("dynamodb:Query", arn, {"dynamodb:LeadingKeys": ["LOC#tenant-000#e1"]}),
        Call("dynamodb:Scan", arn),
        Call("s3:PutObject", f"arn:aws:s3:::{deployed.output('BucketName')}/runs/20240203t1005Z.json"),
        Call("s3:GetObject", f"arn:aws:s3:::{deployed.output('BucketName')}/runs/archive/a.json"),
    ):
        assert decision(statements, write) != "Allow", str(write)


def test_a_page_cursor_from_one_instance_of_the_api_is_taken_by_another(deployed, gateway, monkeypatch):
    """Lambda answers a tenant's next page from whichever instance is free: each signs cursors with the key the stack
    gave them all, so a cursor works wherever the next request lands (a per-instance key refused it with a 400)."""
    from rollwise.handlers import API_HANDLER, api

    writer = DynamoDBSummaryStore(deployed.output("TableName"), shards=8, client=dynamodb_client(deployed.endpoint))
    with Recorder(writer, now=datetime(2024, 3, 1, tzinfo=UTC)) as rec:
        for raw in sample_executions(date(2024, 3, 1), 2, per_day=20, tenants=1):
            rec.record(raw)
    from rollwise.summaries.job import backfill_plan, run

    run(writer, backfill_plan(writer, date(2024, 3, 1), date(2024, 3, 2), datetime(2024, 3, 3, 12, tzinfo=UTC)))
    as_function(deployed, API_HANDLER, gateway, monkeypatch)
    claims = {"custom:tenant_id": "tenant-000"}
    query = {"period": "daily", "from": "2024-03-01", "to": "2024-03-03", "limit": "1"}
    pages = []
    try:
        while True:
            api._setup.cache_clear()  # each page from a new instance
            answer = api.lambda_handler(api_event("/v1/tenants/tenant-000/summaries", query, claims), None)
            assert answer["statusCode"] == 200, answer["body"]
            page = json.loads(answer["body"])
            pages.append(page["summaries"])
            if not page["next"]:
                break
            query = {**query, "cursor": page["next"]}
    finally:
        api._setup.cache_clear()
    expected = list(writer.query_summaries("tenant-000", "daily", date(2024, 3, 1), date(2024, 3, 2)))
    assert len(expected) >= 2 and [len(p) for p in pages] == [1] * len(expected)  # the last page says there is no next
    assert [p[0] for p in pages] == [s.to_dict() for s in expected]


def test_the_summaries_role_writes_only_the_sdk_summary_items_of_the_sdk_table(deployed_fanout, gateway, monkeypatch):
    """With sdk_summaries_table set, the nightly run also writes its summaries into the SDK's table through the
    function's role; the role allows nothing else there: another model's item, another request, another table."""
    from rollwise.handlers import aggregate_summaries
    from support.deployment import SDK_SUMMARIES_TABLE
    from support.workflow_sdk import create_table

    client = dynamodb_client(deployed_fanout.endpoint)
    if SDK_SUMMARIES_TABLE not in client.list_tables()["TableNames"]:
        create_table(client, SDK_SUMMARIES_TABLE, stream=False)
    writer = DynamoDBSummaryStore(deployed_fanout.output("TableName"), shards=8, client=client)  # the workflow SDK's principal
    with Recorder(writer, now=datetime(2025, 2, 4, tzinfo=UTC)) as rec:
        for raw in sample_executions(date(2025, 2, 3), 1, per_day=10, tenants=2):
            rec.record(raw)
    enforcer = as_function(deployed_fanout, SUMMARIES_HANDLER, gateway, monkeypatch)
    assert deployed_fanout.function(SUMMARIES_HANDLER)["Environment"]["Variables"]["ROLLWISE_SDK_SUMMARIES_TABLE"] == SDK_SUMMARIES_TABLE
    body = aggregate_summaries.lambda_handler(scheduled(datetime(2025, 2, 4, 2, tzinfo=UTC)), None)["body"]
    assert body["errors"] == [] and body["summaries_created"] > 0
    assert enforcer.denied() == []
    sdk_table = f"arn:aws:dynamodb:us-east-1:123456789012:table/{SDK_SUMMARIES_TABLE}"
    writes = [call for call, _ in enforcer.checks if call.resource == sdk_table]
    assert writes and {call.action for call in writes} == {"dynamodb:BatchWriteItem"}
    items = client.scan(TableName=SDK_SUMMARIES_TABLE)["Items"]
    assert len(items) == body["summaries_created"] and all(i["pk"]["S"].startswith("execution_metrics_summary#") for i in items)

    statements = deployed_fanout.role_statements(SUMMARIES_HANDLER)
    denied = [
        Call("dynamodb:BatchWriteItem", sdk_table, {"dynamodb:LeadingKeys": ["execution_metrics_summary#x", "execution#e1"]}),
        Call("dynamodb:BatchWriteItem", sdk_table, {"dynamodb:LeadingKeys": ["execution_metrics#x"]}),
        Call("dynamodb:PutItem", sdk_table, {"dynamodb:LeadingKeys": ["execution_metrics_summary#x"]}),
        Call("dynamodb:DeleteItem", sdk_table, {"dynamodb:LeadingKeys": ["execution_metrics_summary#x"]}),
        Call("dynamodb:Query", sdk_table),
        Call("dynamodb:Scan", sdk_table),
        Call(
            "dynamodb:BatchWriteItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/someone-elses",
            {"dynamodb:LeadingKeys": ["execution_metrics_summary#x"]},
        ),
    ]
    assert [str(call) for call in denied if decision(statements, call) == "Allow"] == []
    assert decision(statements, Call("dynamodb:BatchWriteItem", sdk_table, {"dynamodb:LeadingKeys": ["execution_metrics_summary#x"]})) == "Allow"
