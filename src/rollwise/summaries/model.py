"""Execution records (the input) and period summaries (the output).

Records are validated once, when they are written; the stored form is a plain
dict with UTC timestamps in one fixed ISO layout, so the nightly read path can
aggregate without parsing dates again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rollwise import validate
from rollwise.periods import UTC_ZONE, Period, local_day
from rollwise.sketch import Distribution, plain
from rollwise.timestamps import parse_timestamp, utc_text

TENANT_WIDE = "__tenant__"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "timed_out")
TERMINAL = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count", "timed_out": "timeout_count"}
ID_FIELDS = ("tenant_id", "owner_id", "metric_type", "execution_id")

COUNTERS = (
    "submission_count",
    "success_count",
    "failure_count",
    "cancelled_count",
    "timeout_count",
    "total_profiles",
    "throttled_count",
    "rejected_count",
    "duration_count",
    "total_duration_ms",
)
EVENT_COUNTERS = COUNTERS[:8]  # the ones records add to; the duration figures live in a Distribution
DURATION_FIELDS = (
    "min_duration_ms",
    "max_duration_ms",
    "avg_duration_ms",
    "p50_duration_ms",
    "p90_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
)
QUANTILES = (("p50_duration_ms", 0.50), ("p90_duration_ms", 0.90), ("p95_duration_ms", 0.95), ("p99_duration_ms", 0.99))


class RecordError(ValueError):
    """An execution record that cannot be stored, with the reason."""


def normalize_record(raw: Any) -> dict[str, Any]:
    """Validate one execution record and return its stored form.

    Raises :class:`RecordError` naming the field and the problem.
    """
    if not isinstance(raw, Mapping):
        raise RecordError(f"expected a JSON object, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    for name in ID_FIELDS:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RecordError(f"{name} is required and must be a non-empty string")
        out[name] = validate.identifier(value, name, RecordError, in_keys=True)
    if out["owner_id"] == TENANT_WIDE:
        raise RecordError(f"owner_id {TENANT_WIDE!r} is reserved for tenant-wide summaries")
    status = raw.get("status")
    if status not in STATUSES:
        raise RecordError(f"status must be one of {', '.join(STATUSES)}, got {status!r}"[:200])
    out["status"] = status
    submitted = validate.timestamp(raw, "submitted_at", RecordError, required=True)
    started = validate.timestamp(raw, "started_at", RecordError)
    completed = validate.timestamp(raw, "completed_at", RecordError, required=status in TERMINAL)
    if completed is not None and status not in TERMINAL:
        raise RecordError(f"completed_at is set but status {status!r} is not finished")
    if completed is not None and completed < submitted:
        raise RecordError("completed_at is before submitted_at")
    duration = validate.duration_ms(raw, "duration_ms", RecordError)
    if duration is None and started is not None and completed is not None:
        if completed < started:
            raise RecordError("completed_at is before started_at")
        duration = (completed - started).total_seconds() * 1000.0
        if duration > validate.MAX_DURATION_MS:
            raise RecordError(f"the execution lasted over {validate.MAX_DURATION_MS:,} ms (started_at to completed_at)")
    if duration is not None and completed is None:
        duration = None  # a duration only counts with an outcome
    out["submitted_at"] = utc_text(submitted)
    out["started_at"] = utc_text(started) if started else None
    out["completed_at"] = utc_text(completed) if completed else None
    out["duration_ms"] = plain(float(duration)) if duration is not None else None
    out["profiles"] = validate.count(raw, "profiles", RecordError)
    out["throttled"] = validate.count(raw, "throttled", RecordError)
    out["rejected"] = bool(validate.flag(raw, "rejected", RecordError))
    return out


def record_days(record: Mapping[str, Any], zone: str = UTC_ZONE) -> set[str]:
    """The local days (ISO) of ``zone`` in which a stored record has an event to count."""
    if zone == UTC_ZONE:  # stored timestamps are UTC text: the day is its first ten characters
        days = {record["submitted_at"][:10]}
        if record["completed_at"]:
            days.add(record["completed_at"][:10])
        return days
    days = {local_day(parse_timestamp(record["submitted_at"]), zone).isoformat()}
    if record["completed_at"]:
        days.add(local_day(parse_timestamp(record["completed_at"]), zone).isoformat())
    return days


SummaryKey = tuple[str, str, str]  # (tenant_id, owner_id, metric_type)


@dataclass(frozen=True)
class Invalidation:
    """A closed day of one shard that received data after it was aggregated; ``token``
    changes with every write, so a marker rewritten after a run read it survives that run."""

    day: date
    shard: int
    token: str
    zone: str = UTC_ZONE  # ``day`` is a local date of this zone


@dataclass
class Summary:
    """The figures of one (tenant, owner, metric type) in one period."""

    tenant_id: str
    owner_id: str
    metric_type: str
    period: Period
    submission_count: int = 0
    success_count: int = 0
    failure_count: int = 0
    cancelled_count: int = 0
    timeout_count: int = 0
    total_profiles: int = 0
    throttled_count: int = 0
    rejected_count: int = 0
    durations: Distribution = field(default_factory=Distribution, repr=False, compare=False)

    @property
    def key(self) -> SummaryKey:
        return (self.tenant_id, self.owner_id, self.metric_type)

    # The stored names of the duration figures.
    duration_count = property(lambda self: self.durations.count)
    total_duration_ms = property(lambda self: self.durations.total)
    min_duration_ms = property(lambda self: self.durations.lowest)
    max_duration_ms = property(lambda self: self.durations.highest)

    def merge(self, other: Summary) -> None:
        for name in EVENT_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.durations.merge(other.durations)

    def figures(self) -> dict[str, Any]:
        """Every figure of the summary, derived ones included, as plain numbers."""
        out: dict[str, Any] = {name: plain(getattr(self, name)) for name in COUNTERS}
        out["min_duration_ms"] = plain(self.min_duration_ms)
        out["max_duration_ms"] = plain(self.max_duration_ms)
        # From the rounded total, as stored: re-reading a summary must give the same figures.
        out["avg_duration_ms"] = round(out["total_duration_ms"] / self.duration_count, 3) if self.duration_count else None
        values = self.durations.quantiles([q for _, q in QUANTILES])
        out.update(zip((name for name, _ in QUANTILES), values, strict=True))
        return out

    def to_dict(self) -> dict[str, Any]:
        return summary_row(self.tenant_id, self.owner_id, self.metric_type, self.period, self.figures())


def summary_row(tenant_id: str, owner_id: str, metric_type: str, period: Period, figures: Mapping[str, Any]) -> dict[str, Any]:
    """A summary as the read side shows it (``show --json``): its key, its period, its figures."""
    return {
        "tenant_id": tenant_id,
        "owner_id": owner_id,
        "metric_type": metric_type,
        "period_type": period.kind,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "zone": period.zone,
        "starts_at": utc_text(period.starts_at),
        "ends_at": utc_text(period.ends_at),
        **{name: figures[name] for name in COUNTERS + DURATION_FIELDS},
    }
