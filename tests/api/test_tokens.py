"""Who may read what: real signed tokens against a key set served by the test; every refusal its own test,
each an RFC 9457 problem that says why and never echoes the token."""

from __future__ import annotations

import time

import jwt
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.api import AUDIENCE, ISSUER, Keys, admin_token, history, populate, services_for, tenant_token

USAGE = "/v1/tenants/{}/usage?from=2024-03-01&to=2024-03-15&group_by=owner"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SQLiteSummaryStore(tmp_path_factory.mktemp("api") / "s.db", shards=2)
    s.create()
    populate(s, history())
    return s


@pytest.fixture
def api(serve, store, jwks_url):
    return serve(services_for(store, jwks_url))


def refused(response, status: int, why: str, token: str | None = None) -> dict:
    assert response.status == status, response.data
    assert response.headers["Content-Type"] == "application/problem+json"
    doc = orjson.loads(response.data)
    assert doc["status"] == status and why in doc["detail"], doc
    if token:
        assert token not in response.data.decode() and token.split(".")[1] not in response.data.decode()
    return doc


def test_a_tenant_reads_its_own_usage(api, keys):
    answer = api.get(USAGE.format("tenant-000"), tenant_token(keys, "tenant-000"))
    assert answer.status == 200 and orjson.loads(answer.data)["rows"]


def test_no_token_is_401(api):
    refused(api.get(USAGE.format("tenant-000")), 401, "no bearer token")


def test_an_expired_token_is_401(api, keys):
    token = tenant_token(keys, "tenant-000", exp=int(time.time()) - 3600)
    refused(api.get(USAGE.format("tenant-000"), token), 401, "expired", token)


def test_a_token_not_valid_yet_is_401(api, keys):
    token = tenant_token(keys, "tenant-000", nbf=int(time.time()) + 3600)
    refused(api.get(USAGE.format("tenant-000"), token), 401, "not valid yet", token)


def test_a_token_of_another_issuer_is_401(api, keys):
    token = tenant_token(keys, "tenant-000", iss="https://elsewhere.test")
    refused(api.get(USAGE.format("tenant-000"), token), 401, "another issuer", token)


def test_a_token_for_another_audience_is_401(api, keys):
    token = tenant_token(keys, "tenant-000", aud="someone-else")
    refused(api.get(USAGE.format("tenant-000"), token), 401, "another audience", token)


def test_a_token_signed_by_another_key_under_the_same_kid_is_401(api):
    impostor = Keys(kid="k1")
    token = tenant_token(impostor, "tenant-000")
    refused(api.get(USAGE.format("tenant-000"), token), 401, "signature does not verify", token)


def test_an_unsigned_token_is_401(api):
    token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600, "custom:tenant_id": "tenant-000"}, None, algorithm="none")
    refused(api.get(USAGE.format("tenant-000"), token), 401, "'none' are not accepted", token)


def test_an_hs256_token_keyed_with_the_public_key_is_401(api, keys):
    """The classic confusion: the RSA public key (public by design) used as an HMAC secret."""
    from cryptography.hazmat.primitives import serialization

    public = keys.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}))
    body = b64(orjson.dumps({"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600, "custom:tenant_id": "tenant-000"}))
    # PyJWT refuses to sign with a PEM key as HMAC secret, as it should: the attacker's token is made by hand here
    signature = b64(hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest())
    token = f"{header}.{body}.{signature}"
    refused(api.get(USAGE.format("tenant-000"), token), 401, "'HS256' are not accepted", token)


def test_garbage_is_401(api):
    refused(api.get(USAGE.format("tenant-000"), "not-a-jwt"), 401, "not a JSON Web Token")
    refused(api.get(USAGE.format("tenant-000"), headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "not a bearer token")


def test_another_tenants_path_is_403(api, keys):
    token = tenant_token(keys, "tenant-000")
    refused(api.get(USAGE.format("tenant-001"), token), 403, "another tenant", token)
    refused(api.get("/v1/tenants/tenant-001/summaries?period=daily", token), 403, "another tenant", token)


def test_a_token_without_a_tenant_is_403(api, keys):
    token = keys.token({})
    refused(api.get(USAGE.format("tenant-000"), token), 403, "names no tenant", token)


def test_a_tenant_token_on_the_runs_routes_is_403(api, keys):
    token = tenant_token(keys, "tenant-000")
    refused(api.get("/v1/runs/windows?from=2024-03-01&to=2024-03-02", token), 403, "admin tokens only", token)


def test_an_admin_reads_any_tenant(api, keys):
    for tenant in ("tenant-000", "tenant-002"):
        assert api.get(USAGE.format(tenant), admin_token(keys)).status == 200


def test_the_tenant_claim_is_configurable(serve, store, jwks_url, keys):
    from dataclasses import replace

    svc = services_for(store, jwks_url)
    svc.settings = replace(svc.settings, tenant_claim="org")
    api = serve(svc)
    assert api.get(USAGE.format("tenant-000"), keys.token({"org": "tenant-000"})).status == 200
    assert api.get(USAGE.format("tenant-000"), tenant_token(keys, "tenant-000")).status == 403


TENANTS = ["tenant-000", "tenant-001", "tenant-002"]
ROUTES = ["/v1/tenants/{}/usage?from=2024-03-01&to=2024-03-15&window={}", "/v1/tenants/{}/summaries?period={}"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(TENANTS),
    st.sampled_from(TENANTS),
    st.sampled_from(ROUTES),
    st.sampled_from(["day", "week", "none"]),
    st.sampled_from(["daily", "weekly", "monthly"]),
)
def test_no_answer_to_one_tenants_token_holds_another_tenants_data(api, keys, caller, path_tenant, route, window, period):
    token = tenant_token(keys, caller)
    arg = window if "usage" in route else period
    answer = api.get(route.format(path_tenant, arg), token)
    text = answer.data.decode()
    others = [t for t in TENANTS if t != caller]
    if path_tenant != caller:
        assert answer.status == 403
    else:
        assert answer.status == 200
    assert not any(other in text for other in others if other != path_tenant or answer.status == 200), text[:300]
