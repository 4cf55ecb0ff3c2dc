"""Lambda entry point of the summaries job (EventBridge nightly, or a backfill event)."""

from __future__ import annotations

from typing import Any, Mapping

from rollwise.handlers.common import (
    EventError,
    emit,
    job_metrics,
    reference_time,
    start_invocation,
    structured_logger,
)
from rollwise.periods import parse_date

logger = structured_logger("rollwise-summaries")
metrics = job_metrics("rollwise-summaries")


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
    """A scheduled or backfill event runs the whole job. With the fan-out on, Step
    Functions calls it three ways instead: ``{"action": "plan"}``, then
    ``{"action": "shard", "plan": ..., "shard": N}`` once per shard, then
    ``{"action": "finalize", "plan": ..., "results": [...]}``."""
    from rollwise.config import lateness_days, summary_store_from_lambda_env
    from rollwise.summaries.job import (
        Plan,
        RunResult,
        backfill_plan,
        run_shard,
        scheduled_plan,
    )

    event = event or {}
    start_invocation(logger, event, context)
    action = event.get("action", "run")
    store = summary_store_from_lambda_env()
    if action == "shard":
        shard = int(event["shard"])
        part = run_shard(store, Plan.from_json(event["plan"]), shard)
        return {"shard": shard, "result": part.to_json()}
    if action == "finalize":
        plan = Plan.from_json(event["plan"])
        return _finish(store, plan, [(r["shard"], RunResult(**r["result"])) for r in event.get("results", [])])
    if action not in ("run", "plan"):
        raise EventError(f"event field 'action' must be run, plan, shard or finalize, got {action!r}")
    reference, backfill = parse_event(event)
    if backfill:
        plan = backfill_plan(store, backfill[0], backfill[1], reference)
    else:
        plan = scheduled_plan(store, reference, lateness_days())
    logger.info("plan", extra={"reference": reference.isoformat(), "periods": plan.describe(), "backfill": bool(backfill)})
    if action == "plan":
        return {"plan": plan.to_json(), "shards": plan.shards}
    return _finish(store, plan, [(s, run_shard(store, plan, s)) for s in plan.shards])


def _finish(store, plan, parts) -> dict[str, Any]:
    from rollwise.notify import publish_result
    from rollwise.summaries.job import SummariesFailed, finish

    result = finish(store, plan, parts)
    body = result.body()
    logger.info("summaries run finished", extra={"result": body})
    emit(metrics, {"RecordsAggregated": result.metrics_processed, "SummariesWritten": result.summaries_created + result.summaries_updated,
                   "SummaryFailures": len(result.errors)})
    publish_result("summaries", body, failed=bool(result.errors))
    if result.errors:
        raise SummariesFailed(result)
    return {"statusCode": 200, "body": body}
