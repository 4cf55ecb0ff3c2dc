"""Fixtures of the deploy tests: the Lambda asset, and the stack deployed to moto server's CloudFormation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.assets import lambda_asset as lambda_asset_of
from support.deployment import SDK_SUMMARIES_TABLE, Deployment, deploy


@pytest.fixture(scope="session")
def lambda_asset() -> Path:
    """`make package` for this machine's architecture: what the functions run."""
    return lambda_asset_of("x86_64" if os.uname().machine == "x86_64" else "arm64")


@pytest.fixture(scope="session")
def deployed(moto_server, lambda_asset, tmp_path_factory) -> Deployment:
    """One function runs the whole night (no fan-out: a volume one run gets through), over 8 shards."""
    return deploy(moto_server.url, lambda_asset, tmp_path_factory.mktemp("cdk.out"), fanout=False, executions_per_day=1_000_000, shards=8)


@pytest.fixture(scope="session")
def deployed_fanout(moto_server, lambda_asset, tmp_path_factory) -> Deployment:
    """The other options: the fan-out, bundles, and stream ingest from a workflow table's stream."""
    import boto3

    from support.workflow_sdk import create_table

    client = boto3.client("dynamodb", endpoint_url=moto_server.url, region_name="us-east-1")
    stream = create_table(client, "workflows-deployed")
    return deploy(
        moto_server.url,
        lambda_asset,
        tmp_path_factory.mktemp("cdk.out"),
        fanout=True,
        archive_mode="bundle",
        source_stream_arn=stream,
        sdk_summaries_table=SDK_SUMMARIES_TABLE,
    )
