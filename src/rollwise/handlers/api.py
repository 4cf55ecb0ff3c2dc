"""Lambda entry point of the read API, behind an API Gateway HTTP API (payload 2.0) with a JWT authorizer.

The authorizer verifies the token; the app checks the claims it relies on (the tenant claim, the admin
group). Stores and the app are built once per container."""

from __future__ import annotations

import functools
from typing import Any

from rollwise.config import AwsSettings, resolve


@functools.lru_cache(maxsize=1)
def _setup():
    from rollwise.api.app import build_app
    from rollwise.api.context import Services
    from rollwise.api.settings import ApiSettings
    from rollwise.api.tokens import Verifier
    from rollwise.runs.settings import MergeSettings
    from rollwise.summaries.settings import SummariesSettings
    from rollwise.summaries.stores import open_configured

    aws = resolve(AwsSettings)
    summaries = resolve(SummariesSettings)
    api = resolve(ApiSettings)
    store = open_configured(summaries, aws)
    from rollwise.api.settings import RETRY_SECONDS

    store.retry_seconds = RETRY_SECONDS  # each request's own: a reader retries; it does not wait minutes
    runs = None
    merge = resolve(MergeSettings)
    if merge.bucket:
        from rollwise.objects import open_store
        from rollwise.runs.job import MergeJob

        runs = MergeJob(open_store(merge.lambda_url(), aws), merge)
    verifier = Verifier(api.jwks, api.issuer, api.audience) if api.jwks else None  # else: the authorizer's claims
    return build_app(), Services(store, runs, verifier, api, cursor_key=api.cursor_key())


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    from rollwise.api.app import respond

    app, services = _setup()
    return respond(app, services, event, context)
