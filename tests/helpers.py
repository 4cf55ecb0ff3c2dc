"""Helpers shared by the summaries tests."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from rollwise.periods import PERIOD_TYPES
from rollwise.samples import sample_executions
from rollwise.summaries.job import run, scheduled_plan
from rollwise.summaries.recorder import Recorder


class RequestLog:
    """Every DynamoDB operation a client sends, and the items its answers carried."""

    def __init__(self, client) -> None:
        self.operations: Counter = Counter()
        self.items_read = 0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, model, **_):
        self.operations[model.name] += 1

    def _after(self, http_response, parsed, model, **_):
        if model.name in ("Query", "Scan"):
            self.items_read += parsed.get("Count", 0)

    def reset(self) -> None:
        self.operations.clear()
        self.items_read = 0


def nightly(day: date) -> datetime:
    """02:00 UTC the day after ``day``: when the scheduled run covers ``day``."""
    return datetime.combine(day + timedelta(days=1), time(2), tzinfo=timezone.utc)


def live_days(store, first: date, days: int, per_day: int, tenants: int = 3, seed: int = 1):
    """Write each day's executions as they happen, then run the nightly job: the production rhythm."""
    results = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        with Recorder(store, batch_size=50, now=nightly(day) - timedelta(hours=2)) as rec:
            for raw in sample_executions(day, 1, per_day, tenants=tenants, owners=3, seed=seed * 1000 + offset):
                rec.record(raw)
        results.append(run(store, scheduled_plan(store, nightly(day))))
    return results


def dump(store, tenants=("tenant-000", "tenant-001", "tenant-002")) -> list[dict]:
    """Every summary of the given tenants, in a stable order."""
    return [s.to_dict() for t in tenants for kind in PERIOD_TYPES for s in store.query_summaries(t, kind)]
