"""Lambda entry point of the merge-and-archive job (EventBridge, every 5 minutes)."""

from __future__ import annotations

from typing import Any, Mapping

from rollwise.handlers.common import reference_time, start_invocation, structured_logger

logger = structured_logger("rollwise-runs")


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    from rollwise.config import merge_job_from_lambda_env
    from rollwise.runs.job import MergeFailed

    event = event or {}
    start_invocation(logger, event, context)
    reference = reference_time(event)
    job = merge_job_from_lambda_env()
    result = job.run(reference)
    body = result.body()
    logger.info("merge run finished", extra={"result": body})
    if result.failed_operations:
        raise MergeFailed(result)
    return {"statusCode": 200, "body": body}
