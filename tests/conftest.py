from __future__ import annotations

import os

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

from support.emulators import start_dynalite, start_moto  # noqa: E402
from support.stores import make_runs_url, make_summary_store  # noqa: E402


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
    from support.gateway import Gateway

    gw = Gateway(moto_server.url)
    yield gw
    gw.stop()


@pytest.fixture(params=["sqlite", "moto", "dynalite"])
def summary_store(request, tmp_path):
    """A fresh summaries store on each backend: 4 shards, or those of the test's ``shards`` marker."""
    marker = request.node.get_closest_marker("shards")
    return make_summary_store(request.param, request, tmp_path, **({"shards": marker.args[0]} if marker else {}))


@pytest.fixture(params=["local", "s3"])
def runs_url(request, tmp_path, monkeypatch):
    """A fresh runs store: a local folder, or a bucket on moto server reached over HTTP."""
    return make_runs_url(request.param, request, tmp_path, monkeypatch)


def pytest_addoption(parser):
    parser.addoption(
        "--dynamodb-emulator",
        choices=["both", "dynalite", "moto"],
        default="both",
        help="the DynamoDB emulator of tests that run on both: the fast lane (make check) keeps one, CI runs both",
    )


def _twin(item, emulator: str, nodeids: set[str]) -> bool:
    """A test's run on the other DynamoDB emulator, when the same test also runs on ``emulator``."""
    params = getattr(item, "callspec", None)
    other = {"dynalite": "moto", "moto": "dynalite"}[emulator]
    if params is None or not any(isinstance(v, str) and v == other for v in params.params.values()):
        return False
    twin = item.nodeid.replace(f"[{other}", f"[{emulator}").replace(f"-{other}", f"-{emulator}")
    return twin != item.nodeid and twin in nodeids


def pytest_collection_modifyitems(config, items):
    emulator = config.getoption("--dynamodb-emulator")
    if emulator != "both":
        nodeids = {item.nodeid for item in items}
        twins = [item for item in items if _twin(item, emulator, nodeids)]
        config.hook.pytest_deselected(items=twins)
        items[:] = [item for item in items if item not in twins]
    # The slow tests first (each takes up to a minute), so that pytest-xdist's workers finish together; the order
    # is otherwise kept, so that a module's tests (and its module-scoped fixtures) stay together.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
