"""Helpers shared by the summaries tests."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from rollwise.periods import PERIOD_TYPES
from rollwise.samples import sample_executions
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import run, scheduled_plan


class RequestLog:
    """Every DynamoDB operation a client sends, the summary items it writes, and the items its answers carried."""

    def __init__(self, client) -> None:
        self.operations: Counter = Counter()
        self.items_read = 0
        self.summary_items_written = 0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)
        client.meta.events.register("before-parameter-build.dynamodb.*", self._params)

    def _params(self, params, model, **_):
        items = [params.get("Item") or params.get("Key") or {}]
        for requests in (params.get("RequestItems") or {}).values():
            for r in requests:
                items.append(r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") or {})
        self.summary_items_written += sum(1 for i in items if model.name != "Query" and i.get("PK", {}).get("S", "").startswith("SUM#"))

    def _before(self, model, **_):
        self.operations[model.name] += 1

    def _after(self, http_response, parsed, model, **_):
        if model.name in ("Query", "Scan"):
            self.items_read += parsed.get("Count", 0)

    def reset(self) -> None:
        self.operations.clear()
        self.items_read = 0
        self.summary_items_written = 0


class WriteLog:
    """What a summaries store was asked to do: DynamoDB operations, or SQLite statements (the memory backend
    makes no requests to count: only its ``requests``, None, can be read)."""

    def __init__(self, store) -> None:
        self.store = store
        self.statements: list[str] = []
        self.requests = RequestLog(store.client) if hasattr(store, "client") else None
        self.counted = hasattr(store, "client") or hasattr(store, "_db")
        if hasattr(store, "_db"):
            store._db.set_trace_callback(self.statements.append)

    def reset(self) -> None:
        self.statements.clear()
        if self.requests:
            self.requests.reset()

    def summary_writes(self) -> int:
        """Writes of summary items (a lease or a marker is not one)."""
        assert self.counted, f"{self.store.describe()} makes no requests to count"
        if self.requests:
            return self.requests.summary_items_written
        return sum(
            1 for sql in self.statements if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")) and " summaries " in f" {sql} "
        )

    def scans(self) -> int:
        if self.requests:
            return self.requests.operations["Scan"]
        return 0  # SQLite reads by index; a full read would show as a SELECT without WHERE

    def reads(self) -> int:
        assert self.counted, f"{self.store.describe()} makes no requests to count"
        if self.requests:
            return self.requests.operations["Query"]
        return sum(1 for sql in self.statements if sql.lstrip().upper().startswith("SELECT"))


def nightly(day: date) -> datetime:
    """02:00 UTC the day after ``day``: when the scheduled run covers ``day``."""
    return datetime.combine(day + timedelta(days=1), time(2), tzinfo=UTC)


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


# -- the truth, from the records alone ------------------------------------------------------------------
TRUE_FIGURES = (
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
    "min_duration_ms",
    "max_duration_ms",
)
OUTCOME_OF = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count", "timed_out": "timeout_count"}


def _latest(raw_records) -> list[dict]:
    """Each execution once, as its last version (same tenant and execution)."""
    from rollwise.summaries.model import normalize_record

    latest = {}
    for raw in raw_records:
        r = normalize_record(raw)
        latest[(r["tenant_id"], r["execution_id"])] = r
    return list(latest.values())


def _truth(records, key_of) -> dict[tuple, dict]:
    """Figures per key: ``key_of(record, owner, moment)`` gives the key of the period an event at ``moment`` counts in,
    or None for one not counted (its period not closed). Owner rows and tenant-wide ones, without rollwise's aggregation."""
    out: dict[tuple, dict] = {}

    def add(r, moment: str, owner: str):
        key = key_of(r, owner, moment)
        if key is None:
            return None
        return out.setdefault(key, {f: 0 for f in TRUE_FIGURES} | {"min_duration_ms": None, "max_duration_ms": None})

    for r in records:
        for owner in (r["owner_id"], "__tenant__"):
            c = add(r, r["submitted_at"], owner)
            if c is not None:
                c["submission_count"] += 1
                c["throttled_count"] += r["throttled"]
                c["rejected_count"] += int(r["rejected"])
            if r["completed_at"] and r["status"] in OUTCOME_OF:
                c = add(r, r["completed_at"], owner)
                if c is not None:
                    c[OUTCOME_OF[r["status"]]] += 1
                    c["total_profiles"] += r["profiles"]
                    if r["duration_ms"] is not None:
                        d = r["duration_ms"]
                        c["duration_count"] += 1
                        c["total_duration_ms"] += d
                        c["min_duration_ms"] = d if c["min_duration_ms"] is None else min(c["min_duration_ms"], d)
                        c["max_duration_ms"] = d if c["max_duration_ms"] is None else max(c["max_duration_ms"], d)
    for c in out.values():
        c["total_duration_ms"] = round(c["total_duration_ms"], 3)
    return {k: v for k, v in out.items() if v["submission_count"] or any(v[f] for f in OUTCOME_OF.values())}


def true_summaries(raw_records, period_type: str, today: date) -> dict[tuple, dict]:
    """Expected figures per (tenant, owner, metric type, period start) of every ``period_type`` period closed
    before ``today``: a submission counts on the UTC day of ``submitted_at``, an outcome on that of ``completed_at``."""
    from rollwise.periods import period_containing

    def key_of(r, owner: str, moment: str):
        period = period_containing(period_type, date.fromisoformat(moment[:10]))
        return None if period.end >= today else (r["tenant_id"], owner, r["metric_type"], period.start.isoformat())

    return _truth(_latest(raw_records), key_of)


def stored_summaries(store, tenants, period_type: str) -> dict[tuple, dict]:
    """What a store holds, in the shape of :func:`true_summaries`."""
    return {
        (s.tenant_id, s.owner_id, s.metric_type, s.period.start.isoformat()): {f: s.figures[f] for f in TRUE_FIGURES}
        for t in tenants
        for s in store.query_summaries(t, period_type)
    }


def assert_summaries_are_true(store, raw_records, today: date, kinds=("daily", "weekly", "monthly", "yearly")) -> None:
    tenants = sorted({r["tenant_id"] for r in raw_records})
    for kind in kinds:
        want = true_summaries(raw_records, kind, today)
        assert stored_summaries(store, tenants, kind) == want, kind


def local_truth(raw_records, period_type: str, zones: dict, now: datetime, delay_hours: int = 2, default_zone: str = "UTC") -> dict[tuple, dict]:
    """Expected figures per (tenant, owner, metric type, period start, zone), each tenant in its zone
    (``zones``, else ``default_zone``), of every period that ended ``delay_hours`` before ``now``: computed
    here with zoneinfo from the records alone, without rollwise's periods or aggregation."""
    from zoneinfo import ZoneInfo

    def first_day(day: date) -> date:
        if period_type == "daily":
            return day
        if period_type == "weekly":
            return day - timedelta(days=day.weekday())
        if period_type == "monthly":
            return day.replace(day=1)
        return day.replace(month=1, day=1)

    def last_day(start: date) -> date:
        if period_type == "daily":
            return start
        if period_type == "weekly":
            return start + timedelta(days=6)
        if period_type == "monthly":
            return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return start.replace(month=12, day=31)

    def key_of(r, owner: str, moment: str):
        zone = zones.get(r["tenant_id"], default_zone)
        tz = ZoneInfo(zone)
        start = first_day(datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(tz).date())
        cutoff = (now - timedelta(hours=delay_hours)).astimezone(tz).date()  # the first local day not over by then
        return None if last_day(start) >= cutoff else (r["tenant_id"], owner, r["metric_type"], start.isoformat(), zone)

    return _truth(_latest(raw_records), key_of)


def stored_local(store, tenants, period_type: str) -> dict[tuple, dict]:
    """What a store holds, in the shape of :func:`local_truth`."""
    return {
        (s.tenant_id, s.owner_id, s.metric_type, s.period.start.isoformat(), s.period.zone): {f: s.figures[f] for f in TRUE_FIGURES}
        for t in tenants
        for s in store.query_summaries(t, period_type)
    }
