"""The offline HTML report: both sections from the jobs' stores, and its no-data states."""

import re
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.report import build_report
from rollwise.runs.job import MergeJob
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.runs import item, open_store, put
from support.summaries import live_days

UTC = UTC


@pytest.fixture
def stores(tmp_path):
    summaries = SQLiteSummaryStore(tmp_path / "s.db", shards=4)
    summaries.create()
    live_days(summaries, date(2024, 1, 1), 15, per_day=30)
    runs = open_store(f"file://{tmp_path / 'bucket'}")
    for i in range(8):
        put(runs, f"runs/raw/20240110t12{i:02d}Z_{i}.json", item(i, 0.5 + i / 20, link=f"https://sam.example/{i}"))
    for i in range(3):  # a window with only errors, and no processing times
        put(runs, f"runs/raw/20240110t1331Z_e{i}.json", {"noticeId": f"E{i}", "error": "upstream down"})
    put(runs, "runs/raw/20240110t1201Z_bad.json", b"{oops")
    MergeJob(runs).run(datetime(2024, 1, 10, 14, tzinfo=UTC))
    return summaries, MergeJob(runs)


def self_contained(page: str) -> None:
    assert page.startswith("<!doctype html>") and "</html>" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page and "@import" not in page
    # the only URLs are the data's own links (the SVG namespace aside)
    urls = set(re.findall(r"https?://[^\"'<> ]+", page)) - {"http://www.w3.org/2000/svg"}
    assert all(u.startswith("https://sam.example/") for u in urls), urls


def test_a_day_with_both_jobs(stores):
    summaries, job = stores
    page = build_report(summaries, job, date(2024, 1, 10), date(2024, 1, 10))
    self_contained(page)
    assert page.count("<svg") >= 2 + 3 * 3  # runs: matches and times; per tenant: outcomes, rate, durations
    totals = re.search(r'<table class="totals">.*?</table>', page).group(0)
    assert re.findall(r"<td>([\d,]+)</td>", totals) == ["11", "11", "4", "4", "3"]  # files, processed, matches, no matches, errors
    top = re.search(r"<h3>Top opportunities</h3><table>(.*?)</table>", page).group(1)
    assert re.findall(r"<td>(SOL-\d+)</td>", top) == ["SOL-00007", "SOL-00006", "SOL-00005", "SOL-00004"]
    assert 'href="https://sam.example/7"' in top
    assert "runs/raw/20240110t1201Z_bad.json" in page and "invalid JSON" in page
    for tenant in ("tenant-000", "tenant-001", "tenant-002"):
        assert f"Tenant {tenant}" in page
    assert "Latest weekly: 2024-01-08" in page and "no closed monthly period yet" in page


def test_a_window_with_only_errors_says_so(stores):
    summaries, job = stores
    from rollwise.report.collect import RunsData
    from rollwise.report.page import render_runs
    from rollwise.runs.read import aggregates_of_day

    only_errors = [d for d in aggregates_of_day(job.store, job.layout, date(2024, 1, 10)) if d["stats"]["errors"] == d["stats"]["files"]]
    assert only_errors and only_errors[0]["stats"]["opportunity_time_ms"]["p50"] is None

    page = render_runs(RunsData(aggregates=only_errors))
    assert "No data: no processing times were reported" in page and "No data: no matches in this range" in page


def test_empty_range_and_unknown_tenant(stores):
    summaries, job = stores
    page = build_report(summaries, job, date(2023, 6, 1), date(2023, 6, 3))
    self_contained(page)
    assert "No data: no window aggregates in this range" in page and "No data: no daily summaries in this range" in page
    page = build_report(summaries, job, date(2024, 1, 10), date(2024, 1, 10), tenant="nobody")
    assert "No data: tenant nobody has no summaries in this range" in page


def test_the_cli_writes_the_file(stores, tmp_path):
    summaries, job = stores
    out = tmp_path / "r" / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-15",
            "--tenant",
            "tenant-001",
            "--out",
            str(out),
            "--store",
            summaries.describe(),
            "--bucket",
            job.store.url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    page = out.read_text()
    self_contained(page)
    assert "Tenant tenant-001" in page and "Tenant tenant-000" not in page
    assert "Latest weekly: 2024-01-08" in page and "No data: no closed monthly period yet" in page
    bad = CliRunner().invoke(app, ["report", "--date", "2024-01-01", "--since", "2024-01-01", "--out", str(out)])
    assert bad.exit_code == 2 and "not both" in bad.output


def test_daily_percentiles_merge_the_metric_types(stores):
    from rollwise.periods import period_containing
    from rollwise.report.collect import daily_percentiles
    from rollwise.sketch import Distribution

    summaries, _ = stores
    rows = [
        s
        for s in summaries.read_summaries(period_containing("daily", date(2024, 1, 10)), summaries.shard_of("tenant-000")).values()
        if s.tenant_id == "tenant-000" and s.owner_id == "__tenant__"
    ]
    assert len({s.metric_type for s in rows}) >= 2  # more than one sketch to merge
    p50, p95 = daily_percentiles(rows, [date(2024, 1, 10)])
    every = Distribution()
    for s in rows:
        every.merge(s.summary().durations)
    assert every.count == sum(s.figures["duration_count"] for s in rows) > 0
    assert [p50[0], p95[0]] == every.quantiles((0.5, 0.95))


def test_on_dynamodb_and_s3(moto_server, monkeypatch, tmp_path):
    import uuid

    import boto3

    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.stores import dynamodb_client

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    summaries = DynamoDBSummaryStore(f"report-{uuid.uuid4().hex[:8]}", shards=4, client=dynamodb_client(moto_server.url))
    summaries.create()
    live_days(summaries, date(2024, 1, 8), 8, per_day=20)
    bucket = f"report-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    runs = open_store(f"s3://{bucket}")
    for i in range(4):
        put(runs, f"runs/raw/20240110t12{i:02d}Z_{i}.json", item(i, 0.8))
    MergeJob(runs).run(datetime(2024, 1, 10, 14, tzinfo=UTC))
    page = build_report(summaries, MergeJob(runs), date(2024, 1, 8), date(2024, 1, 14))
    self_contained(page)
    assert "Tenant tenant-002" in page and "Latest weekly: 2024-01-08" in page
    assert re.findall(r"<td>([\d,]+)</td>", re.search(r'<table class="totals">.*?</table>', page).group(0)) == ["4", "4", "4", "0", "0"]


def test_headline_figures_come_with_their_change_against_the_previous_period(stores):
    summaries, job = stores
    page = build_report(summaries, job, date(2024, 1, 10), date(2024, 1, 12))
    (table,) = re.findall(r'<h3>Tenant tenant-001</h3><table class="headline">(.*?)</table>', page)
    cells = dict(zip(re.findall(r"<th>(.*?)</th>", table), re.findall(r"<td>(.*?)</td>", table), strict=True))

    def submitted(first, last):
        return sum(
            s.figures["submission_count"] for s in summaries.query_summaries("tenant-001", "daily", since=first, until=last, owner_id="__tenant__")
        )

    now, before = submitted(date(2024, 1, 10), date(2024, 1, 12)), submitted(date(2024, 1, 7), date(2024, 1, 9))
    assert now and before
    assert cells["executions"] == f"{now:,} ({100 * (now - before) / before:+.1f}%)"
    assert re.fullmatch(r"[\d.]+ \([+-]\d+\.\d pt\)", cells["success rate %"])  # a rate changes by points
    assert "change against the previous 3 day(s)" in page
    assert "Latest weekly: 2024-01-08 to 2024-01-14 (it covers days outside this range)" in page


def _window_doc(start, matches, times):
    from datetime import timedelta

    from rollwise.sketch import Distribution
    from rollwise.timestamps import utc_text

    d = Distribution()
    d.add_many(times)
    return {
        "window_start": utc_text(start),
        "window_end": utc_text(start + timedelta(minutes=5)),
        "stats": {"matches": matches, "no_matches": 1, "errors": 0, "files": 2},
        "merge_state": {"opportunity_time": d.to_state()},
    }


def test_long_ranges_are_grouped_per_hour_or_day_with_sketches_merged():
    from datetime import timedelta

    from rollwise.report.collect import per_bucket, time_buckets

    t0 = datetime(2024, 1, 10, 13, 5, tzinfo=UTC)
    short = [_window_doc(t0, 1, [10]), _window_doc(t0 + timedelta(minutes=55), 2, [20])]
    assert time_buckets(short) == (timedelta(minutes=5), t0, t0 + timedelta(minutes=60))
    two_days = short + [_window_doc(t0 + timedelta(days=1, minutes=2 * 5), 4, [1000] * 10)]
    bucket, start, end = time_buckets(two_days)
    assert (bucket, start, end) == (timedelta(hours=1), datetime(2024, 1, 10, 13, tzinfo=UTC), datetime(2024, 1, 11, 14, tzinfo=UTC))
    grouped = per_bucket(two_days, bucket, start)
    assert sorted(grouped) == [datetime(2024, 1, 10, 13, tzinfo=UTC), datetime(2024, 1, 10, 14, tzinfo=UTC), datetime(2024, 1, 11, 13, tzinfo=UTC)]
    assert [grouped[t]["matches"] for t in sorted(grouped)] == [1, 2, 4]
    ten_days = two_days + [_window_doc(t0 + timedelta(days=9), 8, [30])]
    bucket, start, _ = time_buckets(ten_days)
    assert bucket == timedelta(days=1) and start == datetime(2024, 1, 10, tzinfo=UTC)
    day = per_bucket(ten_days, bucket, start)[start]
    assert day["matches"] == 3 and day["time"].count == 2  # the two windows of the first day, their sketches merged
    assert day["time"].quantiles((0.5, 1.0)) == pytest.approx([10, 20], rel=0.01)
