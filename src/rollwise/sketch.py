"""Mergeable percentile sketches (DDSketch, 1% relative accuracy) and their bytes.

Both jobs keep a sketch beside their exact counters so that summaries can be
merged later (days into weeks, late files into an aggregate) without the raw
values. The wire form is ddsketch's own protobuf, with empty edge bins trimmed
so that equal distributions encode to equal bytes whatever their history:
idempotent writes compare those bytes.
"""

from __future__ import annotations

import base64

from ddsketch import DDSketch

RELATIVE_ACCURACY = 0.01


def new_sketch() -> DDSketch:
    return DDSketch(RELATIVE_ACCURACY)


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


def quantile(sketch: DDSketch, q: float, lowest: float | None, highest: float | None) -> float | None:
    """The sketch's quantile, clamped into the exact [lowest, highest] range."""
    if sketch.count == 0:
        return None
    value = sketch.get_quantile_value(q)
    if value is None:
        return None
    if lowest is not None:
        value = max(value, lowest)
    if highest is not None:
        value = min(value, highest)
    return round(float(value), 3)
