"""The README demo: a month of sample data through both jobs on the embedded default."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rollwise import display

DEMO_MONTH = date(2026, 10, 1)
DEMO_DAYS = 31


def run_demo(directory: Path, quiet: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    store = run_summaries_demo(directory, quiet)
    display.echo("")
    job = run_runs_demo(directory, quiet)
    write_demo_report(directory, store, job)


def run_summaries_demo(directory: Path, quiet: bool):
    from rollwise.samples import sample_executions
    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.job import run, scheduled_plan
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    db = directory / "summaries.db"
    for leftover in directory.glob("summaries.db*"):
        leftover.unlink()
    store = SQLiteSummaryStore(db)
    store.create()
    display.echo(f"summaries: {DEMO_DAYS} days of sample executions for 3 tenants into sqlite:///{db}")
    totals = {"records": 0, "created": 0, "updated": 0}
    with display.progress(DEMO_DAYS, "day by day", quiet) as advance:
        for offset in range(DEMO_DAYS):
            day = DEMO_MONTH + timedelta(days=offset)
            nightly = datetime.combine(day + timedelta(days=1), time(2), tzinfo=UTC)
            with Recorder(store, batch_size=500, now=nightly - timedelta(hours=2)) as recorder:
                for raw in sample_executions(day, 1, per_day=400, tenants=3, owners=4, seed=offset):
                    recorder.record(raw)
            result = run(store, scheduled_plan(store, nightly))
            totals["records"] += result.metrics_processed
            totals["created"] += result.summaries_created
            totals["updated"] += result.summaries_updated
            advance()
    display.echo(
        f"ran the nightly job {DEMO_DAYS} times: {totals['records']} records read, {totals['created']} summaries created, {totals['updated']} updated"
    )
    for period in ("weekly", "monthly"):
        rows = [s.to_dict() for s in store.query_summaries("tenant-000", period, owner_id="__tenant__")]
        display.summary_table(rows, f"tenant-000, tenant-wide, {period}")
    display.echo(f"more: rollwise summaries show --store sqlite:///{db} --tenant tenant-001 --period daily --owner __tenant__")
    return store


def run_runs_demo(directory: Path, quiet: bool):
    import shutil

    from rollwise import objects
    from rollwise.runs.job import MergeJob
    from rollwise.runs.read import aggregates_of_day
    from rollwise.samples import sample_run_files

    folder = directory / "runs-bucket"
    shutil.rmtree(folder, ignore_errors=True)
    store = objects.open_store(f"file://{folder.resolve()}", create=True)
    job = MergeJob(store)
    start = datetime(2026, 10, 31, 13, 0, tzinfo=UTC)
    written = 0
    for name, body in sample_run_files(start, windows=12, per_window=40, poison_every=97):
        objects.write(store, job.layout.raw + name, body)
        written += 1
    display.echo(f"runs: {written} sample run files (item results, run summaries, a few broken ones) in {store.url}/{job.layout.raw}")
    with display.progress(written, "merge", quiet) as advance:
        job.on_file = advance
        merged = job.run(start + timedelta(hours=1, minutes=2)).body()
    display.echo(
        f"merged {merged['files_processed']} files into {len(merged['windows'])} window aggregates, "
        f"archived {merged['files_archived']}, quarantined {merged['files_quarantined']}"
    )
    display.aggregate_table(list(aggregates_of_day(store, job.layout, start.date())))
    display.echo(f"more: rollwise runs show --bucket {store.url} --date {start:%Y%m%d} --json")
    return MergeJob(store)


def write_demo_report(directory: Path, store, job) -> None:
    from rollwise.report import build_report

    out = (directory / "report.html").resolve()
    out.write_text(build_report(store, job, DEMO_MONTH, DEMO_MONTH + timedelta(days=DEMO_DAYS - 1)), encoding="utf-8")
    display.echo("")
    display.echo(f"report: {out}")
