"""What a person sees: progress bars, tables and JSON output, shared by the CLI and the demo.

Tables and bars go to a terminal; ``--json`` output is one JSON document (or
one per line) on stdout and nothing else, so it can be piped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

MISSING = "–"  # a figure that does not exist (no durations, no matches), not a zero


def cell(value: Any) -> str:
    return MISSING if value is None else str(value)


@contextmanager
def progress(total: int | None, label: str, quiet: bool) -> Iterator[Callable[..., None]]:
    """A rich progress bar on a terminal; nothing when quiet or piped. Yields ``advance(n=1)``."""
    if quiet or not sys.stderr.isatty():
        yield lambda advance=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda advance=1: bar.advance(task, advance)


def _console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def json_document(doc: Any, indent: bool = False) -> None:
    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0).decode() + "\n")


def json_lines(rows: Iterable[Any]) -> None:
    out = sys.stdout
    for row in rows:
        out.write(orjson.dumps(row).decode() + "\n")


def result(body: Mapping[str, Any], as_json: bool) -> None:
    """A run's result: JSON, or one line per figure with lists spelled out."""
    if as_json:
        json_document(body)
        return
    for key, value in body.items():
        if isinstance(value, list):
            echo(f"{key}: {len(value)}")
            for v in value:
                echo(f"  {_plain_line(v)}")
        else:
            echo(f"{key}: {value}")


def _plain_line(value: Any) -> str:
    if isinstance(value, Mapping):
        return "  ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def _table(title: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]], left: set[str]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for _, label in columns:
        table.add_column(label, justify="left" if label in left else "right")
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    _console().print(table)


SUMMARY_COLUMNS = [
    ("period_start", "start"),
    ("zone", "zone"),
    ("owner_id", "owner"),
    ("metric_type", "metric"),
    ("submission_count", "submitted"),
    ("success_count", "ok"),
    ("failure_count", "failed"),
    ("cancelled_count", "cancelled"),
    ("timeout_count", "timed out"),
    ("throttled_count", "throttled"),
    ("rejected_count", "rejected"),
    ("total_profiles", "profiles"),
    ("p50_duration_ms", "p50 ms"),
    ("p95_duration_ms", "p95 ms"),
]


def summary_table(rows: Sequence[Mapping[str, Any]], title: str) -> None:
    if not rows:
        _console().print(f"[yellow]no summaries for {title}[/yellow]", markup=True, highlight=False)
        return
    _table(title, SUMMARY_COLUMNS, ([row[k] for k, _ in SUMMARY_COLUMNS] for row in rows), {"start", "zone", "owner", "metric"})


def aggregate_table(docs: Sequence[Mapping[str, Any]]) -> None:
    if not docs:
        _console().print("[yellow]no aggregates[/yellow]")
        return
    columns = [
        ("window_end", "window end"),
        ("files", "files"),
        ("opportunities", "opportunities"),
        ("matches", "matches"),
        ("no_matches", "no matches"),
        ("errors", "errors"),
        ("p50", "ms/opp p50"),
        ("p95", "ms/opp p95"),
        ("best", "best match"),
    ]

    def row(doc: Mapping[str, Any]) -> list[Any]:
        st, pt = doc["stats"], doc["stats"]["opportunity_time_ms"]
        best = doc["top_matches"][0] if doc["top_matches"] else None
        return [
            doc["window_end"],
            st["files"],
            st["opportunities_processed"],
            st["matches"],
            st["no_matches"],
            st["errors"],
            pt["p50"],
            pt["p95"],
            f"{best['id']} ({best['score']})" if best else None,
        ]

    _table("window aggregates", columns, (row(d) for d in docs), {"window end", "best match"})


def merge_plan(planned: list[Mapping[str, Any]]) -> None:
    """A dry run of the merge job, one line per window."""
    files = sum(p["files"] for p in planned)
    echo(f"would merge {len(planned)} window(s), {files} file(s), writing nothing:")
    for p in planned:
        state = f"aggregate exists, {p['already_counted']} already counted" if p["aggregate_exists"] else "new aggregate"
        echo(f"  {p['aggregate']}  {p['files']} file(s), {state}")


def warning(message: str) -> None:
    sys.stderr.write(message + "\n")
