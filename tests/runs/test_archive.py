"""Archiving: each key gets its own outcome, whatever the bulk request did."""

from datetime import UTC, datetime

import orjson
import pytest

from rollwise import objects
from rollwise.runs import archive
from rollwise.runs.job import MergeJob
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.runs.settings import MergeSettings
from rollwise.windows import Window
from support.runs import FaultyStore, keys, open_store, put
from support.stores import make_runs_url

LAYOUT = Layout.under("runs")
AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


@pytest.fixture
def s3_url(request, tmp_path, monkeypatch):
    return make_runs_url("s3", request, tmp_path, monkeypatch)


@pytest.fixture
def strict_s3_url(request, tmp_path, monkeypatch):
    """A bucket behind the gateway that holds S3's preconditions (tests/support/s3_preconditions.py)."""
    return make_runs_url("s3-strict", request, tmp_path, monkeypatch)


def files(store, n):
    out = []
    for i in range(n):
        key = f"runs/raw/20240115t1301Z_{i}.json"
        put(store, key, {"noticeId": str(i)})
        out.append(RawFile(key, store.head(key).e_tag, 10))  # as the listing gives it
    return out


def test_move_copies_then_deletes(runs_url):
    store = open_store(runs_url)
    moved = archive.move(store, LAYOUT, files(store, 3), concurrency=2)
    assert sorted(moved.archived) == [f"runs/raw/20240115t1301Z_{i}.json" for i in range(3)] and moved.failed == ()
    assert keys(store, "runs/raw") == [] and len(keys(store, "runs/archive")) == 3


def test_a_failed_delete_of_one_key_fails_that_key_only(runs_url):
    store = open_store(runs_url)
    fs = files(store, 5)
    stuck = fs[2].key

    def fault(name, args):
        if name == "delete" and stuck in args[0]:
            return objects.PermissionDenied(f"delete {stuck} was denied", stuck, "delete")
        return None

    moved = archive.move(FaultyStore(store, fault), LAYOUT, fs, concurrency=2)
    assert sorted(moved.archived) == sorted(f.key for f in fs if f.key != stuck)
    assert [(f.key, f.operation) for f in moved.failed] == [(stuck, "delete")]
    assert keys(store, "runs/raw") == [stuck]


def test_a_file_gone_before_its_copy_is_neither_archived_nor_failed(runs_url):
    store = open_store(runs_url)
    fs = files(store, 2)
    objects.delete_many(store, [fs[0].key])
    moved = archive.move(store, LAYOUT, fs, concurrency=2)
    assert moved.archived == (fs[1].key,) and moved.failed == ()


# -- the per-file requests: native, and the version counted -----------------------------------------------------
def _raw_files(store, n: int) -> list[str]:
    written = []
    for i in range(n):
        key = f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json"
        objects.write(store, key, orjson.dumps({"solicitationNumber": f"SOL-{i}", "score": 0.5}))
        written.append(key)
    return written


@pytest.mark.parametrize("mode", ["move", "bundle"])
def test_no_per_file_request_leaves_through_the_python_http_path(s3_url, monkeypatch, mode):
    """Counted at the seam, on moto S3: the requests rollwise signs and sends itself (s3_requests: conditional
    COPY and DELETE) are the bulk deletes only, one per 1,000 files; each file costs at most one native read and
    one native write (obstore)."""
    import obstore

    from rollwise import s3_requests

    store = open_store(s3_url)
    written = _raw_files(store, 40)
    python_http: list[str] = []
    for name in ("copy", "delete_one", "delete_many"):
        real = getattr(s3_requests.ConditionalRequests, name)
        monkeypatch.setattr(s3_requests.ConditionalRequests, name, lambda self, *a, _n=name, _r=real: (python_http.append(_n), _r(self, *a))[1])
    native: dict[str, int] = {}
    for name in ("get", "put", "copy"):
        real = getattr(obstore, name)
        monkeypatch.setattr(objects.obs, name, lambda *a, _n=name, _r=real, **k: (native.__setitem__(_n, native.get(_n, 0) + 1), _r(*a, **k))[1])
    result = MergeJob(open_store(s3_url), MergeSettings(archive_mode=mode)).run(AT)
    assert (result.files_processed, result.files_archived, result.failures()) == (40, 40, [])
    assert python_http == ["delete_many"] * 2  # one bulk delete per window, never a request per file
    assert native.get("copy", 0) == 0 and native["get"] <= 40 + 2  # a read per file, and each window's aggregate
    outputs = 2 * (2 if mode == "move" else 3)  # per window: the aggregate, and its records and row (+ its bundle)
    assert native["put"] - outputs <= (40 if mode == "move" else 0) + 2  # a write per file in move mode
    assert keys(store, "runs/raw") == [] and len(written) == 40


def test_the_archive_holds_the_version_counted_with_its_content_type_and_metadata(strict_s3_url, request):
    """The producer writes a key again between the job's read and its archive write (S3's preconditions held by
    the gateway): the archive gets the counted version's bytes, content type and metadata, and the new version
    stays under raw/ for the next run to archive as a rewrite."""
    import boto3

    s3_url = strict_s3_url
    gateway = request.getfixturevalue("gateway")
    bucket = s3_url.removeprefix("s3://").split("/")[0]
    s3 = boto3.client("s3", endpoint_url=gateway.url, region_name="us-east-1")
    key = "runs/raw/20240115t1301Z_0.json"
    counted = orjson.dumps({"solicitationNumber": "SOL-1", "score": 0.9})
    s3.put_object(Bucket=bucket, Key=key, Body=counted, ContentType="application/json", Metadata={"producer": "matcher-7"})
    store = open_store(s3_url)
    window = Window(datetime(2024, 1, 15, 13, 0, tzinfo=UTC), datetime(2024, 1, 15, 13, 5, tzinfo=UTC))

    def rewrite_before_the_archive(name, args):
        if name == "put" and args[0] == LAYOUT.aggregate_key(window):  # after the job read it, before anything archives it
            s3.put_object(Bucket=bucket, Key=key, Body=b'{"solicitationNumber": "SOL-1", "score": 0.1}', ContentType="text/plain")
        return None

    result = MergeJob(FaultyStore(store, rewrite_before_the_archive), MergeSettings()).run(AT)
    assert (result.files_processed, result.files_archived, result.files_changed) == (1, 0, 1)  # the new version left under raw/
    archived = s3.get_object(Bucket=bucket, Key=LAYOUT.archived_key(key))
    assert archived["Body"].read() == counted
    assert (archived["ContentType"], archived["Metadata"]) == ("application/json", {"producer": "matcher-7"})
    again = MergeJob(store, MergeSettings()).run(AT)
    assert (again.files_processed, again.files_rewritten, keys(store, "runs/raw")) == (0, 1, [])


def test_a_rewrite_that_is_not_json_is_quarantined_and_every_bundle_line_parses(runs_url):
    import gzip

    store = open_store(runs_url)
    written = _raw_files(store, 4)
    first = MergeJob(store, MergeSettings(archive_mode="bundle")).run(AT)
    assert (first.files_processed, first.files_archived) == (4, 4)
    objects.write(store, written[0], b'{"solicitationNumber": "SOL-0", "score": 0.')  # written again, cut short
    again = MergeJob(store, MergeSettings(archive_mode="bundle")).run(AT)
    assert (again.files_processed, again.files_rewritten, again.files_quarantined, again.failures()) == (0, 0, 1, [])
    assert keys(store, "runs/raw") == [] and LAYOUT.quarantined_key(written[0]) in keys(store, LAYOUT.quarantine)
    assert "not JSON" in objects.read(store, LAYOUT.note_key(written[0])).data.decode()
    lines = [line for key in keys(store, LAYOUT.bundles) for line in gzip.decompress(objects.read(store, key).data).splitlines()]
    assert len(lines) == 4 and all(orjson.loads(line)["key"] in written for line in lines)


@pytest.mark.parametrize("mode", ["move", "bundle"])
def test_the_counted_bytes_kept_on_local_disk_are_gone_after_the_window_whatever_stopped_it(runs_url, tmp_path, monkeypatch, mode):
    """A warm Lambda keeps its /tmp: a window's spool or bundle must not outlive it, even when its archive fails."""
    import tempfile

    local = tmp_path / "lambda-tmp"
    local.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(local))
    store = open_store(runs_url)
    _raw_files(store, 6)

    def refuse_deletes(name, args):
        return objects.RequestFailed("connection reset", None, "delete") if name == "delete" else None

    failed = MergeJob(FaultyStore(store, refuse_deletes), MergeSettings(archive_mode=mode)).run(AT)
    assert failed.files_processed == 6 and failed.failures() and list(local.iterdir()) == []
    done = MergeJob(store, MergeSettings(archive_mode=mode)).run(AT)
    assert done.failures() == [] and keys(store, "runs/raw") == [] and list(local.iterdir()) == []
