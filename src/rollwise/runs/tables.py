"""The merge job's outputs for SQL readers (Athena, DuckDB): a window's records, and its one row.

Pure: rows are built here, written by :mod:`rollwise.runs.publish`.

* **Records**: one JSON line per object of every counted file (an item result or
  a run summary), whole (``record`` holds the object as the producer wrote it,
  as a JSON string), with the figures it contributed, so that
  ``sum(opportunities_processed)`` over a window's records equals its
  aggregate. Gzipped JSON Lines, one object per commit that added files.
* **Window rows**: one JSON line per window with its aggregate's figures,
  flattened (``opportunity_time_ms_p50``...), for queries across windows
  without reading every aggregate's manifest.

Both sit under ``dt=YYYY-MM-DD/`` partitions named by the day the window
*starts*, the layout Glue partition projection and DuckDB's hive
partitioning read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import orjson

from rollwise.runs.records import Outcome
from rollwise.timestamps import utc_text
from rollwise.windows import Window

# The columns of each table, in order: the Glue tables (infra) are defined from these.
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("window_start", "string"),
    ("window_end", "string"),
    ("source_file", "string"),
    ("kind", "string"),
    ("id", "string"),
    ("title", "string"),
    ("score", "double"),
    ("matched", "boolean"),
    ("error", "boolean"),
    ("time_ms", "double"),
    ("timestamp", "string"),
    ("link", "string"),
    ("opportunities_processed", "bigint"),
    ("matches", "bigint"),
    ("no_matches", "bigint"),
    ("errors", "bigint"),
    ("record", "string"),
)
STATISTICS = ("opportunity_time_ms", "run_time_ms")
FIGURES = ("count", "total", "min", "max", "avg", "p50", "p95")
WINDOW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("window_start", "string"),
    ("window_end", "string"),
    ("generated_at", "string"),
    ("aggregate", "string"),
    ("files", "bigint"),
    ("opportunities_processed", "bigint"),
    ("matches", "bigint"),
    ("no_matches", "bigint"),
    ("errors", "bigint"),
    *((f"{stat}_{figure}", "double") for stat in STATISTICS for figure in FIGURES),
)


@lru_cache(maxsize=256)
def window_texts(window: Window) -> tuple[str, str]:
    """A window's start and end as stored (once per window, not once per file)."""
    return utc_text(window.start), utc_text(window.end)


def record_rows(window: Window, source_file: str, outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """One row per object of a counted file."""
    start, end = window_texts(window)
    rows = []
    for o in outcomes:
        item = o.item
        rows.append(
            {
                "window_start": start,
                "window_end": end,
                "source_file": source_file,
                "kind": "run" if o.run_id is not None else "item",
                "id": o.run_id if o.run_id is not None else (item.id if item else None),
                "title": item.title if item else None,
                "score": item.score if item else None,
                "matched": bool(o.matches) if o.run_id is None else None,
                "error": bool(o.errors) if o.run_id is None else None,
                "time_ms": o.time_ms,
                "timestamp": o.timestamp,
                "link": item.link if item else None,
                "opportunities_processed": o.opportunities_processed,
                "matches": o.matches,
                "no_matches": o.no_matches,
                "errors": o.errors,
                "record": orjson.dumps(o.source).decode() if o.source is not None else None,
            }
        )
    return rows


def window_row(window: Window, aggregate_key: str, stats: dict[str, Any], generated_at: str) -> dict[str, Any]:
    """A window's aggregate figures as one flat row."""
    start, end = window_texts(window)
    row: dict[str, Any] = {
        "window_start": start,
        "window_end": end,
        "generated_at": generated_at,
        "aggregate": aggregate_key,
        **{name: stats[name] for name in ("files", "opportunities_processed", "matches", "no_matches", "errors")},
    }
    for stat in STATISTICS:
        figures = stats.get(stat) or {}
        for figure in FIGURES:
            row[f"{stat}_{figure}"] = figures.get(figure)
    return row


class RecordsFile:
    """The records of the files one commit adds, gzipped in memory as they are folded (a
    window's compress to a few MB at most). Its key is named by the files it holds, so a
    retried commit creates the same key an earlier attempt may already have written."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", compresslevel=6, mtime=0)
        self.files: dict[str, str] = {}

    def add(self, window: Window, key: str, e_tag: str, outcomes: Sequence[Outcome]) -> None:
        if key in self.files:
            return
        self._gzip.write(b"".join(orjson.dumps(row) + b"\n" for row in record_rows(window, key, outcomes)))
        self.files[key] = e_tag

    def __len__(self) -> int:
        return len(self.files)

    def digest(self) -> str:
        return files_digest(self.files)

    def data(self) -> bytes:
        if not self._gzip.closed:
            self._gzip.close()
        return self._buffer.getvalue()


def files_digest(files: dict[str, str]) -> str:
    """A short name for a set of files at given versions (key -> ETag)."""
    h = hashlib.sha256()
    for k in sorted(files):
        h.update(f"{k}\0{files[k]}\n".encode())
    return h.hexdigest()[:16]
