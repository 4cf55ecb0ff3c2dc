"""Helpers of the read API tests: real RSA keys, real signed tokens, a client, API Gateway events."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import jwt
import urllib3
from cryptography.hazmat.primitives.asymmetric import rsa

from rollwise.api.context import Services
from rollwise.api.settings import ApiSettings
from rollwise.api.tokens import Verifier

ISSUER, AUDIENCE = "https://issuer.test/pool", "rollwise-tests"
NOW = datetime(2024, 3, 14, 12, 30, tzinfo=UTC)  # a Thursday: the week is open, days before it are aggregated


class Keys:
    """A signing key and its public JWK under ``kid``."""

    def __init__(self, kid: str = "k1") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, claims: dict | None = None, **headers) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "sub": "user-1", **(claims or {})}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid, **headers})


def tenant_token(keys: Keys, tenant: str, **claims) -> str:
    return keys.token({"custom:tenant_id": tenant, **claims})


def admin_token(keys: Keys) -> str:
    return keys.token({"cognito:groups": ["rollwise-admin"]})


def services_for(store, jwks_url: str, runs=None, clock=lambda: NOW) -> Services:
    settings = ApiSettings(jwks=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    return Services(store, runs, Verifier(jwks_url, ISSUER, AUDIENCE), settings, clock=clock, cursor_key="test-" + uuid.uuid4().hex)


class Client:
    """Requests to a served API."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, urllib3.PoolManager()

    def get(self, path: str, token: str | None = None, headers: dict | None = None, method: str = "GET"):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=h, retries=False)


def lambda_event(method: str, path: str, query: dict | None = None, claims: dict | None = None, headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, with the claims its JWT authorizer passes on."""
    from urllib.parse import urlencode

    context = {
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t"},
        "requestId": uuid.uuid4().hex,
        "routeKey": "$default",
        "stage": "$default",
        "timeEpoch": 0,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers or {},
        "queryStringParameters": query or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


def history(tenants: int = 3, per_day: int = 60, seed: int = 3) -> list[dict]:
    """Executions from 2024-03-01 up to NOW (none later), over ``tenants`` tenants with 4 owners and 3 metric types."""
    from datetime import date

    from rollwise.samples import sample_executions

    out = []
    for r in sample_executions(date(2024, 3, 1), 14, per_day=per_day, tenants=tenants, owners=4, seed=seed):
        stamps = [r[k] for k in ("submitted_at", "started_at", "completed_at") if r.get(k)]
        if all(datetime.fromisoformat(s.replace("Z", "+00:00")) <= NOW for s in stamps):
            out.append(r)
    return out


def populate(store, records: list[dict]) -> None:
    """Write ``records`` as they happened and run the job at each day's due hour, up to NOW: 02:00, the tenants being
    in UTC (an hourly run between two due hours finds nothing due)."""
    from datetime import timedelta

    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.job import run, scheduled_plan

    with Recorder(store, now=datetime(2024, 3, 1, tzinfo=UTC)) as rec:
        for r in records:
            rec.record(r)
    at = datetime(2024, 3, 2, 2, tzinfo=UTC)
    while at <= NOW:
        result = run(store, scheduled_plan(store, at))
        assert result.errors == [], result.errors
        at += timedelta(days=1)
