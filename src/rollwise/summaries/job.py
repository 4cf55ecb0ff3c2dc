"""The summaries job: compute a plan's periods shard by shard, writing only what changed.

Shards are independent (a tenant lives in one), so a plan runs in this
process, over worker processes, or as Step Functions branches: the same
:func:`run_shard` and :func:`finish` steps, the same summaries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from time import monotonic
from typing import Any

from rollwise.errors import OutOfRetryTime, StoreError
from rollwise.periods import Period, day_key
from rollwise.sketch import encode
from rollwise.summaries.aggregate import aggregate_day, merge_summaries
from rollwise.summaries.leases import GroupBusy
from rollwise.summaries.model import Summary, SummaryKey
from rollwise.summaries.plan import Plan, plan_run
from rollwise.summaries.settings import SummariesSettings
from rollwise.summaries.store import SummaryStore
from rollwise.summaries.stored_items import StoredSummary, identity

log = logging.getLogger(__name__)
DEFAULT_DELAY_HOURS: int = SummariesSettings.delay_hours


@dataclass
class RunResult:
    job = "summaries"

    periods: list[str] = field(default_factory=list)
    metrics_processed: int = 0
    summaries_created: int = 0
    summaries_updated: int = 0
    summaries_unchanged: int = 0
    summaries_removed: int = 0
    errors: list[str] = field(default_factory=list)
    # Periods left to the next run: their shard was being computed by another run (or this one lost
    # its lease), markers kept; or the run ran out of time before starting them, markers written.
    deferred: list[str] = field(default_factory=list)
    # Days below the retention floor that received data (a writer sending very old records): their
    # summaries are kept as they are, since their other records may be gone; the markers are cleared.
    expired_days: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict) -> RunResult:
        return cls(**doc)

    def absorb(self, other: RunResult) -> None:
        self.metrics_processed += other.metrics_processed
        self.summaries_created += other.summaries_created
        self.summaries_updated += other.summaries_updated
        self.summaries_unchanged += other.summaries_unchanged
        self.summaries_removed += other.summaries_removed
        self.errors.extend(other.errors)
        self.deferred.extend(other.deferred)
        self.expired_days.extend(other.expired_days)

    # -- the result protocol ------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        failed, left = len(self.errors), len(self.deferred)
        return {
            "message": f"aggregated {len(self.periods)} period(s)"
            + (f" with {failed} failure(s)" if failed else "")
            + (f"; {left} period shard(s) left to the next run" if left else ""),
            "periods": self.periods,
            "metrics_processed": self.metrics_processed,
            "summaries_created": self.summaries_created,
            "summaries_updated": self.summaries_updated,
            "summaries_unchanged": self.summaries_unchanged,
            "summaries_removed": self.summaries_removed,
            "errors": self.errors,
            "deferred": self.deferred,
            "expired_days": self.expired_days,
        }

    def failures(self) -> list[str]:
        return list(self.errors)

    def metrics(self) -> dict[str, float]:
        return {
            "RecordsAggregated": self.metrics_processed,
            "SummariesWritten": self.summaries_created + self.summaries_updated,
            "SummaryFailures": len(self.errors),
            "SummariesDeferred": len(self.deferred),
            "ExpiredDays": len(self.expired_days),
        }


def _inputs(store: SummaryStore, period: Period, shard: int) -> Iterable[Summary]:
    for stored in store.summaries_within("monthly" if period.kind == "yearly" else "daily", period, shard):
        yield stored.summary()


def compute_period(store: SummaryStore, period: Period, shard: int, still_held: Callable[[], None] = lambda: None) -> RunResult:
    """(Re)compute one period of one shard and write only what changed; ``still_held`` is called
    right before writing (the shard's :class:`~rollwise.summaries.store.Hold`)."""
    result = RunResult()
    if period.kind == "daily":
        fresh, result.metrics_processed = aggregate_day(store.read_records(period.start, shard, period.zone), period)
    else:
        fresh = merge_summaries(_inputs(store, period, shard), period)
    existing = store.read_summaries(period, shard)
    puts: list[StoredSummary] = []
    current: list[StoredSummary] = []
    for key, summary in fresh.items():
        sketch = encode(summary.durations.sketch)
        old = existing.get(key)
        if old is not None and old.identity() == identity(summary, sketch):
            result.summaries_unchanged += 1
            current.append(old)
            continue
        if old is None:
            result.summaries_created += 1
        else:
            result.summaries_updated += 1
        puts.append(StoredSummary.of(summary, sketch))
        current.append(puts[-1])
    deletes: list[SummaryKey] = [k for k in existing if k not in fresh]
    result.summaries_removed = len(deletes)
    if store.sdk_table is not None:
        still_held()
        store.mirror_summaries(period, current, deletes)  # all of them: a table set later catches up as periods are computed
    if puts or deletes:
        still_held()
        store.write_summaries(period, shard, puts, deletes)
    return result


OUT_OF_TIME = "out of time before it started; marked for the next run"


class DependencyFailed(RuntimeError):
    """A longer period not computed because a period inside it failed; names that failure's root cause."""

    def __init__(self, period: Period, why: str) -> None:
        super().__init__(f"depends on {period.label()}, which failed: {why}")
        self.why = why


def run_shard(store: SummaryStore, plan: Plan, shard: int, on_period: Callable[[], None] | None = None, deadline: float | None = None) -> RunResult:
    """Every period of the plan in one shard, under the shard's lease; a failed period fails the
    longer ones above it, and a shard another run holds is left whole to the next run. Past
    ``deadline`` (a ``time.monotonic()`` value) no period is started, and once the store's retry
    time is spent (a throttled table) none is finished: the rest are marked for the next run."""
    result = RunResult()
    periods = plan.for_shard(shard)
    finished: list[Period] = []
    reason = OUT_OF_TIME
    if not _out_of_time(deadline):
        try:
            with store.holding(shard) as hold:
                _periods(store, periods, shard, hold, result, finished, on_period, deadline)
        except GroupBusy as busy:
            _defer(periods[len(finished) :], shard, str(busy), result, on_period)
            log.warning("shard left to the next run", extra={"shard": shard, "reason": str(busy)})
            return result
        except OutOfRetryTime as spent:
            reason = f"the table throttled it until the run's retry time was spent ({spent}); marked for the next run"
        except StoreError as exc:  # the lease itself could not be taken: the shard's periods fail, its markers stay
            for period in periods[len(finished) :]:
                result.errors.append(f"{period.label()} shard {shard}: {exc}")
                if on_period:
                    on_period()
            log.error("shard failed", extra={"shard": shard, "error": str(exc)})
            return result
    left = periods[len(finished) :]
    if left:
        try:
            store.leave_for_next_run(left, shard)
        except Exception as exc:  # noqa: BLE001 - said in the result; the shard's plan markers are kept
            result.errors.append(
                f"shard {shard}: {len(left)} period(s) left to the next run could not be marked for it (run again, or backfill them): {exc}"
            )
        _defer(left, shard, reason, result, on_period)
        log.warning("periods left to the next run", extra={"shard": shard, "periods": [p.label() for p in left], "reason": reason})
    return result


def _out_of_time(deadline: float | None) -> bool:
    return deadline is not None and monotonic() > deadline


def _defer(periods: list[Period], shard: int, reason: str, result: RunResult, on_period: Callable[[], None] | None) -> None:
    for period in periods:
        result.deferred.append(f"{period.label()} shard {shard}: {reason}")
        if on_period:
            on_period()


def _periods(
    store: SummaryStore,
    periods: list[Period],
    shard: int,
    hold,
    result: RunResult,
    finished: list[Period],
    on_period: Callable[[], None] | None,
    deadline: float | None = None,
) -> None:
    """The shard's periods in order, until ``deadline``; each one done or failed is appended to ``finished``.
    :class:`OutOfRetryTime` stops the shard: the period under way and the rest are left to the next run."""
    failed: dict[Period, str] = {}  # each failed period, and the root cause of its failure
    for period in periods:
        if _out_of_time(deadline):
            return
        broken = [(f, why) for f, why in failed.items() if f.zone == period.zone and f.start <= period.end and period.start <= f.end]
        try:
            if broken:
                raise DependencyFailed(*broken[0])
            part = compute_period(store, period, shard, hold.check)
            result.absorb(part)
            log.info(
                "period aggregated",
                extra={
                    "period": period.label(),
                    "shard": shard,
                    "records": part.metrics_processed,
                    "summaries_created": part.summaries_created,
                    "summaries_updated": part.summaries_updated,
                    "summaries_unchanged": part.summaries_unchanged,
                },
            )
        except (GroupBusy, OutOfRetryTime):
            raise  # the hold is gone, or the table will not take more now: nothing more is written in this shard
        except Exception as exc:  # noqa: BLE001 - one group failing must not stop the others
            failed[period] = exc.why if isinstance(exc, DependencyFailed) else str(exc)
            result.errors.append(f"{period.label()} shard {shard}: {exc}")
            log.exception("period failed", extra={"period": period.label(), "shard": shard})
        finished.append(period)
        if on_period:
            on_period()


def finish(store: SummaryStore, plan: Plan, parts: Iterable[tuple[int, RunResult]]) -> RunResult:
    """Combine shard results; clear the markers of the shards that finished every period
    (a shard with no result, say a lost fan-out branch, or with a deferred period, keeps its markers)."""
    total = RunResult(periods=plan.describe())
    succeeded = set()
    for shard, part in parts:
        total.absorb(part)
        if not part.errors and not part.deferred:
            succeeded.add(shard)
    done = [m for m in plan.markers if m.shard in succeeded] + plan.expired
    total.expired_days = sorted({day_key(m.day, m.zone) for m in plan.expired})
    if total.expired_days:
        log.warning(
            "data arrived for days below the retention floor: their summaries are kept as they are", extra={"expired_days": total.expired_days}
        )
    try:
        with store.closing():
            if done:
                store.clear_invalidations(done)
            # Each zone's days are taken: a period that failed is reported (and its shard's markers kept),
            # one left to the next run is marked for it, so the schedule moves on either way.
            store.mark_done(plan.done)
    except StoreError as exc:  # the markers stay: the next run recomputes their days, and writes nothing new
        log.warning("markers not cleared: the next run recomputes their days", extra={"markers": len(done), "error": str(exc)})
    return total


def run(store: SummaryStore, plan: Plan, on_period: Callable[[], None] | None = None, workers: int = 1, deadline: float | None = None) -> RunResult:
    """Run a plan shard by shard: in this process, or over ``workers`` processes (the
    local form of the Step Functions fan-out, with the same results). ``deadline``: see :func:`run_shard`."""
    if workers <= 1 or len(plan.shards) <= 1:
        return finish(store, plan, ((s, run_shard(store, plan, s, on_period, deadline)) for s in plan.shards))
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: not on a Lambda cold start

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [(s, pool.submit(_run_shard_elsewhere, store, plan.to_json(), s)) for s in plan.shards]
        parts = []
        for shard, future in futures:
            parts.append((shard, RunResult.from_json(future.result())))
            if on_period:
                for _ in plan.for_shard(shard):
                    on_period()
    return finish(store, plan, parts)


def _run_shard_elsewhere(store: SummaryStore, plan: dict, shard: int) -> dict:
    return run_shard(store, Plan.from_json(plan), shard).to_json()


def scheduled_plan(store: SummaryStore, reference: datetime, lateness_days: int = 0, delay_hours: int = DEFAULT_DELAY_HOURS) -> Plan:
    """The plan of the hourly run at ``reference``: two reads (the settings with the zones, the markers)."""
    schedule = store.schedule()
    store.expire_records(reference)
    return plan_run(
        reference,
        store.settle_shards(),
        store.invalidations(),
        lateness_days,
        schedule=schedule,
        delay_hours=delay_hours,
        retention_days=store.retention_days,
    )


def backfill_plan(store: SummaryStore, start: date, end: date, reference: datetime, delay_hours: int = DEFAULT_DELAY_HOURS) -> Plan:
    """Every closed period overlapping ``start..end`` in every zone (:class:`~rollwise.summaries.plan.BelowRetentionFloor`
    when the range reaches days whose records may have expired)."""
    return plan_run(
        reference,
        store.settle_shards(),
        backfill=(start, end),
        schedule=dict.fromkeys(store.zones()),
        delay_hours=delay_hours,
        retention_days=store.retention_days,
    )
