"""Writing a window's SQL outputs (see :mod:`rollwise.runs.tables`) once its aggregate is stored.

The same exactly-once protocol as the aggregate: a records object is created
only if absent, under a key named by the files it holds, and the aggregate's
manifest names it. The outputs are written *after* the aggregate and *before*
the files are archived, so a crash in between leaves the files under raw/:
the next run finds them counted, checks that the records object the manifest
names exists, rebuilds it from the versions counted if it does not (under raw/,
or in the archive), and only then archives them. A window row is replaced only by a row of more files.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from rollwise import objects
from rollwise.result import Failure
from rollwise.runs.commit import CommitOutcome
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.runs.records import PoisonFile, parse_run_file
from rollwise.runs.settings import MergeSettings
from rollwise.runs.tables import RecordsFile, window_row
from rollwise.threads import each
from rollwise.timestamps import utc_now, utc_text

log = logging.getLogger(__name__)
ROW_ATTEMPTS = 4


@dataclass(frozen=True)
class PublishOutcome:
    written: tuple[str, ...]
    failed: tuple[Failure, ...]


def publish(
    store: objects.ObjectStore, layout: Layout, outcome: CommitOutcome, counted: Sequence[RawFile], settings: MergeSettings
) -> PublishOutcome:
    """Make sure the records of ``counted`` files and the window's row are stored. A failure
    here leaves the files unarchived; the next run completes what is missing."""
    agg = outcome.aggregate
    if agg is None or not (outcome.added or counted):
        return PublishOutcome((), ())
    written: list[str] = []
    failed: list[Failure] = []
    fresh_key = None
    if outcome.records is not None and outcome.added:
        fresh_key, data = outcome.records
        try:
            if _complete(store, fresh_key, data):
                written.append(fresh_key)
        except objects.ObjectError as exc:
            failed.append(Failure(fresh_key, "records", exc))
    # Files counted by an earlier run (which stopped before archiving them): their records object may be missing.
    earlier: set[str] = set()
    added = {f.key for f in outcome.added}
    for f in counted:
        records_key = agg.records_of.get(f.key)
        if records_key and records_key != fresh_key and f.key not in added:
            earlier.add(records_key)
    for records_key in sorted(earlier):
        try:
            if objects.exists(store, records_key) is None and _rebuild(store, layout, outcome, records_key, settings, failed):
                written.append(records_key)
        except objects.ObjectError as exc:
            failed.append(Failure(records_key, "records", exc))
    try:
        row_key = _window_row(store, layout, outcome)
        if row_key:
            written.append(row_key)
    except objects.ObjectError as exc:
        failed.append(Failure(layout.window_row_key(outcome.window), "window row", exc))
    return PublishOutcome(tuple(written), tuple(failed))


def _create(store: objects.ObjectStore, key: str, data: bytes, failed: list[Failure]) -> bool:
    try:
        objects.create(store, key, data)
        return True
    except objects.AlreadyExists:  # an earlier attempt or a concurrent run wrote these very files' records
        return False
    except objects.ObjectError as exc:
        failed.append(Failure(key, "records", exc))
        return False


def _complete(store: objects.ObjectStore, key: str, data: bytes) -> bool:
    """Write the records of the files this run counted, which it holds whole. If another run wrote them first, it
    may have rebuilt them without a file the producer wrote over before it was archived: a stored object of fewer
    rows is replaced by this whole one (only while unchanged), so the records hold every row counted."""
    stored = None
    for _ in range(ROW_ATTEMPTS):
        if stored is not None and _rows(stored.data) >= _rows(data):
            return False
        try:
            if stored is None:
                objects.create(store, key, data)
                return True
            objects.replace(store, key, data, stored.e_tag)
            log.info("records completed with the rows a rebuild could not read", extra={"records": key})
            return True
        except (objects.AlreadyExists, objects.PreconditionFailed):
            stored = objects.read_if_exists(store, key)
    return False


def _rows(data: bytes) -> int:
    """Rows of a records object; -1 for one that is not gzip (damaged, or not ours): written again."""
    try:
        return gzip.decompress(data).count(b"\n")
    except (OSError, EOFError):
        return -1


def _rebuild(
    store: objects.ObjectStore, layout: Layout, outcome: CommitOutcome, records_key: str, settings: MergeSettings, failed: list[Failure]
) -> bool:
    """The records object of every file the manifest puts in it, from the very versions counted: under raw/ while
    they are there, else in the archive (move mode)."""
    agg = outcome.aggregate
    assert agg is not None
    counted = {k: agg.manifest[k] for k, r in agg.records_of.items() if r == records_key}
    records = RecordsFile()

    def fetch(key: str) -> Any:
        e_tag = counted[key]
        try:
            blob = objects.read_if_exists(store, key, e_tag)  # the version counted, only
        except objects.PreconditionFailed:
            blob = None
        if blob is None and settings.archive_mode == "move":  # archived: only ever the version counted (archive.keep_version)
            blob = objects.read_if_exists(store, layout.archived_key(key))
        return None if blob is None else blob.data

    missing: list[str] = []

    def fold(key: str, got: Any) -> None:
        if isinstance(got, BaseException):
            failed.append(Failure(key, "get", got))
        elif got is None:
            missing.append(f"{key} (written over before it was archived)")
        else:
            try:
                records.add(outcome.window, key, counted[key], parse_run_file(got, settings.match_threshold))
            except PoisonFile as exc:  # counted once, so it parsed then: what was found is not the version counted
                missing.append(f"{key} ({exc})")

    before = len(failed)
    each(sorted(counted), fetch, fold, settings.concurrency)
    if len(failed) > before:
        return False
    if missing:
        # The run that counted them may still hold their rows (it replaces this object with the whole one); if it
        # stopped between its commit and its archive, they are gone with the producer's new versions.
        log.warning(
            "records rebuilt without some files: their counted versions are not readable", extra={"records": records_key, "missing": missing[:20]}
        )
    return _create(store, records_key, records.data(), failed)


def _window_row(store: objects.ObjectStore, layout: Layout, outcome: CommitOutcome) -> str | None:
    """Store the window's row unless one of as many files or more is there already."""
    agg = outcome.aggregate
    assert agg is not None
    key = layout.window_row_key(outcome.window)
    data = orjson.dumps(window_row(outcome.window, outcome.key, agg.stats(), utc_text(utc_now()))) + b"\n"
    if outcome.added and not outcome.late:  # the window's first aggregate: its first row, most likely
        try:
            objects.create(store, key, data)
            return key
        except objects.AlreadyExists:
            pass
    for _ in range(ROW_ATTEMPTS):
        stored = objects.read_if_exists(store, key)
        try:
            if stored is None:
                objects.create(store, key, data)
                return key
            if _files_of(stored.data) >= agg.files:
                return None
            objects.replace(store, key, data, stored.e_tag)
            return key
        except (objects.AlreadyExists, objects.PreconditionFailed):
            continue  # another run wrote it meanwhile: look again
    raise objects.RequestFailed(f"the window row kept changing over {ROW_ATTEMPTS} attempts", key, "put")


def _files_of(data: bytes) -> int:
    try:
        files = orjson.loads(data).get("files")
    except (orjson.JSONDecodeError, AttributeError):
        return -1  # not ours, or damaged: write it again
    return files if isinstance(files, int) else -1
