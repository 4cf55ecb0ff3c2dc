"""Cold start of each handler, from the built Lambda asset and the runtime's Python (not a test).

Each measurement is a fresh runtime-Python process (scripts/runtime-python.sh), with the asset
and the runtime's boto3 (precompiled, as Lambda has it) on its path. CPU time (user + system)
of the process is read after the interpreter started, after the import, and after the first
invocation against moto server. The yardstick is `import boto3` plus creating one client, the
least any Python Lambda that talks to AWS pays. Medians of --repeat runs.

    uv run python bench/coldstart.py [--repeat 7]

Prints: boto3_client_ms=... summaries_import_ms=... summaries_first_ms=... summaries_ratio=... merge_import_ms=... merge_first_ms=... merge_ratio=...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

CHILD = """
import json, sys, time
start = time.process_time()
sys.path[:0] = {paths!r}
{code}
print(json.dumps(marks))
"""
BASELINE = """
import boto3
marks = {"import": time.process_time() - start}
boto3.client("dynamodb", region_name="us-east-1")
marks["first"] = time.process_time() - start
"""
HANDLER = """
from rollwise.handlers import {module} as handler
marks = {{"import": time.process_time() - start}}
body = handler.lambda_handler({{"time": "{at}"}}, None)["body"]
marks["first"] = time.process_time() - start
assert not body.get("errors") and not body.get("failed_operations"), body
"""


def measure(python: str, paths: list[str], code: str, env: dict) -> dict:
    done = subprocess.run([python, "-c", CHILD.format(paths=paths, code=code)], capture_output=True, text=True, env=env, timeout=120)
    if done.returncode:
        sys.exit(f"coldstart: the measured process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--at", default="2024-01-15T13:20:00Z", help="the event's time: a Monday by default (the summaries run "
                   "covers the day and its week); 2024-01-16T13:20:00Z is an ordinary night (the day alone)")
    args = p.parse_args()

    import boto3
    import package
    from emulators import start_moto

    asset = package.build("x86_64" if os.uname().machine == "x86_64" else "arm64")
    python = package.runtime_python()
    sdk = str(package.runtime_sdk(python))
    emu = start_moto()
    try:
        kw = {"endpoint_url": emu.url, "region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}
        bucket, table = f"cold-{uuid.uuid4().hex[:8]}", f"cold-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", **kw).create_bucket(Bucket=bucket)
        from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

        DynamoDBSummaryStore(table, client=boto3.client("dynamodb", **kw)).create()
        env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": emu.url, "SAM_MATCHING_OUT_RUNS_BUCKET": bucket, "DYNAMODB_TABLE_NAME": table}
        runs: dict[str, list[dict]] = {"boto3": [], "summaries": [], "merge": []}
        for _ in range(args.repeat):
            runs["boto3"].append(measure(python, [sdk], BASELINE, env))
            runs["summaries"].append(measure(python, [str(asset), sdk], HANDLER.format(module="aggregate_summaries", at=args.at), env))
            runs["merge"].append(measure(python, [str(asset), sdk], HANDLER.format(module="merge_runs", at=args.at), env))
    finally:
        emu.stop()
    median = {k: {m: statistics.median(r[m] for r in v) * 1000 for m in ("import", "first")} for k, v in runs.items()}
    base = median["boto3"]["first"]
    print(f"boto3_client_ms={base:.1f} "
          + " ".join(f"{k}_import_ms={median[k]['import']:.1f} {k}_first_ms={median[k]['first']:.1f} {k}_ratio={median[k]['first'] / base:.2f}"
                     for k in ("summaries", "merge"))
          + f" repeat={args.repeat} python={python.rsplit('python', 1)[-1]}", flush=True)


if __name__ == "__main__":
    main()
