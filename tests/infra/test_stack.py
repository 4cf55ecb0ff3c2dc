"""The CDK stack, synthesized in the suite: resources, exact IAM statements, schedules, alarms; cfn-lint clean."""

import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a deploy test: the stack synthesized by the CDK, and cfn-lint

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

cdk = pytest.importorskip("aws_cdk")
from aws_cdk.assertions import Match, Template  # noqa: E402

from rollwise.config import variable  # noqa: E402
from rollwise.handlers import INGEST_HANDLER  # noqa: E402
from rollwise.runs.tables import RECORD_COLUMNS, WINDOW_COLUMNS  # noqa: E402
from rollwise.summaries.settings import IngestSettings, SummariesSettings  # noqa: E402
from rollwise.summaries.stores.dynamodb_layout import TTL_ATTRIBUTE, table_definition  # noqa: E402
from rollwise_infra.config import StackConfig  # noqa: E402
from rollwise_infra.stack import RollwiseStack  # noqa: E402


def synth(tmp_path_factory, **settings):
    asset = tmp_path_factory.mktemp("asset")
    (asset / "placeholder.py").write_text("# the real asset comes from `make package`\n")
    api_asset = tmp_path_factory.mktemp("api-asset")
    (api_asset / "placeholder.py").write_text("# the arm64 asset of the read API\n")
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = RollwiseStack(app, "rollwise", StackConfig(asset_dir=str(asset), api_asset_dir=str(api_asset), **settings))
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return synth(tmp_path_factory)


@pytest.fixture(scope="module")
def fanout(tmp_path_factory):
    return synth(tmp_path_factory, fanout=True, architecture="arm64", archive_mode="bundle", fanout_concurrency=3, merge_memory_mb=512)


def of_type(t, kind):
    return {k: v for k, v in t.to_json()["Resources"].items() if v["Type"] == kind}


def function(t, handler):
    (fn,) = [r["Properties"] for r in of_type(t, "AWS::Lambda::Function").values() if r["Properties"]["Handler"] == handler]
    return fn


def test_functions(template):
    s = function(template, "rollwise.handlers.aggregate_summaries.lambda_handler")
    m = function(template, "rollwise.handlers.merge_runs.lambda_handler")
    assert (s["Runtime"], s["MemorySize"], s["Timeout"], s["Architectures"]) == ("python3.13", 256, 300, ["x86_64"])
    assert (m["Runtime"], m["MemorySize"], m["Timeout"], m["EphemeralStorage"]) == ("python3.13", 128, 300, {"Size": 512})
    # no reservation by default: on an account with the usual low limit CloudFormation would refuse it
    assert "ReservedConcurrentExecutions" not in s and "ReservedConcurrentExecutions" not in m
    assert set(s["Environment"]["Variables"]) == {
        "DYNAMODB_TABLE_NAME",
        "ROLLWISE_SHARDS",
        "NOTIFY_TOPIC_ARN",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert m["Environment"]["Variables"]["ROLLWISE_RUNS_ROOT"] == "runs" and "SAM_MATCHING_OUT_RUNS_BUCKET" in m["Environment"]["Variables"]


def test_reserved_concurrency_is_a_setting(tmp_path_factory):
    t = synth(tmp_path_factory, reserved_concurrency=2, executions_per_day=1_000_000)
    assert [
        function(t, h).get("ReservedConcurrentExecutions")
        for h in ("rollwise.handlers.aggregate_summaries.lambda_handler", "rollwise.handlers.merge_runs.lambda_handler")
    ] == [2, 2]
    with pytest.raises(ValueError, match="below fanout_concurrency 4"):
        StackConfig(fanout=True, reserved_concurrency=2)


def test_schedules(template):
    rules = sorted(r["Properties"]["ScheduleExpression"] for r in of_type(template, "AWS::Events::Rule").values())
    assert rules == ["cron(0 * * * ? *)", "rate(5 minutes)"]


def test_the_table_has_exactly_the_keys_the_store_needs(template):
    (table,) = of_type(template, "AWS::DynamoDB::Table").values()
    want = table_definition("x")
    p = table["Properties"]
    assert p["KeySchema"] == want["KeySchema"] and p["BillingMode"] == "PAY_PER_REQUEST"
    assert sorted(p["AttributeDefinitions"], key=str) == sorted(want["AttributeDefinitions"], key=str)
    assert sorted(p["GlobalSecondaryIndexes"], key=str) == sorted(want["GlobalSecondaryIndexes"], key=str)
    # records and locators carry their expiry there when records expire; summaries never do
    assert p["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_zones_delay_and_retention_reach_both_summaries_functions(tmp_path_factory):
    t = synth(tmp_path_factory, default_zone="Asia/Kolkata", delay_hours=3, record_retention_days=400, source_stream_arn=STREAM)
    for handler in ("rollwise.handlers.aggregate_summaries.lambda_handler", "rollwise.handlers.ingest_stream.lambda_handler"):
        env = function(t, handler)["Environment"]["Variables"]
        assert (env["ROLLWISE_DEFAULT_ZONE"], env["ROLLWISE_DELAY_HOURS"], env["ROLLWISE_RECORD_RETENTION_DAYS"]) == ("Asia/Kolkata", "3", "400")
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Kolkatta'"):
        StackConfig(default_zone="Asia/Kolkatta")


def test_the_bucket_is_private_encrypted_and_tls_only(template):
    (bucket,) = of_type(template, "AWS::S3::Bucket").values()
    p = bucket["Properties"]
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert p["PublicAccessBlockConfiguration"] == {
        k: True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    }
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def statements(t, role_prefix):
    (policy,) = [r["Properties"] for r in of_type(t, "AWS::IAM::Policy").values() if r["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def test_summaries_role_is_least_privilege(template):
    st = statements(template, "AggregateSummariesRole")
    assert set(st) == {
        "WriteItsOwnLogs",
        "PublishRunResults",
        "ReadTheTable",
        "BatchWriteItemOnItsItems",
        "PutItemOnItsItems",
        "DeleteItemOnItsItems",
        "GetItemOnItsItems",
    }
    assert st["ReadTheTable"]["Action"] == "dynamodb:Query" and "Condition" not in st["ReadTheTable"]
    writes = {
        sid: (s["Action"], s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) for sid, s in st.items() if sid.endswith("OnItsItems")
    }
    # summaries, and markers for periods left out of time; leases, and the table's shard count (read, or stored when it has none)
    assert writes == {
        "BatchWriteItemOnItsItems": ("dynamodb:BatchWriteItem", ["SUM#*", "INVALIDATION"]),
        "PutItemOnItsItems": ("dynamodb:PutItem", ["LEASE#*", "SETTINGS"]),
        "DeleteItemOnItsItems": ("dynamodb:DeleteItem", ["LEASE#*", "INVALIDATION"]),
        "GetItemOnItsItems": ("dynamodb:GetItem", ["SETTINGS"]),
    }
    for sid in writes:
        assert st[sid]["Resource"]["Fn::GetAtt"][1] == "Arn" and st[sid]["Resource"]["Fn::GetAtt"][0].startswith("Table")
    assert st["WriteItsOwnLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert st["WriteItsOwnLogs"]["Resource"]["Fn::GetAtt"][0].startswith("AggregateSummariesLogs")
    assert st["PublishRunResults"]["Action"] == "sns:Publish" and st["PublishRunResults"]["Resource"]["Ref"].startswith("ResultsTopic")


def resources(statement):
    rs = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return [r["Fn::Join"][1][1] if "Fn::Join" in r else r for r in rs]


def test_merge_role_is_least_privilege(template):
    st = statements(template, "MergeRunsRole")
    assert set(st) == {
        "WriteItsOwnLogs",
        "PublishRunResults",
        "ListRawFilesAndAggregates",
        "ReadRawFilesAndAggregates",
        "WriteAggregatesArchiveQuarantine",
        "DeleteArchivedRawFiles",
    }
    listing = st["ListRawFilesAndAggregates"]
    assert listing["Action"] == "s3:ListBucket" and listing["Condition"] == {
        "StringLike": {"s3:prefix": ["runs/", "runs/raw/", "runs/records/*", "runs/windows/*"]}
    }
    assert resources(st["ReadRawFilesAndAggregates"]) == [
        "/runs/raw/*",
        "/runs/????????t????Z.json",
        "/runs/archive/*",
        "/runs/records/*",
        "/runs/windows/*",
    ]
    assert resources(st["WriteAggregatesArchiveQuarantine"]) == [
        "/runs/????????t????Z.json",
        "/runs/archive/*",
        "/runs/quarantine/*",
        "/runs/records/*",
        "/runs/windows/*",
    ]
    assert st["DeleteArchivedRawFiles"]["Action"] == "s3:DeleteObject" and resources(st["DeleteArchivedRawFiles"]) == ["/runs/raw/*"]


def test_a_custom_raw_prefix_and_root_reach_the_role_and_the_environment(tmp_path_factory):
    """The layout module is the one source of the bucket's prefixes, for the job and for its role."""
    t = synth(tmp_path_factory, runs_root="results", raw_prefix="results/")
    st = statements(t, "MergeRunsRole")
    assert st["ListRawFilesAndAggregates"]["Condition"] == {"StringLike": {"s3:prefix": ["results/", "results/records/*", "results/windows/*"]}}
    assert resources(st["DeleteArchivedRawFiles"]) == ["/results/*"]
    env = function(t, "rollwise.handlers.merge_runs.lambda_handler")["Environment"]["Variables"]
    assert (env["ROLLWISE_RUNS_ROOT"], env["ROLLWISE_RAW_PREFIX"]) == ("results", "results/")


def test_no_wildcard_actions_or_resources(template, fanout):
    for t in (template, fanout):
        for name, r in of_type(t, "AWS::IAM::Policy").items():
            for s in r["Properties"]["PolicyDocument"]["Statement"]:
                actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                assert all(a != "*" and not a.endswith(":*") for a in actions), (name, s)
                assert s["Resource"] != "*" and "*" not in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]), (name, s)
        for r in of_type(t, "AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in r["Properties"]


def test_alarms_notify_the_topic(template):
    props = [r["Properties"] for r in of_type(template, "AWS::CloudWatch::Alarm").values()]
    got = sorted(
        (p["MetricName"], p.get("Namespace"), p["Threshold"], p["ComparisonOperator"], p["EvaluationPeriods"], p.get("TreatMissingData"))
        for p in props
    )
    assert got == sorted(
        [
            ("Errors", "AWS/Lambda", 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            ("Errors", "AWS/Lambda", 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            ("Duration", "AWS/Lambda", 240000, "GreaterThanThreshold", 1, "notBreaching"),
            ("Duration", "AWS/Lambda", 240000, "GreaterThanThreshold", 1, "notBreaching"),
            ("FilesQuarantined", "rollwise", 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            ("ArchiveFailures", "rollwise", 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            ("OldestPendingSeconds", "rollwise", 1800, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            ("Invocations", "AWS/Lambda", 1, "LessThanThreshold", 6, "breaching"),
            ("5xx", "AWS/ApiGateway", 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching"),  # the read API's stage
        ]
    )
    for p in props:
        assert len(p["AlarmActions"]) == 1 and p["AlarmActions"][0]["Ref"].startswith("AlarmTopic")
        if p.get("Namespace") == "rollwise":
            assert p["Dimensions"] == [{"Name": "service", "Value": "rollwise-runs"}]


def test_fanout_drives_the_shards_from_step_functions(fanout):
    s = function(fanout, "rollwise.handlers.aggregate_summaries.lambda_handler")
    assert "ReservedConcurrentExecutions" not in s and s["Architectures"] == ["arm64"]
    (machine,) = of_type(fanout, "AWS::StepFunctions::StateMachine").values()
    body = machine["Properties"]["DefinitionString"]
    text = json.dumps(body)
    for piece in (
        '\\"action\\":\\"plan\\"',
        '\\"action\\":\\"shard\\"',
        '\\"action\\":\\"finalize\\"',
        '\\"MaxConcurrency\\":3',
        '\\"ItemsPath\\":\\"$.shards\\"',
    ):
        assert piece in text, piece
    nightly = [r["Properties"] for r in of_type(fanout, "AWS::Events::Rule").values() if r["Properties"]["ScheduleExpression"].startswith("cron")]
    assert nightly[0]["Targets"][0]["Arn"]["Ref"].startswith("SummariesFanOut")
    st = statements(fanout, "MergeRunsRole")
    assert resources(st["AbortBundleUploads"]) == ["/runs/archive/bundles/*"]


def test_the_fan_out_follows_the_volume_unless_set(template, tmp_path_factory):
    """The default volume (10 million a day) is more than one run gets through: the nightly rule starts the fan-out."""

    def nightly_target(t):
        (rule,) = [r["Properties"] for r in of_type(t, "AWS::Events::Rule").values() if r["Properties"]["ScheduleExpression"].startswith("cron")]
        return rule["Targets"][0]["Arn"]

    assert nightly_target(template)["Ref"].startswith("SummariesFanOut") and len(of_type(template, "AWS::StepFunctions::StateMachine")) == 1
    small = synth(tmp_path_factory, executions_per_day=1_000_000)
    assert "Fn::GetAtt" in nightly_target(small) and of_type(small, "AWS::StepFunctions::StateMachine") == {}
    assert function(small, "rollwise.handlers.aggregate_summaries.lambda_handler")["Environment"]["Variables"]["ROLLWISE_SHARDS"] == "1"
    from rollwise.summaries.capacity import records_per_shard

    with pytest.raises(
        ValueError,
        match=f"executions_per_day 10,000,000 needs the fan-out: one run of the summaries job gets through about "
        f"{int(records_per_shard(256)):,} executions",
    ):
        StackConfig(fanout=False)
    assert StackConfig.load(tmp_path_factory.mktemp("c") / "none.json", {"fanout": "auto", "executions_per_day": "2000000"}).summary_fanout


def test_cfn_lint_finds_no_errors(template, fanout, ingesting, tmp_path):
    from cfnlint.api import lint_all

    broken = lint_all(json.dumps({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python9"}}}}))
    assert any(m.rule.id.startswith("E") for m in broken)  # the linter does find errors

    for i, t in enumerate((template, fanout, ingesting)):
        path = tmp_path / f"template{i}.json"
        path.write_text(json.dumps(t.to_json()))
        matches = lint_all(path.read_text())
        # The China regions have no Cognito: there the API takes api_issuer (any OIDC issuer), said in docs/deploy.md.
        errors = [m for m in matches if m.rule.id.startswith("E") and not (m.rule.id == "E3006" and "AWS::Cognito::" in str(m) and "'cn-" in str(m))]
        assert errors == [], [str(m) for m in errors]


def test_the_merge_functions_memory_is_the_size_a_volume_needs(template, fanout):
    """128 MB by default; the size `rollwise runs capacity` prints when set."""
    merge = "rollwise.handlers.merge_runs.lambda_handler"
    assert (function(template, merge)["MemorySize"], function(fanout, merge)["MemorySize"]) == (128, 512)
    with pytest.raises(ValueError, match="merge_memory_mb must be from 128 to 10240"):
        StackConfig(merge_memory_mb=64)


def test_config_file_and_context(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"table_name": "existing", "fanout": False, "executions_per_day": 100_000}))
    config = StackConfig.load(tmp_path / "c.json", {"fanout": "true", "shards": "16"})
    assert (config.table_name, config.fanout, config.shards) == ("existing", True, 16)
    with pytest.raises(ValueError, match="unknown stack settings: tabel"):
        StackConfig.load(tmp_path / "c.json", {"tabel": "x"})
    with pytest.raises(ValueError, match="architecture must be"):
        StackConfig(architecture="sparc")
    with pytest.raises(ValueError, match="api_architecture must be"):
        StackConfig(api_architecture="sparc")


def test_existing_table_and_bucket_are_used_not_created(tmp_path_factory):
    t = synth(tmp_path_factory, table_name="prod-executions", bucket_name="sam-matching-out-runs")
    assert of_type(t, "AWS::DynamoDB::Table") == {} and of_type(t, "AWS::S3::Bucket") == {}
    st = statements(t, "AggregateSummariesRole")
    assert "table/prod-executions" in json.dumps(st["ReadTheTable"]["Resource"])
    assert "sam-matching-out-runs" in json.dumps(statements(t, "MergeRunsRole")["DeleteArchivedRawFiles"]["Resource"])


def as_list(value):
    return value if isinstance(value, list) else [value]


STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/workflows/stream/2026-01-01T00:00:00.000"


@pytest.fixture(scope="module")
def ingesting(tmp_path_factory):
    return synth(tmp_path_factory, source_stream_arn=STREAM, ingest_batch_size=50, ingest_max_retries=3)


def test_no_ingest_function_without_a_source_stream(template):
    assert [fn for fn in of_type(template, "AWS::Lambda::Function").values() if fn["Properties"]["Handler"] == INGEST_HANDLER] == []
    assert of_type(template, "AWS::Lambda::EventSourceMapping") == {} and of_type(template, "AWS::SQS::Queue") == {}


def test_the_ingest_function_takes_the_source_stream_with_partial_batch_failures(ingesting):
    fn = function(ingesting, INGEST_HANDLER)
    env = fn["Environment"]["Variables"]
    assert (fn["MemorySize"], fn["Timeout"]) == (256, 300)
    assert (env[variable(IngestSettings, "mapping")], env[variable(IngestSettings, "on_remove")]) == ("geek-cafe", "ignore")
    assert variable(SummariesSettings, "table") in env and env[variable(SummariesSettings, "shards")] == "8"
    (mapping,) = [m["Properties"] for m in of_type(ingesting, "AWS::Lambda::EventSourceMapping").values()]
    assert mapping["EventSourceArn"] == STREAM
    assert (mapping["BatchSize"], mapping["BisectBatchOnFunctionError"], mapping["MaximumRetryAttempts"], mapping["StartingPosition"]) == (
        50,
        True,
        3,
        "LATEST",
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (queue,) = of_type(ingesting, "AWS::SQS::Queue")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue, "Arn"]}


def test_the_ingest_role_reads_that_stream_only_and_writes_only_records_locators_and_markers(ingesting):
    (policy,) = [
        r["Properties"] for r in of_type(ingesting, "AWS::IAM::Policy").values() if r["Properties"]["Roles"][0]["Ref"].startswith("IngestStreamRole")
    ]
    every = policy["PolicyDocument"]["Statement"]
    st = {s["Sid"]: s for s in every if "Sid" in s}
    stream = st["ReadTheSourceStream"]
    assert sorted(as_list(stream["Action"])) == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ]
    assert stream["Resource"] == STREAM
    assert st["BatchGetItemOnItsItems"]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LOC#*"]}}
    assert st["BatchWriteItemOnItsItems"]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["REC#*", "LOC#*", "INVALIDATION"]}}
    for sid in ("GetItemOnItsItems", "PutItemOnItsItems", "QueryOnItsItems"):  # the table's settings only: shard count, zones
        assert st[sid]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SETTINGS"]}}
    assert {sid for sid in st if sid.endswith("OnItsItems")} == {
        "BatchGetItemOnItsItems",
        "BatchWriteItemOnItsItems",
        "GetItemOnItsItems",
        "PutItemOnItsItems",
        "QueryOnItsItems",
    }
    flat = json.dumps(every)
    assert "dynamodb:Scan" not in flat and '"*"' not in flat
    assert [s["Sid"] for s in every if "dynamodb:Query" in as_list(s["Action"])] == ["QueryOnItsItems"]
    sends = [s for s in every if "sqs:SendMessage" in as_list(s["Action"])]
    assert len(sends) == 1 and sends[0]["Resource"]["Fn::GetAtt"][0].startswith("IngestFailures")


def test_glue_tables_over_records_and_windows_with_partition_projection(template):
    (db,) = of_type(template, "AWS::Glue::Database").values()
    assert db["Properties"]["DatabaseInput"]["Name"] == "rollwise"
    tables = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"] for t in of_type(template, "AWS::Glue::Table").values()}
    assert set(tables) == {"records", "windows"}
    for name, columns in (("records", RECORD_COLUMNS), ("windows", WINDOW_COLUMNS)):
        t = tables[name]
        assert [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]] == list(columns)
        assert t["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": "the day the window starts (UTC)"}]
        p = t["Parameters"]
        assert (p["projection.enabled"], p["projection.dt.type"], p["projection.dt.format"]) == ("true", "date", "yyyy-MM-dd")
        template_text = json.dumps(p["storage.location.template"])
        assert f"/runs/{name}/dt=${{dt}}/" in template_text
        assert t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_sql_tables_can_be_left_out(tmp_path_factory):
    t = synth(tmp_path_factory, sql_tables=False)
    assert of_type(t, "AWS::Glue::Table") == {} and of_type(t, "AWS::Glue::Database") == {}
    off = synth(tmp_path_factory, records_output=False)
    assert of_type(off, "AWS::Glue::Table") == {}
    assert function(off, "rollwise.handlers.merge_runs.lambda_handler")["Environment"]["Variables"]["ROLLWISE_RECORDS_OUTPUT"] == "false"


def test_a_stream_arn_that_is_not_one_is_refused():
    with pytest.raises(ValueError, match="source_stream_arn must be a DynamoDB stream ARN"):
        StackConfig(source_stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/workflows")


def test_the_read_api_is_an_http_api_behind_a_jwt_authorizer(template, tmp_path_factory):
    fn = function(template, "rollwise.handlers.api.lambda_handler")
    assert (fn["MemorySize"], fn["Timeout"], fn["Architectures"]) == (256, 300, ["arm64"])
    jobs = function(template, "rollwise.handlers.aggregate_summaries.lambda_handler")
    assert jobs["Architectures"] == ["x86_64"] and fn["Code"]["S3Key"] != jobs["Code"]["S3Key"]  # its own arm64 asset
    env = fn["Environment"]["Variables"]
    assert env["ROLLWISE_API_TENANT_CLAIM"] == "custom:tenant_id" and env["ROLLWISE_API_ADMIN_GROUP"] == "rollwise-admin"
    assert "ROLLWISE_API_JWKS" not in env  # the authorizer verifies: the app checks the claims
    (authorizer,) = of_type(template, "AWS::ApiGatewayV2::Authorizer").values()
    jwt_config = authorizer["Properties"]["JwtConfiguration"]
    assert authorizer["Properties"]["AuthorizerType"] == "JWT" and authorizer["Properties"]["IdentitySource"] == ["$request.header.Authorization"]
    assert "cognito-idp" in json.dumps(jwt_config["Issuer"]) and jwt_config["Audience"][0]["Ref"].startswith("ApiUsersApiClient")
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in of_type(template, "AWS::ApiGatewayV2::Route").values()}
    assert routes["$default"]["AuthorizationType"] == "JWT" and routes["GET /v1/openapi.json"]["AuthorizationType"] == "NONE"
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}
    assert '"status":"$context.status"' in stage["Properties"]["AccessLogSettings"]["Format"]
    (api,) = of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]  # no origins configured: no browser may call it
    (policy,) = [
        r["Properties"] for r in of_type(template, "AWS::IAM::Policy").values() if r["Properties"]["Roles"][0]["Ref"].startswith("ReadApiRole")
    ]
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in as_list(s["Action"])}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sns:Publish",
        "dynamodb:Query",
        "dynamodb:GetItem",
        "s3:ListBucket",
        "s3:GetObject",
    }


def test_every_instance_of_the_read_api_signs_cursors_with_the_key_the_stack_generates(template):
    """A random key per instance would refuse a page's cursor whenever the next page reaches another instance:
    the key is a secret the stack generates, resolved into the environment by CloudFormation (no request at a cold start)."""
    from rollwise.api.settings import ApiSettings

    ((secret_id, secret),) = of_type(template, "AWS::SecretsManager::Secret").items()
    assert secret["Properties"]["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 64}
    env = function(template, "rollwise.handlers.api.lambda_handler")["Environment"]["Variables"]
    reference = env[variable(ApiSettings, "cursor_secret")]
    assert reference == {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]}


def test_the_read_api_takes_any_oidc_issuer_cors_and_throttling_from_config(tmp_path_factory):
    t = synth(
        tmp_path_factory,
        api_issuer="https://login.example.com/",
        api_audience="rollwise",
        api_cors_origins="https://app.example.com",
        api_throttle_rate=5,
        api_throttle_burst=10,
    )
    (authorizer,) = of_type(t, "AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["JwtConfiguration"] == {"Audience": ["rollwise"], "Issuer": "https://login.example.com/"}
    assert not of_type(t, "AWS::Cognito::UserPool")
    (api,) = of_type(t, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["CorsConfiguration"]["AllowOrigins"] == ["https://app.example.com"]
    (stage,) = of_type(t, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5}
    assert not of_type(synth(tmp_path_factory, api=False), "AWS::ApiGatewayV2::Api")
    with pytest.raises(ValueError, match="api_issuer and api_audience go together"):
        StackConfig(api_issuer="https://login.example.com/")


def test_the_read_api_runs_on_arm64_from_its_own_asset_unless_the_jobs_do_too():
    from rollwise_infra.config import ROOT

    assert StackConfig().api_asset_path == ROOT / "build" / "lambda" / "arm64" != StackConfig().asset_path
    assert StackConfig().asset_paths == [ROOT / "build" / "lambda" / "x86_64", ROOT / "build" / "lambda" / "arm64"]
    assert StackConfig(architecture="arm64").asset_paths == [ROOT / "build" / "lambda" / "arm64"]  # one asset, shared
    assert StackConfig(api=False).asset_paths == [ROOT / "build" / "lambda" / "x86_64"]
    assert StackConfig(api_architecture="x86_64", asset_dir="/a").api_asset_path == Path("/a")
