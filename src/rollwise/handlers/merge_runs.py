"""Lambda entry point of the merge-and-archive job (EventBridge, every 5 minutes)."""

from __future__ import annotations

from typing import Any

from rollwise.config import AwsSettings, resolve
from rollwise.handlers import RUNS_SERVICE
from rollwise.handlers.common import (
    HandlerSettings,
    deadline,
    event_object,
    finish,
    job_metrics,
    reference_time,
    start_invocation,
    structured_logger,
)
from rollwise.runs.capacity import SAFETY_SECONDS

SERVICE = RUNS_SERVICE
logger = structured_logger(SERVICE)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    from rollwise.objects import open_store
    from rollwise.runs.job import MergeJob
    from rollwise.runs.settings import MergeSettings

    event = event_object(event)
    start_invocation(logger, event, context)
    reference = reference_time(event)
    settings = resolve(MergeSettings)
    job = MergeJob(open_store(settings.lambda_url(), resolve(AwsSettings)), settings)
    result = job.run(reference, deadline=deadline(context, SAFETY_SECONDS))
    handler_settings = resolve(HandlerSettings)
    return finish(result, logger, job_metrics(SERVICE, handler_settings), handler_settings)
