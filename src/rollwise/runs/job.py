"""The merge-and-archive job: every closed window's raw files into one aggregate, then archived.

Exactly once, with no lock service: an aggregate is created only if absent
and replaced only if its ETag is unchanged, and its manifest (``source_files``)
names every raw file counted in it. A raw file is archived only after the
aggregate that counts it is stored; a raw file already named in a manifest is
archived, never counted again. So a crash at any point, a retry, or several
invocations at once, leave each file counted in exactly one aggregate.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import obstore as obs
import orjson
from obstore.store import LocalStore

from rollwise.objects import (
    NOT_FOUND,
    AlreadyExistsError,
    PreconditionError,
    put_if_absent,
    put_if_match,
)
from rollwise.runs.aggregate import WindowAggregate
from rollwise.runs.records import DEFAULT_MATCH_THRESHOLD, PoisonFile, parse_run_file
from rollwise.windows import STAMP, Window, stamp_in_name, window_ending, window_of

log = logging.getLogger(__name__)
ARCHIVE_MODES = ("move", "bundle")
COMMIT_ATTEMPTS = 8


@dataclass(frozen=True)
class Layout:
    """Where things live in the store; every prefix ends with '/'."""

    root: str = "runs/"
    raw: str = "runs/raw/"
    archive: str = "runs/archive/"
    quarantine: str = "runs/quarantine/"

    @classmethod
    def under(cls, root: str = "runs", raw: str | None = None) -> "Layout":
        root = root.strip("/") + "/" if root.strip("/") else ""
        return cls(root, raw if raw is not None else f"{root}raw/", f"{root}archive/", f"{root}quarantine/")

    def aggregate_key(self, window: Window) -> str:
        return f"{self.root}{window.name}.json"

    def is_input(self, key: str) -> bool:
        """Raw files only: never an aggregate, the archive, the quarantine or a lock."""
        if not key.startswith(self.raw):
            return False
        if key.startswith((self.archive, self.quarantine)) or "/." in key or key.rsplit("/", 1)[-1].startswith("."):
            return False
        if key.rsplit("/", 1)[0] + "/" == self.root and STAMP.fullmatch(key.rsplit("/", 1)[-1].removesuffix(".json")):
            return False  # an aggregate, in the layout where producers write straight into the root
        return True


@dataclass(frozen=True)
class Settings:
    window: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(seconds=60)
    archive_mode: str = "move"
    max_file_bytes: int = 5 * 1024 * 1024
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    concurrency: int = 32

    def __post_init__(self) -> None:
        if self.archive_mode not in ARCHIVE_MODES:
            raise ValueError(f"archive mode must be one of {', '.join(ARCHIVE_MODES)}, got {self.archive_mode!r}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")


@dataclass(frozen=True, slots=True)
class RawFile:
    key: str
    e_tag: str
    size: int


@dataclass
class MergeResult:
    windows: list[str] = field(default_factory=list)
    files_processed: int = 0
    files_archived: int = 0
    files_quarantined: int = 0
    files_failed: int = 0
    late_files: int = 0
    failed_operations: list[dict[str, str]] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    # Age of the oldest closed window whose files are still under raw/ after this run: the
    # signal of the "files pile up" alarm (0 when every closed window was finished).
    oldest_pending_seconds: float = 0.0

    def pending_since(self, window: Window, reference: datetime) -> None:
        self.oldest_pending_seconds = max(self.oldest_pending_seconds, (reference - window.end).total_seconds())

    def body(self) -> dict[str, Any]:
        body = {
            "windows": self.windows,
            "files_processed": self.files_processed,
            "files_archived": self.files_archived,
            "files_quarantined": self.files_quarantined,
            "files_failed": self.files_failed,
            "late_files": self.late_files,
            "failed_operations": self.failed_operations,
        }
        if self.planned:
            body["dry_run"] = self.planned
        return body

    def fail(self, key: str, operation: str, error: BaseException | str) -> None:
        self.failed_operations.append({"key": key, "operation": operation, "error": str(error)[:300]})
        log.error("%s failed for %s: %s", operation, key, str(error)[:300], extra={"key": key, "operation": operation, "error": str(error)[:300]})


class MergeFailed(RuntimeError):
    """Raised after a run whose archive operations did not all succeed, so Lambda counts an error."""

    def __init__(self, result: MergeResult) -> None:
        ops = ", ".join(f"{f['operation']} {f['key']}" for f in result.failed_operations[:10])
        more = len(result.failed_operations) - 10
        super().__init__(f"{len(result.failed_operations)} operation(s) failed: {ops}" + (f" and {more} more" if more > 0 else ""))
        self.result = result


_END = object()


def _each(items: Iterable[Any], work: Callable[[Any], Any], handle: Callable[[Any, Any], None], limit: int) -> None:
    """``work(item)`` on up to ``limit`` threads; ``handle(item, result or exception)`` under one lock.

    obstore's blocking calls release the GIL, so threads give real request
    concurrency. Each thread loops over the shared items and folds its own
    results, so no result is handed back and forth between threads: measured,
    that hand-off cost as much CPU as a request. (obstore's asyncio API was
    measured aborting the interpreter at exit on Python 3.11; it is not used.)
    """
    it = iter(items)
    lock = threading.Lock()
    fatal: list[BaseException] = []

    def worker() -> None:
        while not fatal:
            with lock:
                item = next(it, _END)
            if item is _END:
                return
            try:
                out = work(item)
            except Exception as exc:  # noqa: BLE001 - a failed request is a result to handle
                out = exc
            except BaseException as exc:  # an interrupt is not a failed request: stop everything
                fatal.append(exc)
                return
            with lock:
                try:
                    handle(item, out)
                except BaseException as exc:
                    fatal.append(exc)
                    return

    threads = [threading.Thread(target=worker, name=f"rollwise-io-{i}", daemon=True) for i in range(limit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if fatal:
        raise fatal[0]


class MergeJob:
    """One invocation's work over one store."""

    def __init__(self, store: Any, layout: Layout = Layout(), settings: Settings = Settings(), on_file: Callable[[], None] | None = None) -> None:
        self.store = store
        self.layout = layout
        self.settings = settings
        self.on_file = on_file or (lambda: None)

    # -- listing ----------------------------------------------------------------
    def closed_windows(self, reference: datetime) -> Iterator[tuple[Window, list[RawFile]]]:
        """Closed windows with their raw files, oldest first; files of open windows wait.

        Object stores list keys in order and producers' stamps sort by time, so a
        window is complete once the listing has passed it: it is handed out then,
        and memory holds a window, not the whole backlog. Files without a stamp
        (windowed by last-modified time) are held to the end; a window they join
        after it was merged gets them by conditional replace, like any late file.
        A local folder lists in no order, so there the listing is read whole first.
        """
        size, grace = self.settings.window, self.settings.grace
        streaming = not isinstance(self.store, LocalStore)
        pending: dict[datetime, list[RawFile]] = defaultdict(list)
        for meta in self._list_metas():
            key = meta["path"]
            if not self.layout.is_input(key):
                continue
            stamp = stamp_in_name(key)
            w = window_of(stamp or meta["last_modified"], size)
            if not w.is_closed(reference, grace):
                continue
            if streaming and stamp is not None:
                for end in sorted(e for e in pending if e < w.end):
                    yield window_ending(end, size), pending.pop(end)
            pending[w.end].append(RawFile(key, meta.get("e_tag") or "", meta["size"]))
        for end in sorted(pending):
            yield window_ending(end, size), pending[end]

    def _list_metas(self) -> Iterator[dict]:
        if self.layout.raw == self.layout.root:
            # Producers write into the root: list one level, never descend into the archive.
            result = obs.list_with_delimiter(self.store, self.layout.raw.rstrip("/") or None)
            for meta in result["objects"]:
                yield meta
            return
        for batch in obs.list(self.store, self.layout.raw, chunk_size=1000):
            for meta in batch:
                yield meta

    # -- one window -------------------------------------------------------------
    def _read_aggregate(self, window: Window) -> tuple[WindowAggregate | None, str | None]:
        try:
            got = obs.get(self.store, self.layout.aggregate_key(window))
        except NOT_FOUND:
            return None, None
        body = got.bytes()
        return WindowAggregate.from_json(window, bytes(body)), got.meta["e_tag"]

    def _fetch(self, f: RawFile) -> bytes | PoisonFile | None:
        if f.size > self.settings.max_file_bytes:
            return PoisonFile(f"file is {f.size} bytes, over the {self.settings.max_file_bytes}-byte limit")
        try:
            got = obs.get(self.store, f.key)
        except NOT_FOUND:
            return None  # archived meanwhile by another invocation
        return bytes(got.bytes())

    def merge_window(self, window: Window, files: list[RawFile], result: MergeResult) -> None:
        key = self.layout.aggregate_key(window)
        poison: dict[str, tuple[RawFile, str]] = {}
        for attempt in range(COMMIT_ATTEMPTS):
            existing, e_tag = self._read_aggregate(window)
            agg = existing or WindowAggregate(window)
            counted = set(agg.manifest)
            fresh = [f for f in files if f.key not in counted and f.key not in poison]
            for f in files:
                if f.key in counted and agg.manifest[f.key] != f.e_tag and f.key not in poison:
                    poison[f.key] = (f, f"rewritten after it was counted in {key} (ETag {agg.manifest[f.key]}, now {f.e_tag})")
            bundle = _Bundle(window) if self.settings.archive_mode == "bundle" else None
            added: list[RawFile] = []

            def fold(f: RawFile, body: Any) -> None:
                self.on_file()
                if isinstance(body, PoisonFile):
                    poison[f.key] = (f, str(body))
                elif isinstance(body, BaseException):
                    result.files_failed += 1
                    result.fail(f.key, "get", body)
                elif body is not None:
                    try:
                        outcomes = parse_run_file(body, self.settings.match_threshold)
                    except PoisonFile as exc:
                        poison[f.key] = (f, str(exc))
                        return
                    agg.add_file(f.key, f.e_tag, outcomes)
                    added.append(f)
                    if bundle:
                        bundle.add(f, body)

            _each(fresh, self._fetch, fold, self.settings.concurrency)
            if added:
                data = agg.to_json(datetime.now(timezone.utc))
                try:
                    if existing is None:
                        put_if_absent(self.store, key, data)
                    else:
                        put_if_match(self.store, key, data, e_tag)
                except (AlreadyExistsError, PreconditionError):
                    log.info("aggregate changed under us, merging again", extra={"aggregate": key, "attempt": attempt + 1})
                    if bundle:
                        bundle.discard()
                    continue
                result.windows.append(key)
                result.files_processed += len(added)
                if existing is not None:
                    result.late_files += len(added)
                log.info(
                    "window merged",
                    extra={"aggregate": key, "window_start": window.start.isoformat(), "files_added": len(added),
                           "files_in_aggregate": agg.files, "late": existing is not None, "opportunities": agg.opportunities_processed,
                           "matches": agg.matches, "errors": agg.errors},
                )
            counted_now = [f for f in files if f.key in agg.manifest and f.key not in poison]
            self._archive(window, counted_now, bundle, result)
            self._quarantine(list(poison.values()), result)
            return
        result.files_failed += len(files)
        result.fail(key, "put", f"aggregate kept changing: gave up after {COMMIT_ATTEMPTS} attempts; the next run retries")

    # -- archive and quarantine ---------------------------------------------------
    def _archived_key(self, raw_key: str) -> str:
        return self.layout.archive + raw_key[len(self.layout.raw) :]

    def _archive(self, window: Window, files: list[RawFile], bundle: "_Bundle | None", result: MergeResult) -> None:
        if not files:
            return
        if bundle is None:
            done = self._copy_all([(f.key, self._archived_key(f.key)) for f in files], result)
        else:
            done = self._write_bundle(window, files, bundle, result)
        self._delete_all(done, result)
        result.files_archived += len(done)

    def _copy_all(self, pairs: list[tuple[str, str]], result: MergeResult) -> list[str]:
        done: list[str] = []

        def record(pair: tuple[str, str], outcome: Any) -> None:
            if isinstance(outcome, NOT_FOUND):
                return  # gone: another invocation archived it
            if isinstance(outcome, BaseException):
                result.files_failed += 1
                result.fail(pair[0], "copy", outcome)
            else:
                done.append(pair[0])

        _each(pairs, lambda pair: obs.copy(self.store, pair[0], pair[1], overwrite=True), record, self.settings.concurrency)
        return done

    def _write_bundle(self, window: Window, files: list[RawFile], bundle: "_Bundle", result: MergeResult) -> list[str]:
        def add(f: RawFile, body: Any) -> None:
            if isinstance(body, (bytes, bytearray)):
                bundle.add(f, body)
            elif isinstance(body, BaseException) and not isinstance(body, PoisonFile):
                result.files_failed += 1
                result.fail(f.key, "get", body)

        _each([f for f in files if f.key not in bundle.keys], self._fetch, add, self.settings.concurrency)
        digest = bundle.digest()
        key = f"{self.layout.archive}bundles/{window.name}-{digest}.jsonl.gz"
        try:
            path = bundle.close()
            obs.put(self.store, key, Path(path))
        except Exception as exc:  # noqa: BLE001 - reported, originals stay
            for f in files:
                result.fail(f.key, "bundle", exc)
            result.files_failed += len(files)
            return []
        finally:
            bundle.discard()
        log.info("bundle written", extra={"bundle": key, "files": len(bundle.keys)})
        return sorted(bundle.keys)

    def _delete_all(self, keys: list[str], result: MergeResult) -> None:
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            try:
                obs.delete(self.store, chunk)
            except NOT_FOUND:
                self._delete_one_by_one(chunk, result)  # a local folder refuses a bulk delete with a missing file
            except Exception as exc:  # noqa: BLE001 - reported, originals stay and the next run finishes
                result.files_failed += len(chunk)
                for k in chunk:
                    result.fail(k, "delete", exc)

    def _delete_one_by_one(self, keys: list[str], result: MergeResult) -> None:
        for k in keys:
            try:
                obs.delete(self.store, k)
            except NOT_FOUND:
                pass  # deleted by another invocation: what we wanted
            except Exception as exc:  # noqa: BLE001
                result.files_failed += 1
                result.fail(k, "delete", exc)

    def _quarantine(self, poison: list[tuple[RawFile, str]], result: MergeResult) -> None:
        if not poison:
            return

        def move(item):
            f, reason = item
            target = self.layout.quarantine + f.key[len(self.layout.raw) :]
            note = orjson.dumps({"key": f.key, "etag": f.e_tag, "size": f.size, "reason": reason,
                                 "quarantined_at": datetime.now(timezone.utc).isoformat()}, option=orjson.OPT_INDENT_2)
            obs.copy(self.store, f.key, target, overwrite=True)
            obs.put(self.store, target + ".error.json", note)

        moved: list[str] = []

        def record(item: tuple[RawFile, str], outcome: Any) -> None:
            f, reason = item
            if isinstance(outcome, NOT_FOUND):
                return
            if isinstance(outcome, BaseException):
                result.files_failed += 1
                result.fail(f.key, "quarantine", outcome)
            else:
                moved.append(f.key)
                log.warning("file quarantined: %s: %s", f.key, reason, extra={"key": f.key, "reason": reason})

        _each(poison, move, record, self.settings.concurrency)
        self._delete_all(moved, result)
        result.files_quarantined += len(moved)

    # -- the whole run ------------------------------------------------------------
    def run(self, reference: datetime, dry_run: bool = False, deadline: float | None = None) -> MergeResult:
        """Merge every closed window. Past ``deadline`` (a ``time.monotonic()`` value)
        no new window is started: the next run picks up the rest."""
        result = MergeResult()
        for window, files in self.closed_windows(reference):
            if dry_run:
                existing, _ = self._read_aggregate(window)
                counted = set(existing.manifest) if existing else set()
                result.planned.append({"aggregate": self.layout.aggregate_key(window), "files": len(files),
                                       "already_counted": sum(f.key in counted for f in files), "aggregate_exists": existing is not None})
                continue
            if deadline is not None and time.monotonic() > deadline:
                log.warning("out of time: stopping before %s; the next run continues", self.layout.aggregate_key(window))
                result.pending_since(window, reference)
                break
            failed_before = result.files_failed
            try:
                self.merge_window(window, files, result)
            except Exception as exc:  # noqa: BLE001 - one window failing must not stop the others
                result.files_failed += len(files)
                result.fail(self.layout.aggregate_key(window), "merge", exc)
            if result.files_failed > failed_before:
                result.pending_since(window, reference)
        return result


class _Bundle:
    """A gzip JSON Lines file on local disk (the Lambda's ephemeral storage), one line per original."""

    def __init__(self, window: Window) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"rollwise-{window.name}-", suffix=".jsonl.gz")
        self._file = gzip.open(os.fdopen(fd, "wb"), "wb", compresslevel=6)
        self.keys: dict[str, str] = {}

    def add(self, f: RawFile, body: bytes) -> None:
        """``body`` was parsed as JSON before it got here; outside strings a newline is
        only white space, so flattening it keeps the line valid JSON without a re-parse."""
        if f.key in self.keys:
            return
        content = orjson.Fragment(body.replace(b"\r", b" ").replace(b"\n", b" "))
        self._file.write(orjson.dumps({"key": f.key, "etag": f.e_tag, "content": content}) + b"\n")
        self.keys[f.key] = f.e_tag

    def digest(self) -> str:
        h = hashlib.sha256()
        for k in sorted(self.keys):
            h.update(f"{k}\0{self.keys[k]}\n".encode())
        return h.hexdigest()[:16]

    def close(self) -> str:
        self._file.close()
        return self.path

    def discard(self) -> None:
        try:
            self._file.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)


def run_merge(store: Any, reference: datetime, layout: Layout = Layout(), settings: Settings = Settings(), dry_run: bool = False,
              on_file: Callable[[], None] | None = None) -> MergeResult:
    return MergeJob(store, layout, settings, on_file).run(reference, dry_run)
