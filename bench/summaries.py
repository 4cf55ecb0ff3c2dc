"""Benchmark of the nightly summaries run against dynalite (not a test).

One day of executions over 100 tenants x 20 owners x 3 metric types is read
and aggregated, first with nothing else in the table, then with 5 more days of
the same size stored a month earlier. Each measured run happens in a fresh
child process, so its CPU time and its peak memory (VmHWM, read from its own
/proc/self/status) are its own. Every HTTP attempt the client makes is
counted (retries apart from calls; answers that were errors counted by kind: failed conditions,
throttling, other). Two bare loops of plain boto3 (a default
client) run beside the job on the same table: "bare read" issues the same
record Queries and does nothing with the items; "bare read+write" also writes
the same summary items the job wrote (read back from the table beforehand,
so the same number, keys and sizes) with BatchWriteItem.

    uv run python bench/summaries.py [--records 100000] [--history-days 5] [--repeat 3] [--workers 1]

Prints one line per run:
records=... history_days=... workers=... repeat=... items_read=... cpu_us_per_record=... bare_rw_cpu_us_per_record=...
cpu_ratio=... bare_read_cpu_us_per_record=... read_ratio=... peak_rss_mb=... worker_peak_rss_mb=... wall_s=... requests=...
retries=... conditional_failed=... throttled=... other_errors=... bare_rw_requests=... summaries_written=...
(CPU figures and ratios are medians over --repeat runs; the peak is the highest.)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
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

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def count_requests(c):
    """Every HTTP attempt (``before-send``) and every API call (``after-call``): attempts beyond calls are retries."""
    seen = {"items": 0, "calls": 0, "attempts": 0, "scans": 0, "conditional_failed": 0, "throttled": 0, "other_errors": 0}

    def attempt(**_):
        seen["attempts"] += 1

    def after(parsed, model, http_response=None, **_):
        seen["calls"] += 1
        code = (parsed.get("Error") or {}).get("Code", "") if http_response is not None and http_response.status_code >= 300 else ""
        if code == "ConditionalCheckFailedException":
            seen["conditional_failed"] += 1
        elif "Throttl" in code or code == "ProvisionedThroughputExceededException":
            seen["throttled"] += 1
        elif code:
            seen["other_errors"] += 1
        if model.name == "Query":
            seen["items"] += parsed.get("Count", 0)
        if model.name == "Scan":
            seen["scans"] += 1

    c.meta.events.register("before-send.dynamodb.*", attempt)
    c.meta.events.register("after-call.dynamodb.*", after)
    return seen


def own_peak_mb() -> float:
    """This process's own high-water mark of resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def load(endpoint, table, first, days, records, seed):
    from rollwise.samples import sample_executions
    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    store = DynamoDBSummaryStore(table, client=client(endpoint))
    for offset in range(days):
        day = first + timedelta(days=offset)
        now = datetime.combine(day, dtime(23, 59, 59), tzinfo=UTC)  # written during the day: no markers
        with Recorder(store, batch_size=1000, now=now) as rec:
            for raw in sample_executions(day, 1, records, tenants=100, owners=20, metric_types=3, seed=seed + offset):
                rec.record(raw)


def job_aws(endpoint):
    from rollwise.config import AwsSettings

    return AwsSettings(region="us-east-1", endpoint_url=endpoint)


def job_client(endpoint):
    """The client the job itself builds (its retry mode, pool and no parameter validation)."""
    from rollwise.dynamodb import dynamodb_client

    return dynamodb_client(job_aws(endpoint))


def measure_job(endpoint, table, workers):
    from rollwise.sketch import decode, encode, new_sketch
    from rollwise.summaries.job import run, scheduled_plan
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

    decode(encode(new_sketch()))  # imports (protobuf) happen once per container, not per run: keep them out
    c = job_client(endpoint)
    seen = count_requests(c)
    store = DynamoDBSummaryStore(table, client=c, aws=job_aws(endpoint))  # worker processes build their own client from aws
    reference = datetime.combine(DAY + timedelta(days=1), dtime(2), tzinfo=UTC)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, c0 = time.perf_counter(), time.process_time()
    result = run(store, scheduled_plan(store, reference), workers=workers)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    done = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, once they have ended
    cpu += (done.ru_utime + done.ru_stime) - (children.ru_utime + children.ru_stime)
    assert not result.errors, result.errors
    return {
        "records": result.metrics_processed,
        "items_read": seen["items"],
        "scans": seen["scans"],
        "cpu_s": cpu,
        "wall_s": wall,
        "calls": seen["calls"],
        "attempts": seen["attempts"],
        "conditional_failed": seen["conditional_failed"],
        "throttled": seen["throttled"],
        "other_errors": seen["other_errors"],
        "summaries_written": result.summaries_created + result.summaries_updated,
        "peak_rss_mb": own_peak_mb(),
        "worker_peak_rss_mb": done.ru_maxrss / 1024 if workers > 1 else 0.0,
    }


def written_summaries(endpoint, table, path):
    """The day's summary items as the job wrote them, saved for the bare read+write loop."""
    from rollwise.summaries.stores.dynamodb_layout import summary_ranges
    from rollwise.summaries.tenant_zones import DEFAULT_SHARDS

    c, items = client(endpoint), []
    for shard in range(DEFAULT_SHARDS):
        ((pk, low, high),) = summary_ranges("daily", DAY, DAY, shard)
        kwargs = {
            "TableName": table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
        }
        while True:
            page = c.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for item in items:
        for value in item.values():
            if "B" in value:
                value["B"] = base64.b64encode(value["B"]).decode()
    Path(path).write_text(json.dumps(items))
    return len(items)


def measure_bare(endpoint, table, summaries_file=None):
    from rollwise.summaries.stores.dynamodb_layout import record_partition
    from rollwise.summaries.tenant_zones import DEFAULT_SHARDS

    puts = []
    if summaries_file:
        for item in json.loads(Path(summaries_file).read_text()):
            for value in item.values():
                if "B" in value:
                    value["B"] = base64.b64decode(value["B"])
            puts.append({"PutRequest": {"Item": item}})
    import boto3

    c = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")  # plain boto3, its defaults
    seen = count_requests(c)
    t0, c0 = time.perf_counter(), time.process_time()
    items = 0
    for shard in range(DEFAULT_SHARDS):
        kwargs = {
            "TableName": table,
            "KeyConditionExpression": "PK = :pk",
            "ProjectionExpression": "r",
            "ConsistentRead": True,
            "ExpressionAttributeValues": {":pk": {"S": record_partition(DAY.isoformat(), shard)}},
        }
        while True:
            page = c.query(**kwargs)
            items += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for i in range(0, len(puts), 25):
        pending = {table: puts[i : i + 25]}
        while pending:
            pending = c.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return {
        "items": items,
        "written": len(puts),
        "cpu_s": time.process_time() - c0,
        "wall_s": time.perf_counter() - t0,
        "calls": seen["calls"],
        "attempts": seen["attempts"],
    }


def child(kind, endpoint, table, *extra):
    profile = ["-m", "cProfile", "-o", f"/tmp/bench-{kind}.prof"] if os.environ.get("ROLLWISE_BENCH_PROFILE") else []
    # The deployed function runs with MALLOC_ARENA_MAX=2 (see infra/): so does the measured process.
    env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    out = subprocess.run(
        [sys.executable, *profile, __file__, "--child", kind, "--endpoint", endpoint, "--table", table, *extra],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode:
        sys.exit(f"the {kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_once(endpoint, table, workers):
    """The job, then the two bare loops, each in its own process; CPU in µs per record."""
    job = child("job", endpoint, table, "--workers", str(workers))
    summaries_file = f"/tmp/rollwise-bench-summaries-{table}.json"
    written = written_summaries(endpoint, table, summaries_file)
    bare_read = child("bare", endpoint, table)
    bare_rw = child("bare", endpoint, table, "--summaries-file", summaries_file)
    os.unlink(summaries_file)
    assert job["scans"] == 0
    assert written == job["summaries_written"] == bare_rw["written"], (written, job["summaries_written"])
    assert bare_read["items"] == job["records"], (job["records"], bare_read["items"])
    if workers == 1:  # worker processes make their own requests: this process counts them only without workers
        assert job["items_read"] >= bare_read["items"], (job["items_read"], bare_read["items"])
    n = job["records"]
    return job, {name: m["cpu_s"] / n * 1e6 for name, m in (("job", job), ("read", bare_read), ("rw", bare_rw))}, bare_rw["attempts"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--history-days", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3, help="measure this many times; medians are printed")
    p.add_argument("--workers", default="1", help="worker processes of the job, or a list (1,2): one line each (CPU is the sum over them)")
    p.add_argument("--child", choices=["job", "bare"])
    p.add_argument("--endpoint")
    p.add_argument("--table")
    p.add_argument("--summaries-file")
    args = p.parse_args()
    if args.child == "job":
        print(json.dumps(measure_job(args.endpoint, args.table, int(args.workers))))
        return
    if args.child == "bare":
        print(json.dumps(measure_bare(args.endpoint, args.table, args.summaries_file)))
        return

    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.emulators import start_dynalite

    emu = start_dynalite()
    try:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        DynamoDBSummaryStore(table, client=client(emu.url)).create()
        load(emu.url, table, DAY, 1, args.records, seed=1)
        first_workers = int(args.workers.split(",")[0])
        for history in sorted({0, args.history_days}):
            if history:
                load(emu.url, table, HISTORY_START, history, args.records, seed=100)
                # a fresh run over the same day: drop its summaries so the work is the same as the first time
                _drop_summaries(emu.url, table)
            for workers in [int(w) for w in args.workers.split(",")]:
                runs = []
                for _ in range(args.repeat):
                    if runs or workers != first_workers:  # the job writes the day's summaries: drop them, the same work again
                        _drop_summaries(emu.url, table)
                    runs.append(measure_once(emu.url, table, workers))
                job, us = runs[0][0], {name: statistics.median(r[1][name] for r in runs) for name in runs[0][1]}
                ratio = statistics.median(r[1]["job"] / r[1]["rw"] for r in runs)
                read_ratio = statistics.median(r[1]["job"] / r[1]["read"] for r in runs)
                print(
                    f"records={job['records']} history_days={history} workers={workers} repeat={args.repeat} "
                    f"items_read={job['items_read'] if workers == 1 else 'n/a'} cpu_us_per_record={us['job']:.1f} "
                    f"bare_rw_cpu_us_per_record={us['rw']:.1f} "
                    f"cpu_ratio={ratio:.2f} bare_read_cpu_us_per_record={us['read']:.1f} read_ratio={read_ratio:.2f} "
                    f"peak_rss_mb={max(r[0]['peak_rss_mb'] for r in runs):.1f} worker_peak_rss_mb={job['worker_peak_rss_mb']:.1f} "
                    f"wall_s={statistics.median(r[0]['wall_s'] for r in runs):.1f} requests={job['attempts'] if workers == 1 else 'n/a'} "
                    f"retries={sum(r[0]['attempts'] - r[0]['calls'] for r in runs)} conditional_failed={job['conditional_failed']} "
                    f"throttled={job['throttled']} other_errors={job['other_errors']} bare_rw_requests={runs[0][2]} "
                    f"summaries_written={job['summaries_written']}",
                    flush=True,
                )
    finally:
        emu.stop()


def _drop_summaries(endpoint, table):
    from rollwise.periods import period_containing
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from rollwise.summaries.tenant_zones import DEFAULT_SHARDS

    store = DynamoDBSummaryStore(table, client=client(endpoint))
    period = period_containing("daily", DAY)
    for shard in range(DEFAULT_SHARDS):
        existing = store.read_summaries(period, shard)
        store.write_summaries(period, shard, [], list(existing))


if __name__ == "__main__":
    main()
