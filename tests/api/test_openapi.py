"""The OpenAPI document is generated from the routes; docs/openapi.json is a copy that must not drift."""

import json
from pathlib import Path

import orjson

from rollwise.api.app import openapi_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = (
    'uv run python -c "from rollwise.api.app import openapi_document; import json; '
    'print(json.dumps(json.loads(openapi_document()), indent=2, sort_keys=True))" > docs/openapi.json'
)


def test_the_committed_document_is_the_generated_one():
    assert json.loads(DOC.read_text()) == json.loads(openapi_document()), f"docs/openapi.json is stale: {REGENERATE}"


def test_every_route_is_documented_with_its_parameters(serve, jwks_url, tmp_path):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
    from support.api import services_for

    doc = orjson.loads(openapi_document())
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/v1/tenants/{tenant}/usage",
        "/v1/tenants/{tenant}/summaries",
        "/v1/runs/windows",
        "/v1/runs/windows/{stamp}",
        "/v1/runs/top-matches",
        "/v1/health",
    }
    usage = {p["name"]: p for p in doc["paths"]["/v1/tenants/{tenant}/usage"]["get"]["parameters"]}
    assert set(usage) == {"tenant", "from", "to", "window", "group_by", "owner", "metric_type"}
    assert usage["from"]["required"] and usage["window"]["schema"]["enum"] == ["day", "week", "month", "none"]
    store = SQLiteSummaryStore(tmp_path / "s.db")
    store.create()
    served = serve(services_for(store, jwks_url)).get("/v1/openapi.json")
    assert served.status == 200 and orjson.loads(served.data) == doc  # served without a token: it is public
