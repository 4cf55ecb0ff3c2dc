"""Both input shapes, and a catalogue of bad inputs, each its own test."""

import json

import pytest

from rollwise.runs.records import PoisonFile, parse_run_file


def parse(doc, threshold=0.7):
    return parse_run_file(doc if isinstance(doc, bytes) else json.dumps(doc).encode(), threshold)


def test_item_shapes_and_the_match_threshold():
    (o,) = parse({"noticeId": "N1", "title": "t", "score": 0.7})
    assert (o.opportunities_processed, o.matches, o.no_matches, o.errors) == (1, 1, 0, 0)
    assert o.top_matches[0].id == "N1" and o.top_matches[0].score == 0.7
    (o,) = parse({"opportunity_id": 17, "score": 0.69})
    assert (o.matches, o.no_matches, o.top_matches) == (0, 1, ())
    (o,) = parse({"opportunity_id": "A", "score": 0.1, "matched": True}, threshold=0.9)
    assert o.matches == 1
    (o,) = parse({"solicitationNumber": "S", "score": 0.99, "error": "timeout", "processing_time_ms": 5})
    assert (o.errors, o.matches, o.time_ms) == (1, 0, 5)
    (o,) = parse({"solicitationNumber": "S", "score": 0.99, "url": "https://example.org/s", "extra": {"kept": True}})
    assert o.top_matches[0].link == "https://example.org/s"


@pytest.mark.parametrize("value,failed", [("timeout", True), (True, True), ({"code": 5}, True), (None, False), (False, False), ("", False)])
def test_an_error_field_fails_the_item_only_when_it_says_something(value, failed):
    (o,) = parse({"noticeId": "N", "score": 0.9, "error": value})
    assert (o.errors, o.matches) == ((1, 0) if failed else (0, 1))


def test_run_summaries_and_arrays():
    out = parse(
        [
            {
                "run_id": "r1",
                "opportunities_processed": 10,
                "matches": 3,
                "no_matches": 6,
                "errors": 1,
                "started_at": "2024-01-15T13:00:00Z",
                "finished_at": "2024-01-15T13:00:02.5Z",
                "top_matches": [{"id": "A", "title": "a", "score": 0.9}],
            },
            {"noticeId": "N", "score": 0.8},
        ]
    )
    assert [o.opportunities_processed for o in out] == [10, 1]
    assert out[0].time_ms == 2500 and out[0].run_id == "r1"
    assert parse([]) == []


BAD = {
    "invalid JSON": (b'{"solicitationNumber": ', "invalid JSON"),
    "empty file": (b"", "invalid JSON"),
    "NaN is not JSON": (b'{"noticeId": "n", "score": NaN}', "invalid JSON"),
    "not UTF-8": (b'{"noticeId": "\xff\xfe"}', "not UTF-8"),
    "a bare number": (b"42", "expected a JSON object, got int"),
    "array with a string": (b'[{"noticeId": "n"}, "x"]', "[1]: expected a JSON object, got str"),
    "unknown shape": ({"foo": 1}, "neither an item result"),
    "score as text": ({"noticeId": "n", "score": "0.9"}, "score must be a number, got str"),
    "score as bool": ({"noticeId": "n", "score": True}, "score must be a number, got bool"),
    "matched as text": ({"noticeId": "n", "score": 0.9, "matched": "yes"}, "matched must be true or false"),
    "id as object": ({"noticeId": {"a": 1}}, "noticeId must be a non-empty string"),
    "title as number": ({"noticeId": "n", "title": 5}, "title must be a string, got int"),
    "negative time": ({"noticeId": "n", "processing_time_ms": -1}, "processing_time_ms must be from 0 to"),
    "negative count": ({"run_id": "r", "matches": -2}, "matches must be a whole number from 0 to"),
    "fractional count": ({"run_id": "r", "opportunities_processed": 1.5}, "opportunities_processed must be a whole number from 0 to"),
    "empty run id": ({"run_id": ""}, "run_id must be a non-empty string"),
    "top matches not a list": ({"run_id": "r", "top_matches": {"id": "a"}}, "top_matches must be a list"),
    "top matches zero": ({"run_id": "r", "top_matches": 0}, "top_matches must be a list, got int"),
    "id beyond 2**53": ({"opportunity_id": 2**60}, "opportunity_id must be a non-empty string or a whole number from 0 to 2\\*\\*53"),
    "negative id": ({"opportunity_id": -3}, "opportunity_id must be a non-empty string or a whole number"),
    "top match without score": ({"run_id": "r", "top_matches": [{"id": "a"}]}, "top_matches[0]: score is required"),
    "finished before started": (
        {"run_id": "r", "started_at": "2024-01-15T13:00:01Z", "finished_at": "2024-01-15T13:00:00Z"},
        "finished_at is before started_at",
    ),
    "started without zone": ({"run_id": "r", "started_at": "2024-01-15T13:00:01", "finished_at": "2024-01-15T13:00:02Z"}, "no time zone"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_poison_with_a_reason(name):
    doc, reason = BAD[name]
    with pytest.raises(PoisonFile, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse(doc)


def _timestamp_by_parsing(text):
    from rollwise.timestamps import parse_timestamp, utc_text

    try:
        return utc_text(parse_timestamp(text, assume_utc=True))
    except ValueError:
        return text


def test_a_timestamp_already_in_the_utc_form_is_kept_as_parsing_would_keep_it():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rollwise.runs.records import UTC_FORM, _timestamp

    @settings(max_examples=500)
    @given(
        st.one_of(
            st.from_regex(UTC_FORM, fullmatch=True),
            st.text(max_size=40),
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
            st.datetimes().map(lambda d: d.isoformat()),
        )
    )
    def same(text):
        assert _timestamp({"timestamp": text}, "f.json") == _timestamp_by_parsing(text)

    same()
    assert _timestamp({"timestamp": "2024-01-15T13:05:00.000000Z"}, "f.json") == "2024-01-15T13:05:00Z"  # parsed: no zero fraction
    assert _timestamp({"timestamp": "2024-02-30T13:05:00Z"}, "f.json") == "2024-02-30T13:05:00Z"  # no such day: kept as written
