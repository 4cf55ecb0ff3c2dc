"""A tenant's usage (live to the minute) and its stored summaries, each readable only with that tenant's token."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from rollwise.api import paging
from rollwise.api.context import caller, services
from rollwise.api.problems import bad_parameter
from rollwise.api.routes.common import DATE_OR_INSTANT, ID_PATTERN, answers, cached, date_or_instant, ordered, path_id, wants_csv
from rollwise.api.schemas import PeriodType, SummariesPage, Usage, Window
from rollwise.periods import local_day
from rollwise.summaries.model import TENANT_WIDE
from rollwise.summaries.usage import GROUPS, MAX_DAYS, UsageQuery, columns, local_range, usage

router = Router()
MAX_PAGE = 1000
Tenant = Annotated[str, Path(pattern=ID_PATTERN, description="the tenant id; a token may read its own tenant only")]
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN)]
Day = Annotated[str, Query(pattern=DATE_OR_INSTANT, description="a date (YYYY-MM-DD, in the tenant's zone) or an instant with a zone")]


def _group_by(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    parts = ordered(p.strip() for p in text.split(","))
    unknown = [p for p in parts if p not in GROUPS]
    if unknown:
        raise bad_parameter("group_by", f"{unknown[0]!r} is not a grouping: expected {' or '.join(GROUPS)}, comma-separated")
    return parts


def _range(svc, tenant: str, since: str, until: str):
    zone = svc.summaries.zone_of(tenant)
    first, last = date_or_instant(since, "from"), date_or_instant(until, "to")
    start, end, _ = local_range(zone, first, last, svc.clock())
    if start >= end:
        raise bad_parameter("to", f"the range is empty: from {start} (in {zone}) must be before to, and not after today")
    return start, end


@router.get(
    "/tenants/<tenant>/usage",
    summary="A tenant's usage by window and group, live to the minute",
    responses=answers("rows per window and group, in the tenant's zone; CSV with Accept: text/csv", Usage, tabular=True, cacheable=True),
)
def tenant_usage(
    tenant: Tenant,
    from_: Annotated[str, Query(alias="from", pattern=DATE_OR_INSTANT, description="first day (inclusive)")],
    to: Annotated[str, Query(pattern=DATE_OR_INSTANT, description="end (exclusive); past now, it ends now")],
    window: Annotated[Window, Query()] = "day",
    group_by: Annotated[str | None, Query(pattern=r"^[a-z_,]{0,40}$", description="owner, metric_type")] = None,
    owner: OptionalId = None,
    metric_type: OptionalId = None,
) -> Response[Any]:
    tenant = path_id(tenant, "tenant")
    caller(router).may_read_tenant(tenant)
    svc = services(router)
    if owner == TENANT_WIDE:
        raise bad_parameter("owner", f"{TENANT_WIDE!r} is not an owner: leave owner out for the tenant's totals")
    start, end = _range(svc, tenant, from_, to)
    if (end - start).days > MAX_DAYS[window]:
        raise bad_parameter("from", f"the range spans {(end - start).days} days: at most {MAX_DAYS[window]} with window={window}")
    query = UsageQuery(tenant, start, end, window, _group_by(group_by), owner, metric_type)
    now = svc.clock()
    rows, complete = usage(svc.summaries, query, now)
    body = {
        "tenant": tenant,
        "zone": svc.summaries.zone_of(tenant),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "window": window,
        "group_by": list(query.group_by),
        "complete": complete,
        "rows": rows,
    }
    if not complete:
        from rollwise.timestamps import utc_text

        body["as_of"] = utc_text(now)
    headers = router.current_event.headers
    return cached(body, headers, complete, (rows, columns(rows)) if wants_csv(headers) else None)


@router.get(
    "/tenants/<tenant>/summaries",
    summary="A tenant's stored summaries, as `summaries show --json` prints them, paged",
    responses=answers("a page of summaries, and the cursor of the next (null on the last)", SummariesPage),
)
def tenant_summaries(
    tenant: Tenant,
    period: Annotated[PeriodType, Query()],
    from_: Annotated[str | None, Query(alias="from", pattern=DATE_OR_INSTANT)] = None,
    to: Annotated[str | None, Query(pattern=DATE_OR_INSTANT, description="exclusive")] = None,
    owner: OptionalId = None,
    metric_type: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000, pattern=r"^[A-Za-z0-9_\-.]+$")] = None,
) -> Response[Any]:
    tenant = path_id(tenant, "tenant")
    caller(router).may_read_tenant(tenant)
    svc = services(router)
    zone = svc.summaries.zone_of(tenant)
    since = date_or_instant(from_, "from") if from_ else None
    until = date_or_instant(to, "to") if to else None
    since_day = local_day(since, zone) if isinstance(since, datetime) else since  # an instant: its day in the tenant's zone
    until_day = local_day(until, zone) if isinstance(until, datetime) else until
    if since_day and until_day and since_day >= until_day:
        raise bad_parameter("to", f"to {until_day} must be after from {since_day}")
    scope = {"t": tenant, "p": period, "f": from_ or "", "u": to or "", "o": owner or "", "m": metric_type or ""}
    after = paging.position(svc.cursor_key, scope, cursor)
    found = svc.summaries.query_summaries(tenant, period, since_day, until_day - timedelta(days=1) if until_day else None, owner, metric_type)
    summaries, last = paging.page(found, lambda s: (s.period.start.isoformat(), s.owner_id, s.metric_type), after, limit)
    body = {"tenant": tenant, "period": period, "summaries": [s.to_dict() for s in summaries], "next": None}
    if last is not None:
        body["next"] = paging.cursor_after(svc.cursor_key, scope, last)
    return Response(200, "application/json", orjson.dumps(body).decode(), headers={"Cache-Control": "private, max-age=60"})
