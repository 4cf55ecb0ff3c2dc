"""Mergeable percentile sketches (DDSketch, 1% relative accuracy) and their bytes.

Both jobs keep a sketch beside their exact counters so that summaries can be
merged later (days into weeks, late files into an aggregate) without the raw
values. The wire form is ddsketch's own protobuf, with empty edge bins trimmed
so that equal distributions encode to equal bytes whatever their history:
idempotent writes compare those bytes.
"""

from __future__ import annotations

import base64
from typing import Any, Mapping, Sequence

from ddsketch import DDSketch
from ddsketch.ddsketch import BaseDDSketch
from ddsketch.mapping import LogarithmicMapping
from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.01
# Mappings are immutable: one for every sketch saves building it (two logs) 6,000 times a run.
_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)


def new_sketch() -> DDSketch:
    """An empty DDSketch with 1% relative accuracy (ddsketch's own default layout)."""
    return BaseDDSketch(mapping=_MAPPING, store=DenseStore(), negative_store=DenseStore(), zero_count=0.0)


class Distribution:
    """What both jobs keep of a set of durations: exact count, total, lowest and
    highest, beside a sketch for percentiles. Two distributions merge exactly
    (the sketch within its accuracy), so longer periods and late files need no
    raw values; a distribution writes and restores itself, so no caller
    rebuilds one field by field."""

    __slots__ = ("count", "total", "lowest", "highest", "sketch")

    def __init__(self) -> None:
        self.count: float = 0
        self.total: float = 0
        self.lowest: float | None = None
        self.highest: float | None = None
        self.sketch = new_sketch()

    def add(self, value: float, weight: float = 1) -> None:
        """One value, or ``weight`` values all equal to ``value``."""
        self.count += weight
        self.total += value * weight
        if self.lowest is None or value < self.lowest:
            self.lowest = value
        if self.highest is None or value > self.highest:
            self.highest = value
        self.sketch.add(value, weight)

    def merge(self, other: "Distribution") -> None:
        self.count += other.count
        self.total += other.total
        if other.lowest is not None and (self.lowest is None or other.lowest < self.lowest):
            self.lowest = other.lowest
        if other.highest is not None and (self.highest is None or other.highest > self.highest):
            self.highest = other.highest
        self.sketch.merge(other.sketch)

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        return quantiles(self.sketch, qs, self.lowest, self.highest)

    def figures(self, named: Sequence[tuple[str, float]] = (("p50", 0.5), ("p95", 0.95))) -> dict[str, Any]:
        """count, total, min, max, avg and the named quantiles, as plain numbers (None when empty)."""
        out: dict[str, Any] = {
            "count": plain(self.count),
            "total": plain(self.total),
            "min": plain(self.lowest),
            "max": plain(self.highest),
            "avg": plain(self.total / self.count) if self.count else None,
        }
        out.update(zip((name for name, _ in named), self.quantiles([q for _, q in named])))
        return out

    # -- its stored forms ---------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Everything a later merge needs, as JSON: the exact figures and the sketch (base64)."""
        return {"count": plain(self.count), "total": self.total, "min": self.lowest, "max": self.highest,
                "sketch": encode_text(self.sketch)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Distribution":
        return cls.restore(state.get("count") or 0, state.get("total") or 0, state.get("min"), state.get("max"),
                           base64.b64decode(state["sketch"]) if state.get("sketch") else None)

    @classmethod
    def restore(cls, count: float, total: float, lowest: float | None, highest: float | None, sketch: bytes | None) -> "Distribution":
        """From exact figures kept beside the sketch's :func:`encode` bytes (a store's columns)."""
        d = cls()
        d.count, d.total, d.lowest, d.highest = count, total, lowest, highest
        if sketch:
            d.sketch = decode(sketch)
        return d


def plain(value: Any) -> Any:
    """A figure as stored and shown: floats to 3 decimals, whole floats as ints."""
    if isinstance(value, float):
        value = round(value, 3)
        return int(value) if value.is_integer() else value
    return value


def _bin_counts(store) -> dict[int, float]:
    return {store.offset + i: c for i, c in enumerate(store.bins) if c}


def encode(sketch: DDSketch) -> bytes:
    """Canonical protobuf bytes of ``sketch``: sparse bins, sorted keys."""
    from ddsketch.pb.proto import KeyMappingProto, pb

    proto = pb.DDSketch(
        mapping=KeyMappingProto.to_proto(sketch._mapping),
        positiveValues=pb.Store(binCounts=_bin_counts(sketch._store)),
        negativeValues=pb.Store(binCounts=_bin_counts(sketch._negative_store)),
        zeroCount=sketch._zero_count,
    )
    return proto.SerializeToString(deterministic=True)


def decode(data: bytes) -> DDSketch:
    """A sketch from :func:`encode` bytes. Min, max and sum are not in the wire
    form; callers keep them exactly beside the sketch."""
    from ddsketch.pb.proto import KeyMappingProto, pb

    proto = pb.DDSketch()
    proto.ParseFromString(data)
    sketch = new_sketch()
    if KeyMappingProto.from_proto(proto.mapping).gamma != sketch._mapping.gamma:
        raise ValueError("sketch was encoded with a different relative accuracy")
    for key, count in proto.positiveValues.binCounts.items():
        sketch._store.add(key, count)
    for key, count in proto.negativeValues.binCounts.items():
        sketch._negative_store.add(key, count)
    sketch._zero_count = proto.zeroCount
    sketch._count = sketch._store.count + sketch._negative_store.count + proto.zeroCount
    return sketch


def encode_text(sketch: DDSketch) -> str:
    return base64.b64encode(encode(sketch)).decode("ascii")


def decode_text(text: str) -> DDSketch:
    return decode(base64.b64decode(text))


def quantiles(sketch: DDSketch, qs: Sequence[float], lowest: float | None, highest: float | None) -> list[float | None]:
    """Several quantiles in one walk over the bins, each as :func:`quantile` gives it.

    ddsketch answers one quantile per walk; a summary needs four.
    """
    if sketch._negative_store.count or list(qs) != sorted(qs):
        return [quantile(sketch, q, lowest, highest) for q in qs]
    if sketch.count == 0:
        return [None] * len(qs)
    store, zero, mapping = sketch._store, sketch._zero_count, sketch._mapping
    out: list[float | None] = []
    running, index, bins = zero, -1, store.bins
    for q in qs:
        rank = q * (sketch.count - 1)
        if rank < zero:
            value = 0.0
        else:
            while running <= rank and index + 1 < len(bins):
                index += 1
                running += bins[index]
            key = index + store.offset if running > rank else store.max_key
            value = mapping.value(key)
        out.append(_clamp(value, lowest, highest))
    return out


def _clamp(value: float, lowest: float | None, highest: float | None) -> float:
    if lowest is not None:
        value = max(value, lowest)
    if highest is not None:
        value = min(value, highest)
    return round(float(value), 3)


def quantile(sketch: DDSketch, q: float, lowest: float | None, highest: float | None) -> float | None:
    """The sketch's quantile, clamped into the exact [lowest, highest] range."""
    if sketch.count == 0:
        return None
    value = sketch.get_quantile_value(q)
    return None if value is None else _clamp(value, lowest, highest)
