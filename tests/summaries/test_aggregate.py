"""Summaries merged from dailies equal a direct aggregation of the raw records."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rollwise.periods import PERIOD_TYPES, period_containing
from rollwise.summaries.aggregate import aggregate_day, merge_summaries
from rollwise.summaries.model import TENANT_WIDE, normalize_record, record_days

OUTCOME = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count", "timed_out": "timeout_count"}


@st.composite
def executions(draw):
    base = draw(st.sampled_from([datetime(2023, 12, 20, tzinfo=UTC), datetime(2024, 2, 20, tzinfo=UTC)]))
    n = draw(st.integers(1, 60))
    out = []
    for i in range(n):
        submitted = base + timedelta(seconds=draw(st.integers(0, 40 * 86400)))
        status = draw(st.sampled_from(["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]))
        rec = {
            "tenant_id": draw(st.sampled_from(["t1", "t2"])),
            "owner_id": draw(st.sampled_from(["u1", "u2", "u3"])),
            "metric_type": draw(st.sampled_from(["ocr", "score"])),
            "execution_id": f"e{i}",
            "status": status,
            "submitted_at": submitted.isoformat(),
            "throttled": draw(st.integers(0, 3)),
            "rejected": draw(st.booleans()),
            "profiles": draw(st.integers(0, 100)),
        }
        if status in OUTCOME:
            took = draw(st.integers(0, 3 * 86400 * 1000))
            rec["completed_at"] = (submitted + timedelta(milliseconds=took)).isoformat()
            if draw(st.booleans()):
                rec["duration_ms"] = draw(st.one_of(st.integers(0, 10**7), st.floats(0, 1e7, allow_nan=False)))
        out.append(normalize_record(rec))
    return out


def direct(records, period):
    """An independent oracle: every figure straight from the raw records."""
    groups = defaultdict(lambda: {"counts": defaultdict(int), "durations": []})
    inside = lambda ts: ts is not None and period.start <= date.fromisoformat(ts[:10]) <= period.end  # noqa: E731
    for r in records:
        for owner in (r["owner_id"], TENANT_WIDE):
            g = groups[(r["tenant_id"], owner, r["metric_type"])]
            if inside(r["submitted_at"]):
                g["counts"]["submission_count"] += 1
                g["counts"]["throttled_count"] += r["throttled"]
                g["counts"]["rejected_count"] += int(r["rejected"])
            if inside(r["completed_at"]):
                g["counts"][OUTCOME[r["status"]]] += 1
                g["counts"]["total_profiles"] += r["profiles"]
                if r["duration_ms"] is not None:
                    g["durations"].append(r["duration_ms"])
    return {k: g for k, g in groups.items() if any(g["counts"][c] for c in ("submission_count", *OUTCOME.values()))}


def dailies(records):
    by_day = defaultdict(list)
    for r in records:
        for d in record_days(r):
            by_day[d].append(r)
    out = {}
    for d, rs in by_day.items():
        out[date.fromisoformat(d)] = aggregate_day(rs, date.fromisoformat(d))[0]
    return out


def rolled_up(daily, kind, period):
    parts = [s for d, summaries in daily.items() if period.start <= d <= period.end for s in summaries.values()]
    if kind == "yearly":
        months = {}
        for s in parts:
            months.setdefault(period_containing("monthly", s.period.start), []).append(s)
        parts = [s for m, ps in months.items() for s in merge_summaries(ps, m).values()]
    return merge_summaries(parts, period)


def assert_matches(summaries, oracle):
    assert set(summaries) == set(oracle)
    for key, g in oracle.items():
        fig = summaries[key].figures()
        for name in ("submission_count", "throttled_count", "rejected_count", "total_profiles", *OUTCOME.values()):
            assert fig[name] == g["counts"][name], (key, name)
        values = sorted(g["durations"])
        assert fig["duration_count"] == len(values)
        if not values:
            assert fig["p50_duration_ms"] is None and fig["min_duration_ms"] is None
            continue
        assert abs(fig["total_duration_ms"] - sum(values)) <= 1e-3 * max(1, len(values))
        assert abs(fig["min_duration_ms"] - values[0]) <= 1e-3 and abs(fig["max_duration_ms"] - values[-1]) <= 1e-3
        for name, q in (("p50_duration_ms", 0.5), ("p90_duration_ms", 0.9), ("p95_duration_ms", 0.95), ("p99_duration_ms", 0.99)):
            exact = values[int(q * (len(values) - 1))]
            assert abs(fig[name] - exact) <= 0.01 * exact + 1e-3, (key, name, fig[name], exact)


@settings(max_examples=150, deadline=None)
@given(executions())
def test_rollups_from_dailies_equal_direct_aggregation(records):
    daily = dailies(records)
    for d, summaries in daily.items():
        assert_matches(summaries, direct(records, period_containing("daily", d)))
    for kind in PERIOD_TYPES[1:]:
        for period in {period_containing(kind, d) for d in daily}:
            assert_matches(rolled_up(daily, kind, period), direct(records, period))


def test_tenant_wide_rows_sum_the_owners():
    records = [
        normalize_record(
            {
                "tenant_id": "t",
                "owner_id": f"u{i}",
                "metric_type": "m",
                "execution_id": f"e{i}",
                "status": "succeeded",
                "submitted_at": "2024-03-01T10:00:00Z",
                "completed_at": "2024-03-01T10:00:01Z",
                "duration_ms": 100 * (i + 1),
            }
        )
        for i in range(4)
    ]
    out, seen = aggregate_day(records, date(2024, 3, 1))
    assert seen == 4
    wide = out[("t", TENANT_WIDE, "m")].figures()
    assert (wide["submission_count"], wide["success_count"], wide["duration_count"]) == (4, 4, 4)
    assert (wide["min_duration_ms"], wide["max_duration_ms"], wide["total_duration_ms"], wide["avg_duration_ms"]) == (100, 400, 1000, 250)
