"""Quarantine: the file and a note saying why, then the original leaves raw/."""

from datetime import UTC, datetime

import orjson

from rollwise import objects
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.runs.quarantine import quarantine
from support.runs import FaultyStore, keys, open_store, put

AT = datetime(2024, 1, 15, 13, 20, 5, 250000, tzinfo=UTC)
LAYOUT = Layout.under("runs")


def test_the_note_says_why_and_when(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/a.json", b"{")
    f = RawFile("runs/raw/a.json", store.head("runs/raw/a.json").e_tag, 1)
    moved = quarantine(store, LAYOUT, [(f, "invalid JSON")], 2, AT)
    assert moved.moved == ("runs/raw/a.json",) and moved.failed == ()
    assert orjson.loads(objects.read(store, "runs/quarantine/a.json.error.json").data) == {
        "key": "runs/raw/a.json",
        "etag": f.e_tag,
        "size": 1,
        "reason": "invalid JSON",
        "quarantined_at": "2024-01-15T13:20:05.250000Z",
    }
    assert keys(store, "runs/raw") == []


def test_a_failed_move_keeps_the_original_and_reports_it(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/a.json", b"{")
    put(store, "runs/raw/b.json", b"{")
    broken = FaultyStore(
        store, lambda name, args: objects.RequestFailed("reset", args[0], "copy") if name == "copy" and args[0] == "runs/raw/a.json" else None
    )
    moved = quarantine(
        broken, LAYOUT, [(RawFile(k, store.head(k).e_tag, 1), r) for k, r in (("runs/raw/a.json", "x"), ("runs/raw/b.json", "y"))], 2, AT
    )
    assert moved.moved == ("runs/raw/b.json",) and [(f.key, f.operation) for f in moved.failed] == [("runs/raw/a.json", "quarantine")]
    assert keys(store, "runs/raw") == ["runs/raw/a.json"]
