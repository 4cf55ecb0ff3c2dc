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
