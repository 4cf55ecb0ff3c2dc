"""The runs routes over the merge job's real outputs on moto S3: windows and top matches equal the aggregates."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from rollwise.config import resolve
from rollwise.runs.job import MergeJob
from rollwise.runs.settings import MergeSettings
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.api import admin_token, services_for
from support.runs import aggregates, open_store, put, sam_result

AT = datetime(2024, 1, 15, 13, 30, tzinfo=UTC)


def test_windows_and_top_matches_are_the_merged_aggregates(serve, jwks_url, keys, tmp_path, request, monkeypatch):
    from support.stores import make_runs_url

    url = make_runs_url("s3", request, tmp_path, monkeypatch)
    store = open_store(url)
    for i in range(24):  # four windows of producer files, scores spread
        minute = (i % 4) * 5 + 1
        put(
            store,
            f"runs/raw/20240115t13{minute:02d}Z_{i}.json",
            sam_result(i, round(0.3 + (i * 37 % 70) / 100, 3), at=f"2024-01-15T13:{minute:02d}:10"),
        )
    job = MergeJob(open_store(url), resolve(MergeSettings, {"url": url}))
    assert not job.run(AT).failures()
    merged = aggregates(store)
    assert len(merged) == 4
    summaries = SQLiteSummaryStore(tmp_path / "s.db")
    summaries.create()
    api = serve(services_for(summaries, jwks_url, runs=job, clock=lambda: AT))
    admin = admin_token(keys)

    listed = orjson.loads(api.get("/v1/runs/windows?from=2024-01-15&to=2024-01-16", admin).data)["windows"]
    assert [w["window_end"] for w in listed] == sorted(doc["window_end"] for doc in merged.values())
    for w in listed:
        doc = next(d for d in merged.values() if d["window_end"] == w["window_end"])
        assert (w["files"], w["matches"], w["opportunities_processed"]) == (
            doc["stats"]["files"],
            doc["stats"]["matches"],
            doc["stats"]["opportunities_processed"],
        )
        assert w["top_match"] == doc["top_matches"][0]
    stamp = "20240115t1310Z"
    one = api.get(f"/v1/runs/windows/{stamp}", admin)
    assert one.status == 200 and one.headers["ETag"] and "max-age" in one.headers["Cache-Control"]
    full = merged[f"runs/{stamp}.json"]
    assert orjson.loads(one.data) == {k: v for k, v in full.items() if k != "merge_state"}
    assert api.get(f"/v1/runs/windows/{stamp}", admin, headers={"If-None-Match": one.headers["ETag"]}).status == 304
    assert api.get("/v1/runs/windows/20240115t1400Z", admin).status == 404

    best = orjson.loads(api.get("/v1/runs/top-matches?from=2024-01-15&to=2024-01-16&limit=5", admin).data)["matches"]
    every = sorted((m for d in merged.values() for m in d["top_matches"]), key=lambda m: -m["score"])
    assert [m["score"] for m in best] == [m["score"] for m in every[:5]] and len(best) == 5
    csv = api.get("/v1/runs/windows?from=2024-01-15&to=2024-01-16", admin, headers={"Accept": "text/csv"})
    assert csv.headers["Content-Type"] == "text/csv" and len(csv.data.decode().splitlines()) == 5
