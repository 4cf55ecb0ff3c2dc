"""Who is calling: a verified token's claims (PyJWT), and what they let it read.

Deployed, API Gateway's JWT authorizer verifies the token and hands the app its claims; locally,
``serve`` verifies it here against a JSON Web Key Set. Either way the app decides from the claims:
the tenant claim names the one tenant a token may read; the admin group (or scope) reads all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollwise.api.problems import forbidden, unauthorized

# Asymmetric algorithms only: a shared secret (HS256) would let anyone holding it mint tokens, and
# "none" is no signature at all.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Caller:
    tenant: str | None
    admin: bool
    subject: str = ""

    def may_read_tenant(self, tenant: str) -> None:
        if self.admin or self.tenant == tenant:
            return
        if self.tenant is None:
            raise forbidden("the token names no tenant and is not an admin's")
        raise forbidden(f"the token is for another tenant than {tenant!r}")

    def may_read_runs(self) -> None:
        if not self.admin:
            raise forbidden("the merge job's windows are for admin tokens only")


def _listed(value: Any) -> list[str]:
    """A claim holding several values: a JSON list, or as API Gateway passes lists on, ``[a b]``, or ``a b``."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, str):
        return value.strip("[]").replace(",", " ").split()
    return []


def caller_of(claims: Mapping[str, Any], tenant_claim: str, admin_group: str) -> Caller:
    tenant = claims.get(tenant_claim)
    groups = _listed(claims.get("cognito:groups")) + _listed(claims.get("groups")) + _listed(claims.get("scope"))
    return Caller(str(tenant) if tenant not in (None, "") else None, admin_group in groups, str(claims.get("sub", "")))


class Verifier:
    """Verifies bearer tokens against a key set (a URL, fetched and cached, or a file), an issuer and an audience."""

    def __init__(self, jwks: str, issuer: str, audience: str) -> None:
        import jwt

        if not (jwks and issuer and audience):
            raise ValueError("verifying tokens needs a key set (--jwks), an issuer (--issuer) and an audience (--audience)")
        self.issuer, self.audience = issuer, audience
        if jwks.startswith(("https://", "http://")):
            self._client: Any = jwt.PyJWKClient(jwks, cache_keys=True, lifespan=300)
            self._keys = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_json(Path(jwks).read_text())

    def _key(self, kid: str | None):
        import jwt

        try:
            keys = self._keys
            if keys is None:  # a key set fetched over HTTP
                return self._client.get_signing_key(kid) if kid else self._client.get_signing_keys()[0]
            if kid is None:
                if len(keys.keys) != 1:
                    raise unauthorized("the token names no key (kid) and the key set has several")
                return keys.keys[0]
            return keys[kid]
        except (KeyError, jwt.PyJWKClientError):
            raise unauthorized("the token is signed by a key not in the key set") from None

    def claims(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise unauthorized("the bearer token is not a JSON Web Token") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise unauthorized(f"tokens signed with {str(alg)[:16]!r} are not accepted: expected one of {', '.join(ALGORITHMS)}")
        key = self._key(header.get("kid"))
        if key.algorithm_name != alg:
            raise unauthorized(f"the token says {alg} but its key is for {key.algorithm_name}")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[alg], issuer=self.issuer, leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss"], "verify_aud": False}
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise unauthorized("the token is not valid yet (nbf or iat in the future)") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise unauthorized("the token is not valid") from None
        # A Cognito access token names its app client in client_id, an ID token or another issuer's in aud.
        audiences = _listed(claims.get("aud")) + _listed(claims.get("client_id"))
        if self.audience not in audiences:
            raise unauthorized("the token is for another audience")
        return claims


def bearer(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    if not value:
        raise unauthorized("no bearer token: send Authorization: Bearer <token>")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header is not a bearer token")
    return token.strip()
