from hypothesis import given
from hypothesis import strategies as st

from rollwise.sketch import decode, encode, new_sketch, quantile, quantiles

QS = [0.5, 0.9, 0.95, 0.99]
values = st.lists(st.one_of(st.just(0.0), st.floats(0, 1e8, allow_nan=False)), max_size=200)


@given(values)
def test_one_walk_gives_the_same_quantiles_as_ddsketch(xs):
    s = new_sketch()
    for x in xs:
        s.add(x)
    lo, hi = (min(xs), max(xs)) if xs else (None, None)
    assert quantiles(s, QS, lo, hi) == [quantile(s, q, lo, hi) for q in QS]


@given(values, values)
def test_encoding_is_canonical_and_survives_merges(xs, ys):
    direct, a, b = new_sketch(), new_sketch(), new_sketch()
    for x in xs + ys:
        direct.add(x)
    for x in reversed(xs):
        a.add(x)
    for y in ys:
        b.add(y)
    merged = decode(encode(a))
    merged.merge(decode(encode(b)))
    assert encode(merged) == encode(direct)
    assert merged.count == len(xs) + len(ys)


@given(values, values)
def test_a_distribution_restores_itself_and_merges_exactly(xs, ys):
    from rollwise.sketch import Distribution

    a, b, direct = Distribution(), Distribution(), Distribution()
    for x in xs:
        a.add(x)
        direct.add(x)
    for y in ys:
        b.add(y)
        direct.add(y)
    merged = Distribution.from_state(a.to_state())
    merged.merge(Distribution.from_state(b.to_state()))
    assert (merged.count, merged.lowest, merged.highest) == (direct.count, direct.lowest, direct.highest)
    assert abs(merged.total - direct.total) <= 1e-6 * max(1.0, abs(direct.total))
    assert merged.figures() == direct.figures() or abs(merged.figures()["total"] - direct.figures()["total"]) <= 0.001


def test_a_weighted_value_counts_as_many():
    from rollwise.sketch import Distribution

    d = Distribution()
    d.add(400.0, weight=120)
    d.add(5.0)
    assert d.figures() == {
        "count": 121,
        "total": 48005,
        "min": 5.0,
        "max": 400.0,
        "avg": 396.736,
        "p50": d.quantiles([0.5])[0],
        "p95": d.quantiles([0.95])[0],
    }
    assert abs(d.quantiles([0.5])[0] - 400) <= 4


@given(values, values)
def test_adding_many_at_once_is_exactly_adding_them_one_by_one(before, xs):
    from rollwise.sketch import Distribution

    one_by_one, at_once = Distribution(), Distribution()
    for x in before:
        one_by_one.add(x)
        at_once.add(x)
    for x in xs:
        one_by_one.add(x)
    at_once.add_many(xs)
    assert encode(at_once.sketch) == encode(one_by_one.sketch)
    assert at_once.to_state() == one_by_one.to_state() and at_once.figures() == one_by_one.figures()
    assert (at_once.sketch.count, at_once.sketch.sum) == (one_by_one.sketch.count, one_by_one.sketch.sum)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=100))
def test_adding_many_handles_zero_and_negative_values_as_ddsketch_does(xs):
    from rollwise.sketch import Distribution

    one_by_one, at_once = Distribution(), Distribution()
    for x in xs:
        one_by_one.add(x)
    at_once.add_many(xs)
    assert encode(at_once.sketch) == encode(one_by_one.sketch)
    assert at_once.figures() == one_by_one.figures()


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=60), st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=60))
def test_a_distribution_merges_its_sketch_as_ddsketch_does(xs, ys):
    from rollwise.sketch import Distribution

    a, b = Distribution(), Distribution()
    for x in xs:
        a.add(x)
    for y in ys:
        b.add(y)
    theirs = decode(encode(a.sketch))
    theirs.merge(decode(encode(b.sketch)))  # ddsketch's own merge
    a.merge(b)
    assert encode(a.sketch) == encode(theirs)
    assert (a.sketch.count, a.sketch._zero_count) == (theirs.count, theirs._zero_count)
    for q in QS:
        assert a.sketch.get_quantile_value(q) == theirs.get_quantile_value(q)


def test_a_sketch_of_another_key_mapping_is_refused_naming_it():
    import pytest
    from ddsketch.ddsketch import BaseDDSketch
    from ddsketch.mapping import LinearlyInterpolatedMapping, LogarithmicMapping
    from ddsketch.store import DenseStore

    for mapping in (LogarithmicMapping(0.02), LinearlyInterpolatedMapping(0.01), LogarithmicMapping(0.01, offset=3.0)):
        other = BaseDDSketch(mapping=mapping, store=DenseStore(), negative_store=DenseStore(), zero_count=0.0)
        other.add(12.5)
        with pytest.raises(ValueError, match="another key mapping"):
            decode(encode(other))
    ours = new_sketch()
    ours.add(12.5)
    assert decode(encode(ours)).count == 1
