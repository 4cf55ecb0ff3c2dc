"""Schemathesis, driven by the OpenAPI document, against ``rollwise serve`` and against the Lambda handler through
API Gateway v2 events: every route, valid tokens, no 5xx, every answer as its schema says.

``ROLLWISE_SCHEMATHESIS_EXAMPLES`` sets the examples per route (CI runs a bounded number; raise it to search longer).
"""

from __future__ import annotations

import os

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from rollwise.api.app import openapi_document
from support.api import admin_token, history, lambda_event, populate, services_for, tenant_token

pytestmark = pytest.mark.slow  # schemathesis over the whole API

EXAMPLES = int(os.environ.get("ROLLWISE_SCHEMATHESIS_EXAMPLES", "25"))
# A request can match every pattern and still be refused with a 400 naming the parameter: 0000-00-00 is not a
# date, a range may end before it starts. Everything else Schemathesis checks holds: no 5xx, documented statuses,
# content types and bodies.
from schemathesis.specs.openapi.checks import ignored_auth, missing_required_header, positive_data_acceptance  # noqa: E402

EXCLUDED = [positive_data_acceptance]
# Checks that send the request again over HTTP without its token: `serve` takes them; an event has no wire.
RESENDING = [ignored_auth, missing_required_header]
schema = schemathesis.openapi.from_dict(orjson.loads(openapi_document()))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    s = SQLiteSummaryStore(tmp_path_factory.mktemp("st") / "s.db", shards=2)
    s.create()
    populate(s, history(per_day=20))
    return s


@pytest.fixture
def served(serve, store, jwks_url):
    return serve(services_for(store, jwks_url))


def token_for(case, keys) -> str:
    tenant = (case.path_parameters or {}).get("tenant")
    return tenant_token(keys, tenant) if tenant and len(tenant) % 2 else admin_token(keys)  # half by the tenant's own token


def authorization(case, keys) -> dict[str, str]:
    """A valid token in place of the generated one, unless the case was made without one on purpose (a negative
    case missing the required header): then it is sent without, and must be refused (401)."""
    from schemathesis import GenerationMode
    from schemathesis.core.parameters import ParameterLocation

    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if header is not None and header.mode == GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}):
        return {}
    return {"Authorization": f"Bearer {token_for(case, keys)}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_serve_answers_every_request_as_documented(case, served, keys):
    response = case.call(base_url=served.base, headers=authorization(case, keys))
    case.validate_response(response, excluded_checks=EXCLUDED)
    assert response.status_code < 500, response.text


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_lambda_handler_answers_every_event_as_documented(case, store, jwks_url, keys, monkeypatch):
    """The deployed host: the authorizer has verified the token and passes its claims; the app checks them."""
    import jwt
    import requests

    from rollwise.api.app import build_app, respond

    services = services_for(store, jwks_url)
    services.verifier = None  # API Gateway's JWT authorizer verified it
    app = build_app()
    token = token_for(case, keys)
    claims = jwt.decode(token, options={"verify_signature": False})  # as the authorizer passes them on, verified
    kwargs = case.as_transport_kwargs(base_url="https://api.example.com", headers=authorization(case, keys))
    from urllib.parse import urlsplit

    path = urlsplit(kwargs["url"]).path
    query = {k: (",".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in (kwargs.get("params") or {}).items()}
    sent = {k.lower() for k in (kwargs.get("headers") or {})}
    claims = claims if "authorization" in sent else None  # no token: API Gateway's authorizer passes no claims on
    event = lambda_event(case.method.upper(), path, query, claims, {k.lower(): str(v) for k, v in (kwargs.get("headers") or {}).items()})
    answer = respond(app, services, event)
    response = schemathesis.Response(
        answer["statusCode"],
        {k.lower(): [v] for k, v in (answer.get("headers") or {}).items()},
        (answer.get("body") or "").encode(),
        requests.Request(case.method.upper(), kwargs["url"], headers=kwargs.get("headers")).prepare(),
        elapsed=0.0,
        verify=True,
    )
    case.validate_response(response, excluded_checks=EXCLUDED + RESENDING)
    assert response.status_code < 500, response.text
