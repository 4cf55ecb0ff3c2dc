"""Pure SVG charts and HTML fragments: figures in, markup out, nothing read or written."""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


class Markup(str):
    """Already-escaped markup for a table cell."""


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
    body = "".join("<tr>" + "".join(f"<td>{cell if isinstance(cell, Markup) else esc('–' if cell is None else cell)}</td>" for cell in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
