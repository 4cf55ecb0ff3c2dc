"""The merge Lambda handler against moto server, configured only through the environment."""

import json
import os
import subprocess
import sys
import uuid

import boto3
import pytest

from rollwise import objects
from rollwise.errors import ConfigError
from rollwise.handlers import merge_runs
from rollwise.result import JobFailed
from support.runs import aggregates, item, keys, open_store, put


@pytest.fixture
def bucket(moto_server, monkeypatch):
    name = f"sam-matching-out-runs-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1").create_bucket(Bucket=name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("SAM_MATCHING_OUT_RUNS_BUCKET", name)
    store = open_store(f"s3://{name}")
    for i in range(6):
        put(store, f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json", item(i, 0.6 + i / 20))
    put(store, "runs/raw/20240115t1300Z_bad.json", b"[1, 2")
    return name


EVENT = {"version": "0", "id": "merge-evt-7", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-15T13:20:00Z", "detail": {}}


def test_an_event_that_is_not_an_object_is_refused_by_name():
    from rollwise.handlers.common import EventError

    with pytest.raises(EventError, match="the event must be a JSON object, got list"):
        merge_runs.lambda_handler([EVENT], None)


def test_missing_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SAM_MATCHING_OUT_RUNS_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="SAM_MATCHING_OUT_RUNS_BUCKET is not set"):
        merge_runs.lambda_handler(EVENT, None)


def test_scheduled_event_in_a_cold_interpreter(bucket):
    script = (
        "import json, sys; from rollwise.handlers.merge_runs import lambda_handler; print(json.dumps(lambda_handler(json.loads(sys.argv[1]), None)))"
    )
    done = subprocess.run([sys.executable, "-c", script, json.dumps(EVENT)], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    response = lines[-1]
    logs = [line for line in lines[:-1] if "_aws" not in line]
    (metrics,) = [line for line in lines[:-1] if "_aws" in line]
    assert {m["Name"] for m in metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "FilesProcessed",
        "FilesArchived",
        "FilesQuarantined",
        "ArchiveFailures",
        "LateFiles",
        "FilesRewritten",
        "FilesChanged",
        "OldestPendingSeconds",
    }
    assert (metrics["FilesProcessed"], metrics["FilesArchived"], metrics["FilesQuarantined"], metrics["ArchiveFailures"]) == ([6], [6], [1], [0])
    assert response == {
        "statusCode": 200,
        "body": {
            "windows": ["runs/20240115t1305Z.json", "runs/20240115t1310Z.json"],
            "files_processed": 6,
            "files_archived": 6,
            "files_quarantined": 1,
            "files_failed": 0,
            "late_files": 0,
            "files_rewritten": 0,
            "files_changed": 0,
            "failed_operations": [],
        },
    }
    per_window = [line for line in logs if line["message"] == "window merged"]
    assert [line["aggregate"] for line in per_window] == ["runs/20240115t1305Z.json", "runs/20240115t1310Z.json"]
    assert all(line["correlation_id"] == "merge-evt-7" and line["service"] == "rollwise-runs" for line in logs)
    assert any(line["message"].startswith("file quarantined: runs/raw/20240115t1300Z_bad.json") and "invalid JSON" in line["reason"] for line in logs)
    store = open_store(f"s3://{bucket}")
    assert sum(d["stats"]["files"] for d in aggregates(store).values()) == 6


def test_failed_archive_operations_raise_after_the_work_is_done(bucket, monkeypatch):
    def denied(self, keys, if_match=None):
        raise objects.PermissionDenied("delete denied: the credentials need s3:DeleteObject there", keys[0], "delete")

    real = objects.ObjectStore.delete
    monkeypatch.setattr(objects.ObjectStore, "delete", denied)
    with pytest.raises(JobFailed, match=r"merge-runs: \d+ failure\(s\): delete runs/raw/") as info:
        merge_runs.lambda_handler(EVENT, None)
    result = info.value.result
    assert result.files_processed == 6 and len(result.windows) == 2 and result.files_archived == 0
    assert {f.operation for f in result.failed} == {"delete"}
    assert result.files_failed == 7  # six counted and one poison file, each left under raw/ once
    monkeypatch.setattr(objects.ObjectStore, "delete", real)
    again = merge_runs.lambda_handler(EVENT, None)["body"]
    assert again["files_processed"] == 0 and again["files_archived"] == 6 and again["files_quarantined"] == 1
    assert keys(open_store(f"s3://{bucket}"), "runs/raw") == []
