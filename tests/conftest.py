from __future__ import annotations

import os
import uuid

import pytest

# Credentials for the emulators only; never a real account.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_k] = _v
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("ROLLWISE_STORE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "rollwise-tests")

from emulators import start_dynalite, start_moto  # noqa: E402


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Import checkpoints in the test's own folder, never in the user's ~/.local/state."""
    monkeypatch.setenv("ROLLWISE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture(scope="session")
def moto_server():
    emu = start_moto()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def dynalite():
    emu = start_dynalite()
    yield emu
    emu.stop()


@pytest.fixture
def gateway(moto_server):
    """A recording gateway in front of moto server; set ``gateway.decide`` to deny or cut requests."""
    from gateway import Gateway

    gw = Gateway(moto_server.url)
    yield gw
    gw.stop()


def dynamodb_client(endpoint: str):
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(params=["sqlite", "moto", "dynalite"])
def summary_store(request, tmp_path):
    """A fresh summaries store on each backend."""
    return make_summary_store(request.param, request, tmp_path)


def make_summary_store(kind: str, request, tmp_path, shards: int = 4):
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


@pytest.fixture(params=["local", "s3"])
def runs_url(request, tmp_path, monkeypatch):
    """A fresh runs store: a local folder, or a bucket on moto server reached over HTTP."""
    return make_runs_url(request.param, request, tmp_path, monkeypatch)


def make_runs_url(kind: str, request, tmp_path, monkeypatch) -> str:
    if kind == "local":
        return f"file://{tmp_path / 'bucket'}"
    if kind == "memory":
        return "memory://"
    import boto3

    if kind == "s3-strict":  # moto behind a gateway holding S3's preconditions (tests/s3_preconditions.py)
        from s3_preconditions import S3Preconditions

        gateway = request.getfixturevalue("gateway")
        request.node.preconditions = S3Preconditions(gateway)
        monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
        bucket = f"runs-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=gateway.url, region_name="us-east-1").create_bucket(Bucket=bucket)
        return f"s3://{bucket}"

    moto = request.getfixturevalue("moto_server")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    bucket = f"runs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}"
