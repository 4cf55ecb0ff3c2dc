"""One window's aggregate: built file by file in bounded memory, and merged into an existing one.

Running counters, exact min/max/total, DDSketches for percentiles and a
top-10 list: nothing here keeps a record once it has been folded in. What a
later merge needs (the distributions' state) travels inside the aggregate
under ``merge_state``.

Two time statistics, never mixed:

* ``opportunity_time_ms``: the processing time *per opportunity*. An item
  result contributes its ``processing_time_ms``; a run summary contributes its
  duration spread evenly over its opportunities (so ``count`` is the number of
  opportunities timed and ``avg`` is exact; percentiles see each run's average).
* ``run_time_ms``: whole-run durations, one per run summary.

A statistic with nothing reported is empty (``count`` 0, figures null), never zero.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from rollwise.runs.records import Match, Outcome
from rollwise.sketch import Distribution, plain
from rollwise.timestamps import utc_text
from rollwise.windows import Window

TOP_N = 10
FORMAT_VERSION = 2


def _rank(m: tuple[Match, str]) -> tuple:
    """Best first: higher score, then id, then source file."""
    return (-(m[0].score or 0.0), m[0].id, m[1])


@dataclass
class WindowAggregate:
    window: Window
    files: int = 0
    opportunities_processed: int = 0
    matches: int = 0
    no_matches: int = 0
    errors: int = 0
    opportunity_time: Distribution = field(default_factory=Distribution)
    run_time: Distribution = field(default_factory=Distribution)
    top: list[tuple[Match, str]] = field(default_factory=list)
    # key -> the file's compact JSON entry, kept as str: orjson's bytes carry a ~4 KB buffer each
    runs: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, str] = field(default_factory=dict)  # key -> ETag
    records_of: dict[str, str] = field(default_factory=dict)  # key -> the records object holding its rows (SQL output)

    def add_file(self, key: str, e_tag: str, outcomes: Iterable[Outcome]) -> None:
        counts = [0, 0, 0, 0]
        item_ms: float | None = None
        run_ms: float | None = None
        run_ids = []
        candidates: list[tuple[Match, str]] = []
        for o in outcomes:
            counts[0] += o.opportunities_processed
            counts[1] += o.matches
            counts[2] += o.no_matches
            counts[3] += o.errors
            if o.time_ms is not None:
                if o.run_id is None:
                    self.opportunity_time.add(o.time_ms)
                    item_ms = (item_ms or 0) + o.time_ms
                else:
                    self.run_time.add(o.time_ms)
                    if o.opportunities_processed:
                        self.opportunity_time.add(o.time_ms / o.opportunities_processed, o.opportunities_processed)
                    run_ms = (run_ms or 0) + o.time_ms
            if o.run_id is not None:
                run_ids.append(o.run_id)
            candidates.extend((m, key) for m in o.top_matches)
        self.files += 1
        self.opportunities_processed += counts[0]
        self.matches += counts[1]
        self.no_matches += counts[2]
        self.errors += counts[3]
        if candidates:
            self.top = heapq.nsmallest(TOP_N, self.top + candidates, key=_rank)
        entry: dict[str, Any] = {
            "file": key,
            "opportunities_processed": counts[0],
            "matches": counts[1],
            "no_matches": counts[2],
            "errors": counts[3],
        }
        if item_ms is not None:
            entry["opportunity_time_ms"] = plain(item_ms)
        if run_ms is not None:
            entry["run_time_ms"] = plain(run_ms)
        if run_ids:
            entry["run_id"] = run_ids[0] if len(run_ids) == 1 else run_ids
        self.runs[key] = orjson.dumps(entry).decode()
        self.manifest[key] = e_tag

    def name_records(self, keys: Iterable[str], records_key: str) -> None:
        """The manifest names, for each file, the records object its rows went to: the
        next run checks it exists before the file is archived (and rebuilds it if not)."""
        for k in keys:
            self.records_of[k] = records_key

    # -- the file format --------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "opportunities_processed": self.opportunities_processed,
            "matches": self.matches,
            "no_matches": self.no_matches,
            "errors": self.errors,
            "opportunity_time_ms": self.opportunity_time.figures(),
            "run_time_ms": self.run_time.figures(),
        }

    def to_json(self, generated_at: datetime) -> bytes:
        runs = ("[" + ",".join(self.runs[k] for k in sorted(self.runs)) + "]").encode()
        doc = {
            "format_version": FORMAT_VERSION,
            "window_start": utc_text(self.window.start),
            "window_end": utc_text(self.window.end),
            "generated_at": utc_text(generated_at),
            "stats": self.stats(),
            "top_matches": [
                {"id": m.id, "title": m.title, "score": m.score, "source_file": src, **({"link": m.link} if m.link else {})} for m, src in self.top
            ],
            "runs": orjson.Fragment(runs),
            "source_files": [
                {"key": k, "etag": self.manifest[k], **({"records": self.records_of[k]} if k in self.records_of else {})}
                for k in sorted(self.manifest)
            ],
            "merge_state": {"version": FORMAT_VERSION, "opportunity_time": self.opportunity_time.to_state(), "run_time": self.run_time.to_state()},
        }
        return orjson.dumps(doc)

    @classmethod
    def from_json(cls, window: Window, body: bytes) -> WindowAggregate:
        """An existing aggregate, ready to take late files; ValueError if it is not one."""
        try:
            return cls._from_doc(window, orjson.loads(body))
        except (KeyError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
            raise ValueError(f"not a window aggregate ({type(exc).__name__}: {exc})") from None

    @classmethod
    def _from_doc(cls, window: Window, doc: dict) -> WindowAggregate:
        stats = doc["stats"]
        state = doc.get("merge_state") or {}
        agg = cls(window)
        agg.files = stats["files"]
        agg.opportunities_processed = stats["opportunities_processed"]
        agg.matches = stats["matches"]
        agg.no_matches = stats["no_matches"]
        agg.errors = stats["errors"]
        if state.get("version", 1) >= 2:
            agg.opportunity_time = Distribution.from_state(state["opportunity_time"])
            agg.run_time = Distribution.from_state(state["run_time"])
        else:
            # Format 1 (rollwise 0.1) kept one mixed statistic; it carries on as the per-opportunity one.
            pt = stats["processing_time_ms"]
            agg.opportunity_time = Distribution.from_state({**pt, "sketch": state.get("processing_time_sketch")})
        agg.top = [(Match(m["id"], m.get("title"), m["score"], m.get("link")), m["source_file"]) for m in doc["top_matches"]]
        agg.runs = {r["file"]: orjson.dumps(r).decode() for r in doc["runs"]}
        agg.manifest = {f["key"]: f["etag"] for f in doc["source_files"]}
        agg.records_of = {f["key"]: f["records"] for f in doc["source_files"] if f.get("records")}
        return agg
