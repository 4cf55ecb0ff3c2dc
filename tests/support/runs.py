"""Helpers of the merge tests: writing raw files, reading the store back, the exactly-once invariant."""

from __future__ import annotations

import gzip
import json
import os
import threading
from typing import Any

import orjson

from rollwise import objects
from rollwise.config import AwsSettings, resolve


def open_store(url: str) -> objects.ObjectStore:
    """The store of a test URL, reaching the emulator named by the environment."""
    return objects.open_store(url, resolve(AwsSettings), create=True)


def item(i: int, score: float, matched: bool | None = None, **extra: Any) -> dict:
    doc = {"solicitationNumber": f"SOL-{i:05d}", "title": f"Opportunity {i}", "score": score, "processing_time_ms": 100 + i}
    if matched is not None:
        doc["matched"] = matched
    return {**doc, **extra}


def run_summary(run_id: str, processed: int, matches: int, errors: int = 0, ms: float = 5000, top=()) -> dict:
    return {
        "run_id": run_id,
        "opportunities_processed": processed,
        "matches": matches,
        "no_matches": processed - matches - errors,
        "errors": errors,
        "processing_time_ms": ms,
        "top_matches": [{"id": i, "title": t, "score": s} for i, t, s in top],
    }


def put(store, key: str, doc: Any) -> None:
    objects.write(store, key, doc if isinstance(doc, bytes) else json.dumps(doc).encode())


def keys(store, prefix: str) -> list[str]:
    return sorted(m.key for m in objects.list_objects(store, prefix))


def aggregates(store, root: str = "runs/") -> dict[str, dict]:
    return {m.key: orjson.loads(objects.read(store, m.key).data) for m in objects.list_children(store, root) if m.key.endswith(".json")}


def write_small_run(url: str, valid: int = 6, poison: int = 1) -> tuple[set[str], set[str]]:
    """Valid files over two closed windows (one of them also a run summary) and poison files."""
    store = open_store(url)
    good, bad = set(), set()
    for i in range(valid):
        key = f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json"
        put(store, key, item(i, 0.5 + i / 20) if i != 3 else run_summary(f"run-{i}", 4, 2, top=[("X1", "Best", 0.99)]))
        good.add(key)
    for j in range(poison):
        key = f"runs/raw/20240115t1301Z_poison{j}.json"
        put(store, key, b"{not json")
        bad.add(key)
    return good, bad


def records_rows(store, key: str) -> list[dict]:
    return [orjson.loads(line) for line in gzip.decompress(objects.read(store, key).data).splitlines()]


def check_exactly_once(url: str, good: set[str], bad: set[str]) -> dict[str, dict]:
    """Every valid file in exactly one manifest, counted once; poison quarantined; raw empty."""
    store = open_store(url)
    docs = aggregates(store)
    seen: list[str] = [f["key"] for doc in docs.values() for f in doc["source_files"]]
    assert sorted(seen) == sorted(good), "each valid file is in exactly one manifest"
    assert sum(doc["stats"]["files"] for doc in docs.values()) == len(good)
    for doc in docs.values():
        assert doc["stats"]["files"] == len(doc["source_files"]) == len(doc["runs"])
    # The SQL outputs: each file's rows in exactly one records object, the one its manifest entry names;
    # each window's row carries its aggregate's figures.
    named = {f["key"]: f.get("records") for doc in docs.values() for f in doc["source_files"]}
    in_records: list[str] = []
    for key in keys(store, "runs/records/"):
        files = {row["source_file"] for row in records_rows(store, key)}
        assert all(named[f] == key for f in files), f"{key} holds rows of files whose manifest names another records object"
        in_records.extend(files)
    assert sorted(in_records) == sorted(good), "each valid file's rows are in exactly one records object"
    rows = {orjson.loads(objects.read(store, k).data)["aggregate"]: orjson.loads(objects.read(store, k).data) for k in keys(store, "runs/windows/")}
    assert {k: r["files"] for k, r in rows.items()} == {k: d["stats"]["files"] for k, d in docs.items()}
    quarantined = {k for k in keys(store, "runs/quarantine") if not k.endswith(".error.json")}
    assert quarantined == {k.replace("runs/raw/", "runs/quarantine/") for k in bad}, quarantined
    assert keys(store, "runs/raw") == []
    return docs


def crash_in_folder_delete(store: objects.ObjectStore, key: str, e_tag: str) -> None:
    """A process killed (not an exception: nothing after it runs) between a folder's delete taking
    the file out of raw/ and checking which version it took."""
    pid = os.fork()
    if pid == 0:
        objects.ObjectStore._settle = lambda *_: os._exit(9)  # the child's own copy of the class
        store.delete([key], [e_tag])
        os._exit(0)
    assert os.WEXITSTATUS(os.waitpid(pid, 0)[1]) == 9, "the delete never reached its check"


class Crash(BaseException):
    """The process dies: nothing after this point runs."""


REQUESTS = ("get", "head", "put", "copy", "delete", "list", "list_children")


class FaultyStore:
    """Wraps a store object and makes chosen requests fail: every request rollwise makes goes
    through a store object, so none escapes. ``fault(name, args)`` returns an exception to
    raise before the request, or None to let it through; ``after`` raises it after instead."""

    def __init__(self, inner: objects.ObjectStore, fault, after: bool = False) -> None:
        self.inner, self.fault, self.after = inner, fault, after
        self.calls = 0
        self.calls_lock = threading.Lock()
        self.unconditioned: list[tuple[str, str]] = []  # requests on a raw file that named no version

    def _conditioned(self, name: str, args: tuple, kwargs: dict) -> None:
        """Every read, copy and delete of a raw file is conditioned on the ETag the listing gave."""
        if name not in ("get", "copy", "delete"):
            return
        keys = args[0] if name == "delete" else [args[0]]
        condition = kwargs.get(
            "if_match", args[{"get": 1, "copy": 2, "delete": 1}[name]] if len(args) > {"get": 1, "copy": 2, "delete": 1}[name] else None
        )
        raw = [k for k in keys if "/raw/" in k]
        if raw and condition is None:
            self.unconditioned.extend((name, k) for k in raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _request(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self.calls_lock:
            self.calls += 1
            self._conditioned(name, args, kwargs)
            error = self.fault(name, args)
        if error is not None and not self.after:
            raise error
        try:
            return getattr(self.inner, name)(*args, **kwargs)
        finally:
            if error is not None:
                raise error  # noqa: B012 - the request happened, then the failure

    def get(self, *a, **k):
        return self._request("get", *a, **k)

    def head(self, *a, **k):
        return self._request("head", *a, **k)

    def put(self, *a, **k):
        return self._request("put", *a, **k)

    def copy(self, *a, **k):
        return self._request("copy", *a, **k)

    def delete(self, *a, **k):
        return self._request("delete", *a, **k)

    def list_children(self, *a, **k):
        return self._request("list_children", *a, **k)

    def list(self, *a, **k):
        with self.calls_lock:
            self.calls += 1
            error = self.fault("list", a)
        if error is not None and not self.after:
            raise error
        pages = [page for page in self.inner.list(*a, **k)]
        if error is not None:
            raise error
        yield from pages


def sam_result(i: int, score: float, at: str = "2024-01-15T13:02:11.482913", solicitation: str | None = None) -> dict:
    """A result file as the sam matching producer writes it (billqhan/sam_ai_platform,
    sam-sqs-generate-match-reports): no matched, error or processing time; a naive UTC
    timestamp; ``solicitationNumber`` empty for notices that have none."""
    notice = f"{i:032x}"
    return {
        "solicitationNumber": f"W91QF4-24-R-{i:04d}" if solicitation is None else solicitation,
        "noticeId": notice,
        "title": f"Cloud migration support services {i}",
        "fullParentPathName": "DEPT OF DEFENSE.DEPT OF THE ARMY.AMC",
        "score": score,
        "rationale": "The opportunity asks for AWS migration experience, which matches the company's past performance.",
        "enhanced_description": 'Multi-line\ndescription with "quotes" and ünïcode.',
        "uiLink": f"https://sam.gov/opp/{notice}/view",
        "postedDate": "2024-01-12",
        "responseDeadLine": "2024-02-01T17:00:00-05:00",
        "pointOfContact": [{"fullName": "Jane Doe", "email": "jane.doe@example.mil", "type": "primary"}],
        "timestamp": at,
    }
