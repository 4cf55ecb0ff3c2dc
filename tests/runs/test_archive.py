"""Archiving: each key gets its own outcome, whatever the bulk request did."""

from rollwise import objects
from rollwise.runs import archive
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from support.runs import FaultyStore, keys, open_store, put

LAYOUT = Layout.under("runs")


def files(store, n):
    out = []
    for i in range(n):
        key = f"runs/raw/20240115t1301Z_{i}.json"
        put(store, key, {"noticeId": str(i)})
        out.append(RawFile(key, store.head(key).e_tag, 10))  # as the listing gives it
    return out


def test_move_copies_then_deletes(runs_url):
    store = open_store(runs_url)
    moved = archive.move(store, LAYOUT, files(store, 3), concurrency=2)
    assert sorted(moved.archived) == [f"runs/raw/20240115t1301Z_{i}.json" for i in range(3)] and moved.failed == ()
    assert keys(store, "runs/raw") == [] and len(keys(store, "runs/archive")) == 3


def test_a_failed_delete_of_one_key_fails_that_key_only(runs_url):
    store = open_store(runs_url)
    fs = files(store, 5)
    stuck = fs[2].key

    def fault(name, args):
        if name == "delete" and stuck in args[0]:
            return objects.PermissionDenied(f"delete {stuck} was denied", stuck, "delete")
        return None

    moved = archive.move(FaultyStore(store, fault), LAYOUT, fs, concurrency=2)
    assert sorted(moved.archived) == sorted(f.key for f in fs if f.key != stuck)
    assert [(f.key, f.operation) for f in moved.failed] == [(stuck, "delete")]
    assert keys(store, "runs/raw") == [stuck]


def test_a_file_gone_before_its_copy_is_neither_archived_nor_failed(runs_url):
    store = open_store(runs_url)
    fs = files(store, 2)
    objects.delete_many(store, [fs[0].key])
    moved = archive.move(store, LAYOUT, fs, concurrency=2)
    assert moved.archived == (fs[1].key,) and moved.failed == ()
