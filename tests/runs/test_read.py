"""The read side: one window by its stamp as people type it, or every aggregate of a day."""

from datetime import UTC, date, datetime

import pytest

from rollwise.runs.job import MergeJob
from rollwise.runs.layout import Layout
from rollwise.runs.read import aggregates_of_day, read_aggregate
from support.runs import item, open_store, put

LAYOUT = Layout.under("runs")


def test_by_window_and_by_day(runs_url):
    store = open_store(runs_url)
    for minute in ("2358", "0001", "0006"):
        day = "20240114" if minute == "2358" else "20240115"
        put(store, f"runs/raw/{day}t{minute}Z_a.json", item(1, 0.9))
    MergeJob(store).run(datetime(2024, 1, 15, 1, tzinfo=UTC))
    doc = read_aggregate(store, LAYOUT, "20240115T0005Z")
    assert doc["window_end"] == "2024-01-15T00:05:00Z" and "merge_state" not in doc
    assert [d["window_end"] for d in aggregates_of_day(store, LAYOUT, date(2024, 1, 15))] == [
        "2024-01-15T00:00:00Z",
        "2024-01-15T00:05:00Z",
        "2024-01-15T00:10:00Z",
    ]
    assert list(aggregates_of_day(store, LAYOUT, date(2024, 1, 14))) == []
    with pytest.raises(FileNotFoundError, match="no aggregate runs/20240115t0105Z.json"):
        read_aggregate(store, LAYOUT, "20240115t0105Z")
