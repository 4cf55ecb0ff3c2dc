"""Refusals as RFC 9457 problem details: a status, a title, and a detail that says why (never a token)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """A refusal the API answers with ``status`` and ``detail``; ``parameter`` names the input at fault."""

    def __init__(self, status: int, detail: str, parameter: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.parameter, self.headers = status, detail, parameter, headers or {}

    def document(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(self.status).phrase, "status": self.status, "detail": self.detail}
        if self.parameter:
            doc["parameter"] = self.parameter
        if instance:
            doc["instance"] = instance
        return doc

    def body(self, instance: str | None = None) -> str:
        return orjson.dumps(self.document(instance)).decode()


def unauthorized(why: str) -> Problem:
    return Problem(401, why, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def forbidden(why: str) -> Problem:
    return Problem(403, why)


def bad_parameter(name: str, why: str) -> Problem:
    return Problem(400, f"{name}: {why}", parameter=name)
