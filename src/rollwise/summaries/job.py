"""The summaries job: decide which periods are due, then compute them shard by shard.

Planning is pure (a reference time and the invalidation markers in, a plan
out), so a retry with the same event does the same work, and the CLI, the
Lambda handler and a fan-out worker all share it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable

from rollwise.periods import (
    PERIOD_TYPES,
    Period,
    closed_periods_containing,
    days_between,
    period_containing,
    utc_day,
)
from rollwise.sketch import encode
from rollwise.summaries.aggregate import aggregate_day, merge_summaries
from rollwise.summaries.model import Summary, SummaryKey
from rollwise.summaries.store import Invalidation, StoredSummary, SummaryStore, identity

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What one run computes: each period with the shards it covers, in dependency order."""

    reference_day: date
    periods: dict[Period, frozenset[int]]
    markers: list[Invalidation] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [p.label() for p in self.periods]

    def for_shard(self, shard: int) -> list[Period]:
        return [p for p, shards in self.periods.items() if shard in shards]

    @property
    def shards(self) -> list[int]:
        return sorted({s for shards in self.periods.values() for s in shards})

    def to_json(self) -> dict:
        """A plain form, for a Step Functions state or another process."""
        return {
            "reference_day": self.reference_day.isoformat(),
            "periods": [[p.label(), sorted(shards)] for p, shards in self.periods.items()],
            "markers": [[m.day.isoformat(), m.shard, m.token] for m in self.markers],
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Plan":
        periods = {}
        for label, shards in doc["periods"]:
            kind, start = label.split(":")
            periods[Period(kind, date.fromisoformat(start))] = frozenset(shards)
        markers = [Invalidation(date.fromisoformat(d), s, t) for d, s, t in doc.get("markers", [])]
        return cls(date.fromisoformat(doc["reference_day"]), periods, markers)


def plan_run(
    reference: datetime,
    shards: int,
    invalidations: Iterable[Invalidation] = (),
    lateness_days: int = 0,
    backfill: tuple[date, date] | None = None,
) -> Plan:
    """The periods a run at ``reference`` must compute.

    A scheduled run covers the previous day, the last ``lateness_days`` days,
    and every closed day with an invalidation marker (only its shard). A
    backfill covers the closed days of its range instead. Either way every
    closed week, month and year containing one of those days is recomputed
    too, which yields the calendar: Mondays the past week, the 1st the past
    month, January 1st the past year.
    """
    today = utc_day(reference)
    every = frozenset(range(shards))
    day_shards: dict[date, set[int]] = {}
    consumed: list[Invalidation] = []
    if backfill is not None:
        start, end = backfill
        if start > end:
            raise ValueError(f"backfill start {start} is after its end {end}")
        for d in days_between(start, min(end, today - timedelta(days=1))):
            day_shards.setdefault(d, set()).update(every)
    else:
        for back in range(1, max(lateness_days, 1) + 1):
            day_shards.setdefault(today - timedelta(days=back), set()).update(every)
        for marker in invalidations:
            if marker.day < today and marker.shard < shards:
                day_shards.setdefault(marker.day, set()).add(marker.shard)
                consumed.append(marker)
    periods: dict[Period, set[int]] = {}
    for d, s in day_shards.items():
        periods.setdefault(period_containing("daily", d), set()).update(s)
    for p in closed_periods_containing(day_shards, today):
        if p.kind != "daily":
            periods.setdefault(p, set()).update(*(day_shards.get(d, ()) for d in p.days()))
    rank = {k: i for i, k in enumerate(PERIOD_TYPES)}
    ordered = sorted(periods, key=lambda p: (rank[p.kind], p.start))
    return Plan(today, {p: frozenset(periods[p]) for p in ordered}, consumed)


@dataclass
class RunResult:
    periods: list[str] = field(default_factory=list)
    metrics_processed: int = 0
    summaries_created: int = 0
    summaries_updated: int = 0
    summaries_unchanged: int = 0
    summaries_removed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def absorb(self, other: "RunResult") -> None:
        self.metrics_processed += other.metrics_processed
        self.summaries_created += other.summaries_created
        self.summaries_updated += other.summaries_updated
        self.summaries_unchanged += other.summaries_unchanged
        self.summaries_removed += other.summaries_removed
        self.errors.extend(other.errors)

    def body(self) -> dict:
        failed = len(self.errors)
        return {
            "message": f"aggregated {len(self.periods)} period(s)" + (f" with {failed} failure(s)" if failed else ""),
            "periods": self.periods,
            "metrics_processed": self.metrics_processed,
            "summaries_created": self.summaries_created,
            "summaries_updated": self.summaries_updated,
            "summaries_unchanged": self.summaries_unchanged,
            "summaries_removed": self.summaries_removed,
            "errors": self.errors,
        }


class SummariesFailed(RuntimeError):
    """Raised after a run that finished what it could, so Lambda counts an error."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(f"{len(result.errors)} summary group(s) failed: " + "; ".join(result.errors))
        self.result = result


def _inputs(store: SummaryStore, period: Period, shard: int) -> Iterable[Summary]:
    below = "monthly" if period.kind == "yearly" else "daily"
    part = period_containing(below, period.start)
    while part.start <= period.end:
        for stored in store.read_summaries(part, shard).values():
            yield stored.summary()
        part = period_containing(below, part.next_start)


def compute_period(store: SummaryStore, period: Period, shard: int) -> RunResult:
    """(Re)compute one period of one shard and write only what changed."""
    result = RunResult()
    if period.kind == "daily":
        fresh, result.metrics_processed = aggregate_day(store.read_records(period.start, shard), period.start)
    else:
        fresh = merge_summaries(_inputs(store, period, shard), period)
    existing = store.read_summaries(period, shard)
    puts: list[StoredSummary] = []
    for key, summary in fresh.items():
        sketch = encode(summary.durations.sketch)
        old = existing.get(key)
        if old is not None and old.identity() == identity(summary, sketch):
            result.summaries_unchanged += 1
            continue
        if old is None:
            result.summaries_created += 1
        else:
            result.summaries_updated += 1
        puts.append(StoredSummary.of(summary, sketch))
    deletes: list[SummaryKey] = [k for k in existing if k not in fresh]
    result.summaries_removed = len(deletes)
    if puts or deletes:
        store.write_summaries(period, shard, puts, deletes)
    return result


def run_shard(store: SummaryStore, plan: Plan, shard: int, on_period: Callable[[], None] | None = None) -> RunResult:
    """Every period of the plan in one shard; a failed period fails the longer ones above it."""
    result = RunResult()
    failed: list[Period] = []
    for period in plan.for_shard(shard):
        broken = [f for f in failed if f.start <= period.end and period.start <= f.end]
        try:
            if broken:
                raise RuntimeError(f"depends on failed {broken[0].label()}")
            part = compute_period(store, period, shard)
            result.absorb(part)
            log.info(
                "period aggregated",
                extra={"period": period.label(), "shard": shard, "records": part.metrics_processed,
                       "summaries_created": part.summaries_created, "summaries_updated": part.summaries_updated,
                       "summaries_unchanged": part.summaries_unchanged},
            )
        except Exception as exc:  # one group failing must not stop the others
            failed.append(period)
            result.errors.append(f"{period.label()} shard {shard}: {exc}")
            log.exception("period failed", extra={"period": period.label(), "shard": shard})
        if on_period:
            on_period()
    return result


def finish(store: SummaryStore, plan: Plan, parts: Iterable[tuple[int, RunResult]]) -> RunResult:
    """Combine shard results; clear the markers of the shards that reported success
    (a shard with no result, say a lost fan-out branch, keeps its markers)."""
    total = RunResult(periods=plan.describe())
    succeeded = set()
    for shard, part in parts:
        total.absorb(part)
        if not part.errors:
            succeeded.add(shard)
    done = [m for m in plan.markers if m.shard in succeeded]
    if done:
        store.clear_invalidations(done)
    return total


def run(store: SummaryStore, plan: Plan, on_period: Callable[[], None] | None = None, workers: int = 1) -> RunResult:
    """Run a plan shard by shard: in this process, or over ``workers`` processes.

    Shards are independent (a tenant lives in one), so the parallel run is the
    same plan, shard and finish steps as the Step Functions fan-out, and gives
    the same summaries as the single-process run.
    """
    if workers <= 1 or len(plan.shards) <= 1:
        return finish(store, plan, ((s, run_shard(store, plan, s, on_period)) for s in plan.shards))
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: not on a Lambda cold start

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [(s, pool.submit(_run_shard_elsewhere, store, plan.to_json(), s)) for s in plan.shards]
        parts = []
        for shard, future in futures:
            parts.append((shard, RunResult(**future.result())))
            if on_period:
                for _ in plan.for_shard(shard):
                    on_period()
    return finish(store, plan, parts)


def _run_shard_elsewhere(store: SummaryStore, plan: dict, shard: int) -> dict:
    return run_shard(store, Plan.from_json(plan), shard).to_json()


def scheduled_plan(store: SummaryStore, reference: datetime, lateness_days: int = 0) -> Plan:
    return plan_run(reference, store.shards, store.invalidations(), lateness_days)


def backfill_plan(store: SummaryStore, start: date, end: date, reference: datetime) -> Plan:
    return plan_run(reference, store.shards, backfill=(start, end))
