"""The stack as CloudFormation creates it: synthesized with the real asset, deployed to moto server."""

from __future__ import annotations

import io
import json
import os
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
BOOTSTRAP_VERSION = "21"  # what `cdk bootstrap` writes to /cdk-bootstrap/hnb659fds/version


@dataclass
class Deployment:
    name: str
    template: dict
    physical: dict[str, str]  # logical id -> physical id
    endpoint: str

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def of_type(self, kind: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def function(self, handler: str) -> dict:
        (logical,) = [k for k, v in self.of_type("AWS::Lambda::Function").items() if v["Properties"]["Handler"] == handler]
        return self.client("lambda").get_function(FunctionName=self.physical[logical])["Configuration"]

    def role_statements(self, handler: str) -> list[dict]:
        """The function's role policy as IAM holds it: the template's statements, intrinsics resolved by CloudFormation."""
        iam = self.client("iam")
        role = self.function(handler)["Role"].rsplit("/", 1)[-1]
        return [
            s
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
            for s in iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]
        ]

    def output(self, key: str) -> str:
        (stack,) = self.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"]
        return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == key)


SDK_SUMMARIES_TABLE = "workflows-sdk-deployed"  # the workflow SDK's table the fan-out stack writes summaries into


def deploy(endpoint: str, asset: Path, outdir: Path, **settings) -> Deployment:
    """Synthesize, lay the assets out as `cdk bootstrap`'s bucket holds them, create the stack, wait."""
    import aws_cdk as cdk

    from rollwise_infra.config import StackConfig
    from rollwise_infra.stack import RollwiseStack

    name = f"rollwise-{uuid.uuid4().hex[:6]}"
    app = cdk.App(outdir=str(outdir))
    settings.setdefault("api_asset_dir", str(asset))  # one local build serves both architectures' functions here
    RollwiseStack(app, name, StackConfig(stack_name=name, asset_dir=str(asset), **settings))
    app.synth()
    template = json.loads((outdir / f"{name}.template.json").read_text())
    manifest = json.loads((outdir / f"{name}.assets.json").read_text())
    kw = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    s3 = boto3.client("s3", **kw)
    for entry in manifest["files"].values():
        (destination,) = entry["destinations"].values()
        bucket = destination["bucketName"].replace("${AWS::AccountId}", "123456789012").replace("${AWS::Region}", "us-east-1")
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        source = outdir / entry["source"]["path"]
        if entry["source"].get("packaging") == "zip":
            data = io.BytesIO()
            with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(source.rglob("*")):
                    if f.is_file():
                        z.write(f, f.relative_to(source).as_posix())
            body = data.getvalue()
        else:
            body = source.read_bytes()
        s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)
    ssm = boto3.client("ssm", **kw)
    ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True)
    cfn = boto3.client("cloudformation", **kw)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    for _ in range(120):
        (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.5)
    assert stack["StackStatus"] == "CREATE_COMPLETE", (stack["StackStatus"], stack.get("StackStatusReason"))
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        if r.get("LogicalResourceId")
    }
    return Deployment(name, template, physical, endpoint)
