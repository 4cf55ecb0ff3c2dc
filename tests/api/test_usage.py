"""Usage rows are the truth: closed days are sums of the stored daily summaries, the open day is computed from
that tenant's records, and a week's percentiles equal the weekly summary's; on SQLite, moto and dynalite."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from rollwise.api.schemas import Usage
from rollwise.summaries.model import COUNTERS, DURATION_FIELDS
from support.api import history, populate, services_for, tenant_token
from support.stores import make_summary_store
from support.summaries import TRUE_FIGURES, true_summaries

TENANT = "tenant-001"
SUMMED = tuple(f for f in TRUE_FIGURES if f not in ("min_duration_ms", "max_duration_ms"))


@pytest.fixture(scope="module", params=["sqlite", "moto", "dynalite"])
def populated(request, tmp_path_factory):
    """Two weeks of history on each backend, aggregated as the hourly runs would have: the tests here only read it."""
    store = make_summary_store(request.param, request, tmp_path_factory.mktemp(request.param), shards=2)  # reads, not shards, under test
    records = history(per_day=40)
    populate(store, records)
    return store, records


@pytest.fixture
def api(populated, serve, jwks_url):
    store, records = populated
    return serve(services_for(store, jwks_url)), store, records


def rows_of(answer) -> list[dict]:
    """The rows of an answer that is what the document declares (rollwise.api.schemas.Usage, no other field)."""
    assert answer.status == 200, answer.data
    doc = orjson.loads(answer.data)
    Usage.model_validate(doc)
    return doc["rows"]


def test_days_are_the_stored_dailies_and_today_is_its_records(api, keys):
    client, store, records = api
    doc = orjson.loads(client.get(f"/v1/tenants/{TENANT}/usage?from=2024-03-01&to=2024-04-01", tenant_token(keys, TENANT)).data)
    assert doc["to"] == "2024-03-15" and doc["complete"] is False and doc["as_of"] == "2024-03-14T12:30:00Z"  # ends now
    rows = {row["from"]: row for row in doc["rows"]}
    assert set(rows) == {f"2024-03-{d:02d}" for d in range(1, 15)}
    stored = {}
    for s in store.query_summaries(TENANT, "daily", owner_id="__tenant__"):
        day = stored.setdefault(s.period.start.isoformat(), {f: 0 for f in SUMMED})
        for f in SUMMED:
            day[f] += s.figures[f]
    assert max(stored) == "2024-03-13"  # the open day has no summary yet
    for day, sums in stored.items():
        assert {f: rows[day][f] for f in SUMMED} == pytest.approx(sums), day
        assert rows[day]["complete"] is True and "as_of" not in rows[day]
    truth = true_summaries(records, "daily", date(2024, 3, 15))
    today = {f: sum(v[f] for k, v in truth.items() if k[0] == TENANT and k[1] == "__tenant__" and k[3] == "2024-03-14") for f in SUMMED}
    assert today["submission_count"] > 0
    assert {f: rows["2024-03-14"][f] for f in SUMMED} == pytest.approx(today)
    assert rows["2024-03-14"]["complete"] is False and rows["2024-03-14"]["as_of"] == "2024-03-14T12:30:00Z"


def test_a_weeks_percentiles_are_the_weekly_summarys(api, keys):
    client, store, _ = api
    rows = rows_of(
        client.get(f"/v1/tenants/{TENANT}/usage?from=2024-03-04&to=2024-03-11&window=week&group_by=metric_type", tenant_token(keys, TENANT))
    )
    weekly = {s.metric_type: s.figures for s in store.query_summaries(TENANT, "weekly", date(2024, 3, 4), date(2024, 3, 4), owner_id="__tenant__")}
    assert {r["metric_type"] for r in rows} == set(weekly) and len(rows) == len(weekly) > 1
    for row in rows:
        want = weekly[row["metric_type"]]
        assert {f: row[f] for f in COUNTERS + DURATION_FIELDS} == {f: want[f] for f in COUNTERS + DURATION_FIELDS}
        assert (row["from"], row["to"], row["complete"]) == ("2024-03-04", "2024-03-11", True)


def test_grouped_by_owner_rows_add_up_to_the_tenants(api, keys):
    client, _, _ = api
    token = tenant_token(keys, TENANT)
    whole = rows_of(client.get(f"/v1/tenants/{TENANT}/usage?from=2024-03-01&to=2024-03-15&window=none", token))
    by_owner = rows_of(client.get(f"/v1/tenants/{TENANT}/usage?from=2024-03-01&to=2024-03-15&window=none&group_by=owner", token))
    assert len(whole) == 1 and len(by_owner) == 4 and {r["owner_id"] for r in by_owner} == {f"user-{i:03d}" for i in range(4)}
    for f in ("submission_count", "success_count", "failure_count", "total_profiles", "duration_count"):
        assert sum(r[f] for r in by_owner) == whole[0][f]
    assert whole[0]["max_duration_ms"] == max(r["max_duration_ms"] for r in by_owner)
