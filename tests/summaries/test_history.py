"""Importing history: the SDK's table scanned in parallel segments on moto server and dynalite, resumed after a failure."""

from __future__ import annotations

import uuid
from datetime import date

import orjson
import pytest
from conftest import dynamodb_client
from workflow_sdk import assert_true_summaries, coordination_item, create_table, save_all, scenario, sdk_database

from rollwise.errors import ConfigError, StoreError
from rollwise.summaries.history import Checkpoint, ReadBudget, import_table
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.mapping import load_mapping
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from rollwise.timestamps import utc_now

GEEK = load_mapping("geek-cafe")


@pytest.fixture(params=["moto", "dynalite"])
def sdk_table(request):
    """The SDK's table on an emulator, filled by the SDK itself; yields (client, table, executions, item count)."""
    emu = request.getfixturevalue("moto_server" if request.param == "moto" else "dynalite")
    client = dynamodb_client(emu.url)
    name = f"workflows-{uuid.uuid4().hex[:8]}"
    create_table(client, name, stream=False)
    executions = scenario(date(2026, 4, 1), days=6, per_day=20, seed=11)
    extra = [coordination_item(e.id, e.tenant) for e in executions[:4]]
    save_all(sdk_database(emu.url), name, executions, extra, stages=False)
    return client, name, executions, len(executions) + len(extra)


def sqlite_store(tmp_path):
    store = SQLiteSummaryStore(tmp_path / "imported.db", shards=4)
    store.create()
    return store


def test_an_imported_table_gives_the_true_summaries(sdk_table, tmp_path):
    client, table, executions, count = sdk_table
    store = sqlite_store(tmp_path)
    report = import_table(client, table, GEEK, store, segments=3, page_size=7)
    roots = sum(e.is_root for e in executions)
    assert (report.items, report.stored, report.skipped, report.rejected) == (count, roots, count - roots, 0)
    assert report.read_units > 0 and not report.failed_segments
    assert store.invalidations()  # the next run knows what to summarize
    assert not run(store, scheduled_plan(store, utc_now())).failures()
    assert_true_summaries(store, executions, date(2026, 4, 30))


class FailingAfter:
    """A store whose writes fail after ``n`` of them: an import cut short."""

    def __init__(self, store, n: int) -> None:
        self.store, self.left = store, n

    def put_records(self, records, now=None):
        if self.left == 0:
            raise StoreError("table throttled past the client's retries")
        self.left -= 1
        return self.store.put_records(records, now)


def test_an_interrupted_import_resumes_from_its_checkpoint(sdk_table, tmp_path):
    client, table, executions, count = sdk_table
    store, path = sqlite_store(tmp_path), tmp_path / "cp.json"
    first = import_table(client, table, GEEK, FailingAfter(store, 4), segments=2, page_size=10,
                         checkpoint=Checkpoint.open(path, table, 2, GEEK.name))
    assert first.failed_segments and first.items < count
    saved = orjson.loads(path.read_bytes())
    assert saved["figures"]["items"] < count

    pages = []
    second = import_table(client, table, GEEK, store, segments=2, page_size=10, checkpoint=Checkpoint.open(path, table, 2, GEEK.name),
                          on_items=pages.append)
    assert second.resumed and not second.failed_segments
    assert second.items == count  # the figures of both runs: every item read once
    assert sum(pages) == count - first.items  # the second run read only what the first had not stored
    assert Checkpoint.open(path, table, 2, GEEK.name).complete()
    run(store, scheduled_plan(store, utc_now()))
    assert_true_summaries(store, executions, date(2026, 4, 30))


def test_a_checkpoint_of_another_import_is_refused(tmp_path):
    path = tmp_path / "cp.json"
    Checkpoint(path, "a", 4, "geek-cafe").advance(0, {"pk": {"S": "x"}}, {"items": 1})
    with pytest.raises(ConfigError, match="is for table 'a' in 4 segments, not 'b' in 4"):
        Checkpoint.open(path, "b", 4, "geek-cafe")
    assert not Checkpoint.open(path, "b", 4, "geek-cafe", restart=True).resumed


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_the_read_budget_holds_the_average_rate():
    clock = FakeClock()
    budget = ReadBudget(10, clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(20):
        budget.wait()
        budget.spend(5)
    # The 20th request may start once the 95 units before it fit: a second's worth at the start, then 10 a second.
    assert clock.slept == pytest.approx(8.5)


def test_an_import_under_a_budget_waits_for_what_it_read(sdk_table, tmp_path):
    client, table, _, _ = sdk_table
    clock = FakeClock()
    report = import_table(client, table, GEEK, sqlite_store(tmp_path), segments=2, page_size=5,
                          budget=ReadBudget(0.5, clock=lambda: clock.now, sleep=clock.sleep))
    # Every unit but a second's worth and the last page of each segment (5 small items: at most 1 unit each) was waited for.
    assert (report.read_units - 0.5 - 2 * 1) / 0.5 <= clock.slept <= report.read_units / 0.5
