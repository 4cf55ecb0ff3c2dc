"""Cold start of each handler, from the built Lambda asset and the runtime's Python (not a test).

Each measurement is a fresh runtime-Python process (scripts/runtime-python.sh), with the asset
and the runtime's boto3 (precompiled, as Lambda has it) on its path. CPU time (user + system)
of the process is read after the interpreter started, after the import, and after the first
invocation against moto server. The yardstick is `import boto3` plus creating one client, the
least any Python Lambda that talks to AWS pays. Medians of --repeat runs.

The summaries function is measured as the stack deploys it: for a volume one invocation gets
through, one shard and the whole night in one invocation (`run`); at the default volume, the
fan-out, whose invocations are `plan` and one `shard` per shard. Each on an ordinary night, a
Monday (the day and its week) and a New Year's Day (day, week, month and year), on an empty
table. `run8` is one invocation over 8 shards, which the stack no longer deploys at the volume
that needs 8 (docs/deploy.md): shown for comparison.

    uv run python bench/coldstart.py [--repeat 7]

Prints: boto3_client_ms=... merge_import_ms=... merge_first_ms=... merge_ratio=... then for each
summaries case <case>_import_ms=... <case>_first_ms=... <case>_requests=... <case>_ratio=...
(requests: the DynamoDB requests botocore sent in the invocation).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

NIGHTS = {"ordinary": "2024-01-17T02:00:00Z", "monday": "2024-01-15T02:00:00Z", "newyear": "2024-01-01T02:00:00Z"}
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
# Counts the requests botocore sends from here on, in ``sent[0]`` (costs nothing measurable); no braces, so it goes
# into the templates below as it is.
COUNT_REQUESTS = """
import botocore.endpoint
sent = [0]
_send = botocore.endpoint.Endpoint._send
def counted(self, request):
    sent[0] += 1
    return _send(self, request)
botocore.endpoint.Endpoint._send = counted
"""
HANDLER = (
    """
from rollwise.handlers import {module} as handler
marks = {{"import": time.process_time() - start}}
"""
    + COUNT_REQUESTS
    + """
out = handler.lambda_handler({event}, None)
marks["first"] = time.process_time() - start
marks["requests"] = sent[0]
body = out.get("body") or out.get("result") or {{}}
assert not body.get("errors") and not body.get("failed_operations") and not body.get("deferred"), body
assert body.get("files_processed", 1) == 1, body  # merge: the one file put before
"""
)


def measure(python: str, paths: list[str], code: str, env: dict) -> dict:
    done = subprocess.run([python, "-c", CHILD.format(paths=paths, code=code)], capture_output=True, text=True, env=env, timeout=120)
    if done.returncode:
        sys.exit(f"coldstart: the measured process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()

    import boto3

    import package
    from rollwise.config import variable
    from rollwise.runs.layout import Layout
    from rollwise.samples import sample_run_files
    from rollwise.summaries.plan import plan_run
    from rollwise.summaries.settings import SummariesSettings
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.emulators import start_moto

    asset = package.build("x86_64" if os.uname().machine == "x86_64" else "arm64")
    python = package.runtime_python()
    sdk = str(package.runtime_sdk(python))
    emu = start_moto()
    try:
        kw = {"endpoint_url": emu.url, "region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}
        bucket = f"cold-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", **kw).create_bucket(Bucket=bucket)
        base_env = {
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "t",
            "AWS_SECRET_ACCESS_KEY": "t",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": emu.url,
            "SAM_MATCHING_OUT_RUNS_BUCKET": bucket,
        }

        def summaries_env(shards: int) -> dict:
            table = f"cold-{uuid.uuid4().hex[:8]}"
            DynamoDBSummaryStore(table, client=boto3.client("dynamodb", **kw)).create()
            return {**base_env, variable(SummariesSettings, "table"): table, variable(SummariesSettings, "shards"): str(shards)}

        cases: dict[str, tuple[str, dict]] = {}  # name: (handler code, environment)
        handler = lambda module, event: HANDLER.format(module=module, event=repr(event))  # noqa: E731
        for night, at in NIGHTS.items():
            cases[f"run1_{night}"] = (handler("aggregate_summaries", {"time": at}), summaries_env(1))
        cases["plan"] = (handler("aggregate_summaries", {"action": "plan", "time": NIGHTS["newyear"]}), summaries_env(8))
        for night, at in NIGHTS.items():
            plan = plan_run(datetime.fromisoformat(at.replace("Z", "+00:00")), 8)
            event = {"action": "shard", "plan": plan.to_json(), "shard": 0}
            cases[f"shard_{night}"] = (handler("aggregate_summaries", event), summaries_env(8))
        for night in ("ordinary", "monday"):
            cases[f"run8_{night}"] = (handler("aggregate_summaries", {"time": NIGHTS[night]}), summaries_env(8))
        cases["merge"] = (handler("merge_runs", {"time": NIGHTS["monday"]}), base_env)

        runs: dict[str, list[dict]] = {"boto3": [], **{name: [] for name in cases}}
        s3, monday = boto3.client("s3", **kw), datetime.fromisoformat(NIGHTS["monday"].replace("Z", "+00:00"))
        for i in range(args.repeat):
            runs["boto3"].append(measure(python, [sdk], BASELINE, base_env))
            # the merge job's first run: one raw file in a closed window of its own
            ((name, body),) = sample_run_files(monday - timedelta(hours=1, minutes=5 * i), 1, 1, seed=i)
            s3.put_object(Bucket=bucket, Key=Layout.under().raw + name, Body=body)
            for name, (code, env) in cases.items():
                runs[name].append(measure(python, [str(asset), sdk], code, env))
    finally:
        emu.stop()
    median = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    base = median["boto3"]["first"]
    figures = [f"boto3_client_ms={base * 1000:.1f}"]
    for name in ("merge", *(n for n in cases if n != "merge")):
        m = median[name]
        sent = f" {name}_requests={m['requests']:.0f}" if name != "merge" else ""  # merge talks to S3 through obstore, not botocore
        figures.append(
            f"{name}_import_ms={m['import'] * 1000:.1f} {name}_first_ms={m['first'] * 1000:.1f}{sent} {name}_ratio={m['first'] / base:.2f}"
        )
    print(" ".join(figures) + f" repeat={args.repeat} python={python.rsplit('python', 1)[-1]}", flush=True)


if __name__ == "__main__":
    main()
