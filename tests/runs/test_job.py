"""The merge-and-archive job on a local folder and on S3 (moto server): every behaviour on both."""

import gzip
from datetime import UTC, datetime, timedelta

import orjson

from rollwise import objects
from rollwise.runs.job import MergeJob
from rollwise.runs.layout import Layout
from rollwise.runs.settings import MergeSettings
from support.runs import (
    FaultyStore,
    aggregates,
    check_exactly_once,
    item,
    keys,
    open_store,
    put,
    run_summary,
    write_small_run,
)

UTC = UTC
LAYOUT = Layout.under("runs")
AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


def merge(url, at=AT, store=None, **settings):
    return MergeJob(store or open_store(url), MergeSettings(**settings)).run(at)


def test_closed_windows_are_aggregated_and_archived(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/20240115t1300Z_a.json", item(1, 0.9))
    put(store, "runs/raw/20240115t1304Z_b.json", [item(2, 0.95, processing_time_ms=300), item(3, 0.2, matched=False), item(4, 0.9, error="boom")])
    put(store, "runs/raw/20240115t1302Z_c.json", run_summary("run-c", 50, 5, errors=2, ms=4000, top=[("X", "Top", 0.99), ("B", "Tie", 0.9)]))
    put(store, "runs/raw/20240115t1309Z_d.json", item(5, 0.1))
    put(store, "runs/raw/20240115t1319Z_open.json", item(6, 0.8))  # 13:15-13:20 closes at 13:21
    written = {m.key: (m.e_tag, store.get(m.key).data) for m in objects.list_objects(store, "runs/raw")}
    result = merge(runs_url)
    assert result.body() == {
        "windows": ["runs/20240115t1305Z.json", "runs/20240115t1310Z.json"],
        "files_processed": 4,
        "files_archived": 4,
        "files_quarantined": 0,
        "files_failed": 0,
        "late_files": 0,
        "files_rewritten": 0,
        "files_changed": 0,
        "failed_operations": [],
    }
    docs = aggregates(store)
    first = docs["runs/20240115t1305Z.json"]
    assert (first["window_start"], first["window_end"]) == ("2024-01-15T13:00:00Z", "2024-01-15T13:05:00Z")
    stats = first["stats"]
    assert {k: v for k, v in stats.items() if not k.endswith("_ms")} == {
        "files": 3,
        "opportunities_processed": 54,
        "matches": 7,
        "no_matches": 44,
        "errors": 3,
    }
    # Per opportunity: four items' own times, and the run's 4,000 ms spread over its 50 opportunities (80 ms each).
    per_opportunity = stats["opportunity_time_ms"]
    assert (per_opportunity["count"], per_opportunity["total"], per_opportunity["min"], per_opportunity["max"]) == (
        54,
        101 + 300 + 103 + 104 + 4000,
        80,
        300,
    )
    assert per_opportunity["avg"] == round(4608 / 54, 3) and abs(per_opportunity["p50"] - 80) <= 0.8
    assert stats["run_time_ms"] | {"p50": None, "p95": None} == {
        "count": 1,
        "total": 4000,
        "min": 4000,
        "max": 4000,
        "avg": 4000,
        "p50": None,
        "p95": None,
    }
    entries = {r["file"]: r for r in first["runs"]}
    assert entries["runs/raw/20240115t1304Z_b.json"]["opportunity_time_ms"] == 507 and "run_time_ms" not in entries["runs/raw/20240115t1304Z_b.json"]
    assert entries["runs/raw/20240115t1302Z_c.json"]["run_time_ms"] == 4000
    assert [(m["id"], m["score"], m["source_file"]) for m in first["top_matches"]] == [
        ("X", 0.99, "runs/raw/20240115t1302Z_c.json"),
        ("SOL-00002", 0.95, "runs/raw/20240115t1304Z_b.json"),
        ("B", 0.9, "runs/raw/20240115t1302Z_c.json"),  # a tie on score: ids in order
        ("SOL-00001", 0.9, "runs/raw/20240115t1300Z_a.json"),
    ]
    assert [r["file"] for r in first["runs"]] == sorted(
        ["runs/raw/20240115t1300Z_a.json", "runs/raw/20240115t1302Z_c.json", "runs/raw/20240115t1304Z_b.json"]
    )
    assert next(r for r in first["runs"] if r.get("run_id") == "run-c")["opportunities_processed"] == 50
    # the versions listed are those counted, and the archive holds their very bytes
    assert {f["key"]: f["etag"] for f in first["source_files"]} == {k: e for k, (e, _) in written.items() if "1309" not in k and "open" not in k}
    archived = {m.key.replace("archive", "raw"): store.get(m.key).data for m in objects.list_objects(store, "runs/archive")}
    assert archived == {k: data for k, (_, data) in written.items() if "open" not in k}
    assert keys(store, "runs/raw") == ["runs/raw/20240115t1319Z_open.json"]
    assert len(keys(store, "runs/archive")) == 4

    again = merge(runs_url)
    assert again.windows == [] and again.files_processed == again.files_archived == 0
    assert aggregates(store) == docs


def test_a_late_file_is_merged_into_its_window_by_conditional_replace(runs_url):
    store = open_store(runs_url)
    for i in range(4):
        put(store, f"runs/raw/20240115t1301Z_{i}.json", item(i, 0.5 + i / 10))
    merge(runs_url)
    before = aggregates(store)["runs/20240115t1305Z.json"]
    put(store, "runs/raw/20240115t1303Z_late.json", item(9, 0.99, processing_time_ms=5000))
    put(store, "runs/raw/old-name-without-stamp.json", item(10, 0.1))  # windowed by its last-modified time: still open
    result = merge(runs_url, at=AT + timedelta(hours=1))
    assert (result.windows, result.files_processed, result.late_files) == (["runs/20240115t1305Z.json"], 1, 1)
    after = aggregates(store)["runs/20240115t1305Z.json"]
    assert after["stats"]["files"] == before["stats"]["files"] + 1 == 5
    assert after["stats"]["matches"] == before["stats"]["matches"] + 1
    assert after["stats"]["opportunity_time_ms"]["max"] == 5000 and after["stats"]["opportunity_time_ms"]["count"] == 5
    assert after["top_matches"][0]["id"] == "SOL-00009"
    assert len(after["source_files"]) == 5
    assert keys(store, "runs/raw") == ["runs/raw/old-name-without-stamp.json"]


def test_poison_files_are_quarantined_with_their_reason_and_neighbours_counted(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/20240115t1300Z_ok.json", item(1, 0.9))
    put(store, "runs/raw/20240115t1300Z_json.json", b"{broken")
    put(store, "runs/raw/20240115t1300Z_utf.json", b'{"noticeId": "\xff"}')
    put(store, "runs/raw/20240115t1300Z_type.json", {"noticeId": "n", "score": "high"})
    put(store, "runs/raw/20240115t1300Z_big.json", item(2, 0.9, padding="x" * 600))
    result = merge(runs_url, max_file_bytes=500)
    assert (result.files_processed, result.files_quarantined, result.files_failed) == (1, 4, 0)
    reasons = {k: orjson.loads(objects.read(store, k).data)["reason"] for k in keys(store, "runs/quarantine") if k.endswith(".error.json")}
    assert set(reasons) == {f"runs/quarantine/20240115t1300Z_{n}.json.error.json" for n in ("json", "utf", "type", "big")}
    assert "invalid JSON" in reasons["runs/quarantine/20240115t1300Z_json.json.error.json"]
    assert "not UTF-8" in reasons["runs/quarantine/20240115t1300Z_utf.json.error.json"]
    assert "score must be a number" in reasons["runs/quarantine/20240115t1300Z_type.json.error.json"]
    assert "over the 500-byte limit" in reasons["runs/quarantine/20240115t1300Z_big.json.error.json"]
    assert objects.read(store, "runs/quarantine/20240115t1300Z_json.json").data == b"{broken"
    assert keys(store, "runs/raw") == []
    assert merge(runs_url).files_quarantined == 0  # never retried


def test_producers_writing_straight_into_runs(runs_url):
    store = open_store(runs_url)
    job = MergeJob(store, MergeSettings(raw_prefix="runs/"))
    put(store, "runs/20240115t1301Z_a.json", item(1, 0.9))
    put(store, "runs/20240115t1302Z_b.json", item(2, 0.8))
    first = job.run(AT)
    assert first.windows == ["runs/20240115t1305Z.json"] and first.files_archived == 2
    put(store, "runs/20240115t1306Z_c.json", item(3, 0.8))
    second = job.run(AT)
    # the aggregate under runs/ and the archive are never read as input
    assert second.windows == ["runs/20240115t1310Z.json"] and second.files_processed == 1
    assert keys(store, "runs/archive") == [
        "runs/archive/20240115t1301Z_a.json",
        "runs/archive/20240115t1302Z_b.json",
        "runs/archive/20240115t1306Z_c.json",
    ]


def test_bundle_mode_writes_one_compressed_bundle_per_window(runs_url):
    store = open_store(runs_url)
    docs = {f"runs/raw/20240115t1301Z_{i}.json": item(i, i / 10) for i in range(5)}
    for k, d in docs.items():
        put(store, k, d)
    put(store, "runs/raw/20240115t1302Z_pretty.json", orjson.dumps(item(7, 0.5), option=orjson.OPT_INDENT_2))
    result = merge(runs_url, archive_mode="bundle")
    assert (result.files_processed, result.files_archived) == (6, 6)
    (bundle,) = keys(store, "runs/archive")
    assert bundle.startswith("runs/archive/bundles/20240115t1305Z-") and bundle.endswith(".jsonl.gz")
    lines = [orjson.loads(line) for line in gzip.decompress(objects.read(store, bundle).data).splitlines()]
    assert {line["key"]: line["content"] for line in lines} == {**docs, "runs/raw/20240115t1302Z_pretty.json": item(7, 0.5)}
    assert keys(store, "runs/raw") == []


def test_a_failed_archive_write_leaves_the_original_and_the_next_run_finishes_it(runs_url):
    good, bad = write_small_run(runs_url, valid=6, poison=0)
    stuck = sorted(good)[0]
    target = LAYOUT.archived_key(stuck)
    reset = objects.RequestFailed(f"connection reset writing {target}", target, "put")
    flaky = FaultyStore(open_store(runs_url), lambda name, args: reset if name == "put" and args[0] == target else None)
    result = merge(runs_url, store=flaky)
    assert result.files_processed == 6 and result.files_archived == 5 and result.files_failed == 1
    assert result.body()["failed_operations"] == [{"key": stuck, "operation": "archive", "error": f"connection reset writing {target}"}]
    assert keys(open_store(runs_url), "runs/raw") == [stuck]
    retry = merge(runs_url)
    assert (retry.files_processed, retry.files_archived, retry.windows) == (0, 1, [])
    check_exactly_once(runs_url, good, bad)


def test_dry_run_writes_nothing(runs_url):
    good, _ = write_small_run(runs_url)
    result = MergeJob(open_store(runs_url)).run(AT, dry_run=True)
    assert [p["files"] for p in result.planned] == [4, 3] and result.windows == []
    assert set(keys(open_store(runs_url), "runs/")) == good | {"runs/raw/20240115t1301Z_poison0.json"}


def test_past_its_deadline_no_new_window_is_started(runs_url):
    import time

    good, bad = write_small_run(runs_url)
    late = MergeJob(open_store(runs_url)).run(AT, deadline=time.monotonic() - 1)
    assert late.windows == [] and late.files_processed == 0
    assert set(keys(open_store(runs_url), "runs/raw")) == good | bad
    MergeJob(open_store(runs_url)).run(AT, deadline=time.monotonic() + 60)
    check_exactly_once(runs_url, good, bad)


def test_a_backlog_of_many_windows_is_merged_window_by_window(runs_url):
    store = open_store(runs_url)
    for minute in range(0, 60, 2):
        for i in range(3):
            put(store, f"runs/raw/20240115t12{minute:02d}Z_{i}.json", item(minute * 10 + i, 0.5))
    put(store, "runs/raw/no-stamp.json", item(999, 0.5))  # last-modified now: an open window, it waits
    result = merge(runs_url, at=AT)
    assert len(result.windows) == 12 and result.files_processed == 90
    assert all(d["stats"]["files"] == (9 if i % 2 == 0 else 6) for i, d in enumerate(v for _, v in sorted(aggregates(store).items())))
    assert keys(store, "runs/raw") == ["runs/raw/no-stamp.json"]


def test_unfinished_windows_report_their_age(runs_url):
    import time

    write_small_run(runs_url)
    late = MergeJob(open_store(runs_url)).run(AT, deadline=time.monotonic() - 1)
    assert late.oldest_pending_seconds == (AT - datetime(2024, 1, 15, 13, 5, tzinfo=UTC)).total_seconds() == 900
    assert MergeJob(open_store(runs_url)).run(AT).oldest_pending_seconds == 0


def test_fresh_files_with_either_case_of_t_are_merged_once_per_window(runs_url):
    """200 fresh files, 1 in 20 stamped with an upper-case T: none of them is late."""
    store = open_store(runs_url)
    for i in range(200):
        t = "T" if i % 20 == 0 else "t"
        put(store, f"runs/raw/20240115{t}13{i % 15:02d}Z_{i:03d}.json", item(i, 0.5))
    result = merge(runs_url)
    assert (result.files_processed, result.late_files, len(result.windows)) == (200, 0, 3)
    assert sorted(result.windows) == result.windows == ["runs/20240115t1305Z.json", "runs/20240115t1310Z.json", "runs/20240115t1315Z.json"]


def test_a_bulk_delete_that_fails_for_one_key_fails_that_file_only(runs_url):
    """Before, a bulk delete failing for one key marked its whole chunk failed and still counted it archived."""
    store = open_store(runs_url)
    for i in range(100):
        put(store, f"runs/raw/20240115t1301Z_{i:03d}.json", item(i, 0.5))
    stuck = "runs/raw/20240115t1301Z_042.json"

    def fault(name, args):
        if name == "delete" and stuck in args[0]:
            return objects.RequestFailed(f"delete {stuck} failed: InternalError", stuck, "delete")
        return None

    result = merge(runs_url, store=FaultyStore(store, fault))
    assert (result.files_processed, result.files_archived, result.files_failed) == (100, 99, 1)
    assert result.body()["failed_operations"] == [{"key": stuck, "operation": "delete", "error": f"delete {stuck} failed: InternalError"}]
    assert keys(store, "runs/raw") == [stuck]


def test_a_number_out_of_range_quarantines_its_file_and_never_blocks_the_window(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/20240115t1301Z_huge.json", run_summary("r", 1, 1) | {"opportunities_processed": 18446744073709551615})
    put(store, "runs/raw/20240115t1302Z_ok.json", item(1, 0.9))
    result = merge(runs_url)
    assert (result.files_processed, result.files_quarantined, result.failures()) == (1, 1, [])
    note = orjson.loads(objects.read(store, "runs/quarantine/20240115t1301Z_huge.json.error.json").data)
    assert note["reason"] == "$: opportunities_processed must be a whole number from 0 to 1,000,000,000, got 18446744073709551615"
    assert aggregates(store)["runs/20240115t1305Z.json"]["stats"]["files"] == 1


def test_per_item_and_per_run_times_are_separate_statistics(runs_url):
    """Items of 5 to 412 ms and a run of 48,211 ms over 120 items: the time per opportunity is not 7,232 ms."""
    store = open_store(runs_url)
    for i, ms in enumerate((5, 17, 240, 412)):
        put(store, f"runs/raw/20240115t1301Z_i{i}.json", item(i, 0.2, processing_time_ms=ms))
    put(store, "runs/raw/20240115t1302Z_run.json", run_summary("run-1", 120, 9, ms=48211))
    put(store, "runs/raw/20240115t1303Z_untimed.json", {"noticeId": "N-1", "score": 0.1})  # no time: not a zero
    merge(runs_url)
    stats = aggregates(store)["runs/20240115t1305Z.json"]["stats"]
    assert stats["opportunity_time_ms"]["count"] == 124 and stats["opportunity_time_ms"]["total"] == 5 + 17 + 240 + 412 + 48211
    assert stats["opportunity_time_ms"]["avg"] == round((5 + 17 + 240 + 412 + 48211) / 124, 3) == 394.234
    assert stats["opportunity_time_ms"]["min"] == 5 and stats["opportunity_time_ms"]["max"] == 412
    assert (stats["run_time_ms"]["count"], stats["run_time_ms"]["avg"]) == (1, 48211)


def test_a_window_without_any_time_has_empty_statistics_not_zeros(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/20240115t1301Z_a.json", {"noticeId": "N-1", "score": 0.9})
    merge(runs_url)
    stats = aggregates(store)["runs/20240115t1305Z.json"]["stats"]
    for name in ("opportunity_time_ms", "run_time_ms"):
        assert stats[name] == {"count": 0, "total": 0, "min": None, "max": None, "avg": None, "p50": None, "p95": None}


def test_a_listing_cut_mid_answer_ends_the_run_with_a_clear_failure(gateway, monkeypatch):
    import uuid

    import boto3

    from rollwise.config import AwsSettings
    from support.gateway import Reply

    bucket = f"cut-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=gateway.upstream.geturl(), region_name="us-east-1").create_bucket(Bucket=bucket)
    store = objects.open_store(f"s3://{bucket}", AwsSettings(endpoint_url=gateway.url))
    for i in range(3):
        put(store, f"runs/raw/20240115t1301Z_{i}.json", item(i, 0.9))
    gateway.decide = lambda r: Reply(200, cut_after=120) if r.method == "GET" and "list-type" in r.query else None
    result = MergeJob(store).run(AT)
    assert result.files_processed == 0 and result.files_failed == 0
    (failure,) = result.failed
    assert (failure.key, failure.operation) == ("runs/raw/", "list")
    assert failure.error.startswith(f"list s3://{bucket}/runs/raw/ failed: ") and "\n" not in failure.error
    assert any(r.note == "cut" for r in gateway.requests)
    gateway.decide = lambda r: None
    assert MergeJob(store).run(AT).files_processed == 3  # the next run, on a whole answer, does the work
