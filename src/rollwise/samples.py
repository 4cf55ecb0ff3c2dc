"""Deterministic sample data for the demo, the tests and the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

STATUS_WEIGHTS = (("succeeded", 80), ("failed", 10), ("cancelled", 4), ("timed_out", 3), ("running", 3))
METRIC_TYPES = ("profile_enrichment", "document_ocr", "lead_scoring")


def sample_executions(
    first_day: date,
    days: int,
    per_day: int,
    tenants: int = 3,
    owners: int = 4,
    metric_types: int = 3,
    seed: int = 7,
) -> Iterator[dict]:
    """``per_day`` executions a day, spread over tenants, owners and metric types.

    Durations are log-normal around a few seconds; some executions finish the
    next day, so outcomes and submissions fall in different periods.
    """
    rng = random.Random(seed)
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    n = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        midnight = datetime.combine(day, time(), tzinfo=UTC)
        for _ in range(per_day):
            n += 1
            tenant = f"tenant-{rng.randrange(tenants):03d}"
            submitted = midnight + timedelta(seconds=rng.uniform(0, 86399))
            status = rng.choices(statuses, weights)[0]
            rec = {
                "tenant_id": tenant,
                "owner_id": f"user-{rng.randrange(owners):03d}",
                "metric_type": METRIC_TYPES[rng.randrange(metric_types)]
                if metric_types <= len(METRIC_TYPES)
                else f"metric-{rng.randrange(metric_types)}",
                "execution_id": f"exec-{seed}-{n:08d}",
                "status": status,
                "submitted_at": submitted.isoformat(),
                "throttled": rng.choice((0, 0, 0, 0, 1, 2)),
                "rejected": rng.random() < 0.02,
            }
            if status != "queued":
                started = submitted + timedelta(seconds=rng.uniform(0.1, 30))
                rec["started_at"] = started.isoformat()
                if status != "running":
                    duration = rng.lognormvariate(8.0, 1.0)  # ms, median about 3 s
                    rec["completed_at"] = (started + timedelta(milliseconds=duration)).isoformat()
                    rec["profiles"] = rng.randrange(0, 500)
            yield rec


def sample_run_files(start: datetime, windows: int, per_window: int, seed: int = 11, poison_every: int = 0) -> Iterator[tuple[str, bytes]]:
    """Raw run result files as a matching pipeline drops them: mostly one item's
    result each, a run summary now and then, and (with ``poison_every``) a
    broken file, named ``YYYYMMDDtHHMMZ_<id>.json``."""
    import json

    rng = random.Random(seed)
    n = 0
    for w in range(windows):
        window_start = start + timedelta(minutes=5 * w)
        for _ in range(per_window):
            n += 1
            at = window_start + timedelta(seconds=rng.uniform(0, 299))
            name = f"{at.strftime('%Y%m%dt%H%MZ')}_{seed}-{n:06d}.json"
            if poison_every and n % poison_every == 0:
                yield name, b'{"solicitationNumber": "truncated'
            elif n % 25 == 0:
                processed = rng.randrange(20, 200)
                matches = rng.randrange(0, processed // 4)
                errors = rng.randrange(0, 3)
                picks = sorted(((round(rng.uniform(0.7, 1.0), 3), i) for i in range(3)), key=lambda pick: -pick[0])
                top = [{"id": f"RUN-{n}-{i}", "title": f"Batch pick {i}", "score": score} for score, i in picks]
                yield (
                    name,
                    json.dumps(
                        {
                            "run_id": f"run-{seed}-{n}",
                            "opportunities_processed": processed,
                            "matches": matches,
                            "no_matches": processed - matches - errors,
                            "errors": errors,
                            "processing_time_ms": round(rng.lognormvariate(9, 0.5), 1),
                            "top_matches": top,
                        }
                    ).encode(),
                )
            else:
                score = round(rng.betavariate(2, 3), 4)
                doc = {
                    "solicitationNumber": f"SOL-{seed}-{n:06d}",
                    "title": f"Opportunity {n}",
                    "score": score,
                    "processing_time_ms": round(rng.lognormvariate(6.5, 0.6), 1),
                    "timestamp": at.isoformat(),
                    "link": f"https://sam.example/opp/{n}",
                }
                if rng.random() < 0.03:
                    doc["error"] = "upstream timeout"
                yield name, json.dumps(doc).encode()
