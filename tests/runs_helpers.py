"""Helpers of the merge tests: writing raw files, reading the store back, the exactly-once invariant."""

from __future__ import annotations

import json
from typing import Any

import obstore as obs
import orjson

from rollwise.objects import store_from_url


def item(i: int, score: float, matched: bool | None = None, **extra: Any) -> dict:
    doc = {"solicitationNumber": f"SOL-{i:05d}", "title": f"Opportunity {i}", "score": score, "processing_time_ms": 100 + i}
    if matched is not None:
        doc["matched"] = matched
    return {**doc, **extra}


def run_summary(run_id: str, processed: int, matches: int, errors: int = 0, ms: float = 5000, top=()) -> dict:
    return {"run_id": run_id, "opportunities_processed": processed, "matches": matches, "no_matches": processed - matches - errors,
            "errors": errors, "processing_time_ms": ms, "top_matches": [{"id": i, "title": t, "score": s} for i, t, s in top]}


def put(store, key: str, doc: Any) -> None:
    obs.put(store, key, doc if isinstance(doc, bytes) else json.dumps(doc).encode())


def keys(store, prefix: str) -> list[str]:
    return sorted(m["path"] for batch in obs.list(store, prefix) for m in batch)


def aggregates(store, root: str = "runs/") -> dict[str, dict]:
    listing = obs.list_with_delimiter(store, root.rstrip("/"))
    return {m["path"]: orjson.loads(bytes(obs.get(store, m["path"]).bytes())) for m in listing["objects"] if m["path"].endswith(".json")}


def write_small_run(url: str, valid: int = 6, poison: int = 1) -> tuple[set[str], set[str]]:
    """Valid files over two closed windows (one of them also a run summary) and poison files."""
    store = store_from_url(url)
    good, bad = set(), set()
    for i in range(valid):
        key = f"runs/raw/20240115t13{(i % 2) * 5:02d}Z_{i}.json"
        put(store, key, item(i, 0.5 + i / 20) if i != 3 else run_summary(f"run-{i}", 4, 2, top=[("X1", "Best", 0.99)]))
        good.add(key)
    for j in range(poison):
        key = f"runs/raw/20240115t1301Z_poison{j}.json"
        put(store, key, b"{not json")
        bad.add(key)
    return good, bad


def check_exactly_once(url: str, good: set[str], bad: set[str]) -> dict[str, dict]:
    """Every valid file in exactly one manifest, counted once; poison quarantined; raw empty."""
    store = store_from_url(url)
    docs = aggregates(store)
    seen: list[str] = [f["key"] for doc in docs.values() for f in doc["source_files"]]
    assert sorted(seen) == sorted(good), "each valid file is in exactly one manifest"
    assert sum(doc["stats"]["files"] for doc in docs.values()) == len(good)
    for doc in docs.values():
        assert doc["stats"]["files"] == len(doc["source_files"]) == len(doc["runs"])
    quarantined = {k for k in keys(store, "runs/quarantine") if not k.endswith(".error.json")}
    assert quarantined == {k.replace("runs/raw/", "runs/quarantine/") for k in bad}
    assert keys(store, "runs/raw") == []
    return docs
