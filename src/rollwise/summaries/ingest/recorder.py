"""The producer side: validate execution records and write them in batches, never dropping one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from rollwise.errors import StoreError
from rollwise.retry import Patience
from rollwise.summaries.ingest.dynamodb_items import ItemError, changes_of
from rollwise.summaries.ingest.mapping import Mapping as ItemMapping
from rollwise.summaries.ingest.mapping import action_of
from rollwise.summaries.model import RecordError, normalize_record
from rollwise.summaries.store import SummaryStore

# How long a producer's flush waits for a throttled table: producers call the Recorder inline, in their own
# requests, so it gives up in seconds, keeps its buffer and raises; the next flush tries again with as long.
RETRY_SECONDS = 5.0


def flush_patience() -> Patience:
    return Patience.for_seconds(RETRY_SECONDS, closing_seconds=0)


class Recorder:
    """Buffers records and writes them ``batch_size`` at a time.

    ``record`` validates at once and raises :class:`RecordError`, so a producer
    learns of a bad record where it made it. A write that fails raises and
    keeps the batch in :attr:`pending`: the next ``flush`` (or ``record``)
    stores it; writing a record twice is harmless. Use as a context manager,
    or call ``flush`` before exiting.

    Each flush has its own retry time, from ``patience`` (:data:`RETRY_SECONDS` by default); None gives
    the store's, for a command that is itself one piece of work (``rollwise summaries ingest``).
    """

    def __init__(
        self,
        store: SummaryStore,
        batch_size: int = 100,
        now: datetime | None = None,
        patience: Callable[[], Patience] | None = flush_patience,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.now = now
        self.patience = patience
        self.written = 0
        self.forgotten = 0
        self.pending: list[dict[str, Any]] = []

    def record(self, raw: Mapping[str, Any]) -> None:
        self.add(normalize_record(raw))

    def add(self, record: dict[str, Any]) -> None:
        """A record already validated (:func:`normalize_record`, or a mapping's ``record``)."""
        self.pending.append(record)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def forget(self, key: tuple[str, str]) -> None:
        """Delete an execution's records (tenant, execution id), after what is pending (it may be the same one)."""
        self.flush()
        with self._work():
            self.store.forget_records([key], self.now)
        self.forgotten += 1

    def flush(self) -> None:
        """Write what is pending; on failure it stays pending and the error is raised."""
        if self.pending:
            with self._work():
                self.store.put_records(self.pending, self.now)
            self.written += len(self.pending)
            self.pending = []

    def _work(self) -> AbstractContextManager[object]:
        return self.store.working(self.patience()) if self.patience else nullcontext()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


@dataclass
class IngestReport:
    stored: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0  # items the mapping does not take (not executions, child executions)
    ignored_removes: int = 0
    forgotten: int = 0


class IngestFailed(StoreError):
    """The store failed during an ingest: what was stored, and what was validated but not."""

    def __init__(self, report: IngestReport, unstored: int, cause: StoreError) -> None:
        super().__init__(f"stored {report.stored} record(s); {unstored} validated but not stored: {cause}")
        self.report, self.unstored = report, unstored


def ingest_lines(
    lines: Iterable[bytes | str],
    recorder: Recorder,
    on_line: Callable[[int], None] | None = None,
    mapping: ItemMapping | None = None,
    on_remove: str = "ignore",
) -> IngestReport:
    """JSON Lines into the store: a bad line (or record of a line) is reported by number, the rest stored.

    Without a mapping each line is an execution record; with one, each line is
    an item in any shape :func:`rollwise.summaries.ingest.dynamodb_items.changes_of` reads.
    """
    report = IngestReport()
    written_before, forgotten_before = recorder.written, recorder.forgotten
    try:
        for number, line in enumerate(lines, start=1):
            if on_line:
                on_line(len(line))
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                report.rejected.append((number, f"invalid JSON: {exc}"))
                continue
            if mapping is None:
                try:
                    recorder.record(raw)
                except RecordError as exc:
                    report.rejected.append((number, str(exc)))
                continue
            for change in changes_of(raw):
                try:
                    if isinstance(change, ItemError):
                        raise change
                    action = action_of(change, mapping, on_remove)
                except (ItemError, RecordError) as exc:
                    report.rejected.append((number, str(exc)))
                    continue
                if action.record is not None:  # store
                    recorder.add(action.record)
                elif action.key is not None:  # forget
                    recorder.forget(action.key)
                elif action.kind == "skip":
                    report.skipped += 1
                else:
                    report.ignored_removes += 1
        recorder.flush()
    except StoreError as exc:
        report.stored, report.forgotten = recorder.written - written_before, recorder.forgotten - forgotten_before
        raise IngestFailed(report, len(recorder.pending), exc) from exc
    report.stored, report.forgotten = recorder.written - written_before, recorder.forgotten - forgotten_before
    return report
