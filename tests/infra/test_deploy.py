"""The synthesized stack, created by CloudFormation (moto server) from its template and its uploaded asset.

What came up is checked through each service's own API. Resource types moto's
CloudFormation accepts but does not create are checked in the template
instead (tests/infra/test_stack.py: the bucket and topic policies, the
alarms); ``NOT_CREATED_BY_MOTO`` names them, and the first test fails if that
list is wrong either way.
"""

import io
import json
import zipfile

import pytest

from rollwise.config import variable
from rollwise.handlers import INGEST_HANDLER, RUNS_HANDLER, SUMMARIES_HANDLER
from rollwise.handlers.common import HandlerSettings
from rollwise.runs.settings import MergeSettings
from rollwise.summaries.settings import SummariesSettings
from rollwise.summaries.stores.dynamodb_layout import TTL_ATTRIBUTE, table_definition

pytestmark = pytest.mark.slow  # a deploy test: CloudFormation creates the stack on moto server

NOT_CREATED_BY_MOTO = {
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    # moto's CloudFormation has no HTTP API or Cognito resources: the template tests check them
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    # nor Secrets Manager's: the function gets the reference unresolved, the same text in every instance,
    # which is what test_iam's cursor test needs (CloudFormation puts the generated key there)
    "AWS::SecretsManager::Secret",
}


def test_every_resource_is_created_but_those_moto_skips(deployed):
    created = {deployed.template["Resources"][k]["Type"] for k in deployed.physical if k in deployed.template["Resources"]}
    declared = {v["Type"] for v in deployed.template["Resources"].values()}
    assert declared - created == NOT_CREATED_BY_MOTO


def test_the_functions_as_lambda_holds_them(deployed, lambda_asset):
    summaries, merge = deployed.function(SUMMARIES_HANDLER), deployed.function(RUNS_HANDLER)
    for fn in (summaries, merge):
        assert (fn["Runtime"], fn["Timeout"], fn["Architectures"]) == ("python3.13", 300, ["x86_64"])
    assert summaries["MemorySize"] == 256 and merge["MemorySize"] == 128 and merge["EphemeralStorage"] == {"Size": 512}
    s_env, m_env = summaries["Environment"]["Variables"], merge["Environment"]["Variables"]
    assert s_env[variable(SummariesSettings, "table")] == deployed.output("TableName")
    assert s_env[variable(SummariesSettings, "shards")] == "8"
    assert m_env[variable(MergeSettings, "bucket")] == deployed.output("BucketName") and m_env[variable(MergeSettings, "root")] == "runs"
    for env in (s_env, m_env):
        assert env[variable(HandlerSettings, "notify_topic_arn")] == deployed.output("ResultsTopicArn")
        assert env[variable(HandlerSettings, "metrics_namespace")] == "rollwise"
    assert "ReservedConcurrentExecutions" not in json.dumps(deployed.template)
    # the code Lambda got is the asset `make package` built, as `cdk bootstrap`'s bucket holds it
    code = deployed.client("lambda").get_function(FunctionName=merge["FunctionName"])["Code"]
    assert code.get("RepositoryType") == "S3" or "Location" in code
    (logical,) = [k for k, v in deployed.of_type("AWS::Lambda::Function").items() if v["Properties"]["Handler"] == RUNS_HANDLER]
    s3_code = deployed.template["Resources"][logical]["Properties"]["Code"]
    bucket = s3_code["S3Bucket"]["Fn::Sub"].replace("${AWS::AccountId}", "123456789012").replace("${AWS::Region}", "us-east-1")
    body = deployed.client("s3").get_object(Bucket=bucket, Key=s3_code["S3Key"])["Body"].read()
    names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert "rollwise/handlers/merge_runs.py" in names and "rollwise/handlers/__pycache__/merge_runs.cpython-313.pyc" in names
    assert names == {f.relative_to(lambda_asset).as_posix() for f in lambda_asset.rglob("*") if f.is_file()}


def test_the_two_schedules_target_their_functions(deployed):
    events = deployed.client("events")
    rules = {r["Name"]: r for r in events.list_rules()["Rules"] if r["Name"].startswith(deployed.name)}
    by_expression = {r["ScheduleExpression"]: r for r in rules.values()}
    assert set(by_expression) == {"cron(0 * * * ? *)", "rate(5 minutes)"}
    targets = {e: [t["Arn"] for t in events.list_targets_by_rule(Rule=r["Name"])["Targets"]] for e, r in by_expression.items()}
    assert targets["cron(0 * * * ? *)"] == [deployed.function(SUMMARIES_HANDLER)["FunctionArn"]]
    assert targets["rate(5 minutes)"] == [deployed.function(RUNS_HANDLER)["FunctionArn"]]
    assert all(r["State"] == "ENABLED" for r in rules.values())


def test_the_table_has_the_stores_keys_and_indexes(deployed):
    table = deployed.client("dynamodb").describe_table(TableName=deployed.output("TableName"))["Table"]
    want = table_definition("x")
    assert table["KeySchema"] == want["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(want["AttributeDefinitions"], key=str)
    assert sorted((i["IndexName"], json.dumps(i["KeySchema"]), i["Projection"]["ProjectionType"]) for i in table["GlobalSecondaryIndexes"]) == sorted(
        (i["IndexName"], json.dumps(i["KeySchema"]), i["Projection"]["ProjectionType"]) for i in want["GlobalSecondaryIndexes"]
    )
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # moto's CloudFormation creates the table without applying TimeToLiveSpecification (AWS applies it): the
    # deployed stack's own template is what says TTL is on, on the attribute records and locators carry
    body = deployed.client("cloudformation").get_template(StackName=deployed.name)["TemplateBody"]
    body = json.loads(body) if isinstance(body, str) else body
    (spec,) = [r["Properties"]["TimeToLiveSpecification"] for r in body["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert spec == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_the_topics_and_the_bucket(deployed):
    topics = {t["TopicArn"] for t in deployed.client("sns").list_topics()["Topics"]}
    assert {deployed.output("AlarmTopicArn"), deployed.output("ResultsTopicArn")} <= topics
    s3 = deployed.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=deployed.output("BucketName"))["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's CloudFormation ignores PublicAccessBlockConfiguration: test_stack.py checks it in the template


def test_with_the_fan_out_the_state_machine_drives_the_shards(deployed_fanout):
    sfn = deployed_fanout.client("stepfunctions")
    (logical,) = deployed_fanout.of_type("AWS::StepFunctions::StateMachine")
    machine_arn = deployed_fanout.physical[logical]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"])
    assert set(definition["States"]) == {"Plan", "EachShard", "Finalize"} and definition["StartAt"] == "Plan"
    shard = definition["States"]["EachShard"]
    assert shard["Type"] == "Map" and shard["MaxConcurrency"] == 4 and shard["ItemsPath"] == "$.shards"
    function_arn = deployed_fanout.function(SUMMARIES_HANDLER)["FunctionArn"]
    steps = {
        "Plan": definition["States"]["Plan"],
        "Finalize": definition["States"]["Finalize"],
        "AggregateShard": shard["ItemProcessor"]["States"]["AggregateShard"],
    }
    assert {name: (s["Resource"], s["Parameters"]["action"]) for name, s in steps.items()} == {
        "Plan": (function_arn, "plan"),
        "AggregateShard": (function_arn, "shard"),
        "Finalize": (function_arn, "finalize"),
    }
    assert definition["States"]["Plan"]["Next"] == "EachShard" and shard["Next"] == "Finalize"
    events = deployed_fanout.client("events")
    nightly = [r for r in events.list_rules()["Rules"] if r["Name"].startswith(deployed_fanout.name) and r["ScheduleExpression"].startswith("cron")]
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=nightly[0]["Name"])["Targets"]] == [machine_arn]


def test_the_ingest_function_is_subscribed_to_the_source_stream(deployed_fanout):
    created = {deployed_fanout.template["Resources"][k]["Type"] for k in deployed_fanout.physical if k in deployed_fanout.template["Resources"]}
    assert {"AWS::Lambda::EventSourceMapping", "AWS::SQS::Queue"} <= created
    fn = deployed_fanout.function(INGEST_HANDLER)
    assert fn["MemorySize"] == 256 and fn["Environment"]["Variables"]["ROLLWISE_MAPPING"] == "geek-cafe"
    stream = deployed_fanout.client("dynamodb").describe_table(TableName="workflows-deployed")["Table"]["LatestStreamArn"]
    (mapping,) = deployed_fanout.client("lambda").list_event_source_mappings(FunctionName=fn["FunctionName"])["EventSourceMappings"]
    assert mapping["EventSourceArn"] == stream
    queue_url = deployed_fanout.output("IngestFailuresQueueUrl")
    queue_arn = deployed_fanout.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
