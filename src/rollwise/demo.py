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
    typer.echo("")
    job = run_runs_demo(directory, quiet)
    write_demo_report(directory, store, job)


def write_demo_report(directory: Path, store, job) -> None:
    from rollwise.report import build_report

    out = (directory / "report.html").resolve()
    out.write_text(build_report(store, job, DEMO_MONTH, date(2026, 10, 31)), encoding="utf-8")
    typer.echo("")
    typer.echo(f"report: {out}")


def run_runs_demo(directory: Path, quiet: bool):
    import shutil

    import obstore as obs

    from rollwise.cli import print_aggregate_table, progress_bar
    from rollwise.objects import store_from_url
    from rollwise.runs.job import MergeJob
    from rollwise.runs.read import aggregates_of_day
    from rollwise.samples import sample_run_files

    folder = directory / "runs-bucket"
    shutil.rmtree(folder, ignore_errors=True)
    url = f"file://{folder.resolve()}"
    store = store_from_url(url)
    start = datetime(2026, 10, 31, 13, 0, tzinfo=timezone.utc)
    written = 0
    for name, body in sample_run_files(start, windows=12, per_window=40, poison_every=97):
        obs.put(store, f"runs/raw/{name}", body)
        written += 1
    typer.echo(f"runs: {written} sample run files (item results, run summaries, a few broken ones) in {url}/runs/raw/")
    with progress_bar(written, "merge", quiet) as advance:
        result = MergeJob(store, on_file=advance).run(start + timedelta(hours=1, minutes=2))
    body = result.body()
    typer.echo(
        f"merged {body['files_processed']} files into {len(body['windows'])} window aggregates, "
        f"archived {body['files_archived']}, quarantined {body['files_quarantined']}"
    )
    print_aggregate_table(list(aggregates_of_day(store, MergeJob(store).layout, "20261031")))
    typer.echo(f"more: rollwise runs show --bucket {url} --date 20261031 --json")
    return MergeJob(store)
