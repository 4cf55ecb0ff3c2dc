"""Lambda entry point of the summaries job (EventBridge nightly, a backfill event, or a Step Functions step)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollwise.config import AwsSettings, resolve
from rollwise.handlers import SUMMARIES_SERVICE
from rollwise.handlers.common import (
    EventError,
    HandlerSettings,
    deadline,
    event_object,
    finish,
    job_metrics,
    patience,
    reference_time,
    start_invocation,
    structured_logger,
)
from rollwise.summaries.capacity import DEADLINE_MARGIN_SECONDS
from rollwise.timestamps import parse_date

SERVICE = SUMMARIES_SERVICE
# Start no period in the last minute: a period of a large shard (a month merges its ~30 days) needs time to finish.
SAFETY_SECONDS = DEADLINE_MARGIN_SECONDS
ACTIONS = ("run", "plan", "shard", "finalize")
logger = structured_logger(SERVICE)


def parse_event(event: Mapping[str, Any]) -> tuple[Any, tuple | None]:
    """(reference time, backfill range or None) from a scheduled or a backfill event."""
    reference = reference_time(event)
    if not event.get("backfill"):
        return reference, None
    try:
        start = parse_date(event.get("start_date"), "start_date")
        end = parse_date(event.get("end_date"), "end_date")
    except ValueError as exc:
        raise EventError(f"backfill event needs start_date and end_date as YYYY-MM-DD: {exc}") from None
    if start > end:
        raise EventError(f"backfill start_date {start} is after end_date {end}")
    return reference, (start, end)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """A scheduled or backfill event runs the whole job. With the fan-out on, Step
    Functions calls it three ways instead: ``{"action": "plan"}``, then
    ``{"action": "shard", "plan": ..., "shard": N}`` once per shard, then
    ``{"action": "finalize", "plan": ..., "results": [...]}``."""
    from rollwise.summaries.job import RunResult, backfill_plan, run_shard, scheduled_plan
    from rollwise.summaries.job import finish as finish_plan
    from rollwise.summaries.plan import Plan
    from rollwise.summaries.settings import SummariesSettings
    from rollwise.summaries.stores import open_configured

    event = event_object(event)
    start_invocation(logger, event, context)
    action = event.get("action", "run")
    if action not in ACTIONS:
        raise EventError(f"event field 'action' must be run, plan, shard or finalize, got {action!r}")
    settings = resolve(SummariesSettings)
    aws = resolve(AwsSettings)
    store = open_configured(settings, aws)
    # A throttled table is retried until the deadline; what is left then goes to the next run.
    store.patience = patience(context, SAFETY_SECONDS, settings.retry_seconds)
    if action == "shard":
        shard = int(event["shard"])
        done = run_shard(store, Plan.from_json(event["plan"]), shard, deadline=deadline(context, SAFETY_SECONDS))
        return {"shard": shard, "result": done.to_json()}
    handler_settings = resolve(HandlerSettings)
    metrics = job_metrics(SERVICE, handler_settings)
    if action == "finalize":
        plan = Plan.from_json(event["plan"])
        parts = [(r["shard"], RunResult.from_json(r["result"])) for r in event.get("results", [])]
        return finish(finish_plan(store, plan, parts), logger, metrics, handler_settings)
    reference, backfill = parse_event(event)
    if backfill:
        plan = backfill_plan(store, backfill[0], backfill[1], reference, settings.delay_hours)
    else:
        plan = scheduled_plan(store, reference, settings.lateness_days, settings.delay_hours)
    logger.info("plan", extra={"reference": reference.isoformat(), "periods": plan.describe(), "backfill": bool(backfill)})
    if action == "plan":
        return {"plan": plan.to_json(), "shards": plan.shards}
    until = deadline(context, SAFETY_SECONDS)
    result = finish_plan(store, plan, [(s, run_shard(store, plan, s, deadline=until)) for s in plan.shards])
    return finish(result, logger, metrics, handler_settings)
