"""Lambda entry point of the merge-and-archive job (EventBridge, every 5 minutes)."""

from __future__ import annotations

import time
from typing import Any, Mapping

from rollwise.handlers.common import (
    emit,
    job_metrics,
    reference_time,
    start_invocation,
    structured_logger,
)

logger = structured_logger("rollwise-runs")
metrics = job_metrics("rollwise-runs")
SAFETY_SECONDS = 45


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    from rollwise.config import merge_job_from_lambda_env
    from rollwise.notify import publish_result
    from rollwise.runs.job import MergeFailed

    event = event or {}
    start_invocation(logger, event, context)
    reference = reference_time(event)
    job = merge_job_from_lambda_env()
    deadline = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        # Leave time to archive the window under way and to answer: start no window in the last 45 s.
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    result = job.run(reference, deadline=deadline)
    body = result.body()
    logger.info("merge run finished", extra={"result": body})
    emit(metrics, {"FilesProcessed": result.files_processed, "FilesArchived": result.files_archived,
                   "FilesQuarantined": result.files_quarantined, "ArchiveFailures": len(result.failed_operations),
                   "LateFiles": result.late_files, "OldestPendingSeconds": result.oldest_pending_seconds})
    publish_result("merge-runs", body, failed=bool(result.failed_operations))
    if result.failed_operations:
        raise MergeFailed(result)
    return {"statusCode": 200, "body": body}
