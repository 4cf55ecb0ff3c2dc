"""Benchmark of the read API (not a test): requests and CPU of a month of daily usage, and the cold start.

A tenant with 20 owners and 3 metric types shares one shard with 9 other tenants of the same size, in
dynalite: February 2024 aggregated, March 1st open until 15:00 UTC. One request asks for the month of
daily usage grouped by owner (February from the stored dailies, March 1st from the tenant's records).
Its DynamoDB requests are counted by kind; the other tenants' records of the open day are then
tripled and the request made again, to show what the count follows. Warm CPU is the median process
time of --repeat requests after the first. The cold start is the API function's first invocation (the
same usage request, against moto server holding that tenant's month as the schedule leaves it: the same
reads as warm) in a fresh runtime-Python process with the built asset, against
`import boto3` plus one client, as bench/coldstart.py measures it.

    uv run python bench/api.py [--per-day 300] [--repeat 20] [--cold 5] [--compare-asset DIR]

--compare-asset measures another built asset (another commit's `make package` output, say) in the
same run, each of its processes right after one of this asset's, and adds its figures as compare_*.

Prints one line:
closed_day_requests=... open_day_requests=... requests=... requests_other_tenants_tripled=... rows=... warm_cpu_ms=...
boto3_client_ms=... api_first_ms=... cold_requests=... api_second_ms=... framework_ms=... cold_ratio=... cold_overhead_ratio=...
(cold_overhead_ratio: the first invocation less the same request made again in that process, over the yardstick)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from coldstart import COUNT_REQUESTS  # noqa: E402

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

UTC = UTC
NOW = datetime(2024, 3, 1, 15, tzinfo=UTC)
TENANT = "tenant-00"
USAGE = {"from": "2024-02-01", "to": "2024-03-02", "window": "day", "group_by": "owner"}


def executions(tenant: str, first: date, days: int, per_day: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for d in range(days):
        midnight = datetime.combine(first + timedelta(days=d), datetime.min.time(), UTC)
        for n in range(per_day):
            submitted = midnight + timedelta(seconds=rng.uniform(0, 86400 - 700))
            if submitted + timedelta(seconds=600) > NOW:
                continue
            out.append(
                {
                    "tenant_id": tenant,
                    "owner_id": f"o{n % 20:02d}",
                    "metric_type": ("ocr", "match", "score")[n % 3],
                    "execution_id": f"{tenant}-{seed}-{d}-{n}",
                    "status": "succeeded",
                    "submitted_at": submitted.isoformat(),
                    "completed_at": (submitted + timedelta(seconds=rng.uniform(1, 600))).isoformat(),
                    "profiles": 1,
                }
            )
    return out


def event(query: dict) -> dict:
    from urllib.parse import urlencode

    path = f"/v1/tenants/{TENANT}/usage"
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": urlencode(query),
        "queryStringParameters": query,
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "192.0.2.1"},
            "stage": "$default",
            "requestId": "r",
            "authorizer": {"jwt": {"claims": {"custom:tenant_id": TENANT}}},
        },
    }


COLD = (
    """
from rollwise.handlers import api
marks = {{"import": time.process_time() - start}}
"""
    + COUNT_REQUESTS
    + """
out = api.lambda_handler({event!r}, None)
marks["first"] = time.process_time() - start
marks["requests"] = sent[0]
assert out["statusCode"] == 200, out
api.lambda_handler({event!r}, None)  # the same request again, warm: what the first one paid beyond it is the cold start's own
marks["second"] = time.process_time() - start - marks["first"]
"""
)
# What the framework alone adds to a process that already has boto3 and a client: Powertools' event handler
# and the OpenAPI parameter models (pydantic) that request validation needs.
FRAMEWORK = """
import boto3
boto3.client("dynamodb", region_name="us-east-1")
before = time.process_time()
import aws_lambda_powertools.event_handler, aws_lambda_powertools.event_handler.openapi.params
marks = {"first": time.process_time() - before}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--compare-asset", type=Path, default=None, help="another Lambda asset, measured interleaved with this one")
    args = parser.parse_args()

    import boto3

    from rollwise.api.app import build_app, respond
    from rollwise.api.context import Services
    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.job import backfill_plan, run, scheduled_plan
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.emulators import start_dynalite, start_moto

    emulator = start_dynalite()
    try:
        client = boto3.client("dynamodb", endpoint_url=emulator.url, region_name="us-east-1")
        store = DynamoDBSummaryStore(f"api-{uuid.uuid4().hex[:8]}", shards=1, client=client)
        store.create()
        with Recorder(store, now=datetime(2024, 2, 1, tzinfo=UTC), batch_size=500) as rec:
            for t in range(10):
                for r in executions(f"tenant-{t:02d}", date(2024, 2, 1), 30, args.per_day, seed=t):
                    rec.record(r)
        run(store, backfill_plan(store, date(2024, 2, 1), date(2024, 2, 29), NOW))
        run(store, scheduled_plan(store, datetime(2024, 3, 1, 2, tzinfo=UTC)))  # the schedule: February is aggregated

        calls: Counter = Counter()

        def count(model, params, **_):
            kind = (
                "settings"
                if params.get("ExpressionAttributeValues", {}).get(":pk", {}).get("S") == "SETTINGS"
                else "summaries"
                if params.get("IndexName")
                else "records"
                if "begins_with" in params.get("KeyConditionExpression", "")
                else model.name
            )
            calls[kind] += 1

        client.meta.events.register("before-parameter-build.dynamodb.*", lambda model, params, **kw: count(model, params))
        app = build_app()

        def ask() -> dict:
            fresh = DynamoDBSummaryStore(store.table_name, shards=1, client=client)  # a request's reads, settings included
            return respond(app, Services(fresh, clock=lambda: NOW), event(USAGE))

        answer = ask()
        assert answer["statusCode"] == 200, answer["body"][:300]
        import orjson

        rows = len(orjson.loads(answer["body"])["rows"])
        first = dict(calls)
        with Recorder(store, now=NOW, batch_size=500) as rec:  # the other tenants' open day, tripled
            for t in range(1, 10):
                for seed in (100 + t, 200 + t):
                    for r in executions(f"tenant-{t:02d}", date(2024, 3, 1), 1, args.per_day, seed=seed):
                        rec.record(r)
        calls.clear()
        ask()
        tripled = sum(calls.values())
        cpu = []
        for _ in range(args.repeat):
            start = time.process_time()
            ask()
            cpu.append(time.process_time() - start)
    finally:
        emulator.stop()

    # -- cold start ------------------------------------------------------------------------------
    from coldstart import BASELINE, measure

    import package

    asset = package.build("x86_64" if os.uname().machine == "x86_64" else "arm64")
    python = package.runtime_python()
    sdk = str(package.runtime_sdk(python))
    moto = start_moto()
    try:
        table = f"cold-{uuid.uuid4().hex[:8]}"
        kw = {"endpoint_url": moto.url, "region_name": "us-east-1"}
        cold_store = DynamoDBSummaryStore(table, shards=1, client=boto3.client("dynamodb", **kw))
        cold_store.create()  # the tenant's month, aggregated as the schedule leaves it: the request's reads are the warm ones
        with Recorder(cold_store, now=datetime(2024, 2, 1, tzinfo=UTC), batch_size=500) as rec:
            for r in executions(TENANT, date(2024, 2, 1), 30, args.per_day, seed=0):
                rec.record(r)
        run(cold_store, backfill_plan(cold_store, date(2024, 2, 1), date(2024, 2, 29), NOW))
        run(cold_store, scheduled_plan(cold_store, datetime(2024, 3, 1, 2, tzinfo=UTC)))
        env = {
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "t",
            "AWS_SECRET_ACCESS_KEY": "t",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url,
            "DYNAMODB_TABLE_NAME": table,
        }
        base, colds, others = [], [], []
        for _ in range(args.cold):  # interleaved, so that the machine's slower and faster spells fall on each alike
            base.append(measure(python, [sdk], BASELINE, env)["first"])
            colds.append(measure(python, [str(asset), sdk], COLD.format(event=event(USAGE)), env))
            if args.compare_asset:
                others.append(measure(python, [str(args.compare_asset), sdk], COLD.format(event=event(USAGE)), env))
        cold = [c["first"] for c in colds]
        framework = [measure(python, [str(asset), sdk], FRAMEWORK, env)["first"] for _ in range(args.cold)]
    finally:
        moto.stop()
    base_ms, cold_ms = statistics.median(base) * 1000, statistics.median(cold) * 1000
    second_ms = statistics.median(c["second"] for c in colds) * 1000
    print(
        f"closed_day_requests={first.get('summaries', 0)} settings_requests={first.get('settings', 0)} "
        f"open_day_requests={first.get('records', 0)} requests={sum(first.values())} requests_other_tenants_tripled={tripled} "
        f"rows={rows} warm_cpu_ms={statistics.median(cpu) * 1000:.1f} boto3_client_ms={base_ms:.1f} api_first_ms={cold_ms:.1f} "
        f"cold_requests={colds[0]['requests']} api_second_ms={second_ms:.1f} framework_ms={statistics.median(framework) * 1000:.1f} "
        f"cold_ratio={cold_ms / base_ms:.2f} cold_overhead_ratio={(cold_ms - second_ms) / base_ms:.2f}"
        + (compared(others, base_ms) if others else "")
    )


def compared(others: list[dict], base_ms: float) -> str:
    first = statistics.median(c["first"] for c in others) * 1000
    second = statistics.median(c["second"] for c in others) * 1000
    return (
        f" compare_first_ms={first:.1f} compare_second_ms={second:.1f} compare_cold_ratio={first / base_ms:.2f}"
        f" compare_cold_overhead_ratio={(first - second) / base_ms:.2f}"
    )


if __name__ == "__main__":
    main()
