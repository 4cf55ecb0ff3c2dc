"""The SQL outputs of the merge job: each window's records and its row, on a local folder and on S3 (moto server)."""

from datetime import UTC, datetime

import orjson
import pytest

from rollwise import objects
from rollwise.runs.job import MergeJob
from rollwise.runs.settings import MergeSettings
from support.runs import FaultyStore, aggregates, check_exactly_once, item, keys, open_store, put, records_rows, sam_result

UTC = UTC
AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


def merge(url, at=AT, store=None, **settings):
    return MergeJob(store or open_store(url), MergeSettings(**settings)).run(at)


def write_sam_window(store) -> set[str]:
    """Five sam results in the window 13:00-13:05, one of them without a solicitation number."""
    good = set()
    for i, score in enumerate([0.91, 0.35, 0.72, 0.69, 0.88]):
        key = f"runs/raw/20240115t130{i}Z_{i:032x}.json"
        put(store, key, sam_result(i, score, solicitation="" if i == 2 else None))
        good.add(key)
    return good


def test_the_sam_producers_files_merge_with_none_quarantined(runs_url):
    store = open_store(runs_url)
    good = write_sam_window(store)
    result = merge(runs_url)
    assert (result.files_processed, result.files_quarantined, result.files_failed) == (5, 0, 0)
    doc = aggregates(store)["runs/20240115t1305Z.json"]
    stats = doc["stats"]
    assert (stats["opportunities_processed"], stats["matches"], stats["no_matches"], stats["errors"]) == (5, 3, 2, 0)
    # No processing time in these files: the statistic is empty, not zero.
    assert stats["opportunity_time_ms"]["count"] == 0 and stats["opportunity_time_ms"]["avg"] is None
    top = doc["top_matches"]
    assert [(m["id"], m["score"]) for m in top] == [("W91QF4-24-R-0000", 0.91), ("W91QF4-24-R-0004", 0.88), (f"{2:032x}", 0.72)]
    assert top[2]["link"] == f"https://sam.gov/opp/{2:032x}/view"  # uiLink; the empty solicitationNumber fell back to noticeId
    check_exactly_once(runs_url, good, set())


def test_records_hold_each_object_whole_with_what_it_counted(runs_url):
    store = open_store(runs_url)
    write_sam_window(store)
    put(
        store,
        "runs/raw/20240115t1302Z_run.json",
        {"run_id": "run-7", "opportunities_processed": 40, "matches": 4, "no_matches": 35, "errors": 1, "processing_time_ms": 8000},
    )
    merge(runs_url)
    doc = aggregates(store)["runs/20240115t1305Z.json"]
    (records_key,) = {f["records"] for f in doc["source_files"]}
    assert records_key.startswith("runs/records/dt=2024-01-15/20240115t1305Z-") and records_key.endswith(".jsonl.gz")
    rows = {(r["source_file"], r["id"]): r for r in records_rows(store, records_key)}
    assert len(rows) == 6
    empty_id = rows[("runs/raw/20240115t1302Z_" + f"{2:032x}.json", f"{2:032x}")]
    assert empty_id["window_start"] == "2024-01-15T13:00:00Z" and empty_id["window_end"] == "2024-01-15T13:05:00Z"
    assert (empty_id["kind"], empty_id["score"], empty_id["matched"], empty_id["error"], empty_id["time_ms"]) == ("item", 0.72, True, False, None)
    assert empty_id["timestamp"] == "2024-01-15T13:02:11.482913Z"  # the producer's naive time, read as UTC
    assert empty_id["link"] == f"https://sam.gov/opp/{2:032x}/view"
    assert orjson.loads(empty_id["record"]) == sam_result(2, 0.72, solicitation="")  # whole, as written
    run = rows[("runs/raw/20240115t1302Z_run.json", "run-7")]
    assert (run["kind"], run["opportunities_processed"], run["matches"], run["no_matches"], run["errors"], run["time_ms"]) == (
        "run",
        40,
        4,
        35,
        1,
        8000,
    )
    assert sum(r["opportunities_processed"] for r in rows.values()) == doc["stats"]["opportunities_processed"] == 45
    assert sum(r["matches"] for r in rows.values()) == doc["stats"]["matches"] == 7
    (row_key,) = keys(store, "runs/windows/")
    assert row_key == "runs/windows/dt=2024-01-15/20240115t1305Z.json"
    row = orjson.loads(objects.read(store, row_key).data)
    assert (row["aggregate"], row["files"], row["opportunities_processed"], row["matches"], row["errors"]) == (
        "runs/20240115t1305Z.json",
        6,
        45,
        7,
        1,
    )
    assert row["run_time_ms_count"] == 1 and row["run_time_ms_max"] == 8000 and row["opportunity_time_ms_avg"] == 200


def test_an_unparseable_timestamp_is_kept_as_written_not_poison(runs_url):
    store = open_store(runs_url)
    put(store, "runs/raw/20240115t1300Z_a.json", sam_result(1, 0.9, at="Monday morning"))
    assert merge(runs_url).files_quarantined == 0
    (key,) = keys(store, "runs/records/")
    assert [r["timestamp"] for r in records_rows(store, key)] == ["Monday morning"]


def test_a_late_file_gets_its_own_records_object_and_the_row_follows(runs_url):
    store = open_store(runs_url)
    good = write_sam_window(store)
    merge(runs_url)
    put(store, "runs/raw/20240115t1303Z_late.json", item(9, 0.95))
    good.add("runs/raw/20240115t1303Z_late.json")
    result = merge(runs_url, at=datetime(2024, 1, 15, 13, 40, tzinfo=UTC))
    assert result.late_files == 1
    records = keys(store, "runs/records/")
    assert len(records) == 2
    assert sorted(len(records_rows(store, k)) for k in records) == [1, 5]
    row = orjson.loads(objects.read(store, "runs/windows/dt=2024-01-15/20240115t1305Z.json").data)
    assert (row["files"], row["opportunities_processed"], row["matches"]) == (6, 6, 4)
    check_exactly_once(runs_url, good, set())


def test_records_that_cannot_be_written_keep_the_files_until_a_run_writes_them(runs_url):
    """The aggregate is stored, the records are not: the files must not be archived (their rows
    would be lost); the next run finds them counted, writes the records from them, archives them."""
    store = open_store(runs_url)
    good = write_sam_window(store)
    denied = objects.PermissionDenied("AccessDenied: not authorized to perform s3:PutObject on runs/records/*", None, "put")
    faulty = FaultyStore(store, lambda name, args: denied if name == "put" and args[0].startswith("runs/records/") else None)
    result = merge(runs_url, store=faulty)
    assert (result.files_processed, result.files_archived, result.files_failed) == (5, 0, 5)
    assert [f["operation"] for f in result.body()["failed_operations"]] == ["records"]
    assert keys(store, "runs/records/") == [] and len(keys(store, "runs/raw/")) == 5
    retry = merge(runs_url)
    assert (retry.files_processed, retry.files_archived, retry.files_failed) == (0, 5, 0)
    check_exactly_once(runs_url, good, set())


def test_a_missing_window_row_is_written_before_the_files_are_archived(runs_url):
    store = open_store(runs_url)
    good = write_sam_window(store)
    reset = objects.RequestFailed("connection reset", "runs/windows/", "put")
    faulty = FaultyStore(store, lambda name, args: reset if name == "put" and args[0].startswith("runs/windows/") else None)
    result = merge(runs_url, store=faulty)
    assert (result.files_archived, result.files_failed) == (0, 5)
    assert [f["operation"] for f in result.body()["failed_operations"]] == ["window row"]
    assert merge(runs_url).files_archived == 5
    check_exactly_once(runs_url, good, set())


def test_records_output_can_be_turned_off(runs_url):
    store = open_store(runs_url)
    write_sam_window(store)
    result = merge(runs_url, records_output=False)
    assert result.files_archived == 5
    assert keys(store, "runs/records/") == keys(store, "runs/windows/") == []
    assert all("records" not in f for f in aggregates(store)["runs/20240115t1305Z.json"]["source_files"])


@pytest.mark.parametrize("raw", ["runs/", "runs/raw/"])
def test_the_outputs_are_never_read_as_input(runs_url, raw):
    store = open_store(runs_url)
    put(store, f"{raw}20240115t1300Z_a.json", item(1, 0.9))
    merge(runs_url, raw_prefix=raw)
    again = merge(runs_url, at=datetime(2024, 1, 16, tzinfo=UTC), raw_prefix=raw)
    assert (again.files_processed, again.files_quarantined, again.windows) == (0, 0, [])
    assert len(keys(store, "runs/records/")) == len(keys(store, "runs/windows/")) == 1


def test_records_held_while_another_run_rebuilds_them_after_a_rewrite_end_whole(runs_url):
    """Run A commits a window; its records write is held while the producer writes one of the files again and
    run B merges the same window (B finds the records missing and rebuilds them, without the file it can no
    longer read in the version counted). When A's write goes on, the records hold every row the aggregate
    counts: A holds them whole and replaces B's shorter object."""
    store = open_store(runs_url)
    good = write_sam_window(store)
    rewritten = sorted(good)[0]
    held = []

    def hold_records(name, args):
        if name == "put" and args[0].startswith("runs/records/") and not held:
            held.append(args[0])
            put(store, rewritten, sam_result(9, 0.5))  # the producer writes the key again
            b = merge(runs_url)  # run B, at full speed, while A waits
            assert (b.files_processed, b.files_rewritten) == (0, 1) and args[0] in keys(store, "runs/records")
        return None

    a = merge(runs_url, store=FaultyStore(open_store(runs_url), hold_records))
    assert held and a.files_processed == 5
    (doc,) = aggregates(store).values()
    rows = records_rows(store, held[0])
    assert sorted({r["source_file"] for r in rows}) == sorted(f["key"] for f in doc["source_files"])
    assert len(rows) == doc["stats"]["opportunities_processed"]
