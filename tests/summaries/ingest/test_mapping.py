"""Mappings: the built-in one over the SDK's own items, and the file format's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from rollwise.errors import ConfigError
from rollwise.summaries.ingest.dynamodb_items import Change, plain_value
from rollwise.summaries.ingest.mapping import action_of, load_mapping, mapping_from_dict
from rollwise.summaries.model import RecordError
from support.workflow_sdk import Execution, coordination_item, workflow_item

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
GEEK = load_mapping("geek-cafe")


def sdk(e: Execution) -> dict:
    return plain_value(workflow_item(e))


def test_a_finished_sdk_execution_becomes_its_record():
    e = Execution(
        "abc",
        "acme",
        "ann",
        "step_function",
        "succeeded",
        T0,
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=65),
        60000,
        7,
        throttled_at=T0 + timedelta(seconds=1),
    )
    assert GEEK.record(sdk(e)) == {
        "tenant_id": "acme",
        "owner_id": "ann",
        "metric_type": "step_function",
        "execution_id": "abc",
        "status": "succeeded",
        "submitted_at": "2026-03-01T10:00:00Z",
        "started_at": "2026-03-01T10:00:05Z",
        "completed_at": "2026-03-01T10:01:05Z",
        "duration_ms": 60000,
        "profiles": 7,
        "throttled": 1,
        "rejected": False,
    }


@pytest.mark.parametrize(
    "status, expected",
    [
        ("pending", ("queued", 0, False)),
        ("throttled", ("queued", 1, False)),
        ("rejected", ("queued", 0, True)),
        ("running", ("running", 0, False)),
        ("timed_out", ("timed_out", 0, False)),
    ],
)
def test_sdk_statuses_map_to_rollwise_ones(status, expected):
    done = T0 + timedelta(seconds=9)
    e = Execution(
        "abc",
        "acme",
        "ann",
        "lambda",
        status,
        T0,
        T0 if status in ("running", "timed_out") else None,
        done if status in ("rejected", "timed_out") else None,
        9000 if status == "timed_out" else None,
        throttled_at=T0 if status == "throttled" else None,
    )
    r = GEEK.record(sdk(e))
    assert (r["status"], r["throttled"], r["rejected"]) == expected
    if status == "rejected":  # the SDK stamps a rejection complete; it has no outcome to count
        assert r["completed_at"] is None and r["duration_ms"] is None


def test_children_and_other_items_are_not_taken():
    child = Execution("kid", "acme", "ann", "lambda", "succeeded", T0, T0, T0 + timedelta(seconds=1), 1000, root_id="abc")
    assert GEEK.record(sdk(child)) is None
    assert GEEK.record(plain_value(coordination_item("abc", "acme"))) is None
    assert action_of(Change("ITEM", sdk(child)), GEEK).kind == "skip"


def test_a_bad_execution_item_names_itself_and_the_problem():
    item = sdk(Execution("abc", "acme", "ann", "lambda", "pending", T0))
    with pytest.raises(RecordError, match=r"item pk='execution#abc': status 'paused' \(status\) is not one the mapping knows"):
        GEEK.record({**item, "status": "paused"})
    with pytest.raises(RecordError, match=r"execution#abc.*tenant_id is required: tenant_id not set"):
        GEEK.record({**item, "tenant_id": ""})
    with pytest.raises(RecordError, match=r"execution#abc.*owner_id is required: owner_id and user_id not set"):
        GEEK.record({k: v for k, v in item.items() if k not in ("owner_id", "user_id")})
    with pytest.raises(RecordError, match=r"submitted_at: .* has no time zone"):
        GEEK.record({**item, "created_utc": "2026-03-01T10:00:00"})


def test_the_first_set_field_wins_and_numbers_may_be_ids():
    item = {**sdk(Execution("abc", "acme", "ann", "lambda", "pending", T0)), "owner_id": "  "}
    assert GEEK.record(item)["owner_id"] == "ann"  # blank owner_id: the SDK's user_id
    mapping = mapping_from_dict(
        {
            "fields": {"tenant_id": "org.id", "owner_id": "who", "metric_type": "kind", "execution_id": "n", "submitted_at": "at"},
            "status": {"field": "state"},
        },
        "test",
    )
    record = mapping.record({"org": {"id": 42}, "who": "bo", "kind": "k", "n": 7, "at": "2026-03-01T10:00:00Z", "state": "queued"})
    assert (record["tenant_id"], record["execution_id"], record["status"]) == ("42", "7", "queued")


def test_a_mapping_prints_as_the_document_it_reads_from(tmp_path):
    path = tmp_path / "mine.json"
    path.write_bytes(orjson.dumps(GEEK.to_dict()))
    assert load_mapping(str(path)) == GEEK
    assert load_mapping(orjson.dumps(GEEK.to_dict()).decode()) == GEEK


@pytest.mark.parametrize(
    "doc, problem",
    [
        ([], "must be a JSON object"),
        ({"fields": {}, "status": {"field": "s"}, "extra": 1}, "unknown key"),
        ({"fields": {"tenant_id": "t"}, "status": {"field": "s"}}, "fields must say where owner_id, metric_type, execution_id, submitted_at"),
        ({"fields": {"tenant": "t"}, "status": {"field": "s"}}, "fields.tenant is not a record field"),
        ({"take": [{"field": "pk", "prefix": "a", "equals": "b"}]}, r"take\[0\] needs exactly one of"),
        ({"take": [{"field": "pk", "in": "abc"}]}, r"take\[0\].in must be a list"),
        ({"fields": {"tenant_id": 3}}, "fields.tenant_id must be an attribute name"),
    ],
)
def test_a_bad_mapping_file_is_refused_with_the_problem_named(doc, problem):
    base = {"fields": {"tenant_id": "t", "owner_id": "o", "metric_type": "m", "execution_id": "i", "submitted_at": "at"}, "status": {"field": "s"}}
    with pytest.raises(ConfigError, match=rf"mapping mine.json: .*{problem}"):
        mapping_from_dict(doc if not isinstance(doc, dict) else {**base, **doc}, "mine.json")


def test_status_map_targets_are_checked():
    with pytest.raises(ConfigError, match=r"status.map.done: status must be one of queued, running"):
        mapping_from_dict({**GEEK.to_dict(), "status": {"field": "status", "map": {"done": "finished"}}}, "x")


def test_unknown_names_and_missing_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="neither a built-in one"):
        load_mapping(str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: invalid JSON"):
        load_mapping(str(tmp_path / "bad.json"))
