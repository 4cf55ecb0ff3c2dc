import pytest

from rollwise.summaries.model import RecordError, normalize_record, record_days

GOOD = {
    "tenant_id": "t1",
    "owner_id": "u1",
    "metric_type": "ocr",
    "execution_id": "e1",
    "status": "succeeded",
    "submitted_at": "2024-01-14T23:59:00Z",
    "started_at": "2024-01-14T23:59:30+00:00",
    "completed_at": "2024-01-15T00:00:02.5Z",
}


def test_normalizes_and_derives_duration():
    r = normalize_record(GOOD)
    assert r["submitted_at"] == "2024-01-14T23:59:00Z" and r["completed_at"] == "2024-01-15T00:00:02.500000Z"
    assert r["duration_ms"] == 32500
    assert (r["profiles"], r["throttled"], r["rejected"]) == (0, 0, False)
    assert record_days(r) == {"2024-01-14", "2024-01-15"}


def test_explicit_duration_wins_and_offsets_become_utc():
    r = normalize_record({**GOOD, "duration_ms": 1234.5, "completed_at": "2024-01-15T01:00:00+01:00"})
    assert r["duration_ms"] == 1234.5
    assert r["completed_at"] == "2024-01-15T00:00:00Z"


def test_running_execution_has_no_outcome_day():
    r = normalize_record({**GOOD, "status": "running", "completed_at": None})
    assert record_days(r) == {"2024-01-14"} and r["duration_ms"] is None


BAD = [
    ({"tenant_id": ""}, "tenant_id is required"),
    ({"owner_id": None}, "owner_id is required"),
    ({"owner_id": "__tenant__"}, "reserved"),
    ({"metric_type": "a#b"}, "must not contain '#'"),
    ({"status": "done"}, "status must be one of"),
    ({"submitted_at": None}, "submitted_at is required"),
    ({"submitted_at": "2024-01-14T10:00:00"}, "no time zone"),
    ({"completed_at": None}, "completed_at is required"),
    ({"status": "running"}, "status 'running' is not finished"),
    ({"completed_at": "2024-01-13T00:00:00Z"}, "before submitted_at"),
    ({"started_at": "2024-01-15T01:00:00Z"}, "before started_at"),
    ({"duration_ms": -1}, "duration_ms must be from 0 to"),
    ({"duration_ms": "12"}, "duration_ms must be a number, got str"),
    ({"profiles": 1.5}, "profiles must be a whole number from 0 to"),
    ({"throttled": True}, "throttled must be a whole number from 0 to"),
    ({"rejected": "yes"}, "rejected must be true or false"),
]


@pytest.mark.parametrize("change,reason", BAD, ids=[b[1] for b in BAD])
def test_bad_records_are_refused_with_the_field_named(change, reason):
    with pytest.raises(RecordError, match=reason):
        normalize_record({**GOOD, **change})


def test_not_an_object():
    with pytest.raises(RecordError, match="expected a JSON object, got list"):
        normalize_record([1, 2])
