from rollwise.result import Failure, JobFailed
from rollwise.runs.job import MergeResult
from rollwise.summaries.job import RunResult


def test_both_jobs_fail_the_same_way():
    summaries = RunResult(errors=[f"daily:2024-01-{d:02d} shard 0: boom" for d in range(1, 13)])
    failed = JobFailed(summaries)
    assert str(failed).startswith("summaries: 12 failure(s): daily:2024-01-01 shard 0: boom; ") and str(failed).endswith("; and 2 more")
    runs = MergeResult()
    runs.fail(Failure("runs/raw/a.json", "copy", ConnectionResetError("reset")), "runs/raw/a.json")
    assert str(JobFailed(runs)) == "merge-runs: 1 failure(s): copy runs/raw/a.json: reset"
    assert runs.metrics()["ArchiveFailures"] == 1 and summaries.metrics()["SummaryFailures"] == 12
    assert JobFailed(runs).result is runs
