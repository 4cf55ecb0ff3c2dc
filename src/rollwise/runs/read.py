"""The read side of the merge job: aggregates by window or by day."""

from __future__ import annotations

from typing import Any, Iterator

import obstore as obs
import orjson

from rollwise.objects import NOT_FOUND
from rollwise.windows import STAMP


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("merge_state", None)
    return doc


def read_aggregate(store: Any, layout: Any, stamp: str) -> dict[str, Any]:
    name = stamp.removesuffix(".json")
    if not STAMP.fullmatch(name):
        raise ValueError(f"{stamp!r} is not a window stamp like 20240115t1305Z")
    key = f"{layout.root}{name}.json"
    try:
        return _public(orjson.loads(bytes(obs.get(store, key).bytes())))
    except NOT_FOUND:
        raise FileNotFoundError(f"no aggregate {key}") from None


def aggregates_of_day(store: Any, layout: Any, day: str) -> Iterator[dict[str, Any]]:
    """Aggregates whose window ends on ``day`` (YYYYMMDD), in time order.

    Aggregates sit side by side under the root, so this lists the root one
    level deep (not the archive) and keeps the day's names.
    """
    if len(day) != 8 or not day.isdigit():
        raise ValueError(f"--date must be YYYYMMDD, got {day!r}")
    listing = obs.list_with_delimiter(store, layout.root.rstrip("/") or None)
    keys = sorted(m["path"] for m in listing["objects"] if m["path"].rsplit("/", 1)[-1].startswith(day) and STAMP.fullmatch(m["path"].rsplit("/", 1)[-1].removesuffix(".json")))
    for key in keys:
        yield _public(orjson.loads(bytes(obs.get(store, key).bytes())))
