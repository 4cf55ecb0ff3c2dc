"""What needs a person's eye, whatever the range: the work the jobs have not done yet. Read by the report and by
the API's health route, through the jobs' own read paths."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rollwise import objects
from rollwise.runs.plan import plan_windows
from rollwise.windows import stamp_in_name


@dataclass
class Health:
    """What needs a person's eye, whatever the range: work the jobs have not done yet."""

    checked_at: datetime
    raw_files: int = 0
    oldest_raw: datetime | None = None
    waiting_windows: list[tuple[Any, int]] = field(default_factory=list)  # closed windows with files still under raw/, and how many
    quarantined: int = 0
    open_days: list[tuple[date, int]] = field(default_factory=list)  # days with invalidation markers, and in how many shards


def read_health(store: Any, job: Any, now: datetime) -> Health:
    """The raw backlog and the closed windows it holds, the quarantine, and the days waiting for the summaries job."""
    health = Health(now)
    inputs = [m for m in objects.list_objects(job.store, job.layout.raw) if job.layout.is_input(m.key)]
    health.raw_files = len(inputs)
    health.oldest_raw = min((stamp_in_name(m.key) or m.last_modified for m in inputs), default=None)
    for planned in plan_windows(inputs, job.layout, now, job.settings.window, job.settings.grace, ordered=False):
        health.waiting_windows.append((planned.window, len(planned.files)))
    health.quarantined = sum(1 for m in objects.list_objects(job.store, job.layout.quarantine) if job.layout.is_note(m.key))
    health.open_days = sorted(Counter(m.day for m in store.invalidations()).items())
    return health
