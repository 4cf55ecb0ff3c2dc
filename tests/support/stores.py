"""Fresh stores for a test, each on its own table or bucket of the run's shared emulators."""

from __future__ import annotations

import uuid


def dynamodb_client(endpoint: str):
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def make_summary_store(kind: str, request, tmp_path, shards: int = 4):
    """A new summaries store: ``memory``, ``sqlite``, or a table of its own on ``moto`` server or ``dynalite``."""
    if kind == "memory":
        from rollwise.summaries.stores.memory import MemorySummaryStore

        store = MemorySummaryStore(shards=shards)
        assert store.create() is True and store.create() is False
        return store
    if kind == "sqlite":
        from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

        store = SQLiteSummaryStore(tmp_path / "summaries.db", shards=shards)
        assert store.create() is True
        return store
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    emu = request.getfixturevalue("moto_server" if kind == "moto" else "dynalite")
    store = DynamoDBSummaryStore(f"rollwise-{uuid.uuid4().hex[:12]}", shards=shards, client=dynamodb_client(emu.url))
    assert store.create() is True
    return store


def make_runs_url(kind: str, request, tmp_path, monkeypatch) -> str:
    """A new runs store: a ``local`` folder, ``memory``, or a bucket of its own on moto server (``s3``), or on moto
    behind a gateway holding S3's preconditions (``s3-strict``, tests/support/s3_preconditions.py)."""
    if kind == "local":
        return f"file://{tmp_path / 'bucket'}"
    if kind == "memory":
        return "memory://"
    import boto3

    if kind == "s3-strict":
        from support.s3_preconditions import S3Preconditions

        gateway = request.getfixturevalue("gateway")
        request.node.preconditions = S3Preconditions(gateway)
        endpoint = gateway.url
    else:
        endpoint = request.getfixturevalue("moto_server").url
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    bucket = f"runs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}"
