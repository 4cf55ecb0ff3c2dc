"""What a request is answered with: the services a host built, and the verified caller of the request under way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollwise.api.settings import ApiSettings
from rollwise.api.tokens import Caller, Verifier, bearer, caller_of
from rollwise.timestamps import utc_now


@dataclass
class Services:
    """What the routes read through, built once per host: the summaries store, the merge job (or None),
    the token verifier (None: API Gateway's authorizer verified the token and passes its claims)."""

    summaries: Any
    runs: Any = None
    verifier: Verifier | None = None
    settings: ApiSettings = field(default_factory=ApiSettings)
    clock: Callable[[], datetime] = utc_now
    cursor_key: str = field(default="", repr=False)


def services(router) -> Services:
    return router.context["services"]


def caller(router) -> Caller:
    """The verified caller of the request under way (found by :func:`verified_caller` before routing)."""
    return router.context["caller"]


def verified_caller(svc: Services, event: Mapping[str, Any]) -> Caller:
    """The caller of an API Gateway (payload 2.0) event: its bearer token verified here, or the claims API Gateway's
    JWT authorizer passed on; :class:`~rollwise.api.problems.Problem` 401 without a valid one."""
    from rollwise.api.problems import unauthorized

    claims: Mapping[str, Any] | None
    if svc.verifier is not None:
        claims = svc.verifier.claims(bearer(event.get("headers") or {}))
    else:
        claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
        if not claims:
            raise unauthorized("no verified token: the API's JWT authorizer passed no claims")
    return caller_of(claims, svc.settings.tenant_claim, svc.settings.admin_group)
