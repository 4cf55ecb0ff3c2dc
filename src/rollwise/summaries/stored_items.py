"""The items a summaries backend stores, in the shapes every backend shares: a record's copy, an execution's
locator (the places of its copies), and a summary with its sketch still encoded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollwise.periods import Period
from rollwise.sketch import Distribution, plain
from rollwise.summaries.model import COUNTERS, DURATION_FIELDS, EVENT_COUNTERS, Summary, SummaryKey, summary_row

Places = frozenset[tuple[str, int]]  # the (day key, shard) places of an execution's copies


def places_text(places: Places) -> str:
    """A locator's places as backends store them: ``2024-01-09#3 2024-01-10#3``."""
    return " ".join(f"{day}#{shard}" for day, shard in sorted(places))


def places_of(text: str) -> Places:
    return frozenset((day, int(shard)) for day, _, shard in (p.partition("#") for p in text.split()))


@dataclass(frozen=True)
class RecordItem:
    day: str
    shard: int
    tenant_id: str
    execution_id: str
    record: Mapping[str, Any]
    expires: int | None = None  # epoch seconds (the TTL attribute), when records are kept for a while only


NUMBER_FIELDS = COUNTERS + DURATION_FIELDS
IDENTITY_FIELDS = COUNTERS + ("min_duration_ms", "max_duration_ms")


def identity(summary: Summary, sketch: bytes) -> tuple:
    """What decides whether two summaries are the same: exact figures and
    sketch bytes. Averages and percentiles derive from these, so an unchanged
    summary is recognised without computing them."""
    return (*(plain(getattr(summary, name)) for name in IDENTITY_FIELDS), sketch)


def stored_figures(summary: Summary, sketch: bytes | None = None) -> dict[str, Any]:
    """What a backend persists of a summary: every figure, and the sketch's bytes."""
    from rollwise.sketch import encode

    figures = summary.figures()
    figures["sketch"] = encode(summary.durations.sketch) if sketch is None else sketch
    return figures


@dataclass(frozen=True)
class StoredSummary:
    """A summary as a store holds it: figures ready to show, the sketch still encoded.

    Reading, comparing and showing need no sketch decoding; only merging
    into a longer period does (:meth:`summary`).
    """

    tenant_id: str
    owner_id: str
    metric_type: str
    period: Period
    figures: Mapping[str, Any]

    @classmethod
    def of(cls, summary: Summary, sketch: bytes | None = None) -> StoredSummary:
        return cls(summary.tenant_id, summary.owner_id, summary.metric_type, summary.period, stored_figures(summary, sketch))

    def identity(self) -> tuple:
        return (*(self.figures[name] for name in IDENTITY_FIELDS), self.figures["sketch"])

    @classmethod
    def load(cls, tenant_id: str, owner_id: str, metric_type: str, period: Period, figures: Mapping[str, Any]) -> StoredSummary:
        """From what a backend read: absent figures are None, like in :func:`stored_figures`."""
        full = {name: figures.get(name) for name in NUMBER_FIELDS}
        full["sketch"] = figures.get("sketch") or b""
        return cls(tenant_id, owner_id, metric_type, period, full)

    @property
    def key(self) -> SummaryKey:
        return (self.tenant_id, self.owner_id, self.metric_type)

    def summary(self) -> Summary:
        f = self.figures
        s = Summary(
            self.tenant_id,
            self.owner_id,
            self.metric_type,
            self.period,
            durations=Distribution.restore(
                f["duration_count"] or 0, f["total_duration_ms"] or 0, f["min_duration_ms"], f["max_duration_ms"], f["sketch"]
            ),
        )
        for name in EVENT_COUNTERS:
            setattr(s, name, f[name] or 0)
        return s

    def to_dict(self) -> dict[str, Any]:
        return summary_row(self.tenant_id, self.owner_id, self.metric_type, self.period, self.figures)
