"""A producer writing keys again while merges run: no version deleted unseen, none counted twice.

The producer (an SQS redelivery processing an item twice) writes a raw key
again at any moment: between the job's listing and its read, its copy, its
delete, during another invocation's commit, after the file was archived. The
invariant, checked once the job has run to completion: raw/ is empty; every
version the job deleted from raw/ is counted in exactly one aggregate (under
that ETag, its copy in the archive holding those bytes) or archived as a
rewrite under its own name (and reported); no key is counted twice. A version
the producer itself wrote over before any run read it is gone as S3 would lose
it. S3 here is moto behind a gateway holding S3's preconditions (moto ignores
the COPY and DeleteObjects ones).
"""

from __future__ import annotations

import gzip
import json
import random
import threading
from datetime import UTC, datetime

import orjson
import pytest

from rollwise import objects
from rollwise.runs.job import MergeJob
from rollwise.runs.layout import Layout
from rollwise.runs.settings import MergeSettings
from support.runs import Crash, FaultyStore, aggregates, crash_in_folder_delete, item, keys, open_store

AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)
LAYOUT = Layout.under("runs")
BACKENDS = ["s3-strict", "local", "memory"]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, monkeypatch):
    from support.stores import make_runs_url

    return open_store(make_runs_url(request.param, request, tmp_path, monkeypatch))


class Producer:
    """Writes versions of raw keys, and keeps each version's bytes by its ETag."""

    def __init__(self, store: objects.ObjectStore) -> None:
        self.store = store
        self.bodies: dict[tuple[str, str], bytes] = {}
        self.count: dict[str, int] = {}
        self.lock = threading.Lock()

    def write(self, key: str) -> str:
        with self.lock:  # one writer of a key at a time, so the order of ``bodies`` is the order of the versions
            n = self.count[key] = self.count.get(key, 0) + 1
            body = json.dumps(item(n, 0.5 + n / 100, version=n, key=key)).encode()
            e_tag = objects.write(self.store, key, body)
            self.bodies.pop((key, e_tag), None)
            self.bodies[(key, e_tag)] = body
        return e_tag

    def first_files(self, n: int = 6) -> list[str]:
        written = [f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json" for i in range(n)]
        for key in written:
            self.write(key)
        return written


class Watched(FaultyStore):
    """The job's store: checks every request on a raw file names its version, and records each raw
    version it deleted. ``fault(name, args)`` runs before each request (it may write a key again)
    and may return a Crash, raised once the request is done."""

    def __init__(self, inner, fault=lambda name, args: None) -> None:
        super().__init__(inner, fault, after=True)
        self.deleted: set[tuple[str, str]] = set()

    def delete(self, keys_, if_match=None):
        assert if_match is not None or not any(k.startswith(LAYOUT.raw) for k in keys_), "a raw file deleted without its ETag"
        with self.calls_lock:
            self.calls += 1
            crash = self.fault("delete", (keys_,))
        refused = self.inner.delete(keys_, if_match)
        with self.calls_lock:
            self.deleted.update((k, e) for k, e in zip(keys_, if_match or (), strict=False) if k not in refused)
        if crash is not None:
            raise crash
        return refused

    def copy(self, source, target, if_match=None):
        assert if_match is not None or not source.startswith(LAYOUT.raw), "a raw file copied without its ETag"
        return self._request("copy", source, target, if_match)

    def get(self, key, if_match=None):
        assert if_match is not None or not key.startswith(LAYOUT.raw), "a raw file read without its ETag"
        return self._request("get", key, if_match)


def merge(store, mode: str, concurrency: int = 2):
    return MergeJob(store, MergeSettings(concurrency=concurrency, archive_mode=mode)).run(AT)


def finish(store, mode: str, reported: list[int]) -> None:
    """Runs until raw/ is empty (a rewrite left by a refused delete is archived by the next run)."""
    for _ in range(4):
        result = merge(store, mode, concurrency=4)
        assert result.failures() == []
        reported.append(result.files_rewritten)
        if not keys(store, LAYOUT.raw):
            return
    raise AssertionError(f"raw/ never emptied: {keys(store, LAYOUT.raw)}")


def check(store, producer: Producer, deleted: set[tuple[str, str]], mode: str) -> dict[str, int]:
    assert keys(store, LAYOUT.raw) == []
    docs = aggregates(store)
    counted = [(f["key"], f["etag"]) for doc in docs.values() for f in doc["source_files"]]
    assert len({k for k, _ in counted}) == len(counted), "a key counted twice"
    for doc in docs.values():
        assert doc["stats"]["files"] == len(doc["source_files"]) == len(doc["runs"])
    counted_set = set(counted)
    assert counted_set <= set(producer.bodies), "a manifest names a version never written"
    rewrites = archived_rewrites(store, producer, mode, counted_set)
    assert not (set(rewrites) & counted_set), "a version both counted and archived as a rewrite"
    for version, body in rewrites.items():
        assert _same(producer.bodies[version], body), f"{version} archived with another version's bytes"
    if mode == "move":
        for key, e_tag in counted:
            if (key, e_tag) in deleted:
                archived = objects.read_if_exists(store, LAYOUT.archived_key(key))
                assert archived is not None and archived.data == producer.bodies[(key, e_tag)], f"{key}: the version counted is not the one archived"
    unseen = deleted - counted_set - set(rewrites)
    assert unseen == set(), f"versions deleted from raw/ without being counted or archived: {sorted(unseen)}"
    # Only the producer may make a version disappear unseen, by writing over it: each key's last version
    # left raw/ through the job, so it is counted or archived.
    last = {k: e for (k, e) in producer.bodies}  # versions in the order written
    lost = {(k, e) for k, e in last.items() if (k, e) not in counted_set and (k, e) not in rewrites}
    assert lost == set(), f"the last version of a key was deleted unseen: {sorted(lost)}"
    return {"counted": len(counted), "rewrites": len(rewrites)}


def _same(a: bytes, b: bytes) -> bool:
    """The same JSON (a bundle line holds a file's JSON with its newlines flattened)."""
    return orjson.loads(a) == orjson.loads(b)


def archived_rewrites(store, producer: Producer, mode: str, counted: set[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
    """Versions archived as rewrites: by their own name (move mode), or bundle lines of versions no manifest counts."""
    out: dict[tuple[str, str], bytes] = {}
    if mode == "move":
        names = {LAYOUT.rewrite_key(k, e): (k, e) for (k, e) in producer.bodies}
        for meta in objects.list_objects(store, LAYOUT.archive + "rewrites/"):
            out[names[meta.key]] = objects.read(store, meta.key).data
        return out
    for key in keys(store, LAYOUT.bundles):
        for line in gzip.decompress(objects.read(store, key).data).splitlines():
            row = orjson.loads(line)
            if (row["key"], row["etag"]) not in counted:
                out[(row["key"], row["etag"])] = orjson.dumps(row["content"])
    return out


def fresh(store, request, tmp_path, tag: str):
    """A store of its own for one case: a new memory store, folder, or prefix of the test's bucket."""
    if store.url.startswith("memory://"):
        return open_store("memory://")
    if store.root is not None:
        return open_store(f"file://{tmp_path / ('case-' + tag)}")
    return open_store(f"{store.url.rstrip('/')}/case-{tag}")


@pytest.mark.parametrize("mode", ["move", "bundle"])
def test_a_key_written_again_after_its_version_was_counted_is_archived_as_a_rewrite(store, mode, caplog):
    producer = Producer(store)
    written = producer.first_files()
    first = merge(store, mode)
    assert first.files_processed == 6 and first.files_rewritten == 0
    counted_e_tag = next(e for (k, e) in producer.bodies if k == written[0])
    again = producer.write(written[0])  # the same item processed again, after its first version was merged and archived
    second = merge(store, mode)
    assert (second.files_processed, second.files_rewritten, second.files_archived, second.failures()) == (0, 1, 0, [])
    assert second.metrics()["FilesRewritten"] == 1 and second.body()["files_rewritten"] == 1
    (line,) = [r for r in caplog.records if r.getMessage().startswith("file written again after it was counted")]
    assert (line.key, line.counted_etag, line.etag) == (written[0], counted_e_tag, again)
    if mode == "move":
        assert objects.read(store, LAYOUT.rewrite_key(written[0], again)).data == producer.bodies[(written[0], again)]
        assert objects.read(store, LAYOUT.archived_key(written[0])).data == producer.bodies[(written[0], counted_e_tag)]  # both kept
    assert check(store, producer, set(producer.bodies), mode) == {"counted": 6, "rewrites": 1}


@pytest.mark.slow  # a fault trial: a crash at every request
@pytest.mark.parametrize("mode", ["move", "bundle"])
def test_a_rewrite_before_every_request_then_a_crash_loses_and_double_counts_nothing(store, mode, tmp_path, request):
    """Right before request n the producer writes that request's raw key again (or one of the run's);
    the process dies right after it. Then the job runs to completion."""
    probe = Watched(fresh(store, request, tmp_path, f"{mode}-probe"))
    Producer(probe.inner).first_files()
    merge(probe, mode)
    total = probe.calls
    assert total >= 10
    raced = 0
    for n in range(1, total + 1):
        case = fresh(store, request, tmp_path, f"{mode}-{n}")
        producer = Producer(case)
        written = producer.first_files()
        seen = [0]

        def fault(name, args, n=n, written=written, producer=producer, seen=seen):
            seen[0] += 1
            if seen[0] != n:
                return None
            raw = [k for k in _keys_of(args) if k in written]
            producer.write(raw[0] if raw else written[n % len(written)])
            return Crash(f"after request {n}: {name}")

        job = Watched(case, fault)
        with pytest.raises(Crash):
            merge(job, mode)
        clean = Watched(case)
        reported: list[int] = []
        finish(clean, mode, reported)
        figures = check(case, producer, job.deleted | clean.deleted, mode)
        assert figures["counted"] == len(written), f"request {n}: every key counted once"
        assert sum(reported) <= figures["rewrites"]
        raced += figures["rewrites"]
    assert raced > 0, "no rewrite met the job: the test proves nothing"


def _keys_of(args) -> list[str]:
    out: list[str] = []
    for a in args:
        if isinstance(a, str):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(x for x in a if isinstance(x, str))
    return out


@pytest.mark.slow  # a fault trial: invocations at once
@pytest.mark.parametrize("mode", ["move", "bundle"])
def test_invocations_at_once_while_the_producer_writes_keys_again(store, mode):
    """Four merges at once, twice over, while a producer writes random keys of the run again."""
    producer = Producer(store)
    written = [f"runs/raw/20240115t13{(i % 3) * 5:02d}Z_{i}.json" for i in range(60)]
    for key in written:
        producer.write(key)
    stop = threading.Event()
    rng = random.Random(7)

    def produce() -> None:
        while not stop.is_set():
            producer.write(rng.choice(written))
            stop.wait(0.002)

    watched = Watched(store)
    results = []
    writer = threading.Thread(target=produce)
    writer.start()
    try:
        for _ in range(2):
            runs = [threading.Thread(target=lambda: results.append(merge(watched, mode))) for _ in range(4)]
            for t in runs:
                t.start()
            for t in runs:
                t.join()
    finally:
        stop.set()
        writer.join()
    assert len(results) == 8 and all(r.failures() == [] for r in results), [r.failures() for r in results]
    reported = [r.files_rewritten for r in results]
    finish(watched, mode, reported)
    figures = check(store, producer, watched.deleted, mode)
    assert figures["counted"] == len(written), "every key counted once"
    # Each version archived as a rewrite was reported; two invocations archiving the same one may both report it.
    assert sum(reported) >= figures["rewrites"], "a rewrite archived and never reported"
    assert figures["rewrites"] > 0 and sum(producer.count.values()) > len(written) + 10, "the producer raced nothing: the test proves nothing"


def test_a_folder_delete_a_crash_cut_short_is_settled_before_the_run_lists(tmp_path, monkeypatch):
    """The crash comes between the delete taking a rewritten file out of raw/ and checking it: the
    next run puts the new version back before it lists, and counts it."""
    store = open_store(f"file://{tmp_path}")
    key = "runs/raw/20240115t1301Z_a.json"
    listed = objects.write(store, key, json.dumps(item(1, 0.9)).encode())
    new = objects.write(store, key, json.dumps(item(2, 0.95)).encode())
    crash_in_folder_delete(store, key, listed)
    assert keys(store, "runs/raw/") == []
    monkeypatch.setattr(objects, "CLAIM_AGE_S", 0.0)  # the crash was a minute ago
    result = MergeJob(store, MergeSettings()).run(AT)
    assert (result.files_processed, result.files_archived, result.files_failed) == (1, 1, 0)
    doc = aggregates(store)["runs/20240115t1305Z.json"]
    assert [(f["key"], f["etag"]) for f in doc["source_files"]] == [(key, new)]
    assert [m["id"] for m in doc["top_matches"]] == ["SOL-00002"]
    assert keys(store, "runs/raw/") == [] and not any((tmp_path / ".rollwise-claims").iterdir())
