"""Real SQL over what the merge job wrote: DuckDB reading the records and window rows with hive
partitioning, as Athena reads them through the stack's Glue tables."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import duckdb
import orjson
import pytest

from rollwise.runs.job import MergeJob
from rollwise.runs.settings import MergeSettings
from rollwise.runs.tables import RECORD_COLUMNS, WINDOW_COLUMNS
from rollwise.timestamps import utc_text
from support.runs import aggregates, item, open_store, put, run_summary, sam_result

UTC = UTC


@pytest.fixture
def merged(tmp_path):
    """Three days of sam results, items of other producers and run summaries, with a late file,
    across windows that straddle midnight."""
    url = f"file://{tmp_path}"
    store = open_store(url)
    start = datetime(2024, 1, 14, 23, 40, tzinfo=UTC)
    n = 0
    for step in range(0, 36 * 60, 17):  # a file every 17 minutes, for 36 hours
        at = start + timedelta(minutes=step)
        stamp = at.strftime("%Y%m%dt%H%MZ")
        score = (step * 37 % 100) / 100
        kind = step % 3
        if kind == 0:
            doc = sam_result(n, score, at=at.strftime("%Y-%m-%dT%H:%M:%S.123456"), solicitation="" if n % 4 == 0 else None)
        elif kind == 1:
            doc = [item(n, score), item(n + 1000, 1 - score, error="timeout" if n % 5 == 0 else None)]
        else:
            doc = run_summary(f"run-{n}", 20 + n % 7, 3, errors=n % 2, ms=1000 + n)
        put(store, f"runs/raw/{stamp}_{n}.json", doc)
        n += 1
    job = MergeJob(store, MergeSettings())
    job.run(start + timedelta(hours=20))
    put(store, "runs/raw/20240115t0001Z_late.json", sam_result(9999, 0.97))  # its window was merged already
    job.run(start + timedelta(hours=40))
    docs = aggregates(store)
    assert sum(d["stats"]["files"] for d in docs.values()) == n + 1
    return tmp_path, docs


def test_sums_per_window_equal_the_aggregates(merged):
    root, docs = merged
    rows = duckdb.sql(f"""
        SELECT window_end, count(DISTINCT source_file) AS files, sum(opportunities_processed) AS processed,
               sum(matches) AS matches, sum(no_matches) AS no_matches, sum(errors) AS errors
        FROM read_json('{root}/runs/records/*/*.jsonl.gz', hive_partitioning = true, format = 'newline_delimited')
        GROUP BY window_end ORDER BY window_end""").fetchall()
    expected = sorted(
        (
            d["window_end"],
            d["stats"]["files"],
            d["stats"]["opportunities_processed"],
            d["stats"]["matches"],
            d["stats"]["no_matches"],
            d["stats"]["errors"],
        )
        for d in docs.values()
    )
    assert [(utc_text(r[0]), *r[1:]) for r in rows] == expected  # DuckDB reads the times as timestamps
    assert len(expected) > 100


def test_sums_per_day_equal_the_aggregates_of_windows_starting_that_day(merged):
    root, docs = merged
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in docs.values():
        day = by_day[d["window_start"][:10]]
        day[0] += d["stats"]["opportunities_processed"]
        day[1] += d["stats"]["matches"]
        day[2] += d["stats"]["files"]
    records = duckdb.sql(f"""
        SELECT CAST(dt AS VARCHAR), sum(opportunities_processed), sum(matches), count(DISTINCT source_file)
        FROM read_json('{root}/runs/records/*/*.jsonl.gz', hive_partitioning = true, format = 'newline_delimited')
        GROUP BY dt ORDER BY dt""").fetchall()
    assert [(d, [p, m, f]) for d, p, m, f in records] == sorted(by_day.items())
    windows = duckdb.sql(f"""
        SELECT CAST(dt AS VARCHAR), sum(opportunities_processed), sum(matches), sum(files), count(*)
        FROM read_json('{root}/runs/windows/*/*.json', hive_partitioning = true, format = 'newline_delimited')
        GROUP BY dt ORDER BY dt""").fetchall()
    assert [(d, [p, m, f]) for d, p, m, f, _ in windows] == sorted(by_day.items())
    assert sum(c for *_, c in windows) == len(docs)
    assert sorted(by_day) == ["2024-01-14", "2024-01-15", "2024-01-16"]


def test_the_columns_are_the_ones_the_glue_tables_declare(merged):
    root, _ = merged
    for pattern, columns in ((f"{root}/runs/records/*/*.jsonl.gz", RECORD_COLUMNS), (f"{root}/runs/windows/*/*.json", WINDOW_COLUMNS)):
        found = duckdb.sql(f"SELECT * FROM read_json('{pattern}', format = 'newline_delimited', hive_partitioning = false)")
        assert found.columns == [n for n, _ in columns]
        # Every value reads as the declared type (DuckDB refuses a value that does not convert).
        typed = ", ".join(f"{n!r}: {_duck(t)!r}" for n, t in columns)
        count = duckdb.sql(
            f"SELECT count(*) FROM read_json('{pattern}', format = 'newline_delimited', hive_partitioning = false, columns = {{{typed}}})"
        ).fetchall()[0][0]
        assert count == len(found.fetchall()) > 0
    # Queries people ask: the best matches of a day, with their links and whole records.
    best = duckdb.sql(f"""
        SELECT id, score, link, record FROM read_json('{root}/runs/records/*/*.jsonl.gz', hive_partitioning = true,
               format = 'newline_delimited')
        WHERE dt = '2024-01-15' AND matched AND link IS NOT NULL ORDER BY score DESC, id LIMIT 3""").fetchall()
    assert best[0][1] == 0.97 and best[0][2].startswith("https://sam.gov/opp/")
    assert orjson.loads(best[0][3])["noticeId"] == f"{9999:032x}"


def _duck(glue: str) -> str:
    return {"string": "VARCHAR", "double": "DOUBLE", "boolean": "BOOLEAN", "bigint": "BIGINT"}[glue]
