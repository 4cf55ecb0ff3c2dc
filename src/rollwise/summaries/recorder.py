"""The producer side: validate execution records and write them in batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

import orjson

from rollwise.summaries.model import RecordError, normalize_record
from rollwise.summaries.store import SummaryStore


class Recorder:
    """Buffers records and writes them ``batch_size`` at a time.

    ``record`` validates at once and raises :class:`RecordError`, so a producer
    learns of a bad record where it made it. Use as a context manager, or call
    ``flush`` before exiting.
    """

    def __init__(self, store: SummaryStore, batch_size: int = 100, now: datetime | None = None) -> None:
        self.store = store
        self.batch_size = batch_size
        self.now = now
        self.written = 0
        self._buffer: list[dict[str, Any]] = []

    def record(self, raw: Mapping[str, Any]) -> None:
        self._buffer.append(normalize_record(raw))
        if len(self._buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.store.put_records(batch, self.now)
            self.written += len(batch)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


@dataclass
class IngestReport:
    stored: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def ingest_lines(lines: Iterable[bytes | str], recorder: Recorder, on_line=None) -> IngestReport:
    """JSON Lines into the store: a bad line is reported by number, the rest stored."""
    report = IngestReport()
    for number, line in enumerate(lines, start=1):
        if on_line:
            on_line(len(line))
        if not line.strip():
            continue
        try:
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise RecordError(f"invalid JSON: {exc}") from None
            recorder.record(raw)
            report.stored += 1
        except RecordError as exc:
            report.rejected.append((number, str(exc)))
    recorder.flush()
    return report
