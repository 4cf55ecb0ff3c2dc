"""Refusals as RFC 9457 problem details: a status, a title, and a detail that says why (never a token)."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """A refusal the API answers with ``status`` and ``detail``; ``parameter`` names the input at fault."""

    def __init__(self, status: int, detail: str, parameter: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.parameter, self.headers = status, detail, parameter, headers or {}

    def document(self, instance: str | None = None) -> dict[str, Any]:
        """The problem as the document declares it (rollwise.api.schemas.Problem), absent fields left out."""
        from rollwise.api.schemas import Problem as Document

        title = HTTPStatus(self.status).phrase
        doc = Document(type="about:blank", title=title, status=self.status, detail=self.detail, parameter=self.parameter, instance=instance)
        return doc.model_dump(exclude_none=True)

    def response(self, instance: str | None = None) -> Response:
        """The one answer of every refusal: the problem document (never cached), and the problem's own headers."""
        from aws_lambda_powertools.event_handler import Response

        body = orjson.dumps(self.document(instance)).decode()
        return Response(self.status, PROBLEM_JSON, body, headers={"Cache-Control": "no-store", **self.headers})


def unauthorized(why: str) -> Problem:
    return Problem(401, why, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def forbidden(why: str) -> Problem:
    return Problem(403, why)


def bad_parameter(name: str, why: str) -> Problem:
    return Problem(400, f"{name}: {why}", parameter=name)
