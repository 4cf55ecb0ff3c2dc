"""The report's page: sections of markup from collected data, one self-contained HTML file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rollwise.health import Health
from rollwise.periods import days_between, period_containing
from rollwise.report.charts import Markup, esc, legend, lines, no_data, stacked_bars, table, time_bars, time_lines
from rollwise.report.collect import RunsData, daily_percentiles, headline, latest, per_bucket, per_day, time_buckets
from rollwise.timestamps import parse_timestamp, utc_now

OUTCOMES = (
    ("success_count", "succeeded", "#2e7d32"),
    ("failure_count", "failed", "#c62828"),
    ("cancelled_count", "cancelled", "#9e9e9e"),
    ("timeout_count", "timed out", "#ef6c00"),
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:2.5rem}
.muted{color:#666}.nodata{padding:1rem;background:#f6f6f6;border-left:4px solid #bbb;color:#555}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.totals td{font-size:1.3rem;font-weight:600}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}
svg{display:block;margin:.5rem 0 1rem}svg text{font-size:11px;fill:#444}
.health td:nth-child(2),.health th{text-align:left}.health td:nth-child(2){font-weight:600}.health td:last-child{text-align:left}
.headline td{font-size:1.15rem;font-weight:600}.ok{color:#2e7d32}.attention{color:#b71c1c}td.when{white-space:nowrap}
"""


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _state(ok: bool) -> Markup:
    return Markup('<span class="ok">ok</span>' if ok else '<span class="attention">attention</span>')


def render_health(health: Health, runs: RunsData, by_tenant: dict[str, list], last: date) -> str:
    """First on the page: work not done yet, which a chart of what was done cannot show."""
    now = health.checked_at
    rows = []
    if runs.unreadable:
        rows.append(
            (
                "merge: aggregates that cannot be read",
                _state(False),
                "; ".join(f"{key}: {why}" for key, why in runs.unreadable[:5])
                + (f" and {len(runs.unreadable) - 5} more" if len(runs.unreadable) > 5 else ""),
            )
        )
    if health.waiting_windows:
        oldest = health.waiting_windows[0][0]
        listed = ", ".join(f"{w.start:%Y-%m-%d %H:%M}-{w.end:%H:%M} ({n} files)" for w, n in health.waiting_windows[:5])
        more = f" and {len(health.waiting_windows) - 5} more" if len(health.waiting_windows) > 5 else ""
        rows.append(
            (
                "merge: closed windows not aggregated",
                _state(False),
                f"{len(health.waiting_windows)}, the oldest closed {_age((now - oldest.end).total_seconds())} ago: {listed}{more}",
            )
        )
    else:
        rows.append(("merge: closed windows not aggregated", _state(True), "none"))
    if health.raw_files and health.oldest_raw is not None:
        rows.append(
            (
                "merge: files under raw/",
                _state(not health.waiting_windows),
                f"{health.raw_files:,}, the oldest from {_when(health.oldest_raw)} ({_age((now - health.oldest_raw).total_seconds())} old)",
            )
        )
    else:
        rows.append(("merge: files under raw/", _state(True), "none"))
    rows.append(
        (
            "merge: quarantined files",
            _state(not health.quarantined),
            f"{health.quarantined:,} (listed below for this range)" if health.quarantined else "none",
        )
    )
    if health.open_days:
        days = ", ".join(f"{d.isoformat()} ({n} shard{'s' if n > 1 else ''})" for d, n in health.open_days[:7])
        more = f" and {len(health.open_days) - 7} more" if len(health.open_days) > 7 else ""
        rows.append(("summaries: days waiting for the next run", _state(False), f"{len(health.open_days)}: {days}{more}"))
    else:
        rows.append(("summaries: days waiting for the next run", _state(True), "none"))
    aggregated = max((s.period.start for rows_ in by_tenant.values() for s in rows_), default=None)
    if aggregated is None:
        rows.append(("summaries: last day aggregated", _state(False), "no daily summaries in this range"))
    else:
        behind = (last - aggregated).days
        rows.append(
            (
                "summaries: last day aggregated",
                _state(behind == 0),
                aggregated.isoformat() + ("" if behind == 0 else f": {behind} day(s) before the end of the range"),
            )
        )
    return f'<h2>Health</h2><p class="muted">as of {_when(now)}</p>' + table(["", "state", "detail"], rows).replace(
        "<table>", '<table class="health">', 1
    )


def render_runs(data: RunsData) -> str:
    out = ["<h2>Run results</h2>"]
    docs = sorted(data.aggregates, key=lambda d: d["window_end"])
    if not docs:
        out.append(no_data("no window aggregates in this range"))
    else:
        totals = {k: sum(d["stats"][k] for d in docs) for k in ("files", "opportunities_processed", "matches", "no_matches", "errors")}
        out.append(
            '<table class="totals"><tr>'
            + "".join(f"<th>{esc(k.replace('_', ' '))}</th>" for k in totals)
            + "</tr><tr>"
            + "".join(f"<td>{v:,}</td>" for v in totals.values())
            + "</tr></table>"
        )
        bucket, start, end = time_buckets(docs)
        buckets = per_bucket(docs, bucket, start)
        unit = "window" if bucket < timedelta(hours=1) else ("hour" if bucket == timedelta(hours=1) else "day")
        out.append(f"<h3>Matches per {unit}</h3>" + legend([("matches", "#1565c0"), ("no matches", "#90caf9"), ("errors", "#c62828")]))
        out.append(
            time_bars(
                start,
                end,
                bucket,
                [
                    (label, colour, {t: b[name] for t, b in buckets.items()})
                    for name, label, colour in (
                        ("matches", "matches", "#1565c0"),
                        ("no_matches", "no matches", "#90caf9"),
                        ("errors", "errors", "#c62828"),
                    )
                ],
            )
        )
        times = {t: b["time"].quantiles((0.5, 0.95)) for t, b in buckets.items() if b["time"].count}
        out.append(f"<h3>Processing time per opportunity (ms), per {unit}</h3>" + legend([("p50", "#6a1b9a"), ("p95", "#ef6c00")]))
        out.append(
            time_lines(
                start, end, bucket, [("p50", "#6a1b9a", {t: q[0] for t, q in times.items()}), ("p95", "#ef6c00", {t: q[1] for t, q in times.items()})]
            )
            if times
            else no_data("no processing times were reported")
        )
        top = sorted((m for d in docs for m in d["top_matches"]), key=lambda m: (-m["score"], m["id"]))[:10]
        out.append("<h3>Top opportunities</h3>")
        out.append(
            table(
                ["id", "title", "score", "link", "source file"],
                [
                    (
                        m["id"],
                        m.get("title"),
                        m["score"],
                        Markup(f'<a href="{esc(m["link"])}">{esc(m["link"])}</a>') if m.get("link") else "",
                        m.get("source_file"),
                    )
                    for m in top
                ],
            )
            if top
            else no_data("no matches in this range")
        )
    out.append("<h3>Quarantined files</h3>")
    out.append(
        table(
            ["file", "reason", "quarantined at"], [(q.get("key"), q.get("reason"), _moment_text(q.get("quarantined_at"))) for q in data.quarantined]
        )
        if data.quarantined
        else '<p class="muted">None.</p>'
    )
    return "".join(out)


def _moment_text(text) -> str | None:
    try:
        return _when(parse_timestamp(text))
    except ValueError:
        return text


def _change(now: float | None, before: float | None, points: bool) -> str:
    if now is None or before is None:
        return ""
    if points:  # a rate: the change in percentage points
        return f" ({now - before:+.1f} pt)"
    if before == 0:
        return " (new)" if now else " (=)"
    return f" ({100 * (now - before) / before:+.1f}%)"


def render_headline(rows: list, previous: list, first: date, last: date) -> str:
    """The tenant's figures over the range, each with its change against the previous period of the same length."""
    now, before = headline(rows), headline(previous) if previous else {}
    days = (last - first).days + 1
    cells = []
    for name, value in now.items():
        shown = "–" if value is None else (f"{value:,.1f}" if isinstance(value, float) else f"{value:,}")
        cells.append(shown + _change(value, before.get(name), name.endswith("%")))
    compared = f"change against the previous {days} day(s)" if previous else "no summaries in the previous period to compare with"
    return table(list(now), [cells]).replace("<table>", '<table class="headline">', 1) + f'<p class="muted">{esc(compared)}</p>'


def render_summaries(store: Any, by_tenant: dict[str, list], first: date, last: date, before: dict[str, list] | None = None) -> str:
    out = ["<h2>Period summaries</h2>"]
    if not by_tenant:
        return "".join(out) + no_data("no daily summaries in this range")
    days = list(days_between(first, last))
    labels = [d.strftime("%m-%d") for d in days]
    for tenant in sorted(by_tenant):
        rows = by_tenant[tenant]
        out.append(f"<h3>Tenant {esc(tenant)}</h3>")
        if not rows:
            out.append(no_data(f"tenant {tenant} has no summaries in this range"))
            continue
        out.append(render_headline(rows, (before or {}).get(tenant, []), first, last))
        out.append(f'<p class="zone">Days, weeks and months in {esc(rows[0].period.zone)}</p>')  # the tenant's own calendar
        out.append(legend([(label, colour) for _, label, colour in OUTCOMES]))
        out.append(stacked_bars(labels, [(label, colour, per_day(rows, days, name)) for name, label, colour in OUTCOMES]))
        ok, done = per_day(rows, days, "success_count"), [sum(v) for v in zip(*(per_day(rows, days, n) for n, _, _ in OUTCOMES), strict=True)]
        rate = [100 * o / d if d else None for o, d in zip(ok, done, strict=True)]
        out.append("<h4>Success rate (%)</h4>" + lines(labels, [("success rate", "#2e7d32", rate)], height=160, top=100))
        p50, p95 = daily_percentiles(rows, days)
        out.append("<h4>Duration (ms), all metric types</h4>" + legend([("p50", "#6a1b9a"), ("p95", "#ef6c00")]))
        out.append(
            lines(labels, [("p50", "#6a1b9a", p50), ("p95", "#ef6c00", p95)])
            if any(v is not None for v in p95)
            else no_data("no finished executions with a duration")
        )
        for kind in ("weekly", "monthly"):
            start, period_rows = latest(store, tenant, kind, last)
            if start is None:
                out.append(f"<h4>Latest {kind}</h4>" + no_data(f"no closed {kind} period yet"))
                continue
            end = period_containing(kind, start).end
            outside = " (it covers days outside this range)" if start < first or end > last else ""
            out.append(
                f"<h4>Latest {kind}: {start.isoformat()} to {end.isoformat()}{outside}</h4>"
                + table(
                    [
                        "metric type",
                        "submitted",
                        "succeeded",
                        "failed",
                        "cancelled",
                        "timed out",
                        "throttled",
                        "rejected",
                        "profiles",
                        "p50 ms",
                        "p95 ms",
                    ],
                    [
                        (
                            r.metric_type,
                            r.figures["submission_count"],
                            r.figures["success_count"],
                            r.figures["failure_count"],
                            r.figures["cancelled_count"],
                            r.figures["timeout_count"],
                            r.figures["throttled_count"],
                            r.figures["rejected_count"],
                            r.figures["total_profiles"],
                            r.figures["p50_duration_ms"],
                            r.figures["p95_duration_ms"],
                        )
                        for r in period_rows
                    ],
                )
            )
    return "".join(out)


def render_page(first: date, last: date, tenant: str | None, runs_html: str, summaries_html: str, health_html: str = "") -> str:
    span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    generated = utc_now().strftime("%Y-%m-%d %H:%M UTC")
    scope = f" · tenant {esc(tenant)}" if tenant else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rollwise report {esc(span)}</title>'
        f"<style>{CSS}</style></head><body><h1>rollwise report</h1>"
        f'<p class="muted">{esc(span)}{scope} · generated {generated}</p>{health_html}{runs_html}{summaries_html}</body></html>'
    )
