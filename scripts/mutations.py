"""The defects the suite must catch, each put back in rollwise's code, one at a time: its tests must fail.

Every mutation below undoes a fix an issue made (or breaks a rule an issue set), and names the tests that
failed on it when the fix was made. A suite made faster must still fail on every one of them:

    uv run python scripts/mutations.py            # all of them: about 15 minutes on 2 cores
    uv run python scripts/mutations.py NAME ...   # some (names as listed by --list)

Each mutation is a text replacement in one file, applied in place and always restored. One line per mutation
(``name=... result=killed|SURVIVED|broken seconds=... tests=...``), then a summary; the exit status is 1 when
a mutation survived, or when one no longer applies (the code it changes has moved: update it here).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    defect: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation(
        "lease-refuses-its-own-owner",
        "a lease acquire that does not accept its own owner: a retried acquire whose first answer was lost defers the shard",
        "src/rollwise/summaries/stores/dynamodb.py",
        '"attribute_not_exists(PK) OR expires_at < :now OR #owner = :owner"',
        '"attribute_not_exists(PK) OR expires_at < :now"',
        ("tests/summaries/test_faults.py::test_leases_survive_answers_lost_after_they_reached_the_table",),
    ),
    Mutation(
        "lease-refuses-its-own-owner-sqlite",
        "the same on SQLite: a lease taken again by its owner is refused",
        "src/rollwise/summaries/stores/sqlite.py",
        '" WHERE shard_leases.expires_at < ? OR shard_leases.owner = excluded.owner"',
        '" WHERE shard_leases.expires_at < ?"',
        ("tests/summaries/stores/test_contract.py",),
    ),
    Mutation(
        "aggregate-day-in-utc",
        "aggregate_day counting a zone's day by its UTC date",
        "src/rollwise/summaries/aggregate.py",
        'period = day if isinstance(day, Period) else period_containing("daily", day)',
        'period = period_containing("daily", day.start if isinstance(day, Period) else day)',
        ("tests/summaries/test_zones.py::test_summaries_of_tenants_in_any_zone_are_the_truth",),
    ),
    Mutation(
        "unconditional-delete",
        "the originals deleted without their listed ETag: a version written after the listing is deleted unseen",
        "src/rollwise/runs/archive.py",
        "    outcome = objects.delete_many(store, keys, e_tags)",
        "    outcome = objects.delete_many(store, keys)",
        ("tests/runs/test_rewrites.py",),
    ),
    Mutation(
        "unconditional-copy",
        "the originals copied to the archive without their listed ETag: the archive can hold a version never counted",
        "src/rollwise/runs/archive.py",
        "    copies = objects.copy_many(store, pairs, concurrency, e_tags)",
        "    copies = objects.copy_many(store, pairs, concurrency)",
        ("tests/runs/test_rewrites.py",),
    ),
    Mutation(
        "settle-removed",
        "the merge job no longer settles a folder's deletes a crash cut short: a rewritten file stays in the claims",
        "src/rollwise/runs/job.py",
        "            self.store.settle_claims()",
        "            pass",
        ("tests/runs/test_rewrites.py::test_a_folder_delete_a_crash_cut_short_is_settled_before_the_run_lists",),
    ),
    Mutation(
        "unauthenticated-reads",
        "a request without a token answered as an admin's: the negative cases schemathesis makes without the header",
        "src/rollwise/api/context.py",
        '        claims = svc.verifier.claims(bearer(event.get("headers") or {}))',
        '        headers = event.get("headers") or {}\n'
        '        given = any(name.lower() == "authorization" for name in headers)\n'
        '        claims = svc.verifier.claims(bearer(headers)) if given else {"cognito:groups": ["rollwise-admin"]}',
        ("tests/api/test_schemathesis.py::test_serve_answers_every_request_as_documented",),
    ),
    Mutation(
        "no-request-validation",
        "the read API without request validation: the negative cases of bad parameters are answered",
        "src/rollwise/api/app.py",
        "APIGatewayHttpResolver(enable_validation=True)",
        "APIGatewayHttpResolver(enable_validation=False)",
        ("tests/api/test_schemathesis.py",),
    ),
    Mutation(
        "children-counted",
        "the built-in mapping takes child executions: a child is counted beside its root",
        "src/rollwise/summaries/ingest/mapping.py",
        '            {"field": "root_id", "same_as": "id", "missing": "take"},\n',
        "",
        ("tests/handlers/test_ingest_stream.py",),
    ),
    Mutation(
        "archived-without-outputs",
        "files archived though their records output failed: their rows are lost for good",
        "src/rollwise/runs/job.py",
        "                result.failed_files.update(f.key for f in counted)\n                counted = []\n",
        "                result.failed_files.update(f.key for f in counted)\n",
        ("tests/runs/test_publish.py",),
    ),
    Mutation(
        "records-never-rebuilt",
        "a records object missing after a crash is never rebuilt: the sums over the records fall short of the aggregates",
        "src/rollwise/runs/publish.py",
        "            if objects.exists(store, records_key) is None and _rebuild(",
        "            if False and _rebuild(",
        ("tests/runs/test_publish.py", "tests/runs/test_job_faults.py"),
    ),
    Mutation(
        "zones-cached-forever",
        "a warm writer keeps the zones it read: a tenant's new zone never reaches it",
        "src/rollwise/summaries/tenant_zones.py",
        "            self._zones = None\n            self._forget_settings()\n",
        "            pass\n",
        ("tests/summaries/test_zones.py::test_a_long_lived_writer_follows_a_zone_change_once_it_reads_the_zones_again",),
    ),
    Mutation(
        "health-days-in-utc",
        "/v1/health counting a zone's waiting day under its UTC date",
        "src/rollwise/api/routes/health.py",
        "        key = day_key(m.day, m.zone)",
        "        key = m.day.isoformat()",
        ("tests/api/test_health.py",),
    ),
    Mutation(
        "sketch-of-another-mapping",
        "a sketch encoded with another key mapping read as rollwise's: its percentiles are wrong",
        "src/rollwise/sketch.py",
        "    if (mapping.gamma, mapping.indexOffset, mapping.interpolation) != (_MAPPING.gamma, _MAPPING._offset, pb.IndexMapping.NONE):",
        "    if False:",
        ("tests/test_sketch.py::test_a_sketch_of_another_key_mapping_is_refused_naming_it",),
    ),
    Mutation(
        "cursor-key-in-repr",
        "the page cursors' key printed with the settings: any log line of them carries it",
        "src/rollwise/api/settings.py",
        "        secret=True,\n",
        "",
        ("tests/api/test_summaries.py::test_the_cursor_key_is_in_no_repr_of_the_settings_or_services",),
    ),
    Mutation(
        "cursor-key-per-instance",
        "each instance of the deployed read API signs cursors with its own key: the next page on another is refused",
        "infra/rollwise_infra/stack.py",
        "                    cursor_secret=cursor_key.secret_value.unsafe_unwrap(),\n",
        "",
        ("tests/infra/test_iam.py::test_a_page_cursor_from_one_instance_of_the_api_is_taken_by_another",),
    ),
    Mutation(
        "api-imports-boto3",
        "the read API's DynamoDB client made by boto3: its cold start imports boto3 and s3transfer",
        "src/rollwise/dynamodb.py",
        "    from botocore.config import Config\n",
        "    from botocore.config import Config\n    import boto3  # noqa: F401\n",
        ("tests/infra/test_package.py::test_the_read_api_answers_without_importing_boto3",),
    ),
    Mutation(
        "gateway-keeps-nagle",
        "`rollwise serve` with Nagle's algorithm on: every kept-alive answer waits 40 ms for the client's ACK",
        "src/rollwise/api/serve.py",
        "            disable_nagle_algorithm = True\n",
        "",
        ("tests/api/test_serve.py",),
    ),
    Mutation(
        "create-returns-while-creating",
        "the store's create() returns before DynamoDB made the table ACTIVE: the first writes fail",
        "src/rollwise/summaries/stores/dynamodb.py",
        '        self.client.get_waiter("table_exists").wait(TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})\n',
        "",
        ("tests/summaries/stores/test_dynamodb.py::test_create_returns_once_the_table_is_active",),
    ),
    Mutation(
        "archive-copies-after-the-commit",
        "the archive written by a conditional copy of the raw key (a Python request per file) instead of the bytes counted",
        "src/rollwise/runs/archive.py",
        "        if spool is not None and f.key in spool and not rewrite:\n",
        "        if False:\n",
        ("tests/runs/test_archive.py::test_the_archive_holds_the_version_counted_with_its_content_type_and_metadata",),
    ),
    Mutation(
        "records-left-short",
        "a run that counted the files leaving a records object a rebuild wrote without some of them",
        "src/rollwise/runs/publish.py",
        "        if stored is not None and _rows(stored.data) >= _rows(data):\n",
        "        if stored is not None:\n",
        ("tests/runs/test_publish.py::test_records_held_while_another_run_rebuilds_them_after_a_rewrite_end_whole",),
    ),
    Mutation(
        "bundle-takes-any-bytes",
        "a rewrite that is not JSON put into the window's bundle as a line",
        "src/rollwise/runs/archive.py",
        "                orjson.loads(got.data)\n",
        "                pass\n",
        ("tests/runs/test_archive.py::test_a_rewrite_that_is_not_json_is_quarantined_and_every_bundle_line_parses",),
    ),
    Mutation(
        "retry-time-spent-over-the-stores-life",
        "a request outside any piece of work retrying on time the store spent before (the store's patience made once)",
        "src/rollwise/summaries/backend.py",
        "        work = self.patience or Patience.for_seconds(self.retry_seconds)\n",
        "        work = self.patience = self.patience or Patience.for_seconds(self.retry_seconds)\n",
        ("tests/summaries/ingest/test_recorder.py::test_a_store_outside_any_work_gives_each_request_its_own_retry_time",),
    ),
]


def run(mutation: Mutation, workers: str) -> tuple[str, float]:
    path = ROOT / mutation.path
    original = path.read_text()
    if original.count(mutation.before) != 1:
        return "broken", 0.0
    started = time.monotonic()
    try:
        path.write_text(original.replace(mutation.before, mutation.after))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers, *mutation.tests],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},  # no bytecode of the mutated module left behind
        )
    finally:
        path.write_text(original)
    # pytest exits 1 when tests failed; 0 is a survivor, anything else (no tests, an error) a mutation to mend
    outcome = {0: "SURVIVED", 1: "killed"}.get(done.returncode, f"broken (pytest exit {done.returncode})")
    return outcome, time.monotonic() - started


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a file mutated is restored when the run is stopped too
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="name each mutation and its defect")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers for each mutation's tests")
    args = parser.parse_args()
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name}: {m.defect}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"no mutation named {', '.join(sorted(unknown))} (see --list)")
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    results = {}
    for m in chosen:
        outcome, seconds = run(m, args.workers)
        results[m.name] = outcome
        print(f"name={m.name} result={outcome} seconds={seconds:.0f} tests={','.join(m.tests)}", flush=True)
    killed = sum(r == "killed" for r in results.values())
    print(f"mutations={len(results)} killed={killed} survived={sum(r == 'SURVIVED' for r in results.values())}")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
