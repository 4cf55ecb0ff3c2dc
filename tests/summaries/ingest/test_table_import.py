"""Importing history: the SDK's table scanned in parallel segments on moto server and dynalite, resumed after a failure."""

from __future__ import annotations

import uuid
from datetime import date

import orjson
import pytest

from rollwise.errors import ConfigError, StoreError
from rollwise.summaries.ingest.mapping import load_mapping
from rollwise.summaries.ingest.table_import import Checkpoint, ReadBudget, SourceTable, describe_source, import_table
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from rollwise.timestamps import utc_now
from support.clock import FakeClock
from support.stores import dynamodb_client
from support.workflow_sdk import assert_true_summaries, coordination_item, create_table, save_all, scenario, sdk_database

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
        self.patience_now = store.patience_now

    def put_records(self, records, now=None):
        if self.left == 0:
            raise StoreError("table throttled past the client's retries")
        self.left -= 1
        return self.store.put_records(records, now)


def test_an_interrupted_import_resumes_from_its_checkpoint(sdk_table, tmp_path):
    client, table, executions, count = sdk_table
    store, path = sqlite_store(tmp_path), tmp_path / "cp.json"
    source = describe_source(client, table)
    first = import_table(
        client, table, GEEK, FailingAfter(store, 4), segments=2, page_size=10, checkpoint=Checkpoint.open(path, source, 2, GEEK.name)
    )
    assert first.failed_segments and first.items < count
    saved = orjson.loads(path.read_bytes())
    assert saved["figures"]["items"] < count

    pages = []
    second = import_table(
        client, table, GEEK, store, segments=2, page_size=10, checkpoint=Checkpoint.open(path, source, 2, GEEK.name), on_items=pages.append
    )
    assert second.resumed and not second.failed_segments
    assert second.items == count  # the figures of both runs: every item read once
    assert sum(pages) == count - first.items  # the second run read only what the first had not stored
    assert Checkpoint.open(path, source, 2, GEEK.name).complete()
    run(store, scheduled_plan(store, utc_now()))
    assert_true_summaries(store, executions, date(2026, 4, 30))


def test_a_checkpoint_names_its_table_and_refuses_another(tmp_path):
    path = tmp_path / "cp.json"
    mine = SourceTable("workflows", "arn:aws:dynamodb:us-east-1:123456789012:table/workflows", "2026-01-01T00:00:00+00:00")
    Checkpoint(path, mine, 4, "geek-cafe").advance(0, {"pk": {"S": "x"}}, {"items": 1})
    assert Checkpoint.open(path, mine, 4, "geek-cafe").resumed
    recreated = SourceTable("workflows", mine.arn, "2026-03-01T00:00:00+00:00")
    with pytest.raises(ConfigError) as refused:
        Checkpoint.open(path, recreated, 4, "geek-cafe")
    assert str(refused.value) == (
        f"checkpoint {path} is of table {mine.arn} (created 2026-01-01T00:00:00+00:00), not of {mine.arn} "
        "(created 2026-03-01T00:00:00+00:00): pass --restart to import this table from the start (the checkpoint "
        "is replaced), or another --checkpoint"
    )
    with pytest.raises(ConfigError, match="is of an import in 4 segments, not 2: pass --segments 4 to resume it"):
        Checkpoint.open(path, mine, 2, "geek-cafe")
    assert not Checkpoint.open(path, recreated, 4, "geek-cafe", restart=True).resumed
    path.write_text('{"version": 1, "table": "workflows", "segments": 4, "positions": {"0": true}}')  # by rollwise before this one
    with pytest.raises(ConfigError, match="it is of version 1, written by another rollwise; this one reads 2.*pass --restart"):
        Checkpoint.open(path, mine, 4, "geek-cafe")


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
    report = import_table(
        client, table, GEEK, sqlite_store(tmp_path), segments=2, page_size=5, budget=ReadBudget(0.5, clock=lambda: clock.now, sleep=clock.sleep)
    )
    # Every unit but a second's worth and the last page of each segment (5 small items: at most 1 unit each) was waited for.
    assert (report.read_units - 0.5 - 2 * 1) / 0.5 <= clock.slept <= report.read_units / 0.5


@pytest.mark.parametrize("emulator", ["moto", "dynalite"])
def test_a_table_created_again_under_its_name_is_imported_and_its_old_checkpoint_refused(emulator, request, monkeypatch, tmp_path, state_dir):
    """The default checkpoint is the table's own (its ARN and creation time): importing a table deleted and
    created again imports it, where a checkpoint keyed by name said "already imported" and imported nothing."""
    import time

    from typer.testing import CliRunner

    from rollwise.cli import app
    from support.workflow_sdk import create_table, save_all, scenario, sdk_database

    emu = request.getfixturevalue("moto_server" if emulator == "moto" else "dynalite")
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    client, table = dynamodb_client(emu.url), f"workflows-{uuid.uuid4().hex[:8]}"
    args = ["summaries", "import", "--table", table, "--store", f"sqlite:///{tmp_path / 'i.db'}", "--segments", "2"]
    runner = CliRunner()
    imported = []
    for generation, first_day in enumerate((date(2026, 5, 1), date(2026, 6, 1))):
        if generation:
            client.delete_table(TableName=table)
            client.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
            time.sleep(0.05)
        create_table(client, table, stream=False)
        executions = scenario(first_day, days=1, per_day=12, seed=generation)
        save_all(sdk_database(emu.url), table, executions, stages=False)
        result = runner.invoke(app, args)
        roots = sum(e.is_root for e in executions)
        assert result.exit_code == 0 and f"read {len(executions)} item(s): stored {roots} record(s)" in result.output, result.output
        assert "already imported" in runner.invoke(app, args).output
        imported.append(executions)
    checkpoints = sorted((state_dir / "imports").glob(f"{table}-*.json"))
    assert len(checkpoints) == 2  # one per table of that name, in the documented place
    arn = describe_source(client, table).arn
    old = next(p for p in checkpoints if orjson.loads(p.read_bytes())["created"] != describe_source(client, table).created)
    refused = runner.invoke(app, args + ["--checkpoint", str(old)])
    assert refused.exit_code == 2
    assert f"checkpoint {old} is of table {arn} (created " in refused.output and "pass --restart to import this table" in refused.output
    store = SQLiteSummaryStore(tmp_path / "i.db")
    assert not run(store, scheduled_plan(store, utc_now())).failures()
    assert_true_summaries(store, imported[0] + imported[1], date(2026, 6, 30))
