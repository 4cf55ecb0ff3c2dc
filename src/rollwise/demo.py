"""The README demo: a month of sample data through both jobs on the embedded default."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import typer

DEMO_MONTH = date(2026, 10, 1)


def run_demo(directory: Path, quiet: bool = False) -> None:
    from rollwise.cli import print_summary_table, progress_bar
    from rollwise.samples import sample_executions
    from rollwise.summaries.job import run, scheduled_plan
    from rollwise.summaries.recorder import Recorder
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "summaries.db"
    for leftover in directory.glob("summaries.db*"):
        leftover.unlink()
    store = SQLiteSummaryStore(db)
    days = 31
    typer.echo(f"summaries: {days} days of sample executions for 3 tenants into sqlite:///{db}")
    totals = {"records": 0, "created": 0, "updated": 0, "unchanged": 0}
    with progress_bar(days, "day by day", quiet) as advance:
        for offset in range(days):
            day = DEMO_MONTH + timedelta(days=offset)
            nightly = datetime.combine(day + timedelta(days=1), time(2), tzinfo=timezone.utc)
            with Recorder(store, batch_size=500, now=nightly - timedelta(hours=2)) as recorder:
                for raw in sample_executions(day, 1, per_day=400, tenants=3, owners=4, seed=offset):
                    recorder.record(raw)
            result = run(store, scheduled_plan(store, nightly))
            totals["records"] += result.metrics_processed
            totals["created"] += result.summaries_created
            totals["updated"] += result.summaries_updated
            totals["unchanged"] += result.summaries_unchanged
            advance()
    typer.echo(
        f"ran the nightly job {days} times: {totals['records']} records read, "
        f"{totals['created']} summaries created, {totals['updated']} updated"
    )
    for period in ("weekly", "monthly"):
        rows = [s.to_dict() for s in store.query_summaries("tenant-000", period, owner_id="__tenant__")]
        print_summary_table(rows, f"tenant-000, tenant-wide, {period}")
    typer.echo(f"more: rollwise summaries show --store sqlite:///{db} --tenant tenant-001 --period daily --owner __tenant__")
