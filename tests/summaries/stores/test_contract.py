"""The backend contract: every backend (memory, SQLite, DynamoDB through moto server and dynalite over HTTP)
under the same policies, read back the same. A new backend passes these by filling the item hooks only."""

from datetime import UTC, date, datetime, timedelta

import pytest

from rollwise.periods import period_containing
from rollwise.summaries.leases import LEASE_SECONDS
from rollwise.summaries.model import Summary, normalize_record
from rollwise.summaries.stored_items import StoredSummary
from support.stores import make_summary_store


def rec(i, tenant="t1", owner="u1", metric="ocr", submitted="2024-01-14T10:00:00Z", completed="2024-01-15T00:00:01Z", status="succeeded"):
    return normalize_record(
        {
            "tenant_id": tenant,
            "owner_id": owner,
            "metric_type": metric,
            "execution_id": f"e{i}",
            "status": status,
            "submitted_at": submitted,
            "completed_at": completed,
            "duration_ms": 1000 + i,
        }
    )


NOW = datetime(2024, 1, 15, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "moto", "dynalite"])
def summary_store(request, tmp_path):
    return make_summary_store(request.param, request, tmp_path)


def test_records_are_read_back_by_day_and_shard(summary_store):
    records = [rec(i, tenant=f"t{i % 5}") for i in range(20)]
    assert summary_store.put_records(records, NOW) == 40  # two event days each
    for day in (date(2024, 1, 14), date(2024, 1, 15)):
        seen = []
        for shard in range(summary_store.shards):
            for r in summary_store.read_records(day, shard):
                assert summary_store.shard_of(r["tenant_id"]) == shard
                seen.append(r["execution_id"])
        assert sorted(seen) == sorted(r["execution_id"] for r in records)
    assert list(summary_store.read_records(date(2024, 1, 13), 0)) == []


def test_a_rewrite_keeps_the_latest_state(summary_store):
    first = rec(1, status="running", completed=None)
    summary_store.put_records([first], NOW)
    summary_store.put_records([rec(1)], NOW)
    shard = summary_store.shard_of("t1")
    (stored,) = list(summary_store.read_records(date(2024, 1, 14), shard))
    assert stored["status"] == "succeeded"


def test_only_closed_days_get_invalidation_markers(summary_store):
    summary_store.put_records([rec(1)], NOW)  # events on the 14th (closed) and the 15th (today)
    markers = summary_store.invalidations()
    assert [(m.day, m.shard) for m in markers] == [(date(2024, 1, 14), summary_store.shard_of("t1"))]


def test_a_marker_rewritten_after_it_was_read_survives_the_clear(summary_store):
    summary_store.put_records([rec(1)], NOW)
    (seen,) = summary_store.invalidations()
    summary_store.put_records([rec(2)], NOW)  # more late data for the same day and shard
    summary_store.clear_invalidations([seen])
    (left,) = summary_store.invalidations()
    assert (left.day, left.shard) == (seen.day, seen.shard) and left.token != seen.token
    summary_store.clear_invalidations([left])
    assert summary_store.invalidations() == []


def summary(tenant, owner, metric, day, n):
    s = Summary(tenant, owner, metric, period_containing("daily", day), submission_count=n, success_count=n)
    for v in range(n):
        s.durations.add(100.0 * (v + 1))
    return s


def test_summaries_round_trip_and_are_queried_by_tenant_owner_and_metric(summary_store):
    days = [date(2024, 1, d) for d in (1, 2, 3)]
    for d in days:
        p = period_containing("daily", d)
        rows = [StoredSummary.of(summary("t1", o, m, d, d.day + len(o) + len(m))) for o in ("u1", "u22") for m in ("ocr", "score")]
        summary_store.write_summaries(p, summary_store.shard_of("t1"), rows, [])
        summary_store.write_summaries(p, summary_store.shard_of("t2"), [StoredSummary.of(summary("t2", "u1", "ocr", d, 1))], [])
    back = summary_store.read_summaries(period_containing("daily", days[0]), summary_store.shard_of("t1"))
    want = summary("t1", "u22", "score", days[0], 1 + 3 + 5)
    assert back[("t1", "u22", "score")] == StoredSummary.of(want)
    p95 = back[("t1", "u22", "score")].figures["p95_duration_ms"]
    assert p95 == want.figures()["p95_duration_ms"] and abs(p95 - 800) <= 8  # rank 0.95 * 8 of 100..900
    again = back[("t1", "u22", "score")].summary()  # decoded for merging: same figures
    assert StoredSummary.of(again) == StoredSummary.of(want)

    everything = list(summary_store.query_summaries("t1", "daily"))
    assert len(everything) == 12 and all(s.tenant_id == "t1" for s in everything)
    assert [s.period.start for s in everything] == sorted(s.period.start for s in everything)
    ranged = list(summary_store.query_summaries("t1", "daily", since=date(2024, 1, 2), until=date(2024, 1, 2)))
    assert {s.period.start for s in ranged} == {date(2024, 1, 2)} and len(ranged) == 4
    by_owner = list(summary_store.query_summaries("t1", "daily", owner_id="u22"))
    assert {(s.owner_id, s.period.start) for s in by_owner} == {("u22", d) for d in days} and len(by_owner) == 6
    by_metric = list(summary_store.query_summaries("t1", "daily", metric_type="ocr", until=date(2024, 1, 1)))
    assert {(s.owner_id, s.metric_type) for s in by_metric} == {("u1", "ocr"), ("u22", "ocr")}
    both = list(summary_store.query_summaries("t1", "daily", owner_id="u1", metric_type="score"))
    assert [(s.period.start, s.figures["submission_count"]) for s in both] == [(d, d.day + 2 + 5) for d in days]
    assert list(summary_store.query_summaries("t1", "weekly")) == []
    assert list(summary_store.query_summaries("nobody", "daily")) == []

    summary_store.write_summaries(period_containing("daily", days[0]), summary_store.shard_of("t1"), [], [("t1", "u1", "ocr")])
    assert ("t1", "u1", "ocr") not in summary_store.read_summaries(period_containing("daily", days[0]), summary_store.shard_of("t1"))


def test_a_longer_periods_parts_are_read_together_and_nothing_outside_it(summary_store):
    """A week across two months, a month and a year: each of its parts once, a neighbour never, and on
    DynamoDB one Query per month the days reach (per year for months), not one per day."""
    from support.summaries import WriteLog

    shard = summary_store.shard_of("t1")
    days = [date(2024, 1, 27) + timedelta(days=i) for i in range(10)]  # Sat 27 Jan .. Mon 5 Feb
    for i, d in enumerate(days):
        rows = [StoredSummary.of(summary("t1", o, "ocr", d, i + 1)) for o in ("u1", "u2")]
        summary_store.write_summaries(period_containing("daily", d), shard, rows, [])
        summary_store.write_summaries(period_containing("daily", d), shard + 1, [StoredSummary.of(summary("t9", "u", "ocr", d, 1))], [])
    for month in (1, 2, 12):
        p = period_containing("monthly", date(2024, month, 1))
        summary_store.write_summaries(p, shard, [StoredSummary.of(summary("t1", "u1", "ocr", date(2024, month, 1), month))], [])
    summary_store.write_summaries(
        period_containing("monthly", date(2023, 12, 1)), shard, [StoredSummary.of(summary("t1", "u1", "ocr", date(2023, 12, 1), 1))], []
    )
    log = WriteLog(summary_store)

    def within(kind, period):
        log.reset()
        found = list(summary_store.summaries_within(kind, period, shard))
        if log.requests:
            reached = {(d.year, d.month if kind == "daily" else 0) for d in (period.start, period.end)}
            assert dict(log.requests.operations) == {"Query": len(reached)}
        return sorted((s.period.start, s.owner_id, s.figures["submission_count"]) for s in found)

    week = period_containing("weekly", date(2024, 1, 29))  # Mon 29 Jan .. Sun 4 Feb
    assert within("daily", week) == sorted((d, o, i + 1) for i, d in enumerate(days) if week.start <= d <= week.end for o in ("u1", "u2"))
    assert within("daily", period_containing("monthly", date(2024, 2, 1))) == sorted(
        (d, o, i + 1) for i, d in enumerate(days) if d.month == 2 for o in ("u1", "u2")
    )
    assert within("monthly", period_containing("yearly", date(2024, 1, 1))) == [
        (date(2024, 1, 1), "u1", 1),
        (date(2024, 2, 1), "u1", 2),
        (date(2024, 12, 1), "u1", 12),
    ]
    assert within("daily", period_containing("weekly", date(2024, 3, 4))) == []
    assert sorted(summary_store.read_summaries(period_containing("daily", date(2024, 2, 4)), shard)) == [("t1", "u1", "ocr"), ("t1", "u2", "ocr")]


def test_ids_beyond_the_basic_plane_are_read_like_any_other(summary_store):
    """A key range must not end at U+FFFF: in DynamoDB's byte order (and in code points) an id
    starting with an emoji sorts above it, and its summaries would silently drop out of every read."""
    tenant, owner = "\U0001f600corp", "\U0001f9d1"
    day = date(2024, 1, 10)
    shard = summary_store.shard_of(tenant)
    summary_store.write_summaries(period_containing("daily", day), shard, [StoredSummary.of(summary(tenant, owner, "ocr", day, 3))], [])
    assert list(summary_store.read_summaries(period_containing("daily", day), shard)) == [(tenant, owner, "ocr")]
    assert [s.owner_id for s in summary_store.summaries_within("daily", period_containing("weekly", day), shard)] == [owner]
    assert [(s.owner_id, s.figures["submission_count"]) for s in summary_store.query_summaries(tenant, "daily", until=day)] == [(owner, 3)]
    assert [s.owner_id for s in summary_store.query_summaries(tenant, "daily", owner_id=owner, until=day)] == [owner]


def _same_store(summary_store, shards):
    """Another process's view of the same store (the same connection), configured with another shard count."""
    other = type(summary_store).__new__(type(summary_store))
    other.__dict__.update(summary_store.__dict__)
    other.configured_shards, other._shards, other._unsettled = shards, None, None
    return other


def test_the_shard_count_is_kept_in_the_store_and_every_writer_follows_it(summary_store):
    assert summary_store._read_shards() is None  # a new store holds none until first written
    assert summary_store.shards == summary_store.configured_shards == 4 and summary_store._read_shards() is None  # reading stores nothing
    assert summary_store.settle_shards() == 4 and summary_store._read_shards() == 4
    writer = _same_store(summary_store, 16)  # a writer deployed with another setting
    assert writer.shards == 4
    records = [rec(i, tenant=f"tenant-{i}") for i in range(40)]
    writer.put_records(records, NOW)
    found = {r["execution_id"] for shard in range(4) for r in summary_store.read_records(date(2024, 1, 14), shard)}
    assert found == {r["execution_id"] for r in records}  # every record where the job looks


def test_the_first_process_to_store_a_shard_count_wins(summary_store):
    first, second = _same_store(summary_store, 2), _same_store(summary_store, 32)
    assert second._keep_shards(32) == 32
    assert first._keep_shards(2) == 32 and first.shards == 32


def test_taking_renewing_and_giving_back_a_lease_can_each_be_repeated(summary_store):
    """What a request sent again after its answer was lost meets: the run's own lease is its own, a renewal
    repeats, a lease given back is given back; another run's lease is neither taken nor given back."""
    now = 1_000_000.0

    def take(owner, at):
        return summary_store._acquire_lease(2, owner, at, at + LEASE_SECONDS)

    def renew(owner, at):
        return summary_store._renew_lease(2, owner, at + LEASE_SECONDS)

    assert take("run-a", now)
    assert take("run-a", now + 1)  # the same request again: still run A's
    assert not take("run-b", now + 2)
    assert renew("run-a", now + 3) and renew("run-a", now + 3)
    assert not renew("run-b", now + 4)
    summary_store._release_lease(2, "run-b")  # not B's to give back
    assert not take("run-b", now + 5)
    summary_store._release_lease(2, "run-a")
    summary_store._release_lease(2, "run-a")  # given back already: nothing to do, no error
    assert not renew("run-a", now + 6)  # a lease given back is not renewed
    assert take("run-b", now + 7)
    assert not take("run-c", now + 7 + LEASE_SECONDS - 1)  # run B's until it expires
    # an expired lease is anyone's
    assert take("run-c", now + 7 + LEASE_SECONDS + 1)
