"""The read side of the merge job: aggregates by window or by day, without their merge state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import orjson

from rollwise import objects
from rollwise.runs.layout import Layout


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("merge_state", None)
    return doc


def read_aggregate(store: objects.ObjectStore, layout: Layout, stamp: str) -> dict[str, Any]:
    """The aggregate of one window (its end, ``20240115t1305Z``); FileNotFoundError if there is none."""
    key = layout.aggregate_key_of(stamp)
    blob = objects.read_if_exists(store, key)
    if blob is None:
        raise FileNotFoundError(f"no aggregate {key}")
    return _public(orjson.loads(blob.data))


def aggregates_of_day(
    store: objects.ObjectStore, layout: Layout, day: date, unreadable: Callable[[str, str], None] | None = None, keep_state: bool = False
) -> Iterator[dict[str, Any]]:
    """Aggregates whose window ends on ``day``, in time order. Aggregates sit side by side
    under the root, so this lists the root one level deep (not the archive). One that is not
    a window aggregate (edited by hand?) is handed to ``unreadable(key, reason)`` and skipped,
    or, without it, is a ValueError naming it. ``keep_state`` keeps the sketches (``merge_state``), for merging windows."""
    name = day.strftime("%Y%m%d")
    keys = sorted(
        m.key for m in objects.list_children(store, layout.root) if layout.is_aggregate(m.key) and m.key[len(layout.root) :].startswith(name)
    )
    for key in keys:
        blob = objects.read_if_exists(store, key)
        if blob is None:
            continue
        try:
            doc = orjson.loads(blob.data)
            if not isinstance(doc, dict) or not isinstance(doc.get("stats"), dict):
                raise ValueError("it has no stats")
        except ValueError as exc:  # orjson's decode error is a ValueError
            reason = f"not a window aggregate: {exc}"
            if unreadable is None:
                raise ValueError(f"{key}: {reason}") from None
            unreadable(key, reason)
            continue
        yield doc if keep_state else _public(doc)
