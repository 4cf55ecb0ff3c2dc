"""The API app: Powertools' HTTP API resolver with request validation and OpenAPI, its routes under /v1,
and every refusal an RFC 9457 problem. Hosts put a :class:`Services` in the app's context per request."""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from rollwise.api.context import Services  # noqa: F401 - the hosts' import
from rollwise.api.problems import Problem
from rollwise.errors import StoreError

log = logging.getLogger(__name__)
TITLE = "rollwise read API"
VERSION = "1"
DOCUMENT_PATH = "/v1/openapi.json"  # the document, served without a token


def build_app() -> APIGatewayHttpResolver:
    from rollwise.api.routes import health, runs, tenants

    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(tenants.router, prefix="/v1")
    app.include_router(runs.router, prefix="/v1")
    app.include_router(health.router, prefix="/v1")

    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def openapi() -> Response[Any]:
        return Response(200, "application/json", openapi_document(app))

    @app.exception_handler(Problem)
    def refused(problem: Problem) -> Response:
        return problem.response(app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "header", "body")]
        name = where[0] if where else "request"
        message = str(first.get("msg", "is not valid"))
        return Problem(400, f"{name}: {message}", parameter=name).response(app.current_event.path)

    @app.exception_handler(NotFoundError)
    def not_found(_: NotFoundError) -> Response:
        event = app.current_event
        allowed = sorted(
            {m for pattern, methods in _methods_by_path(app) if pattern.match(event.path) for m in methods} - {event.http_method.upper()}
        )
        if allowed:
            why = f"{event.http_method} is not allowed on {event.path}: use {', '.join(allowed)}"
            return Problem(405, why, headers={"Allow": ", ".join(allowed)}).response(event.path)
        return Problem(404, f"no route {event.path}").response(event.path)

    @app.exception_handler(StoreError)
    def unavailable(error: StoreError) -> Response:
        log.error("store failed", extra={"error": str(error)})
        return Problem(503, "the store could not answer now; try again", headers={"Retry-After": "5"}).response(app.current_event.path)

    return app


PUBLIC = {DOCUMENT_PATH}


def respond(app: APIGatewayHttpResolver, svc: Services, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one API Gateway (payload 2.0) event: the caller first, so a request without a valid token is a 401
    whatever else is wrong with it, as behind API Gateway's JWT authorizer; then the route, validated."""
    from rollwise.api.context import verified_caller

    path = event.get("rawPath") or "/"
    caller = None
    if path not in PUBLIC:
        try:
            caller = verified_caller(svc, event)
        except Problem as problem:
            refusal = problem.response(path)
            return {"statusCode": refusal.status_code, "isBase64Encoded": False, "cookies": [], "body": refusal.body, "headers": refusal.headers}
    if hasattr(svc.summaries, "forget_zones"):  # a warm host follows zone changes and the schedule within a minute
        from rollwise.summaries.tenant_zones import ZONES_MAX_AGE_SECONDS

        svc.summaries.forget_zones(older_than=ZONES_MAX_AGE_SECONDS)
    app.append_context(services=svc, caller=caller)
    return app.resolve(event, context)


METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _methods_by_path(app: APIGatewayHttpResolver) -> list[tuple[re.Pattern[str], set[str]]]:
    """Each documented path as a pattern, with its methods: read from the app's own OpenAPI schema (public, and
    built from the routes themselves), and the document's own GET. Made on the first refusal, then kept."""
    cached = getattr(app, "rollwise_methods_by_path", None)
    if cached is None:
        paths = app.get_openapi_schema().paths or {}
        cached = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), {m.upper() for m in METHODS if getattr(item, m, None)})
            for path, item in paths.items()
        ]
        cached.append((re.compile("^" + re.escape(DOCUMENT_PATH) + "$"), {"GET"}))
        app.rollwise_methods_by_path = cached  # type: ignore[attr-defined]
    return cached


def openapi_document(app: APIGatewayHttpResolver | None = None) -> str:
    """The OpenAPI 3.1 document, generated from the routes (docs/openapi.json holds a copy)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app = app or build_app()
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
        description="Usage and summaries per tenant, in the tenant's zone; the merge job's windows. Refusals are RFC 9457 problems.",
    )
