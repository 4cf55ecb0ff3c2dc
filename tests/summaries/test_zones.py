"""Every tenant on its own clock: local periods, the hourly schedule, and moving a tenant to another zone.

Truths are computed in the tests (tests/support/summaries.py ``local_truth``) with zoneinfo from the records alone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwise.periods import PERIOD_TYPES, Period, UnknownZone, parse_label
from rollwise.summaries.admin.zone_change import change_zone
from rollwise.summaries.ingest.recorder import Recorder
from rollwise.summaries.job import backfill_plan, run, scheduled_plan
from support.stores import make_summary_store
from support.summaries import local_truth, stored_local

UTC = UTC
ZONES = [
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "Pacific/Niue",
    "Europe/London",
    "Pacific/Apia",
    "UTC",
]
# Days around what makes zones hard: Samoa skipping 2011-12-30, London's and Lord Howe's DST changes, a year's end.
ANCHORS = [
    datetime(2011, 12, 28, tzinfo=UTC),
    datetime(2024, 3, 29, tzinfo=UTC),
    datetime(2024, 4, 4, tzinfo=UTC),
    datetime(2024, 10, 25, tzinfo=UTC),
    datetime(2024, 12, 29, tzinfo=UTC),
]
STATUSES = ["succeeded", "failed", "cancelled", "timed_out", "running"]


def execution(tenant: str, n: int, submitted: datetime, status: str, minutes: int) -> dict:
    rec = {
        "tenant_id": tenant,
        "owner_id": f"owner-{n % 2}",
        "metric_type": "ocr" if n % 3 else "match",
        "execution_id": f"e-{n}",
        "status": status,
        "submitted_at": submitted.isoformat(),
        "profiles": n % 7,
        "throttled": n % 2,
        "rejected": n % 5 == 0,
    }
    if status != "running":
        rec["completed_at"] = (submitted + timedelta(minutes=minutes)).isoformat()
        rec["duration_ms"] = minutes * 60_000.0
    return rec


@st.composite
def histories(draw):
    anchor = draw(st.sampled_from(ANCHORS))
    tenants = {f"t{i}": draw(st.sampled_from(ZONES)) for i in range(draw(st.integers(2, 5)))}
    n = draw(st.integers(1, 40))
    records = []
    for i in range(n):
        tenant = draw(st.sampled_from(sorted(tenants)))
        # Within 4 days of the anchor, to the minute; outcomes up to 30 hours later: across local midnights.
        submitted = anchor + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))
        records.append(execution(tenant, i, submitted, draw(st.sampled_from(STATUSES)), draw(st.integers(0, 30 * 60))))
    return anchor, tenants, records


def hourly(store, first: datetime, hours: int) -> list[tuple[datetime, list[str]]]:
    """Run the job at every hour from ``first``; (time, periods computed) of each run."""
    out = []
    for h in range(hours):
        at = first + timedelta(hours=h)
        result = run(store, scheduled_plan(store, at))
        assert result.errors == [] and result.deferred == [], (at, result.errors, result.deferred)
        out.append((at, result.periods))
    return out


@pytest.mark.slow  # a long hypothesis run: 168 hourly runs an example
@pytest.mark.parametrize("backend", ["sqlite", "moto", "dynalite"])
def test_summaries_of_tenants_in_any_zone_are_the_truth(backend, request, tmp_path):
    """Hypothesis: tenants in random zones, random executions; after the hourly runs, every daily, weekly,
    monthly and yearly summary equals the truth computed from the records with zoneinfo."""

    @settings(
        max_examples=25 if backend == "sqlite" else 6,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )
    @given(histories())
    def trial(history):
        anchor, tenants, records = history
        store = make_summary_store(backend, request, tmp_path / uuid.uuid4().hex)
        for tenant, zone in tenants.items():
            store.set_zone(tenant, zone)
        with Recorder(store, now=anchor - timedelta(days=1)) as rec:  # written before any of their days closed
            for r in records:
                rec.record(r)
        start = anchor - timedelta(days=1)
        hourly(store, start, 7 * 24)
        now = start + timedelta(hours=7 * 24 - 1)
        for kind in PERIOD_TYPES:
            assert stored_local(store, sorted(tenants), kind) == local_truth(records, kind, tenants, now), kind
        assert stored_local(store, sorted(tenants), "daily")  # every record's days are over: there is something to check
        examples.append(anchor)

    examples: list = []
    trial()
    assert len(examples) >= (25 if backend == "sqlite" else 6) and len(set(examples)) > 1


@pytest.mark.shards(2)  # the schedule is under test: each local day is computed once in every shard
def test_the_hourly_schedule_takes_each_local_day_once_after_it_closed(summary_store):
    """Ten days across Europe/London's and Lord Howe's DST changes: every local day of every zone is
    aggregated by the first run at least 2 hours after its end, never before, and once; a late record
    brings its day back once."""
    zones = {
        "t-utc": "UTC",
        "t-lon": "Europe/London",
        "t-kol": "Asia/Kolkata",
        "t-lhi": "Australia/Lord_Howe",
        "t-kir": "Pacific/Kiritimati",
        "t-niu": "Pacific/Niue",
    }
    for tenant, zone in zones.items():
        summary_store.set_zone(tenant, zone)
    start = datetime(2024, 3, 26, tzinfo=UTC)
    records = [execution(t, i * 10 + d, start + timedelta(days=d, hours=7), "succeeded", 5) for i, t in enumerate(zones) for d in range(10)]
    with Recorder(summary_store, now=start) as rec:
        for r in records:
            rec.record(r)
    first_run = start + timedelta(days=1)
    runs = hourly(summary_store, first_run, 10 * 24)
    computed: dict[str, list[datetime]] = {}
    for at, labels in runs:
        for label in labels:
            computed.setdefault(label, []).append(at)
    for zone in set(zones.values()):
        day = Period("daily", date(2024, 3, 26), zone)
        while day.ends_at + timedelta(hours=3) <= runs[-1][0]:
            label = day.label()
            if day.ends_at + timedelta(hours=2) > first_run:  # due before the first run: no run's to take
                assert len(computed.get(label, [])) == 1, (label, computed.get(label))
                (at,) = computed[label]
                assert day.ends_at + timedelta(hours=2) <= at < day.ends_at + timedelta(hours=3), (label, at)
            day = Period("daily", day.next_start, zone)
    assert "daily:2024-03-31@Europe/London" in computed  # 23 hours long, aggregated all the same
    assert all(len(ats) == 1 for ats in computed.values()), {k: v for k, v in computed.items() if len(v) > 1}

    # a late record for a closed London day: its day comes back in the next run, and only then
    now = runs[-1][0] + timedelta(minutes=10)
    late = execution("t-lon", 999, datetime(2024, 3, 30, 12, tzinfo=UTC), "failed", 5)
    with Recorder(summary_store, now=now) as rec:
        rec.record(late)
    after = hourly(summary_store, runs[-1][0] + timedelta(hours=1), 3)
    again = ["daily:2024-03-30@Europe/London", "weekly:2024-03-25@Europe/London", "monthly:2024-03-01@Europe/London"]
    assert set(again) <= set(after[0][1]) and not set(again) & set(after[1][1] + after[2][1])
    assert not {label for _, labels in after for label in labels} - set(again) & set(computed)  # nothing else twice
    assert stored_local(summary_store, sorted(zones), "daily") == local_truth(records + [late], "daily", zones, after[-1][0])


def test_a_run_with_nothing_due_reads_the_settings_and_the_markers_only(moto_server, tmp_path):
    from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore
    from support.stores import dynamodb_client
    from support.summaries import RequestLog

    client = dynamodb_client(moto_server.url)
    store = DynamoDBSummaryStore(f"idle-{uuid.uuid4().hex[:8]}", shards=4, client=client)
    store.create()
    store.set_zone("t-kol", "Asia/Kolkata")
    run(store, scheduled_plan(store, datetime(2024, 3, 10, 2, tzinfo=UTC)))  # UTC's day
    idle = DynamoDBSummaryStore(store.table_name, shards=4, client=client)  # a fresh invocation
    requests = RequestLog(client)
    result = run(idle, scheduled_plan(idle, datetime(2024, 3, 10, 3, tzinfo=UTC)))  # nothing due at 03:00
    assert result.periods == [] and sum(requests.operations.values()) == 2, requests.operations


@pytest.mark.shards(2)  # the move is under test: each period is computed once in every shard
@pytest.mark.parametrize("new_zone", ["Asia/Kolkata", "America/St_Johns"])
def test_a_zone_change_equals_a_store_that_had_the_new_zone_from_the_start(summary_store, request, tmp_path, new_zone):
    anchor = datetime(2024, 3, 25, tzinfo=UTC)
    records = [execution(t, n, anchor + timedelta(hours=5 * n + 1), STATUSES[n % 4], 20 + n * 7) for n, t in enumerate(["moving", "staying"] * 20)]
    fresh = make_summary_store(request.node.callspec.params.get("summary_store", "sqlite"), request, tmp_path / "fresh", shards=2)
    fresh.set_zone("moving", new_zone)
    reference = datetime(2024, 4, 8, 3, tzinfo=UTC)
    for store in (summary_store, fresh):
        with Recorder(store, now=anchor) as rec:
            for r in records:
                rec.record(r)
        run(store, backfill_plan(store, date(2024, 3, 1), date(2024, 4, 7), reference))
    before = {kind: stored_local(summary_store, ["staying"], kind) for kind in PERIOD_TYPES}

    dry = change_zone(summary_store, "moving", new_zone, reference, 2, dry_run=True)
    assert dry.records_moved == 20 and dry.periods and summary_store.zone_of("moving") == "UTC"
    change = change_zone(summary_store, "moving", new_zone, reference, 2)
    assert (change.old_zone, change.records_moved, change.periods) == ("UTC", 20, dry.periods)
    assert summary_store.zone_of("moving") == new_zone and summary_store.zone_moves() == {}
    for kind in PERIOD_TYPES:
        assert stored_local(summary_store, ["moving"], kind) == stored_local(fresh, ["moving"], kind), kind
        assert stored_local(summary_store, ["staying"], kind) == before[kind], kind  # untouched
    for kind in PERIOD_TYPES:
        truth = local_truth([r for r in records if r["tenant_id"] == "moving"], kind, {"moving": new_zone}, reference)
        assert stored_local(summary_store, ["moving"], kind) == truth, kind
    # the markers the move left are taken by the next run, which changes nothing
    nxt = run(summary_store, scheduled_plan(summary_store, reference + timedelta(hours=1)))
    assert nxt.errors == [] and nxt.summaries_created == nxt.summaries_updated == 0
    for kind in PERIOD_TYPES:
        assert stored_local(summary_store, ["moving", "staying"], kind) == stored_local(fresh, ["moving", "staying"], kind), kind


def test_an_unknown_zone_is_refused_naming_it(summary_store):
    with pytest.raises(UnknownZone, match="unknown time zone 'Asia/Calcuta'"):
        summary_store.set_zone("t", "Asia/Calcuta")
    assert summary_store.tenant_zones() == {}


def test_labels_of_local_periods_survive_a_plan_sent_to_another_process():
    from rollwise.summaries.plan import Plan, plan_run

    plan = plan_run(datetime(2024, 3, 10, 21, tzinfo=UTC), 2, schedule={"Asia/Kolkata": None, "UTC": date(2024, 3, 9)})
    assert plan.describe() == ["daily:2024-03-10@Asia/Kolkata", "weekly:2024-03-04@Asia/Kolkata"]  # a Sunday
    assert Plan.from_json(plan.to_json()) == plan and parse_label(plan.describe()[0]).zone == "Asia/Kolkata"


def test_a_long_lived_writer_follows_a_zone_change_once_it_reads_the_zones_again(summary_store, request, tmp_path):
    """A warm stream function keeps the zones for a minute; then it reads them again, settings cache included."""
    from rollwise.summaries.ingest.recorder import Recorder as _Recorder

    if request.node.callspec.params["summary_store"] == "sqlite":  # the same file, another store object: a second process
        from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

        other = SQLiteSummaryStore(summary_store.path, shards=summary_store.configured_shards)
    else:
        other = type(summary_store)(summary_store.table_name, shards=summary_store.configured_shards, client=summary_store.client)
    assert other.zone_of("t1") == "UTC"  # read, and kept
    summary_store.set_zone("t1", "Asia/Kolkata")
    other.forget_zones(older_than=3600)
    assert other.zone_of("t1") == "UTC"  # within its minute: what it read
    other.forget_zones(older_than=0)
    assert other.zone_of("t1") == "Asia/Kolkata"
    with _Recorder(other, now=datetime(2024, 3, 10, tzinfo=UTC)) as rec:
        rec.record(execution("t1", 1, datetime(2024, 3, 10, 20, tzinfo=UTC), "running", 0))
    assert [r["execution_id"] for r in other.read_records(date(2024, 3, 11), other.shard_of("t1"), "Asia/Kolkata")] == ["e-1"]
