"""An offline HTML report of both jobs: one file, inline CSS and SVG, no script, no network.

:mod:`collect` reads the stores through the jobs' own read paths,
:mod:`charts` turns figures into SVG, :mod:`page` lays the sections out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from rollwise.health import read_health
from rollwise.report.collect import read_runs, read_summaries
from rollwise.report.page import render_health, render_page, render_runs, render_summaries
from rollwise.timestamps import utc_now


def build_report(
    store: Any, job: Any, first: date, last: date, tenant: str | None = None, advance: Callable[[], None] = lambda: None, now: datetime | None = None
) -> str:
    if first > last:
        raise ValueError(f"the range starts {first} after it ends {last}")
    health = read_health(store, job, now or utc_now())
    runs = read_runs(job, first, last, advance)
    summaries = read_summaries(store, first, last, tenant, advance)
    days = (last - first).days + 1  # the previous period of the same length, for the headline figures' change
    before = read_summaries(store, first - timedelta(days=days), first - timedelta(days=1), tenant)
    return render_page(
        first, last, tenant, render_runs(runs), render_summaries(store, summaries, first, last, before), render_health(health, runs, summaries, last)
    )


def default_range(today: date | None = None) -> tuple[date, date]:
    yesterday = (today or utc_now().date()) - timedelta(days=1)
    return yesterday, yesterday
