"""Benchmark of the hourly summaries runs with tenants in 24 zones, against dynalite (not a test).

Three figures:

* an hourly run with nothing due: its requests and CPU;
* a day of hourly runs with tenants spread over 24 zones: the records the runs read against the
  records of the local days they aggregated (each record once per due local day it has an event
  on), and the requests, which grow with the zones and shards due, not with the tenants;
* CPU per record aggregated, the same records with every tenant in UTC (one run at 02:00) and
  with tenants in 24 zones (24 hourly runs): their ratio.

    uv run python bench/zones.py [--records 48000] [--tenants 480]

Prints one line:
zones=... tenants=... records=... idle_requests=... idle_cpu_ms=... records_read=... records_due=... read_ratio=...
zone_day_requests=... utc_cpu_us_per_record=... zones_cpu_us_per_record=... cpu_ratio=...
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

UTC = UTC
# 24 zones, UTC-11 to UTC+14, with :30 and :45 offsets among them
ZONES = [
    "Pacific/Niue",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "UTC",
    "Europe/Paris",
    "Europe/Athens",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Kiritimati",
]
DAY = datetime(2024, 3, 13, tzinfo=UTC)  # a Wednesday: no week or month closes


def executions(records: int, tenants: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(records):
        submitted = DAY - timedelta(days=1) + timedelta(seconds=rng.uniform(0, 3 * 86400))  # 3 UTC days around the day
        out.append(
            {
                "tenant_id": f"tenant-{rng.randrange(tenants):04d}",
                "owner_id": f"o{rng.randrange(20)}",
                "metric_type": "ocr",
                "execution_id": f"e{n}",
                "status": "succeeded",
                "submitted_at": submitted.isoformat(),
                "completed_at": (submitted + timedelta(seconds=rng.uniform(1, 600))).isoformat(),
                "profiles": 1,
            }
        )
    return out


class Counting:
    """Every DynamoDB call a client makes."""

    def __init__(self, client) -> None:
        self.calls: Counter = Counter()
        client.meta.events.register("after-call.dynamodb.*", self._count)

    def _count(self, model, **_):
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


def store_with(endpoint: str, zones: dict[str, str], rows: list[dict], shards: int):
    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.stores import dynamodb_client

    client = dynamodb_client(endpoint)
    store = DynamoDBSummaryStore(f"bench-{uuid.uuid4().hex[:8]}", shards=shards, client=client)
    store.create()
    for tenant, zone in zones.items():
        store.set_zone(tenant, zone)
    with Recorder(store, now=DAY - timedelta(days=2), batch_size=500) as rec:
        for r in rows:
            rec.record(r)
    return store, client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=48_000)
    parser.add_argument("--tenants", type=int, default=480)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()

    from rollwise.periods import local_day
    from rollwise.summaries.job import run, scheduled_plan
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from rollwise.timestamps import parse_timestamp
    from support.emulators import start_dynalite

    rows = executions(args.records, args.tenants)
    tenants = sorted({r["tenant_id"] for r in rows})
    emulator = start_dynalite()
    try:
        # -- every tenant in UTC: the nightly run at 02:00 -----------------------------------------
        utc_store, utc_client = store_with(emulator.url, {}, rows, args.shards)
        run(utc_store, scheduled_plan(utc_store, DAY + timedelta(hours=1)))  # yesterday, to set the schedule
        cpu = time.process_time()
        utc = run(utc_store, scheduled_plan(utc_store, DAY + timedelta(days=1, hours=2)))
        utc_cpu = time.process_time() - cpu

        # -- tenants in 24 zones: 24 hourly runs ----------------------------------------------------
        zones = {t: ZONES[i % len(ZONES)] for i, t in enumerate(tenants)}
        store, client = store_with(emulator.url, zones, rows, args.shards)
        run(store, scheduled_plan(store, DAY + timedelta(hours=0)))  # every zone's schedule set: the last due day done
        read: Counter[str] = Counter()
        real = DynamoDBSummaryStore.read_records

        def counted(self, day, shard, zone="UTC"):
            for r in real(self, day, shard, zone):
                read["records"] += 1
                yield r

        calls = Counting(client)
        due: set[tuple[str, str]] = set()
        cpu_spent, aggregated = 0.0, 0
        with patch.object(DynamoDBSummaryStore, "read_records", counted):
            for hour in range(1, 25):
                fresh = DynamoDBSummaryStore(store.table_name, shards=args.shards, client=client)  # an invocation
                cpu = time.process_time()
                result = run(fresh, scheduled_plan(fresh, DAY + timedelta(hours=hour)))
                cpu_spent += time.process_time() - cpu
                aggregated += result.metrics_processed
                due |= {
                    (label.split(":")[1].partition("@")[0], label.partition("@")[2] or "UTC")
                    for label in result.periods
                    if label.startswith("daily:")
                }
        zone_day_requests = calls.total()
        records_due = 0
        for r in rows:
            zone = zones[r["tenant_id"]]
            days = {local_day(parse_timestamp(r[f]), zone).isoformat() for f in ("submitted_at", "completed_at")}
            records_due += sum(1 for d in days if (d, zone) in due)

        # -- an hourly run with nothing due (the UTC tenants' table at 03:00: its day was taken at 02:00) --
        idle_store = DynamoDBSummaryStore(utc_store.table_name, shards=args.shards, client=utc_client)
        idle_calls = Counting(utc_client)
        cpu = time.process_time()
        idle = run(idle_store, scheduled_plan(idle_store, DAY + timedelta(days=1, hours=3)))
        idle_cpu = time.process_time() - cpu
        assert idle.periods == [], idle.periods
        idle_requests = idle_calls.total()
    finally:
        emulator.stop()
    utc_us = utc_cpu / max(utc.metrics_processed, 1) * 1e6
    zones_us = cpu_spent / max(aggregated, 1) * 1e6
    print(
        f"zones={len(set(zones.values()))} tenants={len(tenants)} records={len(rows)} idle_requests={idle_requests} "
        f"idle_cpu_ms={idle_cpu * 1000:.1f} records_read={read['records']} records_due={records_due} "
        f"read_ratio={read['records'] / max(records_due, 1):.3f} zone_day_requests={zone_day_requests} "
        f"utc_cpu_us_per_record={utc_us:.1f} zones_cpu_us_per_record={zones_us:.1f} cpu_ratio={zones_us / utc_us:.2f}"
    )


if __name__ == "__main__":
    main()
