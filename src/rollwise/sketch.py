"""Mergeable percentile sketches (DDSketch, 1% relative accuracy) and their bytes.

Both jobs keep a sketch beside their exact counters so that summaries can be
merged later (days into weeks, late files into an aggregate) without the raw
values. The wire form is ddsketch's own protobuf, with empty edge bins trimmed
so that equal distributions encode to equal bytes whatever their history:
idempotent writes compare those bytes.
"""

from __future__ import annotations

import base64
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate, compress, count
from math import ceil, log
from typing import Any

from ddsketch.ddsketch import BaseDDSketch
from ddsketch.mapping import LogarithmicMapping
from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.01
# Mappings are immutable: one for every sketch saves building it (two logs) 6,000 times a run.
_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
_LN2 = log(2)


def new_sketch() -> BaseDDSketch:
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

    def add_many(self, values: Sequence[float]) -> None:
        """Many values at once, exactly as :meth:`add` one by one would give them (the same
        sums in the same order, the same bins): ddsketch's key for each value, the store's
        range grown once, then plain bin increments. A day's durations come this way."""
        if not values:
            return
        self.count += len(values)
        self.total = sum(values, self.total)
        low, high = min(values), max(values)
        if self.lowest is None or low < self.lowest:
            self.lowest = low
        if self.highest is None or high > self.highest:
            self.highest = high
        sketch = self.sketch
        smallest = sketch._mapping.min_possible
        positive = [v for v in values if v > smallest]
        negative = [-v for v in values if v < -smallest]
        _add_keys(sketch._store, _keys(sketch._mapping, positive))
        _add_keys(sketch._negative_store, _keys(sketch._mapping, negative))
        sketch._zero_count += float(len(values) - len(positive) - len(negative))
        sketch._count += float(len(values))
        sketch._sum = sum(values, sketch._sum)
        sketch._min, sketch._max = min(sketch._min, low), max(sketch._max, high)

    def merge(self, other: Distribution) -> None:
        self.count += other.count
        self.total += other.total
        if other.lowest is not None and (self.lowest is None or other.lowest < self.lowest):
            self.lowest = other.lowest
        if other.highest is not None and (self.highest is None or other.highest > self.highest):
            self.highest = other.highest
        _merge_sketch(self.sketch, other.sketch)

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
        out.update(zip((name for name, _ in named), self.quantiles([q for _, q in named]), strict=True))
        return out

    # -- its stored forms ---------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Everything a later merge needs, as JSON: the exact figures and the sketch (base64)."""
        return {"count": plain(self.count), "total": self.total, "min": self.lowest, "max": self.highest, "sketch": encode_text(self.sketch)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Distribution:
        return cls.restore(
            state.get("count") or 0,
            state.get("total") or 0,
            state.get("min"),
            state.get("max"),
            base64.b64decode(state["sketch"]) if state.get("sketch") else None,
        )

    @classmethod
    def restore(cls, count: float, total: float, lowest: float | None, highest: float | None, sketch: bytes | None) -> Distribution:
        """From exact figures kept beside the sketch's :func:`encode` bytes (a store's columns)."""
        d = cls()
        d.count, d.total, d.lowest, d.highest = count, total, lowest, highest
        if sketch:
            d.sketch = decode(sketch)
        return d


def _keys(mapping: Any, values: list[float]) -> list[int]:
    """``mapping.key(v)`` for each value; for the logarithmic mapping, its own arithmetic
    (``math.log(v, 2)`` is ``log(v) / log(2)``) inline, without two calls a value."""
    if type(mapping) is not LogarithmicMapping:
        return list(map(mapping.key, values))
    multiplier, offset = mapping._multiplier, mapping._offset
    return [int(ceil(log(v) / _LN2 * multiplier) + offset) for v in values]


def _merge_sketch(into: BaseDDSketch, other: BaseDDSketch) -> None:
    """``into.merge(other)``, walking only the other's non-empty bins (ddsketch walks its whole
    key range in Python; a day's sketch has a few values spread over hundreds of keys)."""
    if into._mapping.gamma != other._mapping.gamma:
        raise ValueError(f"cannot merge sketches of different accuracy ({into._mapping.gamma} and {other._mapping.gamma})")
    if other.count == 0:
        return
    if into._count == 0:
        into._copy(other)
        return
    for mine, theirs in ((into._store, other._store), (into._negative_store, other._negative_store)):
        if theirs.count == 0:
            continue
        if mine.count == 0:
            mine.copy(theirs)
            continue
        mine._extend_range(theirs.min_key, theirs.max_key)
        bins, offset = mine.bins, mine.offset
        for key, weight in zip(compress(count(theirs.offset), theirs.bins), filter(None, theirs.bins), strict=True):
            bins[key - offset] += weight
        mine.count += theirs.count
    into._zero_count += other._zero_count
    into._count += other._count
    into._sum += other._sum
    into._min, into._max = min(into._min, other._min), max(into._max, other._max)


def _add_keys(store: DenseStore, keys: list[int]) -> None:
    """What ``store.add(key)`` does for each key, with the range grown once rather than key by key."""
    if not keys:
        return
    store._extend_range(min(keys), max(keys))
    bins, offset = store.bins, store.offset
    for key in keys:
        bins[key - offset] += 1.0
    store.count += float(len(keys))


def plain(value: Any) -> Any:
    """A figure as stored and shown: floats to 3 decimals, whole floats as ints."""
    if isinstance(value, float):
        value = round(value, 3)
        return int(value) if value.is_integer() else value
    return value


def _bin_counts(store) -> dict[int, float]:
    return {store.offset + i: c for i, c in enumerate(store.bins) if c}


def encode(sketch: BaseDDSketch) -> bytes:
    """Canonical protobuf bytes of ``sketch``: sparse bins, sorted keys."""
    from ddsketch.pb.proto import KeyMappingProto, pb

    proto = pb.DDSketch(
        mapping=KeyMappingProto.to_proto(sketch._mapping),
        positiveValues=pb.Store(binCounts=_bin_counts(sketch._store)),
        negativeValues=pb.Store(binCounts=_bin_counts(sketch._negative_store)),
        zeroCount=sketch._zero_count,
    )
    return proto.SerializeToString(deterministic=True)


def decode(data: bytes) -> BaseDDSketch:
    """A sketch from :func:`encode` bytes. Min, max and sum are not in the wire
    form; callers keep them exactly beside the sketch."""
    from ddsketch.pb.proto import pb

    proto = pb.DDSketch()
    proto.ParseFromString(data)
    sketch = new_sketch()
    # Compared field by field: building the encoded mapping to compare it cost half of a read of many summaries.
    mapping = proto.mapping
    if (mapping.gamma, mapping.indexOffset, mapping.interpolation) != (_MAPPING.gamma, _MAPPING._offset, pb.IndexMapping.NONE):
        raise ValueError(
            f"sketch was encoded with another key mapping (gamma {mapping.gamma}, offset {mapping.indexOffset}, "
            f"interpolation {mapping.interpolation}) than rollwise's (gamma {_MAPPING.gamma}, 1% relative accuracy)"
        )
    for key, weight in proto.positiveValues.binCounts.items():
        sketch._store.add(key, weight)
    for key, weight in proto.negativeValues.binCounts.items():
        sketch._negative_store.add(key, weight)
    sketch._zero_count = proto.zeroCount
    sketch._count = sketch._store.count + sketch._negative_store.count + proto.zeroCount
    return sketch


def encode_text(sketch: BaseDDSketch) -> str:
    return base64.b64encode(encode(sketch)).decode("ascii")


def decode_text(text: str) -> BaseDDSketch:
    return decode(base64.b64decode(text))


def quantiles(sketch: BaseDDSketch, qs: Sequence[float], lowest: float | None, highest: float | None) -> list[float | None]:
    """Several quantiles from one pass over the bins, each as :func:`quantile` gives it.

    ddsketch walks the bins in Python once per quantile; a summary needs several.
    """
    if sketch._negative_store.count or list(qs) != sorted(qs):
        return [quantile(sketch, q, lowest, highest) for q in qs]
    if sketch.count == 0:
        return [None] * len(qs)
    store, zero, mapping = sketch._store, sketch._zero_count, sketch._mapping
    # running totals in bin order (the same additions ddsketch's walk makes), searched in C
    running = list(accumulate(store.bins, initial=zero))[1:]
    out: list[float | None] = []
    for q in qs:
        rank = q * (sketch.count - 1)
        if rank < zero:
            value = 0.0
        else:
            index = bisect_right(running, rank)
            key = index + store.offset if index < len(running) else store.max_key
            value = mapping.value(key)
        out.append(_clamp(value, lowest, highest))
    return out


def _clamp(value: float, lowest: float | None, highest: float | None) -> float:
    if lowest is not None:
        value = max(value, lowest)
    if highest is not None:
        value = min(value, highest)
    return round(float(value), 3)


def quantile(sketch: BaseDDSketch, q: float, lowest: float | None, highest: float | None) -> float | None:
    """The sketch's quantile, clamped into the exact [lowest, highest] range."""
    if sketch.count == 0:
        return None
    value = sketch.get_quantile_value(q)
    return None if value is None else _clamp(value, lowest, highest)
