"""The object-store seam on a local folder, in memory and on S3 (moto server over HTTP)."""

import uuid

import pytest

from rollwise import objects
from rollwise.config import AwsSettings
from support.runs import FaultyStore, open_store


@pytest.fixture(params=["local", "memory", "s3"])
def store(request, tmp_path, monkeypatch):
    from support.stores import make_runs_url

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


def test_delete_many_gives_each_key_its_outcome(store):
    for i in range(3):
        objects.write(store, f"runs/raw/{i}.json", b"x")
    deleted = objects.delete_many(store, [f"runs/raw/{i}.json" for i in range(3)])
    assert sorted(deleted.done) == [f"runs/raw/{i}.json" for i in range(3)]
    assert [m.key for m in objects.list_objects(store, "runs/raw/")] == []


def test_a_version_is_kept_where_absent_and_never_over_other_bytes(store):
    """What the archive writes: absent, written (with its attributes where the store keeps them); the same bytes
    again, a retry whose first answer was lost, succeed; other bytes leave what is there."""
    attributes = {"Content-Type": "application/json", "producer": "matcher-7"}
    assert objects.keep(store, "runs/archive/a.json", b'{"v": 1}', attributes) is True
    assert objects.keep(store, "runs/archive/a.json", b'{"v": 1}', attributes) is True
    assert objects.keep(store, "runs/archive/a.json", b'{"v": 2}', attributes) is False
    kept = objects.read(store, "runs/archive/a.json")
    assert kept.data == b'{"v": 1}'
    assert kept.attributes == ({} if store.root is not None else attributes)  # a local folder keeps no attributes


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


# -- preconditions: every read, copy and delete of a raw file names the version it means -------------
@pytest.fixture(params=["local", "memory", "s3-strict"])
def conditional_store(request, tmp_path, monkeypatch):
    """S3 behind a gateway holding S3's documented preconditions (moto ignores some of them)."""
    from support.stores import make_runs_url

    return open_store(make_runs_url(request.param, request, tmp_path, monkeypatch)), request


def _rewritten(store, key: str) -> tuple[str, str]:
    """The ETag of a first version, then of a second written over it."""
    first = objects.write(store, key, b'{"v": 1}')
    second = objects.write(store, key, b'{"v": 2, "again": true}')
    assert first != second
    return first, second


def _refused(request, kind: str) -> list:
    checked = getattr(request.node, "preconditions", None)
    return None if checked is None else [(k, key, status) for k, key, status in checked.refused if k == kind]


def test_a_read_of_a_changed_version_is_refused(conditional_store):
    store, request = conditional_store
    old, new = _rewritten(store, "runs/raw/a.json")
    with pytest.raises(objects.PreconditionFailed):
        objects.read_if_exists(store, "runs/raw/a.json", old)
    assert objects.read_if_exists(store, "runs/raw/a.json", new).data == b'{"v": 2, "again": true}'
    assert objects.read_if_exists(store, "runs/raw/gone.json", new) is None
    assert _refused(request, "get") in (None, [("get", "runs/raw/a.json", 412), ("get", "runs/raw/gone.json", 404)])


def test_a_copy_of_a_changed_version_is_refused_and_copies_nothing(conditional_store):
    store, request = conditional_store
    old, new = _rewritten(store, "runs/raw/a.json")
    with pytest.raises(objects.PreconditionFailed):
        objects.copy(store, "runs/raw/a.json", "runs/archive/a.json", old)
    assert objects.read_if_exists(store, "runs/archive/a.json") is None
    with pytest.raises(objects.NotFound):
        objects.copy(store, "runs/raw/gone.json", "runs/archive/gone.json", old)
    objects.copy(store, "runs/raw/a.json", "runs/archive/a.json", new)
    assert objects.read(store, "runs/archive/a.json").data == b'{"v": 2, "again": true}'
    objects.copy(store, "runs/raw/a.json", "runs/archive/a.json", new)  # again (a retry): the same outcome
    assert [m.key for m in objects.list_objects(store, "runs/archive/")] == ["runs/archive/a.json"]
    assert _refused(request, "copy") in (None, [("copy", "runs/raw/a.json", 412), ("copy", "runs/raw/gone.json", 404)])


def test_a_delete_of_a_changed_version_is_refused_one_by_one(conditional_store):
    """DeleteObject with If-Match: the new version stays, the version named is deleted."""
    store, request = conditional_store
    old, new = _rewritten(store, "runs/raw/a.json")
    assert store.delete(["runs/raw/a.json"], [old]).keys() == {"runs/raw/a.json"}
    assert isinstance(store.delete(["runs/raw/a.json"], [old])["runs/raw/a.json"], objects.PreconditionFailed)
    assert objects.read(store, "runs/raw/a.json").data == b'{"v": 2, "again": true}'
    assert store.delete(["runs/raw/a.json"], [new]) == {}
    assert isinstance(store.delete(["runs/raw/a.json"], [new])["runs/raw/a.json"], objects.NotFound)
    assert objects.read_if_exists(store, "runs/raw/a.json") is None
    assert _refused(request, "delete") in (None, [("delete", "runs/raw/a.json", 412)] * 2 + [("delete", "runs/raw/a.json", 404)])


def test_a_bulk_delete_deletes_the_versions_named_and_keeps_the_changed(conditional_store):
    """DeleteObjects with an ETag per object: one request, each key its own outcome."""
    store, request = conditional_store
    tags = {f"runs/raw/{i}.json": objects.write(store, f"runs/raw/{i}.json", b"1") for i in range(4)}
    tags["runs/raw/1.json"] = objects.write(store, "runs/raw/1.json", b"2") and tags["runs/raw/1.json"]  # 1 written again
    tags["runs/raw/gone.json"] = tags["runs/raw/0.json"]
    outcome = objects.delete_many(store, sorted(tags), tags)
    assert (sorted(outcome.done), outcome.changed, outcome.gone, outcome.failed) == (
        ["runs/raw/0.json", "runs/raw/2.json", "runs/raw/3.json"],
        ["runs/raw/1.json"],
        ["runs/raw/gone.json"],
        {},
    )
    assert [m.key for m in objects.list_objects(store, "runs/raw/")] == ["runs/raw/1.json"]
    assert objects.read(store, "runs/raw/1.json").data == b"2"
    if _refused(request, "delete_objects") is not None:
        assert _refused(request, "delete_objects") == [("delete_objects", "runs/raw/1.json", 412), ("delete_objects", "runs/raw/gone.json", 404)]
        assert [r.method for r in request.getfixturevalue("gateway").requests if "delete" in r.query] == ["POST"]  # one bulk request


def test_a_folder_delete_a_crash_cut_short_is_settled_later(tmp_path, monkeypatch):
    """A folder's conditional delete takes the file out of raw/ before it checks it: a crash right
    there must leave the version listed to be deleted and a changed one to go back, never lost."""
    from support.runs import crash_in_folder_delete
    from support.stores import make_runs_url

    store = open_store(make_runs_url("local", None, tmp_path, monkeypatch))
    listed = {key: objects.write(store, key, b"1") for key in ("runs/raw/a.json", "runs/raw/sub/b.json")}
    changed = objects.write(store, "runs/raw/sub/b.json", b'{"v": 2}')  # written again since it was listed
    for key, e_tag in listed.items():
        crash_in_folder_delete(store, key, e_tag)
    assert list(objects.list_objects(store, "runs/raw/")) == []
    assert store.settle_claims() == 0  # as young as a delete in flight in another process: left alone
    assert store.settle_claims(older_than_s=0) == 2
    assert [m.key for m in objects.list_objects(store, "runs/raw/")] == ["runs/raw/sub/b.json"]
    assert objects.read(store, "runs/raw/sub/b.json") == objects.Blob("runs/raw/sub/b.json", b'{"v": 2}', changed)
    assert list((tmp_path / "bucket" / ".rollwise-claims").iterdir()) == []
    assert store.settle_claims(older_than_s=0) == 0


def test_the_gateway_refuses_what_moto_lets_through(moto_server, gateway):
    """Why the tests above go through a gateway: moto copies and bulk-deletes a changed version."""
    import boto3

    from support.s3_preconditions import S3Preconditions

    raw = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")
    bucket = f"strict-{uuid.uuid4().hex[:10]}"
    raw.create_bucket(Bucket=bucket)
    old = raw.put_object(Bucket=bucket, Key="k", Body=b"1")["ETag"]
    raw.put_object(Bucket=bucket, Key="k", Body=b"2")
    raw.copy_object(Bucket=bucket, Key="lenient", CopySource={"Bucket": bucket, "Key": "k"}, CopySourceIfMatch=old)  # moto: copied
    S3Preconditions(gateway)
    strict = boto3.client("s3", endpoint_url=gateway.url, region_name="us-east-1")
    with pytest.raises(strict.exceptions.ClientError, match="PreconditionFailed"):
        strict.copy_object(Bucket=bucket, Key="strict", CopySource={"Bucket": bucket, "Key": "k"}, CopySourceIfMatch=old)
    errors = strict.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "ETag": old}]})["Errors"]
    assert [(e["Key"], e["Code"]) for e in errors] == [("k", "PreconditionFailed")]
    assert sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]) == ["k", "lenient"]
