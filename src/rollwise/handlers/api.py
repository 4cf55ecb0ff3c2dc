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
    from rollwise.api.context import open_services
    from rollwise.api.settings import ApiSettings
    from rollwise.runs.settings import MergeSettings
    from rollwise.summaries.settings import SummariesSettings

    merge = resolve(MergeSettings)
    services = open_services(
        resolve(ApiSettings), resolve(SummariesSettings), merge, resolve(AwsSettings), runs_url=merge.lambda_url() if merge.bucket else None
    )
    return build_app(), services


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    from rollwise.api.app import respond

    app, services = _setup()
    return respond(app, services, event, context)
