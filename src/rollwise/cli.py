"""The ``rollwise`` command line: thin commands over the library, with :mod:`rollwise.display` for output.

Settings come from options, then the environment, then defaults
(:mod:`rollwise.config`). A problem rollwise can name ends the command with
one line on stderr and exit code 2 (bad arguments or settings) or 1 (the work
failed); never with a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from rollwise import display
from rollwise.errors import ConfigError, RollwiseError

app = typer.Typer(help="rollwise: period summaries and windowed merge-and-archive jobs.", no_args_is_help=True, rich_markup_mode=None)
summaries_app = typer.Typer(help="Period summaries of workflow executions.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(summaries_app, name="summaries")
runs_app = typer.Typer(help="Merge run result files into window aggregates and archive them.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(runs_app, name="runs")
deploy_app = typer.Typer(help="Work with a deployed stack.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(deploy_app, name="deploy")
tenants_app = typer.Typer(help="Tenants' time zones: their days, weeks, months and years are local.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(tenants_app, name="tenants")

StoreOption = typer.Option(None, "--store", help="sqlite:///PATH or dynamodb://TABLE (env ROLLWISE_STORE; default sqlite:///rollwise.db)")
BucketOption = typer.Option(
    None, "--bucket", help="s3://BUCKET[/PREFIX], file:///DIR or memory:// (env ROLLWISE_RUNS_URL; default file://rollwise-data)"
)
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bar.")
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
WorkersOption = typer.Option(1, "--workers", min=1, help="Aggregate shards in N processes (the local form of the Step Functions fan-out).")
RetryOption = typer.Option(
    None,
    "--retry-seconds",
    min=0,
    help="How long to keep retrying a throttled table, in all, before leaving "
    "what is unwritten to the next run (env ROLLWISE_RETRY_SECONDS; default 300).",
)


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def command(fn: Callable) -> Callable:
    """A command whose named problems end it with one line, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc), 2)
        except RollwiseError as exc:
            fail(str(exc), 1)

    return wrapper


# -- arguments ---------------------------------------------------------------------------
def moment(text: str | None, name: str = "--at") -> datetime:
    from rollwise.timestamps import parse_timestamp, utc_now

    if text is None:
        return utc_now()
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def day(text: str, name: str) -> date:
    from rollwise.timestamps import parse_date

    try:
        return parse_date(text, name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def day_range(start: str, end: str, first_name: str, last_name: str) -> tuple[date, date]:
    first, last = day(start, first_name), day(end, last_name)
    if first > last:
        raise ConfigError(f"{first_name} {first} is after {last_name} {last}")
    return first, last


def summary_store(url: str | None, create: bool = False, check: bool = True, shards: int | None = None, retry_seconds: int | None = None):
    from rollwise.config import AwsSettings, resolve
    from rollwise.retry import Patience
    from rollwise.summaries.settings import SummariesSettings
    from rollwise.summaries.stores import open_configured

    settings = resolve(SummariesSettings, {"store": url, "shards": shards, "retry_seconds": retry_seconds})
    store = open_configured(settings, resolve(AwsSettings), settings.store, create=create, check=check)
    store.patience = Patience.for_seconds(settings.retry_seconds)  # the command's: one piece of work
    return store


def merge_job(url: str | None, archive_mode: str | None = None, on_file=None, create: bool = True):
    from rollwise.config import AwsSettings, resolve
    from rollwise.objects import open_store
    from rollwise.runs.job import MergeJob
    from rollwise.runs.settings import MergeSettings

    settings = resolve(MergeSettings, {"url": url, "archive_mode": archive_mode})
    try:
        store = open_store(settings.url, resolve(AwsSettings), create=create)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return MergeJob(store, settings, on_file)


# -- summaries --------------------------------------------------------------------------------
@summaries_app.command("init")
@command
def summaries_init(
    store: str | None = StoreOption,
    shards: int | None = typer.Option(
        None,
        "--shards",
        min=1,
        help="shard count of a new store (env ROLLWISE_SHARDS; default: "
        "the capacity rule's for 10 million executions a day). A store keeps the count it has.",
    ),
) -> None:
    """Create the table and its indexes if missing, and keep its shard count in it."""
    s = summary_store(store, check=False, shards=shards)
    created = s.create()
    if s.retention_days:
        s.enable_expiry()  # records and locators carry their expiry: DynamoDB's TTL deletes them
    held = s.settle_shards()
    note = "" if held == s.configured_shards else f" (it holds {held}, not {s.configured_shards}: to change it, see summaries reshard)"
    display.echo(f"{s.describe()}: {'created' if created else 'already exists'}, {held} shard(s){note}")


@summaries_app.command("shards")
@command
def summaries_shards(
    executions_per_day: int = typer.Option(..., "--executions-per-day", min=0, help="expected executions a day"),
    memory: int = typer.Option(None, "--memory", min=128, help="the summaries function's memory in MB (default: the stack's)"),
    as_json: bool = JsonOption,
) -> None:
    """How many shards a volume needs, by the capacity rule (docs/benchmarks.md)."""
    from dataclasses import asdict

    from rollwise.summaries.capacity import SUMMARIES_MEMORY_MB, capacity

    row = capacity(executions_per_day, memory or SUMMARIES_MEMORY_MB)
    if as_json:
        display.json_document({**asdict(row), "fits": row.fits, "fanout": row.fanout})
        return
    display.echo(
        f"{row.shards} shard(s) for {executions_per_day:,} executions a day at {row.memory_mb} MB: "
        f"about {row.cpu_seconds_per_shard} s of CPU, {row.seconds_per_shard} s per shard's nightly run"
        + ("; one invocation per shard: deploy with the fan-out" if row.fanout else "; one invocation runs the night")
    )


@summaries_app.command("reshard")
@command
def summaries_reshard(
    into: str = typer.Option(..., "--into", help="the new store (sqlite:///PATH or dynamodb://TABLE, made first with summaries init)"),
    shards: int = typer.Option(..., "--shards", min=1, help="its shard count"),
    store: str | None = StoreOption,
    at: str | None = typer.Option(None, "--at", help="Reference time (default: now): periods closed by then are computed."),
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
    workers: int = WorkersOption,
) -> None:
    """Copy every record into a new store with another shard count and compute its summaries there."""
    from rollwise.summaries.admin.reshard import reshard

    reference = moment(at)
    source, target = summary_store(store), summary_store(into, create=True, shards=shards)
    with display.progress(None, "copy records", quiet or as_json) as advance:
        report = reshard(source, target, reference, workers, on_records=lambda n: advance(n))
    display.result(report.to_dict(), as_json)
    if report.backfill.failures():
        raise typer.Exit(1)


def item_mapping(spec: str | None):
    from rollwise.config import resolve
    from rollwise.summaries.ingest.mapping import load_mapping
    from rollwise.summaries.settings import IngestSettings

    return load_mapping(resolve(IngestSettings, {"mapping": spec}).mapping)


@summaries_app.command("ingest")
@command
def summaries_ingest(
    file: Path = typer.Argument(
        ...,
        help="JSON Lines ('-' for stdin): execution records, or with --mapping, items of another table "
        "(plain JSON, DynamoDB typed JSON, stream records or events).",
    ),
    store: str | None = StoreOption,
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help="the lines are items of another table, read with this mapping: a built-in one (geek-cafe), a JSON file, or inline JSON",
    ),
    on_remove: str | None = typer.Option(
        None, "--on-remove", help="REMOVE stream records: ignore or forget (env ROLLWISE_ON_REMOVE; default ignore)"
    ),
    retry_seconds: int | None = RetryOption,
    quiet: bool = QuietOption,
) -> None:
    """Validate and store execution records; bad lines are reported, good ones kept."""
    from rollwise.config import resolve
    from rollwise.summaries.ingest.recorder import IngestFailed, Recorder, ingest_lines
    from rollwise.summaries.settings import IngestSettings

    removes = resolve(IngestSettings, {"on_remove": on_remove}).on_remove
    chosen = item_mapping(mapping) if mapping is not None else None
    s = summary_store(store, create=True, retry_seconds=retry_seconds)
    if str(file) == "-":
        source, size = sys.stdin.buffer, None
    else:
        if not file.is_file():
            raise ConfigError(f"{file}: no such file")
        source, size = file.open("rb"), file.stat().st_size
    try:
        with display.progress(size, f"ingest {file}", quiet) as advance:
            report = ingest_lines(source, Recorder(s, batch_size=500, patience=None), on_line=advance, mapping=chosen, on_remove=removes)
    except IngestFailed as exc:
        for number, reason in exc.report.rejected:
            display.warning(f"{file}:{number}: {reason}")
        raise
    for number, reason in report.rejected:
        display.warning(f"{file}:{number}: {reason}")
    line = f"stored {report.stored} record(s), rejected {len(report.rejected)}"
    if chosen is not None:
        line += f", skipped {report.skipped} item(s) the mapping does not take, ignored {report.ignored_removes} removal(s)"
        if report.forgotten:
            line += f", forgot {report.forgotten} execution(s)"
    display.echo(line)
    if report.rejected:
        fail(f"{len(report.rejected)} line(s) rejected", code=1)


@summaries_app.command("import")
@command
def summaries_import(
    table: str = typer.Option(..., "--table", help="the table to read (in the region and endpoint of the store)"),
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help="which items are executions: a built-in mapping (geek-cafe), a JSON file, or inline JSON (env ROLLWISE_MAPPING; default geek-cafe)",
    ),
    store: str | None = StoreOption,
    segments: int = typer.Option(4, "--segments", min=1, max=1000, help="parallel Scan segments (one thread each)"),
    read_units: float | None = typer.Option(None, "--read-units", min=0.1, help="at most this many read capacity units a second, on average"),
    page_size: int | None = typer.Option(None, "--page-size", min=1, help="items a Scan page holds at most (default: 1 MB pages)"),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="where progress is kept (default: imports/<table>-<digest>.json "
        "under ROLLWISE_STATE_DIR, ~/.local/state/rollwise); an import run again resumes from it",
    ),
    restart: bool = typer.Option(False, "--restart", help="ignore the checkpoint and read the whole table again"),
    retry_seconds: int | None = RetryOption,
    quiet: bool = QuietOption,
) -> None:
    """Import a table's history: its executions stored as records, marked for the next run (or a backfill) to summarize."""
    from rollwise.config import AwsSettings, resolve
    from rollwise.dynamodb import dynamodb_client
    from rollwise.summaries.ingest.table_import import Checkpoint, ReadBudget, default_checkpoint, describe_source, import_table
    from rollwise.summaries.settings import IngestSettings

    chosen = item_mapping(mapping)
    s = summary_store(store, create=True, retry_seconds=retry_seconds)
    client = dynamodb_client(resolve(AwsSettings))
    source = describe_source(client, table, s.patience_now())
    path = checkpoint or default_checkpoint(source, resolve(IngestSettings).checkpoints())
    progress = Checkpoint.open(path, source, segments, chosen.name, restart)
    if progress.complete():
        display.echo(f"{table}: already imported (checkpoint {path}); pass --restart to import it again")
        return
    with display.progress(source.items, f"import {table}", quiet) as advance:
        report = import_table(
            client, table, chosen, s, segments, ReadBudget(read_units) if read_units else None, progress, page_size, on_items=advance
        )
    for reason in report.reasons:
        display.warning(reason)
    resumed = " (resumed)" if report.resumed else ""
    display.echo(
        f"read {report.items} item(s){resumed}: stored {report.stored} record(s), skipped {report.skipped}, rejected {report.rejected}; "
        f"{report.read_units:.1f} read units; checkpoint {path}"
    )
    if report.failed_segments:
        for segment, error in sorted(report.failed_segments.items()):
            display.warning(f"segment {segment}: {error}")
        fail(f"{len(report.failed_segments)} segment(s) failed: run the same command again to resume from {path}", code=1)
    display.echo("the next run summarizes the imported days (or run: rollwise summaries run)")
    if report.rejected:
        fail(f"{report.rejected} item(s) rejected", code=1)


@summaries_app.command("sdk-cleanup")
@command
def summaries_sdk_cleanup(
    table: str = typer.Option(..., "--table", help="the workflow SDK's table (in the region and endpoint of the store)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would be removed; remove nothing"),
    retry_seconds: int | None = RetryOption,
    as_json: bool = typer.Option(False, "--json", help="the counts as one JSON document"),
    quiet: bool = QuietOption,
) -> None:
    """Remove the SDK's summary items that rollwise did not write (its handler's duplicates and all-time rows); never
    another model's item. Run it after the first run that wrote summaries into the table."""
    from rollwise.config import AwsSettings, resolve
    from rollwise.retry import Patience
    from rollwise.summaries.sdk.table import SdkSummaryTable, clean_up
    from rollwise.summaries.settings import SummariesSettings

    waiting = Patience.for_seconds(resolve(SummariesSettings, {"retry_seconds": retry_seconds}).retry_seconds)
    sdk = SdkSummaryTable(table, aws=resolve(AwsSettings), patience=lambda: waiting)
    with display.progress(sdk.approximate_items() or None, f"clean up {table}", quiet or as_json) as advance:
        report = clean_up(sdk, dry_run, on_items=advance)
    if as_json:
        display.json_document(report.to_json())
        return
    verb = "would remove" if dry_run else "removed"
    display.echo(f"{table}: read {report.scanned} summary item(s); {verb} {report.removed} not written by rollwise; kept {report.kept}")


@summaries_app.command("sdk-check")
@command
def summaries_sdk_check(
    table: str = typer.Option(..., "--table", help="the workflow SDK's table rollwise writes summaries into"),
    on: str = typer.Option(..., "--day", help="the day to compare, YYYY-MM-DD (each tenant's day in its zone)"),
    store: str | None = StoreOption,
) -> None:
    """Compare a day's summaries in the store with the SDK's items in its table: exit 0 when every tenant's, owner's
    and metric type's figures agree, else 1 with each difference."""
    from rollwise.summaries.sdk.table import SdkSummaryTable, compare_day

    s = summary_store(store)
    differences = compare_day(s, SdkSummaryTable(table, client=getattr(s, "client", None), patience=s.patience_now), day(on, "--day"))
    for line in differences:
        display.echo(line)
    if differences:
        fail(f"{len(differences)} difference(s) between the store and {table} on {on}", code=1)
    display.echo(f"{table} agrees with the store on {on}: every tenant's summaries are there with the same figures")


@summaries_app.command("export")
@command
def summaries_export(
    to: str = typer.Option(..., "--to", help="where to write: s3://BUCKET[/PREFIX] or file:///DIR"),
    since: str | None = typer.Option(None, "--since", help="first day, YYYY-MM-DD (default: yesterday)"),
    until: str | None = typer.Option(None, "--until", help="last day, YYYY-MM-DD (default: --since)"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv"),
    at: str | None = typer.Option(None, "--at", help="Reference time for the default day (default: now)."),
    store: str | None = StoreOption,
    quiet: bool = QuietOption,
) -> None:
    """Write the summaries of every period overlapping the days, one file per period, under
    period_type=.../period_start=.../ partitions (for Athena, DuckDB, Spark)."""
    from datetime import timedelta

    from rollwise.config import AwsSettings, resolve
    from rollwise.objects import open_store
    from rollwise.periods import utc_day
    from rollwise.summaries.admin.export import FORMATS, export_summaries, periods_overlapping

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    yesterday = (utc_day(moment(at)) - timedelta(days=1)).isoformat()
    first, last = day_range(since or until or yesterday, until or since or yesterday, "--since", "--until")
    s = summary_store(store)
    try:
        target = open_store(to, resolve(AwsSettings), create=True)
    except ValueError as exc:
        raise ConfigError(f"--to: {exc}") from None
    periods = periods_overlapping(first, last)
    with display.progress(len(periods), "export", quiet) as advance:
        report = export_summaries(s, target, "", periods, fmt, on_period=advance)
    display.echo(
        f"{first}..{last}: {report.rows} summaries in {len(report.written)} file(s) under {to}"
        + (f"; removed {len(report.removed)} file(s) of periods with no summaries left" if report.removed else "")
    )


@summaries_app.command("mapping")
@command
def summaries_mapping(name: str = typer.Argument("geek-cafe", help="a built-in mapping, a JSON file, or inline JSON")) -> None:
    """Print a mapping as JSON, checked: start a mapping of your own from a built-in one."""
    display.json_document(item_mapping(name).to_dict(), indent=True)


def _run_plan(s, plan, quiet: bool, as_json: bool, workers: int = 1) -> None:
    from rollwise.summaries.job import run

    total = sum(len(shards) for shards in plan.periods.values())
    with display.progress(total, "aggregate", quiet or as_json) as advance:
        result = run(s, plan, on_period=advance, workers=workers)
    display.result(result.body(), as_json)
    if result.failures():
        raise typer.Exit(1)


@summaries_app.command("run")
@command
def summaries_run(
    at: str | None = typer.Option(None, "--at", help="Reference time, ISO 8601 (default: now). The run covers each zone's days due by then."),
    lateness_days: int | None = typer.Option(None, "--lateness-days", min=0, help="Also re-read the last N days (env ROLLWISE_LATENESS_DAYS)."),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
    workers: int = WorkersOption,
    retry_seconds: int | None = RetryOption,
) -> None:
    """Do what the hourly Lambda does: every zone's days due by then (ended ROLLWISE_DELAY_HOURS ago) and not yet aggregated."""
    from rollwise.config import resolve
    from rollwise.summaries.job import scheduled_plan
    from rollwise.summaries.settings import SummariesSettings

    reference = moment(at)
    settings = resolve(SummariesSettings, {"store": store, "lateness_days": lateness_days})
    s = summary_store(store, retry_seconds=retry_seconds)
    _run_plan(s, scheduled_plan(s, reference, settings.lateness_days, settings.delay_hours), quiet, as_json, workers)


@summaries_app.command("backfill")
@command
def summaries_backfill(
    start: str = typer.Argument(..., help="First day, YYYY-MM-DD."),
    end: str = typer.Argument(..., help="Last day, YYYY-MM-DD."),
    at: str | None = typer.Option(None, "--at", help="Reference time (default: now); only periods closed by then are computed."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be computed; write nothing."),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
    workers: int = WorkersOption,
    retry_seconds: int | None = RetryOption,
) -> None:
    """Recompute every closed period overlapping START..END."""
    from rollwise.config import resolve
    from rollwise.summaries.job import backfill_plan
    from rollwise.summaries.settings import SummariesSettings

    first, last = day_range(start, end, "START", "END")
    reference = moment(at)
    s = summary_store(store, retry_seconds=retry_seconds)
    plan = backfill_plan(s, first, last, reference, resolve(SummariesSettings, {"store": store}).delay_hours)
    if dry_run:
        if as_json:
            display.json_document({"dry_run": True, "periods": plan.describe()})
        else:
            display.echo(f"would compute {len(plan.periods)} period(s) over {len(plan.shards)} shard(s):")
            for label in plan.describe():
                display.echo(f"  {label}")
        return
    _run_plan(s, plan, quiet, as_json, workers)


@summaries_app.command("show")
@command
def summaries_show(
    tenant: str = typer.Option(..., "--tenant"),
    period: str = typer.Option(..., "--period", help="daily, weekly, monthly or yearly"),
    owner: str | None = typer.Option(None, "--owner", help="An owner id, or __tenant__ for tenant-wide rows."),
    metric_type: str | None = typer.Option(None, "--metric-type"),
    since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD"),
    store: str | None = StoreOption,
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one summary a line."),
) -> None:
    """Read summaries of one tenant."""
    from rollwise.periods import PERIOD_TYPES

    if period not in PERIOD_TYPES:
        raise ConfigError(f"--period must be one of {', '.join(PERIOD_TYPES)}, got {period!r}")
    first = day(since, "--since") if since else None
    last = day(until, "--until") if until else None
    if first and last and first > last:
        raise ConfigError(f"--since {first} is after --until {last}")
    from rollwise.summaries.retention import is_frozen
    from rollwise.timestamps import utc_now

    s = summary_store(store)
    now = utc_now()
    # A period with a day below the retention floor is frozen: its records may be gone, it is never recomputed.
    rows = (
        {**x.to_dict(), "frozen": is_frozen(x.period.start, x.period.zone, now, s.retention_days)}
        for x in s.query_summaries(tenant, period, first, last, owner, metric_type)
    )
    if as_json:
        display.json_lines(rows)
        return
    display.summary_table(list(rows), f"{tenant} {period}")


# -- tenants ------------------------------------------------------------------------------------
@tenants_app.command("set")
@command
def tenants_set(
    tenant: str = typer.Argument(..., help="The tenant id."),
    zone: str = typer.Option(..., "--zone", help="An IANA time zone, e.g. Asia/Kolkata, America/Los_Angeles, UTC."),
    at: str | None = typer.Option(None, "--at", help="Reference time (default: now): which periods are closed."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say how many periods would be recomputed; write nothing."),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
    retry_seconds: int | None = RetryOption,
) -> None:
    """Set a tenant's zone. With history, its records move to its new local days, its closed periods are
    recomputed in the new zone and the old zone's summaries removed (run it again to finish an interrupted change)."""
    from rollwise.config import resolve
    from rollwise.periods import UnknownZone, zone_info
    from rollwise.summaries.admin.zone_change import change_zone
    from rollwise.summaries.settings import SummariesSettings

    try:
        zone_info(zone)
    except UnknownZone as exc:
        raise ConfigError(f"--zone: {exc}") from None
    settings = resolve(SummariesSettings, {"store": store})
    s = summary_store(store, retry_seconds=retry_seconds)
    with display.progress(None, "move history", quiet or as_json) as advance:
        change = change_zone(s, tenant, zone, moment(at), settings.delay_hours, dry_run=dry_run, on_day=lambda total: advance(), on_period=advance)
    if as_json:
        display.json_document(change.to_json())
    elif change.old_zone == zone:
        display.echo(f"{tenant} is in {zone} already")
    elif dry_run:
        display.echo(
            f"would move {tenant} from {change.old_zone} to {zone}: {change.records_moved} record(s), "
            f"{len(change.periods)} period(s) recomputed, {change.summaries_removed} summaries of {change.old_zone} removed"
        )
    else:
        display.echo(
            f"moved {tenant} from {change.old_zone} to {zone}: {change.records_moved} record(s), "
            f"{len(change.periods)} period(s) recomputed, {change.summaries_removed} summaries of {change.old_zone} removed"
        )
    if change.failures() or change.run.get("deferred"):
        display.echo("not finished: run the same command again to finish it")
        raise typer.Exit(1)


@tenants_app.command("list")
@command
def tenants_list(store: str | None = StoreOption, as_json: bool = JsonOption) -> None:
    """Every tenant with a zone set (the others are in ROLLWISE_DEFAULT_ZONE, default UTC)."""
    from rollwise.summaries.admin.zone_change import tenant_zone_rows

    s = summary_store(store)
    rows = tenant_zone_rows(s)
    if as_json:
        display.json_document({"default_zone": s.default_zone, "tenants": rows})
        return
    display.echo(f"default zone: {s.default_zone}")
    for row in rows:
        display.echo(f"{row['tenant_id']}\t{row['zone']}" + (f"\t(moving from {row['moving_from']})" if "moving_from" in row else ""))


# -- runs ---------------------------------------------------------------------------------------
@runs_app.command("merge")
@command
def runs_merge(
    at: str | None = typer.Option(None, "--at", help="Reference time, ISO 8601 (default: now)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the closed windows and their files; write nothing."),
    archive_mode: str | None = typer.Option(
        None, "--archive-mode", help="move (each file's counted bytes to the archive, then delete) or bundle (one .jsonl.gz per window)"
    ),
    bucket: str | None = BucketOption,
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Do what the 5-minute Lambda does: aggregate closed windows, archive their files."""
    reference = moment(at)
    with display.progress(None, "merge", quiet or as_json) as advance:
        job = merge_job(bucket, archive_mode, on_file=advance)
        result = job.run(reference, dry_run=dry_run)
    if dry_run and not as_json:
        display.merge_plan(result.planned)
    else:
        display.result(result.body(), as_json)
    if result.failures():
        raise typer.Exit(1)


@runs_app.command("capacity")
@command
def runs_capacity(
    files_per_day: int = typer.Option(..., "--files-per-day", min=0, help="expected raw files a day"),
    as_json: bool = JsonOption,
) -> None:
    """The merge function's memory a volume needs, by the capacity rule (docs/benchmarks.md)."""
    from dataclasses import asdict

    from rollwise.runs.capacity import SCHEDULE_MINUTES, capacity

    row = capacity(files_per_day)
    if as_json:
        display.json_document({**asdict(row), "fits": row.fits})
        return
    if row.memory_mb is None:
        fail(
            f"no memory size keeps up with {files_per_day:,} files a day, one invocation every {SCHEDULE_MINUTES} minutes: "
            f"at the largest, {row.seconds_per_invocation} s of each period's work; merge more often or split the producer's prefix",
            1,
        )
    display.echo(
        f"{row.memory_mb} MB for {files_per_day:,} files a day: up to {row.files_per_invocation:,} files an invocation, "
        f"about {row.seconds_per_invocation} s for each {SCHEDULE_MINUTES} minutes' files"
    )


@runs_app.command("show")
@command
def runs_show(
    window: str | None = typer.Argument(None, help="A window stamp such as 20240115t1305Z (the window's end)."),
    on: str | None = typer.Option(None, "--date", help="Every aggregate of a UTC day, YYYYMMDD."),
    bucket: str | None = BucketOption,
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one aggregate a line."),
) -> None:
    """Read aggregates: one window, or all of a day."""
    from rollwise.runs.read import aggregates_of_day, read_aggregate

    if (window is None) == (on is None):
        raise ConfigError("give either a WINDOW stamp or --date YYYYMMDD")
    job = merge_job(bucket, create=False)
    try:
        if on is not None:
            docs = list(aggregates_of_day(job.store, job.layout, day(on, "--date")))
        else:
            docs = [read_aggregate(job.store, job.layout, str(window))]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except FileNotFoundError as exc:
        fail(str(exc), 1)
    if as_json:
        display.json_lines(docs)
        return
    display.aggregate_table(docs)


# -- deploy -------------------------------------------------------------------------------------
def backfill_payload(start: date, end: date) -> dict:
    """The event the summaries Lambda takes for a backfill."""
    return {"backfill": True, "start_date": start.isoformat(), "end_date": end.isoformat()}


@deploy_app.command("invoke-backfill")
@command
def deploy_invoke_backfill(
    start: str = typer.Argument(..., help="First day, YYYY-MM-DD."),
    end: str = typer.Argument(..., help="Last day, YYYY-MM-DD."),
    function: str = typer.Option("rollwise-summaries", "--function", help="The deployed summaries function (the stack output SummariesFunction)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the payload and the equivalent aws CLI command; invoke nothing."),
) -> None:
    """Backfill on the deployed Lambda: invoke it synchronously with the backfill event."""
    import orjson

    from rollwise.config import AwsSettings, resolve

    first, last = day_range(start, end, "START", "END")
    payload = orjson.dumps(backfill_payload(first, last)).decode()
    if dry_run:
        display.echo(payload)
        display.echo(f"aws lambda invoke --function-name {function} --cli-binary-format raw-in-base64-out --payload '{payload}' response.json")
        return
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    aws = resolve(AwsSettings)
    client = boto3.client(
        "lambda", region_name=aws.region, endpoint_url=aws.endpoint_url or None, config=Config(read_timeout=330, retries={"max_attempts": 0})
    )
    try:
        response = client.invoke(FunctionName=function, Payload=payload.encode())
    except (ClientError, BotoCoreError) as exc:
        fail(f"invoking {function} in {aws.region} failed: {exc}", code=1)
    display.echo(response["Payload"].read().decode())
    if response.get("FunctionError"):
        fail(f"the backfill failed ({response['FunctionError']}); see the function's logs", code=1)


# -- report and demo --------------------------------------------------------------------------------
@app.command("report")
@command
def report(
    out: Path = typer.Option(..., "--out", help="The HTML file to write."),
    on: str | None = typer.Option(None, "--date", help="One UTC day, YYYY-MM-DD (default: yesterday)."),
    since: str | None = typer.Option(None, "--since", help="First day of a range, YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Last day of a range, YYYY-MM-DD."),
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's summaries."),
    store: str | None = StoreOption,
    bucket: str | None = BucketOption,
    quiet: bool = QuietOption,
) -> None:
    """Write one self-contained HTML report (inline SVG charts, no script, no network) of both jobs."""
    from rollwise.report import build_report, default_range

    if on and (since or until):
        raise ConfigError("give --date or --since/--until, not both")
    if on:
        first = last = day(on, "--date")
    elif since or until:
        if not (since and until):
            raise ConfigError("--since and --until go together")
        first, last = day_range(since, until, "--since", "--until")
    else:
        first, last = default_range()
    summaries, job = summary_store(store), merge_job(bucket, create=False)
    with display.progress(2 * ((last - first).days + 1), "report", quiet) as advance:
        page = build_report(summaries, job, first, last, tenant, advance)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    display.echo(f"wrote {out} ({len(page.encode()) // 1024} KB)")


@app.command("serve")
@command
def serve(
    store: str | None = StoreOption,
    bucket: str | None = BucketOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port (0: any free one)."),
    jwks: str | None = typer.Option(None, "--jwks", help="Key set tokens are verified with: a URL or a file (env ROLLWISE_API_JWKS)."),
    issuer: str | None = typer.Option(None, "--issuer", help="The tokens' issuer (env ROLLWISE_API_ISSUER)."),
    audience: str | None = typer.Option(None, "--audience", help="The tokens' audience (env ROLLWISE_API_AUDIENCE)."),
    tenant_claim: str | None = typer.Option(None, "--tenant-claim", help="The claim naming the tenant (default custom:tenant_id)."),
    admin_group: str | None = typer.Option(None, "--admin-group", help="The group or scope of admin tokens (default rollwise-admin)."),
    dev: bool = typer.Option(False, "--dev", help="Make a key at start, print one token per tenant and an admin token; loopback only."),
) -> None:
    """Serve the read API (the deployed function's routes) on this machine."""
    import tempfile
    from pathlib import Path as FilePath

    from rollwise.api.context import open_services
    from rollwise.api.serve import DEV_AUDIENCE, DEV_ISSUER, DevKeys, Server, is_loopback
    from rollwise.api.settings import ApiSettings
    from rollwise.api.tokens import Verifier
    from rollwise.config import resolve

    settings = resolve(ApiSettings, {"jwks": jwks, "issuer": issuer, "audience": audience, "tenant_claim": tenant_claim, "admin_group": admin_group})
    keys = None
    if dev:
        if not is_loopback(host):
            raise ConfigError(f"--dev signs tokens anyone can use: it serves on a loopback address only, not {host}")
        keys = DevKeys.make(FilePath(tempfile.mkdtemp(prefix="rollwise-dev-")))
        settings = resolve(
            ApiSettings,
            {"jwks": str(keys.jwks_path), "issuer": DEV_ISSUER, "audience": DEV_AUDIENCE, "tenant_claim": tenant_claim, "admin_group": admin_group},
        )
    elif not settings.jwks:
        raise ConfigError("serve needs --jwks (with --issuer and --audience) to verify tokens, or --dev for local tokens")
    try:
        verifier = Verifier(settings.jwks, settings.issuer, settings.audience)
    except (ValueError, OSError) as exc:
        raise ConfigError(str(exc)) from None
    from rollwise.config import AwsSettings
    from rollwise.runs.settings import MergeSettings
    from rollwise.summaries.settings import SummariesSettings

    summaries = resolve(SummariesSettings, {"store": store})
    merge = resolve(MergeSettings, {"url": bucket})
    # no bucket: the /v1/runs routes answer 404
    services = open_services(settings, summaries, merge, resolve(AwsSettings), summaries.store, bucket and merge.url, verifier)
    s = services.summaries
    server = Server(services, host, port)
    display.echo(f"serving the read API on {server.url}/v1 (OpenAPI: {server.url}/v1/openapi.json)")
    if keys is not None:
        for tenant in s.known_tenants():
            display.echo(f"token {tenant}: {keys.token({'sub': tenant, settings.tenant_claim: tenant})}")
        display.echo(f"token admin: {keys.token({'sub': 'admin', 'cognito:groups': [settings.admin_group]})}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


@app.command("demo")
@command
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
