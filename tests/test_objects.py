"""The object-store seam on a local folder, in memory and on S3 (moto server over HTTP)."""

import uuid

import pytest
from runs_helpers import FaultyStore, open_store

from rollwise import objects
from rollwise.config import AwsSettings


@pytest.fixture(params=["local", "memory", "s3"])
def store(request, tmp_path, monkeypatch):
    from conftest import make_runs_url

    return open_store(make_runs_url(request.param, request, tmp_path, monkeypatch))


def test_create_only_if_absent_and_replace_only_if_unchanged(store):
    e1 = objects.create(store, "runs/a.json", b"1")
    with pytest.raises(objects.AlreadyExists, match="runs/a.json already exists"):
        objects.create(store, "runs/a.json", b"2")
    e2 = objects.replace(store, "runs/a.json", b"2", e1)
    assert objects.read(store, "runs/a.json").data == b"2" and e2 != e1
    with pytest.raises(objects.PreconditionFailed):
        objects.replace(store, "runs/a.json", b"3", e1)
    assert objects.read(store, "runs/a.json") == objects.Blob("runs/a.json", b"2", e2)


def test_reading_what_may_be_missing(store):
    assert objects.read_if_exists(store, "runs/nothing.json") is None
    with pytest.raises(objects.NotFound):
        objects.read(store, "runs/nothing.json")
    objects.write(store, "runs/here.json", b"x")
    assert objects.exists(store, "runs/here.json").size == 1
    assert objects.exists(store, "runs/her") is None and objects.exists(store, "runs/here.jso") is None


def test_a_denied_read_of_a_missing_key_is_missing_and_of_a_present_key_is_denied(store):
    """S3 answers 403 for a missing key when listing it is not allowed: the seam tells the two apart by listing."""
    objects.write(store, "runs/present.json", b"x")
    denied = FaultyStore(store, lambda name, args: objects.PermissionDenied(f"get {args[0]} was denied", args[0], "get") if name == "get" else None)
    assert objects.read_if_exists(denied, "runs/absent.json") is None
    with pytest.raises(objects.PermissionDenied, match="get runs/present.json was denied"):
        objects.read_if_exists(denied, "runs/present.json")
    no_listing = FaultyStore(store, lambda name, args: objects.PermissionDenied("denied", None, name) if name in ("get", "list") else None)
    with pytest.raises(objects.PermissionDenied, match="listing to tell whether it exists was denied too"):
        objects.read_if_exists(no_listing, "runs/absent.json")


def test_copy_and_delete_many_give_each_key_its_outcome(store):
    for i in range(3):
        objects.write(store, f"runs/raw/{i}.json", b"x")
    copied = objects.copy_many(store, [(f"runs/raw/{i}.json", f"runs/archive/{i}.json") for i in range(4)], concurrency=2)
    assert sorted(copied.done) == [f"runs/raw/{i}.json" for i in range(3)] and copied.gone == ["runs/raw/3.json"] and copied.failed == {}
    deleted = objects.delete_many(store, [f"runs/raw/{i}.json" for i in range(3)])
    assert sorted(deleted.done) == [f"runs/raw/{i}.json" for i in range(3)]
    assert [m.key for m in objects.list_objects(store, "runs/raw/")] == []


def test_a_missing_bucket_is_named_without_a_transport_dump(moto_server):
    store = objects.open_store(f"s3://missing-{uuid.uuid4().hex[:8]}", AwsSettings(endpoint_url=moto_server.url))
    for call in (lambda: objects.read_if_exists(store, "runs/x.json"), lambda: list(objects.list_objects(store, "runs/raw/"))):
        with pytest.raises(objects.BucketNotFound) as info:
            call()
        message = str(info.value)
        assert "does not exist" in message and "<?xml" not in message and "Debug" not in message and "\n" not in message


def test_read_only_use_never_makes_a_folder(tmp_path):
    with pytest.raises(objects.BucketNotFound, match="does not exist"):
        objects.open_store(f"file://{tmp_path / 'nope'}")
    assert not (tmp_path / "nope").exists()
    objects.open_store(f"file://{tmp_path / 'yes'}", create=True)
    assert (tmp_path / "yes").is_dir()


def test_unsupported_urls():
    with pytest.raises(ValueError, match="is not supported"):
        objects.open_store("ftp://host/x")
    with pytest.raises(ValueError, match="names no bucket"):
        objects.open_store("s3://")
