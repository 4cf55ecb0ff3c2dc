"""Benchmark of the nightly summaries run against dynalite (not a test).

One day of executions over 100 tenants x 20 owners x 3 metric types is read
and aggregated, first with nothing else in the table, then with 5 more days of
the same size stored a month earlier. Each measured run happens in a fresh
child process so its CPU time and peak RSS are its own; "bare" is the same
Query requests issued by a plain boto3 loop that does nothing with the items.

    uv run python bench/summaries.py [--records 100000]

Prints one line per run:
records=... history_days=... items_read=... cpu_us_per_record=... bare_cpu_us_per_record=... peak_rss_mb=... wall_s=...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

DAY = date(2024, 3, 13)  # a Wednesday: the run covers the day alone, no week or month
HISTORY_START = DAY - timedelta(days=35)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_REGION", "us-east-1")


def client(endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def count_items(c):
    seen = {"items": 0, "requests": 0, "scans": 0}

    def after(parsed, model, **_):
        seen["requests"] += 1
        if model.name == "Query":
            seen["items"] += parsed.get("Count", 0)
        if model.name == "Scan":
            seen["scans"] += 1

    c.meta.events.register("after-call.dynamodb.*", after)
    return seen


def load(endpoint, table, first, days, records, seed):
    from rollwise.samples import sample_executions
    from rollwise.summaries.recorder import Recorder
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    store = DynamoDBSummaryStore(table, client=client(endpoint))
    for offset in range(days):
        day = first + timedelta(days=offset)
        now = datetime.combine(day, dtime(23, 59, 59), tzinfo=timezone.utc)  # written during the day: no markers
        with Recorder(store, batch_size=1000, now=now) as rec:
            for raw in sample_executions(day, 1, records, tenants=100, owners=20, metric_types=3, seed=seed + offset):
                rec.record(raw)


def measure_job(endpoint, table):
    from rollwise.sketch import decode, encode, new_sketch
    from rollwise.summaries.job import run, scheduled_plan
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    decode(encode(new_sketch()))  # imports (protobuf) happen once per container, not per run: keep them out
    c = client(endpoint)
    seen = count_items(c)
    store = DynamoDBSummaryStore(table, client=c)
    reference = datetime.combine(DAY + timedelta(days=1), dtime(2), tzinfo=timezone.utc)
    t0, c0 = time.perf_counter(), time.process_time()
    result = run(store, scheduled_plan(store, reference))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    assert not result.errors, result.errors
    return {"records": result.metrics_processed, "items_read": seen["items"], "scans": seen["scans"], "cpu_s": cpu, "wall_s": wall,
            "summaries": result.summaries_created + result.summaries_updated + result.summaries_unchanged,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_bare(endpoint, table):
    from rollwise.summaries.store import DEFAULT_SHARDS
    from rollwise.summaries.stores.dynamodb import record_partition

    c = client(endpoint)
    t0, c0 = time.perf_counter(), time.process_time()
    items = 0
    for shard in range(DEFAULT_SHARDS):
        kwargs = {"TableName": table, "KeyConditionExpression": "PK = :pk", "ProjectionExpression": "r", "ConsistentRead": True,
                  "ExpressionAttributeValues": {":pk": {"S": record_partition(DAY.isoformat(), shard)}}}
        while True:
            page = c.query(**kwargs)
            items += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {"items": items, "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0}


def child(kind, endpoint, table):
    profile = ["-m", "cProfile", "-o", f"/tmp/bench-{kind}.prof"] if os.environ.get("ROLLWISE_BENCH_PROFILE") else []
    out = subprocess.run([sys.executable, *profile, __file__, "--child", kind, "--endpoint", endpoint, "--table", table],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--history-days", type=int, default=5)
    p.add_argument("--child", choices=["job", "bare"])
    p.add_argument("--endpoint")
    p.add_argument("--table")
    args = p.parse_args()
    if args.child:
        fn = measure_job if args.child == "job" else measure_bare
        print(json.dumps(fn(args.endpoint, args.table)))
        return

    from emulators import start_dynalite

    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    emu = start_dynalite()
    try:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        DynamoDBSummaryStore(table, client=client(emu.url)).create()
        load(emu.url, table, DAY, 1, args.records, seed=1)
        for history in (0, args.history_days):
            if history:
                load(emu.url, table, HISTORY_START, history, args.records, seed=100)
                # a fresh run over the same day: drop its summaries so the work is the same as the first time
                _drop_summaries(emu.url, table)
            job = child("job", emu.url, table)
            bare = child("bare", emu.url, table)
            assert job["scans"] == 0
            n = job["records"]
            print(
                f"records={n} history_days={history} items_read={job['items_read']} "
                f"cpu_us_per_record={job['cpu_s'] / n * 1e6:.1f} bare_cpu_us_per_record={bare['cpu_s'] / n * 1e6:.1f} "
                f"peak_rss_mb={job['peak_rss_mb']:.1f} wall_s={job['wall_s']:.1f} "
                f"record_items={bare['items']} summaries={job['summaries']}",
                flush=True,
            )
    finally:
        emu.stop()


def _drop_summaries(endpoint, table):
    from rollwise.periods import period_containing
    from rollwise.summaries.store import DEFAULT_SHARDS
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    store = DynamoDBSummaryStore(table, client=client(endpoint))
    period = period_containing("daily", DAY)
    for shard in range(DEFAULT_SHARDS):
        existing = store.read_summaries(period, shard)
        store.write_summaries(period, shard, [], list(existing))


if __name__ == "__main__":
    main()
