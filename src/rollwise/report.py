"""An offline HTML report of both jobs: one file, inline CSS and SVG, no script, no network.

Reading goes through the jobs' own read paths (summaries by period partition,
aggregates by day); rendering is plain functions from figures to markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

from rollwise.periods import days_between, period_containing
from rollwise.summaries.model import TENANT_WIDE

OUTCOMES = (("success_count", "succeeded", "#2e7d32"), ("failure_count", "failed", "#c62828"),
            ("cancelled_count", "cancelled", "#9e9e9e"), ("timeout_count", "timed out", "#ef6c00"))
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:2.5rem}
.muted{color:#666}.nodata{padding:1rem;background:#f6f6f6;border-left:4px solid #bbb;color:#555}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.totals td{font-size:1.3rem;font-weight:600}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}
svg{display:block;margin:.5rem 0 1rem}svg text{font-size:11px;fill:#444}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


# -- charts (SVG) -----------------------------------------------------------------
def _frame(width: int, height: int, body: str, top: float, labels: Sequence[str], left: int = 48, bottom: int = 28) -> str:
    plot_h = height - bottom - 10
    ticks = []
    for i in range(5):
        v = top * i / 4
        y = 10 + plot_h - plot_h * i / 4
        ticks.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_short(v)}</text>')
    step = max(1, len(labels) // 10)
    slot = (width - left) / max(1, len(labels))
    xs = "".join(f'<text x="{left + slot * (i + .5):.1f}" y="{height - 8}" text-anchor="middle">{esc(lab)}</text>'
                 for i, lab in enumerate(labels) if i % step == 0)
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(ticks)}{body}{xs}</svg>'


def _short(v: float) -> str:
    return f"{v / 1000:.1f}k" if v >= 10000 else (f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.2f}")


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], width: int = 900, height: int = 220) -> str:
    """Bars per label, stacked by series (name, colour, values)."""
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    left, plot_h = 48, height - 38
    slot = (width - left) / max(1, len(labels))
    bars = []
    for i in range(len(labels)):
        y = 10 + plot_h
        for name, colour, values in series:
            h = plot_h * values[i] / top
            if h > 0:
                y -= h
                bars.append(f'<rect x="{left + slot * i + slot * .15:.1f}" y="{y:.1f}" width="{slot * .7:.1f}" height="{h:.1f}" fill="{colour}">'
                            f'<title>{esc(labels[i])} {esc(name)}: {values[i]:g}</title></rect>')
    return _frame(width, height, "".join(bars), top, labels)


def lines(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]], width: int = 900, height: int = 200,
          top: float | None = None) -> str:
    """One polyline per series; gaps where a value is None."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = top or (max(values, default=0) or 1)
    left, plot_h = 48, height - 38
    slot = (width - left) / max(1, len(labels))
    paths = []
    for name, colour, vs in series:
        segment: list[str] = []
        for i, v in enumerate(list(vs) + [None]):
            if v is None:
                if len(segment) > 1:
                    paths.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}"><title>{esc(name)}</title></polyline>')
                elif segment:
                    x, y = segment[0].split(",")
                    paths.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
                segment = []
                continue
            segment.append(f"{left + slot * (i + .5):.1f},{10 + plot_h - plot_h * v / top:.1f}")
    return _frame(width, height, "".join(paths), top, labels)


def legend(items: Iterable[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>' for n, c in items) + "</div>"


def no_data(what: str) -> str:
    return f'<p class="nodata">No data: {esc(what)}.</p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell if isinstance(cell, Markup) else esc(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class Markup(str):
    """Already-escaped markup for a table cell."""


# -- runs -------------------------------------------------------------------------
@dataclass
class RunsData:
    aggregates: list[dict] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)


def read_runs(job: Any, first: date, last: date, advance: Callable[[], None] = lambda: None) -> RunsData:
    import obstore as obs
    import orjson

    from rollwise.objects import NOT_FOUND
    from rollwise.runs.read import aggregates_of_day
    from rollwise.windows import stamp_in_name

    data = RunsData()
    for day in days_between(first, last):
        data.aggregates.extend(aggregates_of_day(job.store, job.layout, day.strftime("%Y%m%d")))
        advance()
    try:
        for batch in obs.list(job.store, job.layout.quarantine):
            for meta in batch:
                key = meta["path"]
                if not key.endswith(".error.json"):
                    continue
                stamp = stamp_in_name(key.removesuffix(".error.json"))
                when = (stamp or meta["last_modified"]).date()
                if first <= when <= last:
                    data.quarantined.append(orjson.loads(bytes(obs.get(job.store, key).bytes())))
    except NOT_FOUND:
        pass
    return data


def render_runs(data: RunsData) -> str:
    out = ["<h2>Run results</h2>"]
    docs = sorted(data.aggregates, key=lambda d: d["window_end"])
    if not docs:
        out.append(no_data("no window aggregates in this range"))
    else:
        totals = {k: sum(d["stats"][k] for d in docs) for k in ("files", "opportunities_processed", "matches", "no_matches", "errors")}
        out.append('<table class="totals"><tr>' + "".join(f"<th>{esc(k.replace('_', ' '))}</th>" for k in totals) + "</tr><tr>"
                   + "".join(f"<td>{v:,}</td>" for v in totals.values()) + "</tr></table>")
        labels = [d["window_end"][11:16] if len({x["window_end"][:10] for x in docs}) == 1 else d["window_end"][5:16].replace("T", " ") for d in docs]
        out.append("<h3>Matches per window</h3>" + legend([("matches", "#1565c0"), ("no matches", "#90caf9"), ("errors", "#c62828")]))
        out.append(stacked_bars(labels, [("matches", "#1565c0", [d["stats"]["matches"] for d in docs]),
                                         ("no matches", "#90caf9", [d["stats"]["no_matches"] for d in docs]),
                                         ("errors", "#c62828", [d["stats"]["errors"] for d in docs])]))
        p50 = [d["stats"]["processing_time_ms"]["p50"] for d in docs]
        p95 = [d["stats"]["processing_time_ms"]["p95"] for d in docs]
        out.append("<h3>Processing time per window (ms)</h3>" + legend([("p50", "#6a1b9a"), ("p95", "#ef6c00")]))
        out.append(lines(labels, [("p50", "#6a1b9a", p50), ("p95", "#ef6c00", p95)]) if any(v is not None for v in p95)
                   else no_data("no processing times were reported"))
        top = sorted((m for d in docs for m in d["top_matches"]), key=lambda m: (-m["score"], m["id"]))[:10]
        out.append("<h3>Top opportunities</h3>")
        out.append(table(["id", "title", "score", "link", "source file"],
                         [(m["id"], m.get("title"), m["score"], Markup(f'<a href="{esc(m["link"]) }">{esc(m["link"])}</a>') if m.get("link") else "",
                           m.get("source_file")) for m in top]) if top else no_data("no matches in this range"))
    out.append("<h3>Quarantined files</h3>")
    out.append(table(["file", "reason", "quarantined at"], [(q.get("key"), q.get("reason"), q.get("quarantined_at")) for q in data.quarantined])
               if data.quarantined else '<p class="muted">None.</p>')
    return "".join(out)


# -- summaries --------------------------------------------------------------------
def read_summaries(store: Any, first: date, last: date, tenant: str | None, advance: Callable[[], None] = lambda: None) -> dict[str, list]:
    """Tenant-wide daily summaries per tenant, read by period partition (no scan, no tenant list needed)."""
    by_tenant: dict[str, list] = {}
    for day in days_between(first, last):
        period = period_containing("daily", day)
        shards = [store.shard_of(tenant)] if tenant else range(store.shards)
        for shard in shards:
            for s in store.read_summaries(period, shard).values():
                if s.owner_id == TENANT_WIDE and (tenant is None or s.tenant_id == tenant):
                    by_tenant.setdefault(s.tenant_id, []).append(s)
        advance()
    if tenant and tenant not in by_tenant:
        by_tenant[tenant] = []
    return by_tenant


def _per_day(rows: list, days: list[date], name: str) -> list[float]:
    totals = {d: 0.0 for d in days}
    for s in rows:
        totals[s.period.start] += s.figures[name] or 0
    return [totals[d] for d in days]


def render_summaries(store: Any, by_tenant: dict[str, list], first: date, last: date) -> str:
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
        out.append(legend([(label, colour) for _, label, colour in OUTCOMES]))
        out.append(stacked_bars(labels, [(label, colour, _per_day(rows, days, name)) for name, label, colour in OUTCOMES]))
        ok, done = _per_day(rows, days, "success_count"), [sum(v) for v in zip(*(_per_day(rows, days, n) for n, _, _ in OUTCOMES))]
        rate = [100 * o / d if d else None for o, d in zip(ok, done)]
        out.append("<h4>Success rate (%)</h4>" + lines(labels, [("success rate", "#2e7d32", rate)], height=160, top=100))
        p50, p95 = _percentiles(rows, days)
        out.append("<h4>Duration (ms), all metric types</h4>" + legend([("p50", "#6a1b9a"), ("p95", "#ef6c00")]))
        out.append(lines(labels, [("p50", "#6a1b9a", p50), ("p95", "#ef6c00", p95)]) if any(v is not None for v in p95)
                   else no_data("no finished executions with a duration"))
        out.append(_latest(store, tenant, last))
    return "".join(out)


def _percentiles(rows: list, days: list[date]) -> tuple[list[float | None], list[float | None]]:
    """Per day, p50 and p95 over every metric type: their sketches merged, since percentiles do not add."""
    merged: dict[date, Any] = {}
    for s in rows:
        day = merged.get(s.period.start)
        if day is None:
            merged[s.period.start] = s.summary()
        else:
            day.durations.merge(s.summary().durations)
    p50, p95 = [], []
    for d in days:
        figures = merged[d].durations.quantiles((0.5, 0.95)) if d in merged else (None, None)
        p50.append(figures[0])
        p95.append(figures[1])
    return p50, p95


def _latest(store: Any, tenant: str, last: date) -> str:
    parts = []
    for kind in ("weekly", "monthly"):
        rows = list(store.query_summaries(tenant, kind, until=last, owner_id=TENANT_WIDE))
        if not rows:
            parts.append(f"<h4>Latest {kind}</h4>" + no_data(f"no closed {kind} period yet"))
            continue
        latest = max(r.period.start for r in rows)
        parts.append(f"<h4>Latest {kind}: {latest.isoformat()}</h4>" + table(
            ["metric type", "submitted", "succeeded", "failed", "cancelled", "timed out", "profiles", "p50 ms", "p95 ms"],
            [(r.metric_type, r.figures["submission_count"], r.figures["success_count"], r.figures["failure_count"],
              r.figures["cancelled_count"], r.figures["timeout_count"], r.figures["total_profiles"],
              r.figures["p50_duration_ms"], r.figures["p95_duration_ms"]) for r in rows if r.period.start == latest]))
    return "".join(parts)


# -- the page ---------------------------------------------------------------------
def render_page(first: date, last: date, tenant: str | None, runs_html: str, summaries_html: str) -> str:
    span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    scope = f" · tenant {esc(tenant)}" if tenant else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rollwise report {esc(span)}</title>'
            f"<style>{CSS}</style></head><body><h1>rollwise report</h1>"
            f'<p class="muted">{esc(span)}{scope} · generated {generated}</p>{runs_html}{summaries_html}</body></html>')


def build_report(store: Any, job: Any, first: date, last: date, tenant: str | None = None,
                 advance: Callable[[], None] = lambda: None) -> str:
    if first > last:
        raise ValueError(f"the range starts {first} after it ends {last}")
    runs = read_runs(job, first, last, advance)
    summaries = read_summaries(store, first, last, tenant, advance)
    return render_page(first, last, tenant, render_runs(runs), render_summaries(store, summaries, first, last))


def default_range(today: date | None = None) -> tuple[date, date]:
    yesterday = (today or datetime.now(timezone.utc).date()) - timedelta(days=1)
    return yesterday, yesterday
