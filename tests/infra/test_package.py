"""The Lambda asset: only what the handlers import, compiled by the runtime's Python, for either architecture."""

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from support.assets import building
from support.runs import item, put

pytestmark = pytest.mark.slow  # a package test: the Lambda asset built and run on the runtime's Python

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PYTHON = ROOT / "build" / "runtime-python" / "python3.13"


def shipped(asset: Path) -> set[str]:
    """Top-level packages and modules of an asset (not dist-info)."""
    return {p.name.removesuffix(".py") for p in asset.iterdir() if not p.name.endswith(".dist-info") and p.name != "__pycache__"}


def test_package_builds_an_arm64_asset_without_docker():
    with building():  # the command as a user runs it, while no other test process writes under build/
        (ROOT / "build" / "lambda" / ".arm64.built-by").unlink(missing_ok=True)
        done = subprocess.run(["bash", str(ROOT / "scripts" / "package.sh"), "arm64"], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr
        out = ROOT / "build" / "lambda" / "arm64"
        assert list((out / "orjson").glob("orjson.cpython-313-aarch64-linux-gnu.so"))
        assert (out / "obstore" / "_obstore.abi3.so").exists() and list(out.glob("obstore-*.dist-info"))
        # the read API's validation (pydantic) and cursors (PyJWT) ride in the one asset; the jobs never import them
        assert shipped(out) == {
            "rollwise",
            "aws_lambda_powertools",
            "ddsketch",
            "google",
            "obstore",
            "orjson",
            "typing_extensions",
            "pydantic",
            "pydantic_core",
            "annotated_types",
            "typing_inspection",
            "jwt",
        }
        for absent in ("typer", "rich", "pygments", "click", "boto3", "botocore", "pytest", "moto", "aws_cdk", "cfnlint"):
            assert not (out / absent).exists(), absent
        assert not (out / "rollwise" / "cli.py").exists() and not (out / "rollwise" / "demo.py").exists()  # no handler imports them


def test_every_module_is_compiled_for_the_runtime_and_never_checked_against_its_source(lambda_asset):
    sources = list(lambda_asset.rglob("*.py"))
    assert len(sources) > 300
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        header = compiled.read_bytes()[:16]
        # PEP 552: flags 0b01 is a hash-based .pyc that is not checked: /var/task is read-only, mtimes change in the zip
        assert int.from_bytes(header[4:8], "little") == 0b01, source


def test_the_handlers_run_from_the_asset_and_import_everything_it_holds(lambda_asset, moto_server, tmp_path):
    """A cold start on the runtime's Python: import each handler and run its first invocation (moto server);
    every package the asset holds is imported, and the handlers need nothing else but the runtime's boto3."""
    import boto3

    boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1").create_bucket(Bucket="cold-start")
    put(open_store_at(moto_server.url), "runs/raw/20240115t1301Z_a.json", item(1, 0.9))
    table = f"cold-{datetime.now(UTC):%H%M%S%f}"
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.stores import dynamodb_client

    DynamoDBSummaryStore(table, client=dynamodb_client(moto_server.url)).create()
    script = f"""
import json, sys
sys.path[:0] = [{str(lambda_asset)!r}, {str(ROOT / "build" / "runtime-python" / "sdk")!r}]
from rollwise.handlers import merge_runs, aggregate_summaries, ingest_stream, api
event = {{"time": "2024-01-15T13:20:00Z"}}
document = api.lambda_handler({{"version": "2.0", "rawPath": "/v1/openapi.json", "rawQueryString": "", "headers": {{}},
                                "requestContext": {{"http": {{"method": "GET", "path": "/v1/openapi.json", "sourceIp": "1.2.3.4"}},
                                                    "stage": "$default", "requestId": "r"}}}}, None)
assert document["statusCode"] == 200 and json.loads(document["body"])["openapi"].startswith("3.1"), document
tampered = api.lambda_handler({{"version": "2.0", "rawPath": "/v1/tenants/t1/summaries", "rawQueryString": "period=daily&cursor=x.y.z",
                                "queryStringParameters": {{"period": "daily", "cursor": "x.y.z"}}, "headers": {{}},
                                "requestContext": {{"http": {{"method": "GET", "path": "/v1/tenants/t1/summaries", "sourceIp": "1.2.3.4"}},
                                                    "stage": "$default", "requestId": "r",
                                                    "authorizer": {{"jwt": {{"claims": {{"custom:tenant_id": "t1"}}}}}}}}}}, None)
assert tampered["statusCode"] == 400 and "cursor" in tampered["body"], tampered
ingested = ingest_stream.lambda_handler(json.loads({json.dumps(STREAM_EVENT)!r}), None)
merged = merge_runs.lambda_handler(event, None)["body"]
summed = aggregate_summaries.lambda_handler(event, None)["body"]
used = sorted({{name.split(".")[0] for name, m in list(sys.modules.items())
               if (getattr(m, "__file__", None) or "").startswith({str(lambda_asset)!r})}})
print(json.dumps({{"ingested": ingested, "merged": merged["files_processed"], "summed": summed["errors"], "used": used,
                  "version": list(sys.version_info[:2])}}))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server.url,
        "SAM_MATCHING_OUT_RUNS_BUCKET": "cold-start",
        "DYNAMODB_TABLE_NAME": table,
    }
    done = subprocess.run([str(RUNTIME_PYTHON), "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["version"] == [3, 13] and report["merged"] == 1 and report["summed"] == []
    assert report["ingested"] == {"batchItemFailures": []}
    assert set(report["used"]) == shipped(lambda_asset)


def test_the_read_api_answers_without_importing_boto3(lambda_asset, moto_server):
    """The stores' DynamoDB client comes from botocore's session: boto3 and s3transfer are a cold start's import
    (about 20 to 30 ms here) the read API has no use for."""
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.stores import dynamodb_client

    table = f"api-cold-{datetime.now(UTC):%H%M%S%f}"
    DynamoDBSummaryStore(table, client=dynamodb_client(moto_server.url)).create()
    script = f"""
import json, sys
sys.path[:0] = [{str(lambda_asset)!r}, {str(ROOT / "build" / "runtime-python" / "sdk")!r}]
from rollwise.handlers import api
path = "/v1/tenants/t1/usage"
query = {{"from": "2024-02-01", "to": "2024-02-03", "window": "day"}}
answer = api.lambda_handler({{"version": "2.0", "rawPath": path, "rawQueryString": "from=2024-02-01&to=2024-02-03&window=day",
                              "queryStringParameters": query, "headers": {{}},
                              "requestContext": {{"http": {{"method": "GET", "path": path, "sourceIp": "1.2.3.4"}}, "stage": "$default",
                                                  "requestId": "r", "authorizer": {{"jwt": {{"claims": {{"custom:tenant_id": "t1"}}}}}}}}}}, None)
sdk = sorted({{m.split(".")[0] for m in sys.modules}} & {{"boto3", "s3transfer", "botocore"}})
print(json.dumps({{"status": answer["statusCode"], "body": answer["body"][:300], "sdk": sdk}}))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server.url,
        "DYNAMODB_TABLE_NAME": table,
    }
    done = subprocess.run([str(RUNTIME_PYTHON), "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 200, report["body"]
    assert report["sdk"] == ["botocore"]


# One SDK execution item, as its table's stream delivers it.
STREAM_EVENT = {
    "Records": [
        {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/workflows/stream/2026-01-01T00:00:00.000",
            "dynamodb": {
                "SequenceNumber": "100",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "Keys": {"pk": {"S": "execution#e1"}, "sk": {"S": "execution"}},
                "NewImage": {
                    "pk": {"S": "execution#e1"},
                    "sk": {"S": "execution"},
                    "id": {"S": "e1"},
                    "root_id": {"S": "e1"},
                    "tenant_id": {"S": "acme"},
                    "user_id": {"S": "ann"},
                    "execution_type": {"S": "lambda"},
                    "status": {"S": "succeeded"},
                    "created_utc": {"S": "2024-01-14T10:00:00+00:00"},
                    "started_utc": {"S": "2024-01-14T10:00:01+00:00"},
                    "completed_utc": {"S": "2024-01-14T10:00:03+00:00"},
                    "duration_ms": {"N": "2000"},
                    "actual_profiles": {"N": "3"},
                },
            },
        }
    ]
}


def open_store_at(endpoint):
    from rollwise import objects
    from rollwise.config import AwsSettings

    return objects.open_store("s3://cold-start", AwsSettings(endpoint_url=endpoint))
