"""The report's health section as JSON: work the jobs have not done yet."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from rollwise.api import schemas
from rollwise.api.context import caller, services
from rollwise.api.routes.common import answers
from rollwise.timestamps import utc_text

router = Router()


@router.get(
    "/health",
    summary="The raw backlog, the closed windows waiting, the quarantine, the days waiting for the summaries job",
    responses=answers("what the jobs have not done yet (the merge job's part for admin tokens)", schemas.Health),
)
def health() -> Response[Any]:
    import orjson

    from rollwise.health import read_health
    from rollwise.periods import day_key

    who = caller(router)
    svc = services(router)
    now = svc.clock()
    body: dict = {"checked_at": utc_text(now)}
    if who.admin and svc.runs is not None:
        h = read_health(svc.summaries, svc.runs, now)
        body.update(
            {
                "raw_files": h.raw_files,
                "oldest_raw": utc_text(h.oldest_raw) if h.oldest_raw else None,
                "waiting_windows": [{"window": str(w), "files": n} for w, n in h.waiting_windows],
                "quarantined": h.quarantined,
            }
        )
    days: dict[str, int] = {}
    for m in svc.summaries.invalidations():  # a local day of a zone, and in how many shards it waits
        key = day_key(m.day, m.zone)
        days[key] = days.get(key, 0) + 1
    body["open_days"] = [{"day": d, "shards": n} for d, n in sorted(days.items())] if who.admin else []
    return Response(200, "application/json", orjson.dumps(body).decode(), headers={"Cache-Control": "no-store"})
