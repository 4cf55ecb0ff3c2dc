"""The summaries job on every store: schedule, late data, idempotency, backfill, failures."""

from datetime import UTC, date, datetime

import orjson
import pytest

import rollwise.summaries.leases as leases_module
from rollwise.periods import period_containing
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import backfill_plan, run, scheduled_plan
from support.summaries import WriteLog, dump, live_days, nightly

# The job's periods, on stores of two shards: every period is computed once a shard, and two keep a shard that
# fails or waits beside one that does not.
pytestmark = pytest.mark.shards(2)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_one_scenario_gives_identical_summaries_on_every_store(request, tmp_path):
    from support.stores import make_summary_store

    dumps = {}
    for kind in ("sqlite", "moto", "dynalite"):
        store = make_summary_store(kind, request, tmp_path / kind)
        results = live_days(store, date(2024, 1, 25), 12, per_day=20)
        late = Recorder(store, now=nightly(date(2024, 2, 5)))
        late.record(
            {
                "tenant_id": "tenant-001",
                "owner_id": "user-000",
                "metric_type": "document_ocr",
                "execution_id": "late-1",
                "status": "failed",
                "submitted_at": "2024-01-29T08:00:00Z",
                "completed_at": "2024-01-30T09:00:00Z",
                "duration_ms": 777,
            }
        )
        late.flush()
        results.append(run(store, scheduled_plan(store, nightly(date(2024, 2, 6)))))
        dumps[kind] = (dump(store), [r.body() for r in results])
    assert dumps["sqlite"] == dumps["moto"] == dumps["dynalite"]
    summaries, bodies = dumps["sqlite"]
    kinds = {s["period_type"] for s in summaries}
    assert kinds == {"daily", "weekly", "monthly"}
    assert bodies[-1]["periods"] == ["daily:2024-01-29", "daily:2024-01-30", "daily:2024-02-06", "weekly:2024-01-29", "monthly:2024-01-01"]


def weekly_wide(store, tenant, start):
    (row,) = [
        s.to_dict() for s in store.query_summaries(tenant, "weekly", since=start, until=start, owner_id="__tenant__", metric_type="document_ocr")
    ]
    return row


def test_late_data_reaches_its_day_week_and_month_in_the_next_run(summary_store):
    live_days(summary_store, date(2024, 1, 29), 8, per_day=30)  # through Monday Feb 5: week of Jan 29 is closed
    before = weekly_wide(summary_store, "tenant-001", date(2024, 1, 29))
    month_before = [s.to_dict() for s in summary_store.query_summaries("tenant-001", "monthly", owner_id="__tenant__", metric_type="document_ocr")]
    with Recorder(summary_store, now=datetime(2024, 2, 6, 15, tzinfo=UTC)) as rec:
        rec.record(
            {
                "tenant_id": "tenant-001",
                "owner_id": "user-000",
                "metric_type": "document_ocr",
                "execution_id": "late",
                "status": "timed_out",
                "submitted_at": "2024-01-31T23:00:00Z",
                "completed_at": "2024-02-01T01:00:00Z",
                "duration_ms": 7_200_000,
            }
        )
    result = run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 2, 6))))
    assert result.periods == ["daily:2024-01-31", "daily:2024-02-01", "daily:2024-02-06", "weekly:2024-01-29", "monthly:2024-01-01"]
    after = weekly_wide(summary_store, "tenant-001", date(2024, 1, 29))
    assert after["submission_count"] == before["submission_count"] + 1
    assert after["timeout_count"] == before["timeout_count"] + 1
    assert after["max_duration_ms"] == 7_200_000 and after["duration_count"] == before["duration_count"] + 1
    (month_after,) = [s.to_dict() for s in summary_store.query_summaries("tenant-001", "monthly", owner_id="__tenant__", metric_type="document_ocr")]
    assert month_after["submission_count"] == month_before[0]["submission_count"] + 1
    assert month_after["timeout_count"] == month_before[0]["timeout_count"]  # the outcome fell in February
    assert summary_store.invalidations() == []
    again = run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 2, 7))))
    assert again.periods == ["daily:2024-02-07"]


def test_a_rerun_over_unchanged_input_writes_nothing(summary_store):
    live_days(summary_store, date(2024, 1, 1), 8, per_day=30)
    log = WriteLog(summary_store)
    reference = nightly(date(2024, 1, 7))  # Monday the 8th: the day and its week
    first = run(summary_store, scheduled_plan(summary_store, reference))
    assert first.summaries_created == 0 and first.summaries_updated == 0 and first.summaries_unchanged > 0
    log.reset()
    again = run(summary_store, scheduled_plan(summary_store, reference))
    assert again.body() == first.body()
    assert log.summary_writes() == 0 and log.scans() == 0
    assert log.reads() > 0  # the log does see this store's requests


def test_backfill_and_dry_run(summary_store, monkeypatch):
    from typer.testing import CliRunner

    from rollwise.cli import app

    with Recorder(summary_store, now=datetime(2024, 3, 10, tzinfo=UTC)) as rec:
        from rollwise.samples import sample_executions

        for raw in sample_executions(date(2024, 2, 26), 6, per_day=25, tenants=3, owners=3):
            rec.record(raw)
    log = WriteLog(summary_store)
    plan = backfill_plan(summary_store, date(2024, 2, 27), date(2024, 3, 2), datetime(2024, 3, 10, tzinfo=UTC))
    assert "monthly:2024-02-01" in plan.describe() and "weekly:2024-02-26" in plan.describe()
    if hasattr(summary_store, "client"):
        monkeypatch.setenv("AWS_ENDPOINT_URL", summary_store.client.meta.endpoint_url)
    # the command's dry run, on this very store: it lists the plan and writes nothing
    dry = CliRunner().invoke(
        app,
        [
            "summaries",
            "backfill",
            "2024-02-27",
            "2024-03-02",
            "--at",
            "2024-03-10T00:00:00Z",
            "--dry-run",
            "--json",
            "--store",
            summary_store.describe(),
        ],
        env={"ROLLWISE_SHARDS": str(summary_store.shards)},
    )
    assert dry.exit_code == 0, dry.output
    assert orjson.loads(dry.output) == {"dry_run": True, "periods": plan.describe()}
    assert log.summary_writes() == 0
    assert list(summary_store.query_summaries("tenant-000", "daily")) == []
    result = run(summary_store, plan)
    assert result.summaries_created > 0 and result.errors == []
    assert log.summary_writes() > 0  # the same log sees the real run's writes
    week = [s.to_dict() for s in summary_store.query_summaries("tenant-000", "weekly", owner_id="__tenant__")]
    days = [
        s.to_dict()
        for s in summary_store.query_summaries("tenant-000", "daily", since=date(2024, 2, 26), until=date(2024, 3, 3), owner_id="__tenant__")
    ]
    for metric in {w["metric_type"] for w in week}:
        w = next(x for x in week if x["metric_type"] == metric)
        # the week of Feb 26 overlaps the range: all its days feed it, the 26th (outside the range) included
        assert w["submission_count"] == sum(d["submission_count"] for d in days if d["metric_type"] == metric)
    assert {d["period_start"] for d in days} == {"2024-02-26", "2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"}


class Flaky:
    """A store whose records of one (day, shard) cannot be read."""

    def __init__(self, inner, day, shard):
        self.inner, self.day, self.shard = inner, day, shard

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read_records(self, day, shard, zone="UTC"):
        if (day, shard) == (self.day, self.shard):
            raise ConnectionError("simulated outage")
        return self.inner.read_records(day, shard, zone)


def test_a_failed_group_fails_what_depends_on_it_and_nothing_else(summary_store):
    live_days(summary_store, date(2024, 1, 8), 6, per_day=30)
    with Recorder(summary_store, now=datetime(2024, 1, 14, 12, tzinfo=UTC)) as rec:
        rec.record(
            {
                "tenant_id": "tenant-000",
                "owner_id": "u",
                "metric_type": "m",
                "execution_id": "late",
                "status": "queued",
                "submitted_at": "2024-01-09T01:00:00Z",
            }
        )
    bad_shard = summary_store.shard_of("tenant-000")
    flaky = Flaky(summary_store, date(2024, 1, 14), bad_shard)
    plan = scheduled_plan(summary_store, nightly(date(2024, 1, 14)))
    result = run(flaky, plan)
    assert sorted(result.errors) == sorted(
        [
            f"daily:2024-01-14 shard {bad_shard}: simulated outage",
            f"weekly:2024-01-08 shard {bad_shard}: depends on daily:2024-01-14, which failed: simulated outage",
        ]
    )
    # the other shards were done, and the failed shard's marker is kept for the retry
    assert result.summaries_created > 0
    assert [(m.day, m.shard) for m in summary_store.invalidations()] == [(date(2024, 1, 9), bad_shard)]
    retry = run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 1, 14))))
    assert retry.errors == [] and summary_store.invalidations() == []


@pytest.mark.parametrize("kind", ["sqlite", "moto"])
def test_workers_give_the_same_summaries_as_one_process(kind, request, tmp_path, monkeypatch):
    from rollwise.samples import sample_executions
    from support.stores import make_summary_store

    if kind == "moto":
        monkeypatch.setenv("AWS_ENDPOINT_URL", request.getfixturevalue("moto_server").url)  # the workers' own clients
    outcomes = []
    for name in ("one", "many"):
        store = make_summary_store(kind, request, tmp_path / name, shards=4)  # 3 workers: one takes two shards
        # two closed weeks, in an open month: the days, then the weeks the finish step rolls up
        with Recorder(store, now=datetime(2024, 1, 22, tzinfo=UTC)) as rec:
            for raw in sample_executions(date(2024, 1, 8), 12, per_day=18, tenants=9, owners=3):
                rec.record(raw)
        plan = backfill_plan(store, date(2024, 1, 8), date(2024, 1, 19), datetime(2024, 1, 22, 2, tzinfo=UTC))
        result = run(store, plan, workers=1 if name == "one" else 3)
        outcomes.append((result.body(), dump(store, tenants=[f"tenant-{i:03d}" for i in range(9)])))
    assert outcomes[0] == outcomes[1]
    body, summaries = outcomes[0]
    assert body["summaries_created"] == len(summaries) > 0 and body["errors"] == []


@pytest.mark.shards(4)  # three tenants' markers in at least two shards
def test_a_shard_without_a_result_keeps_its_markers(summary_store):
    from rollwise.summaries.job import finish, run_shard

    with Recorder(summary_store, now=datetime(2024, 1, 20, tzinfo=UTC)) as rec:
        for t in ("tenant-000", "tenant-001", "tenant-003"):
            rec.record(
                {"tenant_id": t, "owner_id": "u", "metric_type": "m", "execution_id": "x", "status": "queued", "submitted_at": "2024-01-10T01:00:00Z"}
            )
    plan = scheduled_plan(summary_store, datetime(2024, 1, 20, 2, tzinfo=UTC))
    marked = sorted({m.shard for m in plan.markers})
    assert len(marked) >= 2
    lost = marked[0]
    finish(summary_store, plan, [(s, run_shard(summary_store, plan, s)) for s in plan.shards if s != lost])
    assert [m.shard for m in summary_store.invalidations()] == [lost]


def test_a_corrected_record_moves_and_is_counted_once(summary_store):
    """Submitted the 9th, completed the 10th with 5 profiles; then the same execution failed, completed the 11th."""
    first = {
        "tenant_id": "acme",
        "owner_id": "u",
        "metric_type": "ocr",
        "execution_id": "ex-1",
        "status": "succeeded",
        "submitted_at": "2024-01-09T10:00:00Z",
        "completed_at": "2024-01-10T10:00:00Z",
        "profiles": 5,
    }
    with Recorder(summary_store, now=datetime(2024, 1, 10, 12, tzinfo=UTC)) as rec:
        rec.record(first)
    run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 1, 10))))
    with Recorder(summary_store, now=datetime(2024, 1, 12, 12, tzinfo=UTC)) as rec:
        rec.record({**first, "status": "failed", "completed_at": "2024-01-11T08:00:00Z"})
    shard = summary_store.shard_of("acme")
    assert list(summary_store.read_records(date(2024, 1, 10), shard)) == []  # no copy left on a day without an event
    assert [r["status"] for r in summary_store.read_records(date(2024, 1, 9), shard)] == ["failed"]
    assert sorted((m.day, m.shard) for m in summary_store.invalidations()) == [
        (date(2024, 1, 9), shard),
        (date(2024, 1, 10), shard),
        (date(2024, 1, 11), shard),
    ]
    run(summary_store, scheduled_plan(summary_store, datetime(2024, 2, 1, 2, tzinfo=UTC)))
    (month,) = [s.to_dict() for s in summary_store.query_summaries("acme", "monthly", owner_id="__tenant__")]
    assert (month["submission_count"], month["success_count"], month["failure_count"], month["total_profiles"]) == (1, 0, 1, 5)
    days = {s.period.start: s.figures for s in summary_store.query_summaries("acme", "daily", owner_id="__tenant__")}
    assert set(days) == {date(2024, 1, 9), date(2024, 1, 11)} and days[date(2024, 1, 11)]["failure_count"] == 1
    assert summary_store.invalidations() == []


def test_a_backfill_leaves_every_period_it_overlaps_correct(summary_store):
    """22 January records and one of February 2nd: backfilling January must not leave the week of Jan 29
    with 1 submission or the year with 22."""
    base = {"owner_id": "u", "metric_type": "ocr", "tenant_id": "acme", "status": "queued"}
    with Recorder(summary_store, now=datetime(2025, 1, 5, tzinfo=UTC)) as rec:
        for i in range(22):
            rec.record({**base, "execution_id": f"jan-{i}", "submitted_at": f"2024-01-{10 + i % 22:02d}T10:00:00Z"})
        rec.record({**base, "execution_id": "feb-2", "submitted_at": "2024-02-02T10:00:00Z"})
    result = run(summary_store, backfill_plan(summary_store, date(2024, 1, 1), date(2024, 1, 31), datetime(2025, 1, 5, tzinfo=UTC)))
    assert result.errors == []
    wide = lambda kind: {s.period.start: s.figures["submission_count"] for s in summary_store.query_summaries("acme", kind, owner_id="__tenant__")}  # noqa: E731
    assert wide("weekly")[date(2024, 1, 29)] == 3 + 1  # Jan 29, 30 and 31, and Feb 2
    assert wide("yearly") == {date(2024, 1, 1): 23}
    assert wide("monthly") == {date(2024, 1, 1): 22, date(2024, 2, 1): 1}


class Interleaved:
    """The store as run A sees it: once A has read the day's records, ``meanwhile`` runs (late data, run B)."""

    def __init__(self, inner, day, meanwhile):
        self.inner, self.day, self.meanwhile, self.done = inner, day, meanwhile, False
        self.shard = inner.shard_of("acme")

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read_records(self, day, shard, zone="UTC"):
        yield from self.inner.read_records(day, shard, zone)
        if (day, shard) == (self.day, self.shard) and not self.done:
            self.done = True
            self.meanwhile()


def acme(i, day):
    return {
        "tenant_id": "acme",
        "owner_id": "u",
        "metric_type": "ocr",
        "execution_id": f"x{i}",
        "status": "queued",
        "submitted_at": f"{day.isoformat()}T10:00:00Z",
    }


def wide_submissions(store, day):
    return sum(s.figures["submission_count"] for s in store.query_summaries("acme", "daily", since=day, until=day, owner_id="__tenant__"))


def test_overlapping_runs_never_let_an_older_computation_overwrite_a_newer_one(summary_store):
    """Run A reads a day; 7 late records arrive; run B runs whole; then A writes. The late data must survive."""
    day = date(2024, 1, 10)
    with Recorder(summary_store, now=datetime(2024, 1, 10, 20, tzinfo=UTC)) as rec:
        for i in range(40):
            rec.record(acme(i, day))
    b_results = []

    def late_data_then_run_b():
        with Recorder(summary_store, now=datetime(2024, 1, 11, 3, tzinfo=UTC)) as rec:
            for i in range(40, 47):
                rec.record(acme(i, day))
        b_results.append(run(summary_store, scheduled_plan(summary_store, datetime(2024, 1, 11, 3, 30, tzinfo=UTC))))

    a = run(Interleaved(summary_store, day, late_data_then_run_b), scheduled_plan(summary_store, nightly(day)))
    (b,) = b_results
    shard = summary_store.shard_of("acme")
    assert b.deferred == [f"daily:2024-01-10 shard {shard}: being computed by another run; left to the next run"]
    assert b.errors == [] and a.errors == [] and a.deferred == []
    assert [(m.day, m.shard) for m in summary_store.invalidations()] == [(day, shard)]  # kept for the next run
    nxt = run(summary_store, scheduled_plan(summary_store, datetime(2024, 1, 12, 2, tzinfo=UTC)))
    assert nxt.errors == nxt.deferred == []
    assert wide_submissions(summary_store, day) == 47 and summary_store.invalidations() == []


def five_records_and_a_clock(summary_store, monkeypatch):
    """Five records of 2024-01-10, and the leases' clock under the test's hand."""
    day = date(2024, 1, 10)
    with Recorder(summary_store, now=datetime(2024, 1, 10, 20, tzinfo=UTC)) as rec:
        for i in range(5):
            rec.record(acme(i, day))
    clock = [1_000_000.0]
    monkeypatch.setattr(leases_module.time, "time", lambda: clock[0])
    return day, clock


def test_a_run_that_held_its_group_too_long_does_not_write(summary_store, monkeypatch):
    day, clock = five_records_and_a_clock(summary_store, monkeypatch)

    def paused():
        clock[0] += leases_module.LEASE_SECONDS  # the process was suspended for the whole lease

    slow = run(Interleaved(summary_store, day, paused), scheduled_plan(summary_store, nightly(day)))
    shard = summary_store.shard_of("acme")
    assert slow.deferred == [
        f"daily:2024-01-10 shard {shard}: held longer than half its {leases_module.LEASE_SECONDS} s lease without renewing it; left to the next run"
    ]
    assert wide_submissions(summary_store, day) == 0
    clock[0] += 1
    again = run(summary_store, scheduled_plan(summary_store, nightly(day)))  # the lease was released: the group is free
    assert again.deferred == [] and wide_submissions(summary_store, day) == 5


def test_a_long_run_renews_its_hold_and_keeps_writing(summary_store, monkeypatch):
    day, clock = five_records_and_a_clock(summary_store, monkeypatch)

    def slow_but_alive():
        clock[0] += leases_module.LEASE_SECONDS * 0.3  # past a quarter: the hold is renewed, not lost

    result = run(Interleaved(summary_store, day, slow_but_alive), scheduled_plan(summary_store, nightly(day)))
    assert result.deferred == [] and wide_submissions(summary_store, day) == 5


def test_a_run_out_of_time_marks_what_it_did_not_start_and_the_next_run_finishes_it(summary_store, monkeypatch, tmp_path):
    from rollwise.summaries import job as job_module
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    reference_store = SQLiteSummaryStore(tmp_path / "uninterrupted.db", shards=summary_store.shards)
    reference_store.create()
    for store in (summary_store, reference_store):
        live_days(store, date(2024, 1, 8), 7, per_day=30)  # the night of Sunday the 14th: its day and its week
    # The same data, nights included, on both stores; now recompute the 14th and its week from scratch on the
    # store under test, with a clock that runs out after the first period.
    for shard in range(summary_store.shards):
        for period in (period_containing("daily", date(2024, 1, 14)), period_containing("weekly", date(2024, 1, 8))):
            summary_store.write_summaries(period, shard, [], list(summary_store.read_summaries(period, shard)))
    clock = [0.0]
    monkeypatch.setattr(job_module, "monotonic", lambda: clock[0])

    def one_period_then_out_of_time():
        clock[0] = 100.0

    cut = run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 1, 14))), on_period=one_period_then_out_of_time, deadline=10.0)
    assert cut.errors == []
    left = [entry.split(":", 2)[0] + ":" + entry.split(":", 2)[1] for entry in cut.deferred]
    assert left == ["weekly:2024-01-08 shard 0"] + [
        f"{p} shard {s}" for s in range(1, summary_store.shards) for p in ("daily:2024-01-14", "weekly:2024-01-08")
    ]
    assert all(entry.endswith("out of time before it started; marked for the next run") for entry in cut.deferred)
    assert "left to the next run" in cut.body()["message"]
    assert sorted((m.day, m.shard) for m in summary_store.invalidations()) == sorted(
        [(date(2024, 1, 8), 0)] + [(d, s) for s in range(1, summary_store.shards) for d in (date(2024, 1, 8), date(2024, 1, 14))]
    )
    assert dump(summary_store) != dump(reference_store)  # the week is missing, and most of the 14th

    nxt = run(summary_store, scheduled_plan(summary_store, nightly(date(2024, 1, 15))))
    assert nxt.errors == [] and nxt.deferred == [] and summary_store.invalidations() == []
    assert "weekly:2024-01-08" in nxt.periods and "daily:2024-01-14" in nxt.periods
    run(reference_store, scheduled_plan(reference_store, nightly(date(2024, 1, 15))))
    assert dump(summary_store) == dump(reference_store)
