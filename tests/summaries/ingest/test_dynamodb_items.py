"""Items in every shape other systems hand them over, and any item at all through a mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwise.summaries.ingest.dynamodb_items import Change, ItemError, changes_of, plain_value, untyped
from rollwise.summaries.ingest.mapping import load_mapping
from rollwise.summaries.ingest.recorder import Recorder, ingest_lines
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.workflow_sdk import Execution, workflow_item

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def typed(value):
    """A plain value as DynamoDB's JSON types it (what boto3's TypeSerializer writes on the wire)."""
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer().serialize(value)


def test_numbers_come_out_as_the_writer_meant_them():
    assert plain_value({"a": Decimal("3"), "b": Decimal("2.5"), "c": [Decimal("1E+2")], "d": {Decimal("1")}}) == {
        "a": 3,
        "b": 2.5,
        "c": [100],
        "d": [1],
    }
    assert untyped({"n": {"N": "60000"}, "f": {"N": "1772365645.25"}, "s": {"SS": ["b", "a"]}, "z": {"NULL": True}}) == {
        "n": 60000,
        "f": 1772365645.25,
        "s": ["a", "b"],
        "z": None,
    }


def test_every_shape_gives_the_same_item():
    item = plain_value(workflow_item(Execution("abc", "acme", "ann", "lambda", "pending", T0)))
    as_typed = {k: typed(Decimal(str(v)) if isinstance(v, (int, float)) else v) for k, v in item.items()}
    record = {"eventID": "1", "eventName": "INSERT", "dynamodb": {"NewImage": as_typed, "SequenceNumber": "1"}}
    shapes = [item, as_typed, {"Items": [as_typed], "Count": 1}, {"Item": as_typed}, record, {"Records": [record]}]
    for shape in shapes:
        [change] = list(changes_of(orjson.loads(orjson.dumps(shape))))
        assert change.new == item


def test_a_bad_part_is_an_error_value_beside_good_ones():
    good = {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "a"}}}}
    bad = [
        {"eventName": "INSERT", "dynamodb": {}},
        {"eventName": "PUT", "dynamodb": {"NewImage": {}}},
        {"eventName": "MODIFY", "dynamodb": {"NewImage": {"n": {"N": "not a number"}}}},
        "text",
    ]
    out = list(changes_of({"Records": [good, *bad, good]}))
    assert [type(c) for c in out] == [Change, ItemError, ItemError, ItemError, ItemError, Change]
    assert "Records[1]: a INSERT record has no NewImage" in str(out[1])
    assert "Records[3]: attribute 'n'" in str(out[3])


typed_values = st.recursive(
    st.sampled_from(
        [
            {"N": "1"},
            {"N": "abc"},
            {"N": "1e400"},
            {"N": ""},
            {"S": "x"},
            {"S": 5},
            {"NULL": True},
            {"BOOL": "yes"},
            {"X": 1},
            {},
            {"N": "2.5"},
            {"SS": ["a"]},
            {"NS": ["1", "x"]},
            {"L": "abc"},
            {"M": []},
        ]
    ),
    lambda inner: (
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=2))
        | st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), inner, max_size=2))
    ),
    max_leaves=3,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00", "a#b", "succeeded"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=3,
)


@st.composite
def item_lines(draw) -> list[bytes]:
    """SDK items with any attribute replaced, typed items with broken types, and arbitrary JSON."""
    lines = []
    for i in range(draw(st.integers(1, 12))):
        e = Execution(
            f"e{i}",
            "acme",
            "ann",
            "lambda",
            draw(st.sampled_from(["pending", "succeeded", "rejected", "throttled"])),
            T0,
            T0,
            T0 + timedelta(seconds=3),
            3000,
            1,
        )
        item = plain_value(workflow_item(e))
        kind = draw(st.sampled_from(["sdk", "corrupt", "typed", "garbage"]))
        if kind == "corrupt":
            item[draw(st.sampled_from(sorted(item)))] = draw(json_values)
        if kind == "typed":
            item = {k: typed(v) for k, v in item.items() if not isinstance(v, float)}
            item[draw(st.sampled_from(sorted(item)))] = draw(typed_values)
        lines.append(json.dumps(item if kind != "garbage" else draw(json_values)).encode())
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=item_lines())
def test_any_item_is_stored_skipped_or_rejected_with_its_line_named(lines, tmp_path):
    store = SQLiteSummaryStore(tmp_path / "s.db")
    store.create()
    report = ingest_lines(lines, Recorder(store), mapping=load_mapping("geek-cafe"))
    assert report.stored + report.skipped + len(report.rejected) == len(lines)
    assert all(1 <= number <= len(lines) and reason for number, reason in report.rejected)
