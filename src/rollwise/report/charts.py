"""Pure SVG charts and HTML fragments: figures in, markup out, nothing read or written."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


class Markup(str):
    """Already-escaped markup for a table cell."""


LEFT, BOTTOM = 48, 28  # room for the value axis's labels, and for the time or category labels


def nice_scale(high: float, steps: int = 4) -> tuple[float, float]:
    """A round top and step for a value axis from 0: the step is 1, 2, 2.5 or 5 times a power of
    ten, the smallest that reaches ``high`` in at most ``steps`` steps."""
    if high <= 0:
        return 1.0, 0.25
    magnitude = 10 ** math.floor(math.log10(high / steps))
    for factor in (1, 2, 2.5, 5, 10, 20):
        step = factor * magnitude
        if step * steps >= high * (1 - 1e-12):
            return step * math.ceil(high / step * (1 - 1e-12)), step
    raise AssertionError("unreachable: 20 x magnitude x steps exceeds high")


def _number(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if v >= 10_000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def _svg(width: int, height: int, top: float, step: float, body: str, x_axis: str, left: int = LEFT) -> str:
    plot_h = height - BOTTOM - 10
    ticks = []
    for i in range(round(top / step) + 1):
        y = 10 + plot_h - plot_h * step * i / top
        ticks.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(step * i)}</text>'
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(ticks)}{body}{x_axis}</svg>'


def _categories(width: int, height: int, labels: Sequence[str]) -> str:
    every = max(1, len(labels) // 10)
    slot = (width - LEFT) / max(1, len(labels))
    return "".join(
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{height - 8}" text-anchor="middle">{esc(lab)}</text>'
        for i, lab in enumerate(labels)
        if i % every == 0
    )


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], width: int = 900, height: int = 220) -> str:
    """Bars per label, stacked by series (name, colour, values)."""
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    top, step = nice_scale(max(totals, default=0))
    plot_h = height - BOTTOM - 10
    slot = (width - LEFT) / max(1, len(labels))
    bars = []
    for i in range(len(labels)):
        y: float = 10 + plot_h
        for name, colour, values in series:
            h = plot_h * values[i] / top
            if h > 0:
                y -= h
                bars.append(
                    f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{esc(labels[i])} {esc(name)}: {values[i]:g}</title></rect>"
                )
    return _svg(width, height, top, step, "".join(bars), _categories(width, height, labels))


def _polylines(name: str, colour: str, points: Sequence[tuple[float, float] | None]) -> list[str]:
    """One polyline per run of points; a lone point is a dot; None breaks the line."""
    out, segment = [], []
    for p in list(points) + [None]:
        if p is not None:
            segment.append(f"{p[0]:.1f},{p[1]:.1f}")
            continue
        if len(segment) > 1:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}"><title>{esc(name)}</title></polyline>')
        elif segment:
            x, y = segment[0].split(",")
            out.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"><title>{esc(name)}</title></circle>')
        segment = []
    return out


def lines(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]], width: int = 900, height: int = 200, top: float | None = None
) -> str:
    """One polyline per series over the labels; gaps where a value is None. ``top`` fixes the scale (100 for a rate)."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top, step = (top, top / 4) if top else nice_scale(max(values, default=0))
    plot_h = height - BOTTOM - 10
    slot = (width - LEFT) / max(1, len(labels))
    paths = []
    for name, colour, vs in series:
        paths += _polylines(
            name, colour, [None if v is None else (LEFT + slot * (i + 0.5), 10 + plot_h - plot_h * v / top) for i, v in enumerate(vs)]
        )
    return _svg(width, height, top, step, "".join(paths), _categories(width, height, labels))


# -- time axes: positions true to time, gaps visible -------------------------------------------
TIME_STEPS = [timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360, 720)] + [timedelta(days=d) for d in (1, 2, 7, 14, 28)]


def time_ticks(start: datetime, end: datetime, most: int = 10) -> tuple[list[datetime], str]:
    """Round moments between ``start`` and ``end`` (at most ``most``) and the strftime format of
    their labels: the time alone within one day, with the date when the axis spans days."""
    span = end - start
    step = next((s for s in TIME_STEPS if span / s <= most), TIME_STEPS[-1])
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + step * math.ceil((start - midnight) / step)
    ticks = []
    t = first
    while t <= end:
        ticks.append(t)
        t += step
    one_day = start.date() == (end - timedelta(microseconds=1)).date()
    return ticks, "%H:%M" if one_day else ("%m-%d" if step >= timedelta(days=1) else "%m-%d %H:%M")


def _time_axis(width: int, height: int, start: datetime, end: datetime) -> tuple[Any, str]:
    plot_w = width - LEFT - 24  # room for the last tick's label
    span = (end - start).total_seconds() or 1

    def x(t: datetime) -> float:
        return LEFT + plot_w * (t - start).total_seconds() / span

    ticks, fmt = time_ticks(start, end)
    labels = "".join(
        f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{height - BOTTOM}" y2="{height - BOTTOM + 4}" stroke="#999"/>'
        f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle">{t.strftime(fmt)}</text>'
        for t in ticks
    )
    return x, labels


def time_bars(
    start: datetime, end: datetime, bucket: timedelta, series: Sequence[tuple[str, str, dict[datetime, float]]], width: int = 900, height: int = 220
) -> str:
    """Bars at their buckets' true places between ``start`` and ``end``, stacked by series (name,
    colour, bucket start -> value): a bucket with nothing is an empty stretch, not a missing slot."""
    x, axis = _time_axis(width, height, start, end)
    moments = sorted({t for _, _, values in series for t in values})
    top, step = nice_scale(max((sum(v.get(t, 0) for _, _, v in series) for t in moments), default=0))
    plot_h = height - BOTTOM - 10
    bars = []
    for t in moments:
        y: float = 10 + plot_h
        left, right = x(t), x(t + bucket)
        for name, colour, values in series:
            h = plot_h * values.get(t, 0) / top
            if h > 0:
                y -= h
                bars.append(
                    f'<rect x="{left + (right - left) * 0.1:.1f}" y="{y:.1f}" width="{max((right - left) * 0.8, 1):.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{t:%Y-%m-%d %H:%M} {esc(name)}: {values[t]:g}</title></rect>'
                )
    return _svg(width, height, top, step, "".join(bars), axis)


def time_lines(
    start: datetime,
    end: datetime,
    bucket: timedelta,
    series: Sequence[tuple[str, str, dict[datetime, float | None]]],
    width: int = 900,
    height: int = 200,
) -> str:
    """One line per series through its buckets' middles; a bucket without a value breaks the line."""
    x, axis = _time_axis(width, height, start, end)
    values = [v for _, _, vs in series for v in vs.values() if v is not None]
    top, step = nice_scale(max(values, default=0))
    plot_h = height - BOTTOM - 10
    paths = []
    for name, colour, vs in series:
        points: list[tuple[float, float] | None] = []
        previous = None
        for t in sorted(vs):
            if previous is not None and t - previous > bucket:
                points.append(None)  # buckets without a value between: a gap
            v = vs[t]
            points.append(None if v is None else (x(t + bucket / 2), 10 + plot_h - plot_h * v / top))
            previous = t
        paths += _polylines(name, colour, points)
    return _svg(width, height, top, step, "".join(paths), axis)


def legend(items: Iterable[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>' for n, c in items) + "</div>"


def no_data(what: str) -> str:
    return f'<p class="nodata">No data: {esc(what)}.</p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if isinstance(cell, Markup) else esc('–' if cell is None else cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
