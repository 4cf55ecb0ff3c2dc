"""One window's commit: immutable outcomes, and a retry shell that reports only the final one."""

from datetime import UTC, datetime

from rollwise import objects
from rollwise.runs.job import MergeJob
from rollwise.runs.settings import MergeSettings
from support.runs import FaultyStore, item, keys, open_store, put

AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


def test_an_unreadable_file_and_a_commit_conflict_count_once(runs_url):
    """One unreadable file plus one lost race used to report files_failed 2 and 6 ticks for 3 files."""
    store = open_store(runs_url)
    for i in range(3):
        put(store, f"runs/raw/20240115t1301Z_{i}.json", item(i, 0.9))
    unreadable = "runs/raw/20240115t1301Z_2.json"
    aggregate = "runs/20240115t1305Z.json"
    raced = []

    def fault(name, args):
        if name == "get" and args[0] == unreadable:
            return objects.RequestFailed(f"get {unreadable} failed: connection reset", unreadable, "get")
        if name == "put" and args[0] == aggregate and not raced:
            raced.append(args[0])  # another invocation stored the aggregate first, once
            return objects.AlreadyExists(f"{aggregate} already exists", aggregate, "put")
        return None

    ticks = []
    job = MergeJob(FaultyStore(store, fault), MergeSettings(concurrency=2), on_file=lambda: ticks.append(1))
    result = job.run(AT)
    assert raced == [aggregate]
    assert len(ticks) == 3
    assert (result.files_processed, result.files_failed, result.files_archived) == (2, 1, 2)
    assert result.body()["failed_operations"] == [{"key": unreadable, "operation": "get", "error": f"get {unreadable} failed: connection reset"}]
    assert keys(store, "runs/raw") == [unreadable]


def test_a_window_whose_aggregate_keeps_changing_gives_up_and_fails_its_files_once(runs_url):
    store = open_store(runs_url)
    for i in range(2):
        put(store, f"runs/raw/20240115t1301Z_{i}.json", item(i, 0.9))
    put(store, "runs/raw/20240115t1302Z_bad.json", b"{")
    always = lambda name, args: objects.AlreadyExists("taken", args[0], "put") if name == "put" and args[0].endswith("1305Z.json") else None  # noqa: E731
    result = MergeJob(FaultyStore(store, always)).run(AT)
    assert result.files_failed == 2 and result.files_quarantined == 1 and result.files_processed == 0
    assert [f.operation for f in result.failed] == ["put"] and "gave up after 8 attempts" in result.failed[0].error
    assert result.failures() == [f"put runs/20240115t1305Z.json: {result.failed[0].error}"]
