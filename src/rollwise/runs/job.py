"""The merge-and-archive job: every closed window's raw files into one aggregate, then archived.

The run is a loop over planned windows; each window is committed (see
:mod:`rollwise.runs.commit`), then its counted files archived and its poison
files quarantined. A raw file is archived only after the aggregate that counts
it is stored, and a file already named in a manifest is archived without being
counted again, so a crash at any point, a retry or several invocations at once
leave each file counted in exactly one aggregate.

A producer may write a key again at any moment (a redelivered message
processed twice). Every request on a raw file is conditioned on the ETag the
listing gave, so a version the job has not read is never deleted: it waits
under raw/ (``files_changed``). A key an aggregate already counts, found again
in another version, is a rewrite: archived beside the version counted, never
counted twice, and reported (``files_rewritten``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollwise import objects
from rollwise.result import Failure
from rollwise.runs import archive
from rollwise.runs.commit import CommitOutcome, commit_window
from rollwise.runs.plan import WindowFiles, plan_windows
from rollwise.runs.publish import publish
from rollwise.runs.quarantine import quarantine
from rollwise.runs.settings import MergeSettings
from rollwise.timestamps import utc_now
from rollwise.windows import Window

log = logging.getLogger(__name__)


@dataclass
class MergeResult:
    job = "merge-runs"

    windows: list[str] = field(default_factory=list)
    files_processed: int = 0
    files_archived: int = 0
    files_quarantined: int = 0
    late_files: int = 0
    files_rewritten: int = 0
    files_changed: int = 0
    failed: list[Failure] = field(default_factory=list)
    failed_files: set[str] = field(default_factory=set)
    planned: list[dict[str, Any]] = field(default_factory=list)
    # Age of the oldest closed window whose files are still under raw/ after this run: the
    # signal of the "files pile up" alarm (0 when every closed window was finished).
    oldest_pending_seconds: float = 0.0

    @property
    def files_failed(self) -> int:
        """Distinct raw files left under raw/ because an operation on them failed."""
        return len(self.failed_files)

    def fail(self, failure: Failure, file: str | None = None) -> None:
        self.failed.append(failure)
        if file is not None:
            self.failed_files.add(file)
        log.error("%s failed for %s: %s", failure.operation, failure.key, failure.error, extra=failure.to_dict())

    def pending_since(self, window: Window, reference: datetime) -> None:
        self.oldest_pending_seconds = max(self.oldest_pending_seconds, (reference - window.end).total_seconds())

    # -- the result protocol ------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        body = {
            "windows": self.windows,
            "files_processed": self.files_processed,
            "files_archived": self.files_archived,
            "files_quarantined": self.files_quarantined,
            "files_failed": self.files_failed,
            "late_files": self.late_files,
            "files_rewritten": self.files_rewritten,
            "files_changed": self.files_changed,
            "failed_operations": [f.to_dict() for f in self.failed],
        }
        if self.planned:
            body["dry_run"] = self.planned
        return body

    def failures(self) -> list[str]:
        return [f.line() for f in self.failed]

    def metrics(self) -> dict[str, float]:
        return {
            "FilesProcessed": self.files_processed,
            "FilesArchived": self.files_archived,
            "FilesQuarantined": self.files_quarantined,
            "ArchiveFailures": len(self.failed),
            "LateFiles": self.late_files,
            "FilesRewritten": self.files_rewritten,
            "FilesChanged": self.files_changed,
            "OldestPendingSeconds": self.oldest_pending_seconds,
        }


class MergeJob:
    """One invocation's work over one store."""

    def __init__(self, store: objects.ObjectStore, settings: MergeSettings | None = None, on_file: Callable[[], None] | None = None) -> None:
        self.store = store
        self.settings = settings or MergeSettings()
        self.layout = self.settings.layout
        self.on_file = on_file or (lambda: None)

    def closed_windows(self, reference: datetime) -> Iterator[WindowFiles]:
        if self.layout.lists_one_level():
            metas: Any = objects.list_children(self.store, self.layout.raw)
        else:
            metas = objects.list_objects(self.store, self.layout.raw)
        return plan_windows(metas, self.layout, reference, self.settings.window, self.settings.grace, self.store.ordered)

    def run(self, reference: datetime, dry_run: bool = False, deadline: float | None = None) -> MergeResult:
        """Merge every closed window. Past ``deadline`` (a ``time.monotonic()`` value) no new
        window is started: the next run picks up the rest."""
        result = MergeResult()
        if not dry_run:  # a folder's deletes a crash interrupted, settled before the listing: a file put back is listed
            self.store.settle_claims()
        windows = self.closed_windows(reference)
        while True:
            try:
                planned = next(windows, None)
            except objects.ObjectError as exc:
                result.fail(Failure(self.layout.raw, "list", exc))
                break
            if planned is None:
                break
            if dry_run:
                result.planned.append(self.plan_entry(planned))
                continue
            if deadline is not None and time.monotonic() > deadline:
                log.warning("out of time: stopping before %s; the next run continues", self.layout.aggregate_key(planned.window))
                result.pending_since(planned.window, reference)
                break
            failed_before = result.files_failed
            try:
                self.merge_window(planned, result)
            except objects.ObjectError as exc:  # one window failing must not stop the others
                result.fail(Failure(self.layout.aggregate_key(planned.window), "merge", exc))
                result.failed_files.update(f.key for f in planned.files)
            except ValueError as exc:  # an aggregate that is not ours to read (edited by hand?)
                result.fail(Failure(self.layout.aggregate_key(planned.window), "merge", f"the stored aggregate cannot be read: {exc}"))
                result.failed_files.update(f.key for f in planned.files)
            if result.files_failed > failed_before:
                result.pending_since(planned.window, reference)
        return result

    def plan_entry(self, planned: WindowFiles) -> dict[str, Any]:
        from rollwise.runs.aggregate import WindowAggregate

        key = self.layout.aggregate_key(planned.window)
        stored = objects.read_if_exists(self.store, key)
        counted = set(WindowAggregate.from_json(planned.window, stored.data).manifest) if stored else set()
        return {
            "aggregate": key,
            "files": len(planned.files),
            "already_counted": sum(f.key in counted for f in planned.files),
            "aggregate_exists": stored is not None,
        }

    def merge_window(self, planned: WindowFiles, result: MergeResult) -> CommitOutcome:
        outcome = commit_window(self.store, self.layout, planned.window, planned.files, self.settings, self.on_file)
        try:
            self._after_commit(planned, outcome, result)
        finally:  # whatever stopped the window, the counted bytes kept on local disk go (a warm Lambda keeps its /tmp)
            for kept in (outcome.spool, outcome.bundle):
                if kept is not None:
                    kept.discard()
        return outcome

    def _after_commit(self, planned: WindowFiles, outcome: CommitOutcome, result: MergeResult) -> None:
        window, files = planned.window, planned.files
        if outcome.gave_up:
            poisoned = {f.key for f, _ in outcome.poison}
            result.fail(Failure(outcome.key, "put", outcome.gave_up))
            result.failed_files.update(f.key for f in files if f.key not in poisoned)
        elif outcome.added and outcome.aggregate is not None:
            result.windows.append(outcome.key)
            result.files_processed += len(outcome.added)
            if outcome.late:
                result.late_files += len(outcome.added)
            agg = outcome.aggregate
            log.info(
                "window merged",
                extra={
                    "aggregate": outcome.key,
                    "window_start": window.start.isoformat(),
                    "files_added": len(outcome.added),
                    "files_in_aggregate": agg.files,
                    "late": outcome.late,
                    "opportunities": agg.opportunities_processed,
                    "matches": agg.matches,
                    "errors": agg.errors,
                    "attempts": outcome.attempts,
                },
            )
        for f, error in outcome.unread:
            result.fail(Failure(f.key, "get", error), f.key)
        counted = outcome.counted(files)
        if self.settings.records_output:
            published = publish(self.store, self.layout, outcome, counted, self.settings)
            if published.failed:  # the files stay under raw/: the next run completes the outputs, then archives them
                for failure in published.failed:
                    result.fail(failure)
                result.failed_files.update(f.key for f in counted)
                counted = []
        rewrites = [f for f, _ in outcome.rewritten]
        if self.settings.archive_mode == "bundle":
            archived = archive.bundle(self.store, self.layout, window, counted + rewrites, outcome.bundle, self.settings.concurrency)
        else:
            archived = archive.move(self.store, self.layout, counted, self.settings.concurrency, rewrites, outcome.spool)
        done = set(archived.archived)
        kept = done | set(archived.superseded)  # the version listed is in the archive now
        for f, counted_e_tag in outcome.rewritten:
            if f.key not in kept:
                continue
            result.files_rewritten += 1
            where = self.layout.bundles if self.settings.archive_mode == "bundle" else self.layout.rewrite_key(f.key, f.e_tag)
            log.warning(
                "file written again after it was counted: %s (ETag %s counted in %s, now %s): archived in %s, not counted again",
                f.key,
                counted_e_tag,
                outcome.key,
                f.e_tag,
                where,
                extra={"key": f.key, "counted_etag": counted_e_tag, "etag": f.e_tag, "aggregate": outcome.key, "archived": where},
            )
        result.files_archived += len(done - {f.key for f in rewrites})
        changed = [f.key for f in outcome.changed] + list(archived.changed) + list(archived.superseded)
        if changed:
            log.info(
                "files written again since they were listed, left under raw/ for the next run", extra={"keys": changed[:20], "files": len(changed)}
            )
        result.files_changed += len(changed)
        for failure in archived.failed:
            result.fail(failure, failure.key)
        moved = quarantine(self.store, self.layout, outcome.poison + archived.poison, self.settings.concurrency, utc_now())
        result.files_quarantined += len(moved.moved)
        for failure in moved.failed:
            result.fail(failure, failure.key)
