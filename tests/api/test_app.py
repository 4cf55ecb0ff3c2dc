"""The app's own refusals, before any route runs: a method a path does not take, and a path no route has."""

import orjson

from support.api import services_for, tenant_token


def test_a_method_a_path_does_not_take_is_405_naming_the_allowed_ones_and_an_unknown_path_404(serve, jwks_url, keys, tmp_path):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(tmp_path / "s.db")
    store.create()
    client = serve(services_for(store, jwks_url))
    token = tenant_token(keys, "acme")
    for method, path, allowed in [
        ("POST", "/v1/tenants/acme/usage?from=2024-01-01&to=2024-01-02", "GET"),
        ("DELETE", "/v1/runs/windows/20240101T0000Z", "GET"),
        ("PUT", "/v1/health", "GET"),
        ("POST", "/v1/openapi.json", "GET"),
    ]:
        answer = client.get(path, token=token, method=method)
        problem = orjson.loads(answer.data)
        assert (answer.status, answer.headers["Allow"], answer.headers["Content-Type"]) == (405, allowed, "application/problem+json"), path
        assert problem["status"] == 405 and f"{method} is not allowed on {path.split('?')[0]}: use {allowed}" in problem["detail"]
    unknown = client.get("/v1/tenants/acme/nothing", token=token)
    assert unknown.status == 404 and "Allow" not in unknown.headers
    assert orjson.loads(unknown.data)["detail"] == "no route /v1/tenants/acme/nothing"


def test_every_refusal_is_the_same_problem_document_with_the_same_headers(serve, jwks_url, keys, tmp_path):
    """One builder answers every refusal, before a route (401) and after one (400, 403, 404, 405): the document
    the OpenAPI file declares (no other field), never cached, its path as the instance."""
    from rollwise.api.schemas import Problem
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(tmp_path / "s.db")
    store.create()
    client = serve(services_for(store, jwks_url))
    token = tenant_token(keys, "acme")
    usage = "/v1/tenants/acme/usage"
    for method, path, sent, status in [
        ("GET", usage + "?from=2024-01-01&to=2024-01-02", None, 401),
        ("GET", usage + "?from=2024-01-01&to=2024-13-02", token, 400),
        ("GET", "/v1/tenants/other/usage?from=2024-01-01&to=2024-01-02", token, 403),
        ("GET", "/v1/nothing", token, 404),
        ("PATCH", "/v1/health", token, 405),
    ]:
        answer = client.get(path, token=sent, method=method)
        doc = orjson.loads(answer.data)
        assert answer.status == status == doc["status"], (path, answer.data)
        assert (answer.headers["Content-Type"], answer.headers["Cache-Control"]) == ("application/problem+json", "no-store"), path
        assert Problem.model_validate(doc).instance == path.split("?")[0]
