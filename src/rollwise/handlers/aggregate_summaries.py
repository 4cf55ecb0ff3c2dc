"""Lambda entry point of the summaries job (EventBridge nightly, or a backfill event)."""

from __future__ import annotations

from typing import Any, Mapping

from rollwise.handlers.common import EventError, reference_time, start_invocation, structured_logger
from rollwise.periods import parse_date

logger = structured_logger("rollwise-summaries")


def parse_event(event: Mapping[str, Any]) -> tuple[Any, tuple | None]:
    """(reference time, backfill range or None) from a scheduled or a backfill event."""
    reference = reference_time(event)
    if not event.get("backfill"):
        return reference, None
    try:
        start = parse_date(event.get("start_date"))
        end = parse_date(event.get("end_date"))
    except ValueError as exc:
        raise EventError(f"backfill event needs start_date and end_date as YYYY-MM-DD: {exc}") from None
    if start > end:
        raise EventError(f"backfill start_date {start} is after end_date {end}")
    return reference, (start, end)


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    from rollwise.config import lateness_days, summary_store_from_lambda_env
    from rollwise.summaries.job import SummariesFailed, backfill_plan, run, scheduled_plan

    event = event or {}
    start_invocation(logger, event, context)
    reference, backfill = parse_event(event)
    store = summary_store_from_lambda_env()
    if backfill:
        plan = backfill_plan(store, backfill[0], backfill[1], reference)
    else:
        plan = scheduled_plan(store, reference, lateness_days())
    logger.info("plan", extra={"reference": reference.isoformat(), "periods": plan.describe(), "backfill": bool(backfill)})
    result = run(store, plan)
    body = result.body()
    logger.info("summaries run finished", extra={"result": body})
    if result.errors:
        raise SummariesFailed(result)
    return {"statusCode": 200, "body": body}
