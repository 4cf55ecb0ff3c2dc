"""What the routes share: parameters as the OpenAPI document shows them, parsing of ranges, CSV, caching."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from rollwise.api import schemas
from rollwise.api.problems import PROBLEM_JSON, bad_parameter
from rollwise.timestamps import parse_date, parse_timestamp
from rollwise.validate import MAX_ID_BYTES

# The record rules for ids (validate.identifier): no '#' or control characters, and at most MAX_ID_BYTES in UTF-8,
# which a pattern can only bound as characters; path_id holds the bytes.
ID_PATTERN = rf"^[^#\x00-\x1f\x7f]{{1,{MAX_ID_BYTES}}}$"
DATE_OR_INSTANT = r"^\d{4}-\d{2}-\d{2}([Tt ].+)?$"
CLOSED_MAX_AGE = "private, max-age=300"


def problem(description: str) -> dict:
    return {"description": description + " (an RFC 9457 problem)", "content": {PROBLEM_JSON: {"model": schemas.Problem}}}


REFUSALS = {
    400: problem("a parameter is not valid; the problem names it"),
    401: problem("no valid token"),
    403: problem("the token may not read this"),
    404: problem("nothing there"),
    503: problem("the store could not answer"),
}


def answers(description: str, model: type[BaseModel], tabular: bool = False, cacheable: bool = False) -> dict:
    """The ``responses`` of a route: its 200 as ``model`` (JSON, and CSV when ``tabular``), 304 when ``cacheable``,
    and the refusals."""
    content: dict[str, Any] = {"application/json": {"model": model}}
    if tabular:
        content["text/csv"] = {"schema": {"type": "string"}}
    out: dict = {200: {"description": description, "content": content}, **REFUSALS}
    if cacheable:
        out[304] = {"description": "not modified since the ETag sent in If-None-Match"}
    return out


def date_or_instant(text: str, name: str) -> date | datetime:
    """A date (``2024-03-10``) or an instant with a zone (``2024-03-10T18:30:00Z``); 400 naming ``name`` otherwise."""
    try:
        return parse_date(text, name) if len(text.strip()) == 10 else parse_timestamp(text)
    except ValueError as exc:
        raise bad_parameter(name, str(exc).removeprefix(f"{name} ")) from None


def path_id(raw: str, name: str) -> str:
    """A path parameter as sent (percent-encoded on the wire), decoded and held to the record rules for ids."""
    from urllib.parse import unquote

    from rollwise import validate

    try:
        return validate.identifier(unquote(raw, errors="strict"), name, ValueError, in_keys=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_parameter(name, str(exc).removeprefix(f"{name} ")) from None


def wants_csv(headers: dict[str, str] | None) -> bool:
    accept = next((v for k, v in (headers or {}).items() if k.lower() == "accept"), "")
    return "text/csv" in accept.lower()


def as_csv(rows: list[dict[str, Any]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def cached(body: Any, headers_in: dict[str, str] | None, complete: bool, csv_rows: tuple[list, list] | None = None) -> Response:
    """The answer: JSON (or CSV), with an ETag and caching allowed when ``complete``, ``no-store`` otherwise; 304 when
    the client's ``If-None-Match`` holds the ETag."""
    if csv_rows is not None:
        content_type, text = "text/csv", as_csv(*csv_rows)
    else:
        content_type, text = "application/json", orjson.dumps(body).decode()
    if not complete:
        return Response(200, content_type, text, headers={"Cache-Control": "no-store"})
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    sent = next((v for k, v in (headers_in or {}).items() if k.lower() == "if-none-match"), "")
    headers = {"Cache-Control": CLOSED_MAX_AGE, "ETag": etag}
    if etag in [t.strip() for t in sent.split(",")] or sent.strip() == "*":
        return Response(304, None, "", headers=headers)
    return Response(200, content_type, text, headers=headers)


def ordered(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
