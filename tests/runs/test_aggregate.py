"""One window's aggregate (rollwise.runs.aggregate): counts, the two time statistics kept apart, the top matches,
and an aggregate written, read back and extended equal to one built at once."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollwise.runs.aggregate import TOP_N, WindowAggregate
from rollwise.runs.records import Match, Outcome
from rollwise.windows import window_of

WINDOW = window_of(datetime(2024, 3, 10, 12, 7, tzinfo=UTC), timedelta(minutes=5))
NOW = datetime(2024, 3, 10, 12, 20, tzinfo=UTC)


def item(time_ms=None, matches=(), errors=0):
    found = tuple(Match(i, f"title {i}", s) for i, s in matches)
    return Outcome(1, len(found), 0 if found else 1, errors, time_ms, found)


def run(duration_ms, opportunities, run_id="r1"):
    return Outcome(opportunities, 0, opportunities, 0, duration_ms, (), run_id=run_id)


def test_counts_add_up_and_the_two_times_are_kept_apart():
    agg = WindowAggregate(WINDOW)
    agg.add_file("a.json", '"e1"', [item(10.0, [("m1", 0.9)]), item(30.0)])
    agg.add_file("b.json", '"e2"', [run(600.0, 4)])  # a run of 4 opportunities in 600 ms: 150 ms each
    stats = agg.stats()
    assert {k: stats[k] for k in ("files", "opportunities_processed", "matches", "no_matches", "errors")} == {
        "files": 2,
        "opportunities_processed": 6,
        "matches": 1,
        "no_matches": 5,
        "errors": 0,
    }
    per_opportunity = stats["opportunity_time_ms"]
    assert per_opportunity["count"] == 6 and per_opportunity["total"] == pytest.approx(640.0)
    assert per_opportunity["avg"] == pytest.approx(640.0 / 6, abs=1e-3)  # figures are given to the microsecond
    assert (per_opportunity["min"], per_opportunity["max"]) == (10.0, 150.0)
    assert stats["run_time_ms"]["count"] == 1 and stats["run_time_ms"]["total"] == 600.0
    assert agg.manifest == {"a.json": '"e1"', "b.json": '"e2"'}


def test_a_statistic_with_nothing_reported_is_empty_not_zero():
    agg = WindowAggregate(WINDOW)
    agg.add_file("a.json", '"e"', [item(None)])
    run_time = agg.stats()["run_time_ms"]
    assert run_time["count"] == 0 and all(run_time[k] is None for k in ("min", "max", "avg", "p50", "p95"))


def test_the_top_matches_are_the_best_ten_of_every_file_best_first():
    agg = WindowAggregate(WINDOW)
    agg.add_file("a.json", '"1"', [item(matches=[(f"a{i}", i / 10) for i in range(8)])])
    agg.add_file("b.json", '"2"', [item(matches=[(f"b{i}", i / 10) for i in range(8)])])
    ranked = [(m.id, m.score, source) for m, source in agg.top]
    assert len(ranked) == TOP_N
    # higher score first; equal scores by id
    assert ranked[:4] == [("a7", 0.7, "a.json"), ("b7", 0.7, "b.json"), ("a6", 0.6, "a.json"), ("b6", 0.6, "b.json")]
    assert min(score for _, score, _ in ranked) == 0.3


def test_a_document_that_is_not_an_aggregate_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="not a window aggregate"):
        WindowAggregate.from_json(WINDOW, b'{"stats": {}}')
    with pytest.raises(ValueError, match="not a window aggregate .JSONDecodeError"):
        WindowAggregate.from_json(WINDOW, b"{")


outcomes = st.lists(
    st.one_of(
        st.builds(
            item,
            st.one_of(st.none(), st.floats(0, 1e6)),
            st.lists(st.tuples(st.sampled_from("abcdefghijklmnop"), st.floats(0, 1)), max_size=4, unique_by=lambda m: m[0]),
            st.integers(0, 2),
        ),
        st.builds(run, st.floats(0, 1e6), st.integers(0, 50), st.sampled_from(["r1", "r2"])),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(outcomes, min_size=2, max_size=8), st.data())
def test_an_aggregate_read_back_and_extended_equals_one_built_at_once(files, data):
    """A late file merged into the window's written aggregate gives the file that one pass over every file gives."""
    split = data.draw(st.integers(1, len(files) - 1))
    whole = WindowAggregate(WINDOW)
    for n, file in enumerate(files):
        whole.add_file(f"f{n}.json", f'"{n}"', file)
    first = WindowAggregate(WINDOW)
    for n, file in enumerate(files[:split]):
        first.add_file(f"f{n}.json", f'"{n}"', file)
    later = WindowAggregate.from_json(WINDOW, first.to_json(NOW))
    for n, file in enumerate(files[split:], start=split):
        later.add_file(f"f{n}.json", f'"{n}"', file)
    a, b = orjson.loads(whole.to_json(NOW)), orjson.loads(later.to_json(NOW))
    for doc in (a, b):
        doc.pop("merge_state")  # the sketches' bins, compared through their figures below
    for name in ("opportunity_time_ms", "run_time_ms"):
        x, y = a["stats"].pop(name), b["stats"].pop(name)
        assert x["count"] == y["count"] and x["total"] == pytest.approx(y["total"]) and (x["min"], x["max"]) == (y["min"], y["max"])
        for q in ("p50", "p95"):
            assert x[q] == pytest.approx(y[q], rel=0.02, abs=1e-9) if x[q] is not None else y[q] is None
    assert a == b
