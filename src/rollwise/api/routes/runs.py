"""The merge job's windows and their top matches: what the matching pipeline's report and match listing read
(admin tokens only: windows are not any one tenant's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from rollwise.api.context import caller, services
from rollwise.api.problems import Problem, bad_parameter
from rollwise.api.routes.common import DATE_OR_INSTANT, answers, cached, date_or_instant, wants_csv
from rollwise.api.schemas import Aggregate, Matches, Windows
from rollwise.periods import days_between

router = Router()
MAX_RANGE_DAYS = 31
STAMP = r"^\d{8}[tT]\d{4}Z$"


def _job(svc):
    if svc.runs is None:
        raise Problem(404, "this API serves no merge job (no bucket configured)")
    return svc.runs


def _window_days(since: str, until: str):
    first, last = date_or_instant(since, "from"), date_or_instant(until, "to")
    start = first if isinstance(first, datetime) else datetime.combine(first, datetime.min.time(), UTC)
    end = last if isinstance(last, datetime) else datetime.combine(last, datetime.min.time(), UTC)
    if start >= end:
        raise bad_parameter("to", "must be after from")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise bad_parameter("from", f"the range spans more than {MAX_RANGE_DAYS} days")
    return start, end


def _aggregates(job, start: datetime, end: datetime) -> list[dict]:
    from rollwise.runs.read import aggregates_of_day
    from rollwise.timestamps import parse_timestamp

    out = []
    for day in days_between(start.date(), (end - timedelta(microseconds=1)).date()):
        for doc in aggregates_of_day(job.store, job.layout, day, lambda key, why: None):
            ends = parse_timestamp(doc["window_end"])
            if start < ends <= end:
                out.append(doc)
    return out


def _summary(doc: dict) -> dict:
    stats = doc["stats"]
    return {
        "window_start": doc.get("window_start"),
        "window_end": doc["window_end"],
        "files": stats.get("files"),
        "opportunities_processed": stats.get("opportunities_processed"),
        "matches": stats.get("matches"),
        "no_matches": stats.get("no_matches"),
        "errors": stats.get("errors"),
        "top_match": (doc.get("top_matches") or [None])[0],
    }


@router.get(
    "/runs/windows",
    summary="The merge job's windows ending in a range (UTC), with their statistics",
    responses=answers(
        "the windows, in time order; CSV with Accept: text/csv",
        Windows,
        tabular=True,
        cacheable=True,
    ),
)
def windows(
    from_: Annotated[str, Query(alias="from", pattern=DATE_OR_INSTANT)], to: Annotated[str, Query(pattern=DATE_OR_INSTANT, description="exclusive")]
) -> Response[Any]:
    caller(router).may_read_runs()
    job = _job(services(router))
    start, end = _window_days(from_, to)
    rows = [_summary(doc) for doc in _aggregates(job, start, end)]
    complete = end <= services(router).clock() - timedelta(minutes=10)
    headers = router.current_event.headers
    flat = [{**{k: v for k, v in r.items() if k != "top_match"}, "top_match": (r["top_match"] or {}).get("id")} for r in rows]
    return cached({"windows": rows}, headers, complete, (flat, list(flat[0]) if flat else ["window_end"]) if wants_csv(headers) else None)


@router.get(
    "/runs/windows/<stamp>",
    summary="One window's aggregate, with its top matches",
    responses=answers("the aggregate", Aggregate, cacheable=True),
)
def window(stamp: Annotated[str, Path(pattern=STAMP, description="the window's end, e.g. 20240115t1305Z")]) -> Response[Any]:
    from rollwise.runs.read import read_aggregate

    caller(router).may_read_runs()
    job = _job(services(router))
    try:
        doc = read_aggregate(job.store, job.layout, stamp.lower().replace("z", "Z"))
    except FileNotFoundError:
        raise Problem(404, f"no window ends at {stamp}") from None
    except ValueError as exc:
        raise bad_parameter("stamp", str(exc)) from None
    return cached(doc, router.current_event.headers, True)


@router.get(
    "/runs/top-matches",
    summary="The best matches of the windows ending in a range, best first",
    responses=answers(
        "the matches, best first; CSV with Accept: text/csv",
        Matches,
        tabular=True,
        cacheable=True,
    ),
)
def top_matches(
    from_: Annotated[str, Query(alias="from", pattern=DATE_OR_INSTANT)],
    to: Annotated[str, Query(pattern=DATE_OR_INSTANT, description="exclusive")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> Response[Any]:
    caller(router).may_read_runs()
    job = _job(services(router))
    start, end = _window_days(from_, to)
    matches = [{**m, "window_end": doc["window_end"]} for doc in _aggregates(job, start, end) for m in doc.get("top_matches") or []]
    matches.sort(key=lambda m: (-(m.get("score") or 0), m.get("window_end"), str(m.get("id"))))
    complete = end <= services(router).clock() - timedelta(minutes=10)
    headers = router.current_event.headers
    rows = matches[:limit]
    return cached({"matches": rows}, headers, complete, (rows, sorted({k for r in rows for k in r}) or ["id"]) if wants_csv(headers) else None)
