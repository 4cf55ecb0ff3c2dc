"""What a request is answered with: the services a host built, and the verified caller of the request under way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rollwise.api.settings import ApiSettings
from rollwise.api.tokens import Caller, Verifier, bearer, caller_of
from rollwise.timestamps import utc_now

if TYPE_CHECKING:  # the settings' classes, for types only: the hosts resolve them
    from rollwise.config import AwsSettings
    from rollwise.runs.settings import MergeSettings
    from rollwise.summaries.settings import SummariesSettings


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


def open_services(
    api: ApiSettings,
    summaries: SummariesSettings,
    merge: MergeSettings,
    aws: AwsSettings,
    store_url: str | None = None,
    runs_url: str | None = None,
    verifier: Verifier | None = None,
) -> Services:
    """The services of every host of the API (the Lambda handler, ``rollwise serve``): the configured summaries store
    (``store_url``'s, else the deployed table), each request retried on its own short time; the merge job over
    ``runs_url`` (None: the runs routes answer 404); the token verifier, from the key set when one is configured
    (else API Gateway's authorizer verified the token)."""
    from rollwise.api.settings import RETRY_SECONDS
    from rollwise.errors import ConfigError
    from rollwise.summaries.stores import open_configured

    store = open_configured(summaries, aws, store_url)
    store.retry_seconds = RETRY_SECONDS  # a reader retries; it does not wait minutes
    runs = None
    if runs_url:
        from rollwise.objects import open_store
        from rollwise.runs.job import MergeJob

        try:
            runs = MergeJob(open_store(runs_url, aws), merge)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if verifier is None and api.jwks:
        verifier = Verifier(api.jwks, api.issuer, api.audience)
    return Services(store, runs, verifier, api, cursor_key=api.cursor_key())
