"""The ``rollwise`` command line."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

import orjson
import typer

app = typer.Typer(help="rollwise: period summaries and windowed merge-and-archive jobs.", no_args_is_help=True)
summaries_app = typer.Typer(help="Period summaries of workflow executions.", no_args_is_help=True)
app.add_typer(summaries_app, name="summaries")
runs_app = typer.Typer(help="Merge run result files into window aggregates and archive them.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
deploy_app = typer.Typer(help="Work with a deployed stack.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")

StoreOption = typer.Option(None, "--store", envvar="ROLLWISE_STORE", help="sqlite:///PATH or dynamodb://TABLE (default: sqlite:///rollwise.db)")
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bar.")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _store(url: Optional[str]):
    from rollwise.config import ConfigError, summary_store_from_url

    try:
        return summary_store_from_url(url)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))


def _moment(text: Optional[str]) -> datetime:
    from rollwise.periods import parse_timestamp

    if text is None:
        return datetime.now(timezone.utc)
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        _fail(f"--at: {exc}")


def _day(text: Optional[str], name: str) -> Optional[date]:
    from rollwise.periods import parse_date

    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        _fail(f"{name}: {exc}")


@contextmanager
def progress_bar(total: int | None, label: str, quiet: bool) -> Iterator:
    """A rich progress bar on a terminal; nothing when quiet or piped."""
    if quiet or not sys.stderr.isatty():
        yield lambda advance=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda advance=1: bar.advance(task, advance)


def _print_result(body: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
        return
    for key, value in body.items():
        if isinstance(value, list):
            typer.echo(f"{key}: {len(value)}")
            for v in value:
                typer.echo(f"  {v}")
        else:
            typer.echo(f"{key}: {value}")


@summaries_app.command("init")
def summaries_init(store: Optional[str] = StoreOption) -> None:
    """Create the table and its indexes if missing (for development)."""
    s = _store(store)
    created = s.create()
    typer.echo(f"{s.describe()}: {'created' if created else 'already exists'}")


@summaries_app.command("ingest")
def summaries_ingest(
    file: Path = typer.Argument(..., help="JSON Lines, one execution record a line ('-' for stdin)."),
    store: Optional[str] = StoreOption,
    quiet: bool = QuietOption,
) -> None:
    """Validate and store execution records; bad lines are reported, good ones kept."""
    from rollwise.summaries.recorder import Recorder, ingest_lines

    s = _store(store)
    if str(file) == "-":
        source, size = sys.stdin.buffer, None
    else:
        if not file.is_file():
            _fail(f"{file}: no such file")
        source, size = file.open("rb"), file.stat().st_size
    with progress_bar(size, f"ingest {file}", quiet) as advance:
        report = ingest_lines(source, Recorder(s, batch_size=500), on_line=advance)
    for number, reason in report.rejected:
        typer.secho(f"{file}:{number}: {reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"stored {report.stored} record(s), rejected {len(report.rejected)}")
    if report.rejected:
        _fail(f"{len(report.rejected)} line(s) rejected", code=1)


WorkersOption = typer.Option(1, "--workers", min=1, help="Aggregate shards in N processes (the local form of the Step Functions fan-out).")


def _run_plan(s, plan, quiet: bool, as_json: bool, workers: int = 1) -> None:
    from rollwise.summaries.job import run

    total = sum(len(shards) for shards in plan.periods.values())
    with progress_bar(total, "aggregate", quiet or as_json) as advance:
        result = run(s, plan, on_period=advance, workers=workers)
    _print_result(result.body(), as_json)
    if result.errors:
        raise typer.Exit(1)


@summaries_app.command("run")
def summaries_run(
    at: Optional[str] = typer.Option(None, "--at", help="Reference time, ISO 8601 (default: now). The run covers the day before."),
    lateness_days: Optional[int] = typer.Option(None, "--lateness-days", min=0, help="Also re-read the last N days (env ROLLWISE_LATENESS_DAYS)."),
    store: Optional[str] = StoreOption,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = QuietOption,
    workers: int = WorkersOption,
) -> None:
    """Do what the nightly Lambda does."""
    from rollwise.config import lateness_days as env_lateness
    from rollwise.summaries.job import scheduled_plan

    s = _store(store)
    plan = scheduled_plan(s, _moment(at), env_lateness() if lateness_days is None else lateness_days)
    _run_plan(s, plan, quiet, as_json, workers)


@summaries_app.command("backfill")
def summaries_backfill(
    start: str = typer.Argument(..., help="First day, YYYY-MM-DD."),
    end: str = typer.Argument(..., help="Last day, YYYY-MM-DD."),
    at: Optional[str] = typer.Option(None, "--at", help="Reference time (default: now); only periods closed by then are computed."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be computed; write nothing."),
    store: Optional[str] = StoreOption,
    as_json: bool = typer.Option(False, "--json"),
    quiet: bool = QuietOption,
    workers: int = WorkersOption,
) -> None:
    """Recompute every closed period overlapping START..END."""
    from rollwise.summaries.job import backfill_plan

    first, last = _day(start, "START"), _day(end, "END")
    if first > last:
        _fail(f"START {first} is after END {last}")
    s = _store(store)
    plan = backfill_plan(s, first, last, _moment(at))
    if dry_run:
        if as_json:
            sys.stdout.write(orjson.dumps({"dry_run": True, "periods": plan.describe()}).decode() + "\n")
        else:
            typer.echo(f"would compute {len(plan.periods)} period(s) over {len(plan.shards)} shard(s):")
            for label in plan.describe():
                typer.echo(f"  {label}")
        return
    _run_plan(s, plan, quiet, as_json, workers)


@summaries_app.command("show")
def summaries_show(
    tenant: str = typer.Option(..., "--tenant"),
    period: str = typer.Option(..., "--period", help="daily, weekly, monthly or yearly"),
    owner: Optional[str] = typer.Option(None, "--owner", help="An owner id, or __tenant__ for tenant-wide rows."),
    metric_type: Optional[str] = typer.Option(None, "--metric-type"),
    since: Optional[str] = typer.Option(None, "--since", help="YYYY-MM-DD"),
    until: Optional[str] = typer.Option(None, "--until", help="YYYY-MM-DD"),
    store: Optional[str] = StoreOption,
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one summary a line."),
) -> None:
    """Read summaries of one tenant."""
    from rollwise.periods import PERIOD_TYPES

    if period not in PERIOD_TYPES:
        _fail(f"--period must be one of {', '.join(PERIOD_TYPES)}, got {period!r}")
    s = _store(store)
    rows = (x.to_dict() for x in s.query_summaries(tenant, period, _day(since, "--since"), _day(until, "--until"), owner, metric_type))
    if as_json:
        out = sys.stdout
        for row in rows:
            out.write(orjson.dumps(row).decode() + "\n")
        return
    print_summary_table(list(rows), f"{tenant} {period}")


def print_summary_table(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    if not rows:
        console.print(f"[yellow]no summaries for {title}[/yellow]")
        return
    table = Table(title=title)
    columns = [("period_start", "start"), ("owner_id", "owner"), ("metric_type", "metric"), ("submission_count", "submitted"),
               ("success_count", "ok"), ("failure_count", "failed"), ("cancelled_count", "cancelled"), ("timeout_count", "timed out"),
               ("total_profiles", "profiles"), ("p50_duration_ms", "p50 ms"), ("p95_duration_ms", "p95 ms")]
    for _, label in columns:
        table.add_column(label, justify="left" if label in ("start", "owner", "metric") else "right")
    for row in rows:
        table.add_row(*("" if row[k] is None else str(row[k]) for k, _ in columns))
    console.print(table)


RunsOption = typer.Option(None, "--bucket", envvar="ROLLWISE_RUNS_URL", help="s3://BUCKET[/PREFIX], file:///DIR or memory:// (default: file://rollwise-data)")


def _merge_job(url: Optional[str], archive_mode: Optional[str] = None, on_file=None):
    from rollwise.config import ConfigError, merge_job_from_url

    try:
        return merge_job_from_url(url, archive_mode=archive_mode, on_file=on_file)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))


@runs_app.command("merge")
def runs_merge(
    at: Optional[str] = typer.Option(None, "--at", help="Reference time, ISO 8601 (default: now)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the closed windows and their files; write nothing."),
    archive_mode: Optional[str] = typer.Option(None, "--archive-mode", help="move (copy then delete each file) or bundle (one .jsonl.gz per window)"),
    bucket: Optional[str] = RunsOption,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = QuietOption,
) -> None:
    """Do what the 5-minute Lambda does: aggregate closed windows, archive their files."""
    reference = _moment(at)
    with progress_bar(None, "merge", quiet or as_json) as advance:
        job = _merge_job(bucket, archive_mode, on_file=advance)
        result = job.run(reference, dry_run=dry_run)
    _print_result(result.body(), as_json)
    if result.failed_operations:
        raise typer.Exit(1)


@runs_app.command("show")
def runs_show(
    window: Optional[str] = typer.Argument(None, help="A window stamp such as 20240115t1305Z (the window's end)."),
    day: Optional[str] = typer.Option(None, "--date", help="Every aggregate of a UTC day, YYYYMMDD."),
    bucket: Optional[str] = RunsOption,
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one aggregate a line."),
) -> None:
    """Read aggregates: one window, or all of a day."""
    from rollwise.runs.read import aggregates_of_day, read_aggregate

    if (window is None) == (day is None):
        _fail("give either a WINDOW stamp or --date YYYYMMDD")
    job = _merge_job(bucket)
    try:
        docs = [read_aggregate(job.store, job.layout, window)] if window else list(aggregates_of_day(job.store, job.layout, day))
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    if as_json:
        for doc in docs:
            sys.stdout.write(orjson.dumps(doc).decode() + "\n")
        return
    print_aggregate_table(docs)


def print_aggregate_table(docs: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    if not docs:
        console.print("[yellow]no aggregates[/yellow]")
        return
    table = Table(title="window aggregates")
    for label in ("window end", "files", "opportunities", "matches", "no matches", "errors", "p50 ms", "p95 ms", "best match"):
        table.add_column(label, justify="left" if label in ("window end", "best match") else "right")
    for doc in docs:
        st, pt = doc["stats"], doc["stats"]["processing_time_ms"]
        best = doc["top_matches"][0] if doc["top_matches"] else None
        table.add_row(doc["window_end"], str(st["files"]), str(st["opportunities_processed"]), str(st["matches"]), str(st["no_matches"]),
                      str(st["errors"]), str(pt["p50"]), str(pt["p95"]), f"{best['id']} ({best['score']})" if best else "")
    console.print(table)


def backfill_payload(start: date, end: date) -> dict:
    """The event the summaries Lambda takes for a backfill."""
    return {"backfill": True, "start_date": start.isoformat(), "end_date": end.isoformat()}


@deploy_app.command("invoke-backfill")
def deploy_invoke_backfill(
    start: str = typer.Argument(..., help="First day, YYYY-MM-DD."),
    end: str = typer.Argument(..., help="Last day, YYYY-MM-DD."),
    function: str = typer.Option("rollwise-summaries", "--function", envvar="ROLLWISE_SUMMARIES_FUNCTION",
                                 help="The deployed summaries function (the stack output SummariesFunction)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the payload and the equivalent aws CLI command; invoke nothing."),
) -> None:
    """Backfill on the deployed Lambda: invoke it synchronously with the backfill event."""
    first, last = _day(start, "START"), _day(end, "END")
    if first > last:
        _fail(f"START {first} is after END {last}")
    payload = orjson.dumps(backfill_payload(first, last)).decode()
    if dry_run:
        typer.echo(payload)
        typer.echo(f"aws lambda invoke --function-name {function} --cli-binary-format raw-in-base64-out --payload '{payload}' response.json")
        return
    import boto3
    from botocore.config import Config

    client = boto3.client("lambda", config=Config(read_timeout=330, retries={"max_attempts": 0}))
    response = client.invoke(FunctionName=function, Payload=payload.encode())
    body = response["Payload"].read().decode()
    typer.echo(body)
    if response.get("FunctionError"):
        _fail(f"the backfill failed ({response['FunctionError']}); see the function's logs", code=1)


@app.command("report")
def report(
    out: Path = typer.Option(..., "--out", help="The HTML file to write."),
    day: Optional[str] = typer.Option(None, "--date", help="One UTC day, YYYY-MM-DD (default: yesterday)."),
    since: Optional[str] = typer.Option(None, "--since", help="First day of a range, YYYY-MM-DD."),
    until: Optional[str] = typer.Option(None, "--until", help="Last day of a range, YYYY-MM-DD."),
    tenant: Optional[str] = typer.Option(None, "--tenant", help="Only this tenant's summaries."),
    store: Optional[str] = StoreOption,
    bucket: Optional[str] = RunsOption,
    quiet: bool = QuietOption,
) -> None:
    """Write one self-contained HTML report (inline SVG charts, no script, no network) of both jobs."""
    from rollwise.report import build_report, default_range

    if day and (since or until):
        _fail("give --date or --since/--until, not both")
    if day:
        first = last = _day(day, "--date")
    elif since or until:
        if not (since and until):
            _fail("--since and --until go together")
        first, last = _day(since, "--since"), _day(until, "--until")
        if first > last:
            _fail(f"--since {first} is after --until {last}")
    else:
        first, last = default_range()
    summaries, job = _store(store), _merge_job(bucket)
    with progress_bar(2 * ((last - first).days + 1), "report", quiet) as advance:
        page = build_report(summaries, job, first, last, tenant, advance)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {out} ({len(page.encode()) // 1024} KB)")


@app.command("demo")
def demo(
    directory: Path = typer.Option(Path("demo-output"), "--dir", help="Where the demo writes its store and files."),
    quiet: bool = QuietOption,
) -> None:
    """Generate sample data, run both jobs on the embedded default, print what they made."""
    from rollwise.demo import run_demo

    run_demo(directory, quiet=quiet)


def main() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    app()


if __name__ == "__main__":
    main()
