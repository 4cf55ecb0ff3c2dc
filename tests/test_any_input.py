"""Any input, both jobs: arbitrary JSON where numbers, strings and timestamps belong.

Each example feeds generated lines (summaries) or files (merge) through the
real entry points, then checks: nothing crashes, no window or shard is stuck
(a second run has nothing left to do), every line or file is either counted
or rejected with a reason, and the totals equal an oracle written here, from
the documented rules, without any rollwise code.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwise import objects
from rollwise.runs.job import MergeJob
from rollwise.summaries.ingest.recorder import Recorder, ingest_lines
from rollwise.summaries.job import backfill_plan, run
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

pytestmark = pytest.mark.slow  # long hypothesis runs

UTC = UTC
MAX_COUNT, MAX_MS = 1_000_000_000, 100_000_000_000

# -- arbitrary JSON ----------------------------------------------------------------------------------
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, -1, MAX_COUNT, MAX_COUNT + 1, 2**53, 2**63, 2**64])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e20, -0.0, 0.5, 1e-300, float(MAX_MS)])
    | text
    | st.sampled_from(["", " ", "12", "2024-01-10T10:00:00Z", "2024-01-10T10:00:00", "not a time", "Ωmega", "#", "a#b"])
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=4)


def corrupt(doc: dict, draw) -> dict:
    """The same document with one field (known or not) set to an arbitrary JSON value, or removed."""
    field = draw(st.sampled_from(sorted(doc) + ["extra"]))
    if draw(st.booleans()) and field in doc:
        return {k: v for k, v in doc.items() if k != field}
    return {**doc, field: draw(json_values)}


# -- the summaries input ---------------------------------------------------------------------------------
STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
OUTCOMES = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count", "timed_out": "timeout_count"}
DAY0 = datetime(2024, 1, 8, tzinfo=UTC)


@st.composite
def execution_lines(draw) -> list[bytes]:
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        submitted = DAY0 + timedelta(seconds=draw(st.integers(0, 6 * 86400)))
        status = draw(st.sampled_from(STATUSES))
        doc = {
            "tenant_id": draw(st.sampled_from(["t1", "t2"])),
            "owner_id": "u1",
            "metric_type": draw(st.sampled_from(["ocr", "score"])),
            "execution_id": f"e{draw(st.integers(0, 30))}",
            "status": status,
            "submitted_at": submitted.isoformat(),
            "profiles": draw(st.integers(0, 50)),
            "throttled": draw(st.integers(0, 3)),
            "rejected": draw(st.booleans()),
        }
        if status in OUTCOMES:
            started = submitted + timedelta(seconds=draw(st.integers(0, 60)))
            doc["started_at"] = started.isoformat()
            doc["completed_at"] = (started + timedelta(milliseconds=draw(st.integers(0, 86_400_000)))).isoformat()
        kind = draw(st.sampled_from(["valid", "valid", "corrupt", "corrupt", "garbage"]))
        if kind == "corrupt":
            doc = corrupt(doc, draw)
        line = json.dumps(doc).encode() if kind != "garbage" else draw(st.sampled_from([b"{", b"[1, 2]", b"null", b'"text"', b"\xff\xfe", b"{} {}"]))
        lines.append(line)
    return lines


def _time(value):
    """A timestamp as documented: an ISO 8601 string with a zone, between 1970 and 2199."""
    if not isinstance(value, str):
        return None
    raw = value.strip()
    raw = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if datetime(1970, 1, 1, tzinfo=UTC) <= moment < datetime(2200, 1, 1, tzinfo=UTC) else None


def _id_ok(value) -> bool:
    return (
        isinstance(value, str)
        and value.strip() != ""
        and len(value.encode()) <= 200
        and "#" not in value
        and not any(ord(c) < 32 or ord(c) == 127 for c in value)
    )


def _flag_ok(value) -> bool:
    return value is None or type(value) is bool  # 0 and 1 are not true or false


def _count_ok(value) -> bool:
    return value is None or (type(value) is int and 0 <= value <= MAX_COUNT)


def oracle_record(line: bytes):
    """The documented rules for one execution record: the record to count, or None when it must be refused."""
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if not all(_id_ok(doc.get(k)) for k in ("tenant_id", "owner_id", "metric_type", "execution_id")) or doc["owner_id"] == "__tenant__":
        return None
    status = doc.get("status")
    if status not in STATUSES:
        return None
    submitted = _time(doc.get("submitted_at"))
    started = _time(doc.get("started_at")) if doc.get("started_at") is not None else None
    completed = _time(doc.get("completed_at")) if doc.get("completed_at") is not None else None
    if submitted is None or (doc.get("started_at") is not None and started is None) or (doc.get("completed_at") is not None and completed is None):
        return None
    if (status in OUTCOMES) != (completed is not None) or (completed is not None and completed < submitted):
        return None
    duration = doc.get("duration_ms")
    if duration is not None:
        if type(duration) not in (int, float) or not (0 <= duration <= MAX_MS) or not math.isfinite(duration):
            return None
    elif started is not None and completed is not None:
        if completed < started:
            return None
        duration = (completed - started).total_seconds() * 1000
        if duration > MAX_MS:
            return None
    if not (_count_ok(doc.get("profiles")) and _count_ok(doc.get("throttled"))) or not _flag_ok(doc.get("rejected")):
        return None
    return {
        "tenant": doc["tenant_id"],
        "metric": doc["metric_type"],
        "id": doc["execution_id"],
        "status": status,
        "submitted": submitted.date(),
        "completed": completed.date() if completed else None,
        "duration": duration if completed is not None else None,
        "profiles": doc.get("profiles") or 0,
        "throttled": doc.get("throttled") or 0,
        "rejected": int(bool(doc.get("rejected"))),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(execution_lines())
def test_any_execution_lines(lines):
    store = SQLiteSummaryStore(":memory:", shards=2)
    store.create()
    report = ingest_lines(lines, Recorder(store, batch_size=7, now=datetime(2024, 3, 1, tzinfo=UTC)))
    expected = [oracle_record(line) for line in lines]
    rejected = {n for n, _ in report.rejected}
    assert rejected == {n for n, r in enumerate(expected, 1) if r is None}, report.rejected
    assert all(reason for _, reason in report.rejected) and report.stored == len(lines) - len(rejected)
    latest = {}
    for r in expected:
        if r is not None:
            latest[(r["tenant"], r["id"])] = r  # writing a record again replaces it
    totals: dict = defaultdict(lambda: defaultdict(float))
    for r in latest.values():
        t = totals[(r["tenant"], r["metric"])]
        t["submission_count"] += 1
        t["throttled_count"] += r["throttled"]
        t["rejected_count"] += r["rejected"]
        if r["completed"] is not None:
            t[OUTCOMES[r["status"]]] += 1
            t["total_profiles"] += r["profiles"]
            if r["duration"] is not None:
                t["duration_count"] += 1
                t["total_duration_ms"] += r["duration"]
    result = run(store, backfill_plan(store, date(2024, 1, 8), date(2024, 1, 20), datetime(2024, 3, 1, tzinfo=UTC)))
    assert result.failures() == []
    got: dict = defaultdict(lambda: defaultdict(float))
    for tenant in {"t1", "t2"} | {t for t, _ in totals}:
        for s in store.query_summaries(tenant, "monthly", owner_id="__tenant__"):
            for name, value in s.figures.items():
                if name != "sketch" and isinstance(value, (int, float)):
                    got[(tenant, s.metric_type)][name] += value
    for key in set(totals) | set(got):
        for name in ("submission_count", "throttled_count", "rejected_count", "total_profiles", "duration_count", *OUTCOMES.values()):
            assert got[key][name] == totals[key][name], (key, name)
        assert abs(got[key]["total_duration_ms"] - totals[key]["total_duration_ms"]) <= 0.01 * max(1, got[key]["duration_count"])
    again = run(store, backfill_plan(store, date(2024, 1, 8), date(2024, 1, 20), datetime(2024, 3, 1, tzinfo=UTC)))
    assert again.failures() == [] and again.summaries_created == again.summaries_updated == 0


# -- the merge input ---------------------------------------------------------------------------------
@st.composite
def run_files(draw) -> list[bytes]:
    files = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            doc = {
                draw(st.sampled_from(["solicitationNumber", "noticeId", "opportunity_id"])): draw(st.sampled_from(["S-1", "N-2", 77])),
                "title": "t",
                "score": draw(st.floats(0, 1)),
                "processing_time_ms": draw(st.integers(0, 5000)),
                "timestamp": "2024-01-15T13:01:00",
            }
            if draw(st.booleans()):
                doc["matched"] = draw(st.booleans())
        else:
            processed = draw(st.integers(0, 200))
            doc = {
                "run_id": "r",
                "opportunities_processed": processed,
                "matches": draw(st.integers(0, 10)),
                "no_matches": 3,
                "errors": draw(st.integers(0, 3)),
                "processing_time_ms": draw(st.integers(0, 90_000)),
                "top_matches": [{"id": "X", "score": 0.9}],
            }
        kind = draw(st.sampled_from(["valid", "corrupt", "corrupt", "array", "garbage"]))
        if kind == "corrupt":
            doc = corrupt(doc, draw)
        elif kind == "array":
            doc = [doc, corrupt(doc, draw)] if draw(st.booleans()) else [doc]
        body = json.dumps(doc).encode() if kind != "garbage" else draw(st.sampled_from([b"{", b"", b"42", b"\xff", b"[1]", b'{"a": NaN}']))
        files.append(body)
    return files


def _number_ok(value, low=None, high=None) -> bool:
    if type(value) not in (int, float) or not math.isfinite(value):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _opp_id_ok(value) -> bool:
    return (isinstance(value, str) and value.strip() != "") or (type(value) is int and 0 <= value <= 2**53)


def oracle_object(obj, threshold=0.7):
    """The documented rules for one object of a run file: its contribution, or None when the file is poison."""
    if not isinstance(obj, dict):
        return None
    ms = obj.get("processing_time_ms")
    if ms is not None and not _number_ok(ms, 0, MAX_MS):
        return None
    if "run_id" in obj:
        if not _opp_id_ok(obj["run_id"]) or not all(_count_ok(obj.get(k)) for k in ("opportunities_processed", "matches", "no_matches", "errors")):
            return None
        top = obj.get("top_matches")
        if top is not None and (
            not isinstance(top, list)
            or not all(
                isinstance(m, dict)
                and _opp_id_ok(next((m[f] for f in ("id", "solicitationNumber", "opportunity_id", "noticeId") if f in m), None))
                and (m.get("title") is None or isinstance(m.get("title"), str))
                and _number_ok(m.get("score"))
                for m in top
            )
        ):
            return None
        if ms is None and obj.get("started_at") is not None and obj.get("finished_at") is not None:
            return None  # not generated here
        n = obj.get("opportunities_processed") or 0
        return {
            "opportunities": n,
            "matches": obj.get("matches") or 0,
            "no_matches": obj.get("no_matches") or 0,
            "errors": obj.get("errors") or 0,
            "item_ms": None,
            "run_ms": ms,
        }
    id_field = next((f for f in ("solicitationNumber", "opportunity_id", "noticeId") if f in obj), None)
    if id_field is None or not _opp_id_ok(obj[id_field]):
        return None
    for name in ("title", "timestamp"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            return None
    score = obj.get("score")
    if score is not None and not _number_ok(score):
        return None
    if not _flag_ok(obj.get("matched")):
        return None
    if obj.get("error"):
        return {"opportunities": 1, "matches": 0, "no_matches": 0, "errors": 1, "item_ms": ms, "run_ms": None}
    matched = obj.get("matched")
    matched = (score is not None and score >= threshold) if matched is None else matched
    return {"opportunities": 1, "matches": int(matched), "no_matches": int(not matched), "errors": 0, "item_ms": ms, "run_ms": None}


def oracle_file(body: bytes):
    try:
        doc = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    parts = [oracle_object(o) for o in (doc if isinstance(doc, list) else [doc])]
    return None if any(p is None for p in parts) else parts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_files())
def test_any_run_files(files):
    store = objects.open_store("memory://")
    keys = []
    for i, body in enumerate(files):
        keys.append(f"runs/raw/20240115t1301Z_{i:02d}.json")
        objects.write(store, keys[-1], body)
    at = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)
    result = MergeJob(store).run(at)
    assert result.failures() == []
    expected = {k: oracle_file(b) for k, b in zip(keys, files, strict=True)}
    good = {k for k, v in expected.items() if v is not None}
    blob = objects.read_if_exists(store, "runs/20240115t1305Z.json")
    doc = orjson.loads(blob.data) if blob else {"source_files": [], "stats": None}
    assert {f["key"] for f in doc["source_files"]} == good
    notes = {m.key for m in objects.list_objects(store, "runs/quarantine/") if m.key.endswith(".error.json")}
    assert notes == {k.replace("raw/", "quarantine/") + ".error.json" for k in keys if k not in good}
    assert all(orjson.loads(objects.read(store, n).data)["reason"] for n in notes)
    assert [m.key for m in objects.list_objects(store, "runs/raw/")] == []
    if good:
        parts = [p for k in sorted(good) for p in expected[k]]
        stats = doc["stats"]
        for name, key in (("opportunities_processed", "opportunities"), ("matches", "matches"), ("no_matches", "no_matches"), ("errors", "errors")):
            assert stats[name] == sum(p[key] for p in parts), name
        timed_items = [p["item_ms"] for p in parts if p["item_ms"] is not None]
        timed_runs = [(p["run_ms"], p["opportunities"]) for p in parts if p["run_ms"] is not None]
        per_opportunity = stats["opportunity_time_ms"]
        assert per_opportunity["count"] == len(timed_items) + sum(n for _, n in timed_runs)
        assert abs(per_opportunity["total"] - (sum(timed_items) + sum(ms for ms, n in timed_runs if n))) <= 0.01
        assert stats["run_time_ms"]["count"] == len(timed_runs)
    assert MergeJob(store).run(at).body()["files_processed"] == 0  # nothing stuck, nothing left
