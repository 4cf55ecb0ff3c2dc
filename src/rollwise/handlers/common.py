"""What both handlers share: the event's shape, structured logs, metrics, and one way to finish a run."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollwise.config import AwsSettings, resolve, setting
from rollwise.errors import RollwiseError
from rollwise.result import JobFailed, JobResult
from rollwise.timestamps import parse_timestamp, utc_now


@dataclass(frozen=True)
class HandlerSettings:
    notify_topic_arn: str = setting("", "NOTIFY_TOPIC_ARN", "publish each run's result (JSON, attributes job and outcome) to this SNS topic")
    metrics_namespace: str = setting("rollwise", "POWERTOOLS_METRICS_NAMESPACE", "CloudWatch namespace of the jobs' metrics (EMF lines in the logs)")


class EventError(RollwiseError, ValueError):
    """An invocation event rollwise cannot act on."""


def event_object(event: Any) -> Mapping[str, Any]:
    """The event as a JSON object (an empty invocation is ``{}``)."""
    if event is None:
        return {}
    if not isinstance(event, Mapping):
        raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
    return event


def structured_logger(service: str):
    """A Powertools JSON logger whose settings also reach the ``rollwise`` loggers."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logger = Logger(service=service)
    logging.getLogger("rollwise").setLevel(logger.log_level)
    copy_config_to_registered_loggers(source_logger=logger, include={"rollwise"})
    return logger


def job_metrics(service: str, settings: HandlerSettings):
    """Powertools Metrics: CloudWatch embedded metric format, written to the logs (no API call)."""
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=settings.metrics_namespace, service=service)


def start_invocation(logger, event: Mapping[str, Any], context: Any) -> None:
    """Tag every log line of this invocation with a correlation id (the EventBridge event id)."""
    request_id = getattr(context, "aws_request_id", None)
    logger.set_correlation_id(str(event.get("id") or request_id or uuid.uuid4()))
    if request_id:
        logger.append_keys(function_request_id=request_id)


def reference_time(event: Mapping[str, Any]) -> datetime:
    """The event's ``time`` (EventBridge), so a retry does the same work; the clock otherwise."""
    raw = event.get("time")
    if raw is None:
        return utc_now()
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise EventError(f"event field 'time': {exc}") from None


# Closing writes (markers of what a run leaves, leases given back) stop this long before the Lambda's timeout.
CLOSING_MARGIN_SECONDS = 10


def deadline(context: Any, margin_seconds: float) -> float | None:
    """A ``time.monotonic()`` after which no new unit of work starts, ``margin_seconds`` before the Lambda's timeout."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 - margin_seconds


def patience(context: Any, margin_seconds: float, seconds: float):
    """How long a throttled store is retried: until the invocation's deadline (its remaining time less
    ``margin_seconds``), closing writes until CLOSING_MARGIN_SECONDS before its timeout; without a Lambda
    context (a local call), ``seconds`` in all."""
    from rollwise.retry import Patience

    until = deadline(context, margin_seconds)
    if until is None:
        return Patience.for_seconds(seconds)
    return Patience.until_deadline(until, until + margin_seconds - CLOSING_MARGIN_SECONDS)


def emit(metrics, figures: Mapping[str, float]) -> None:
    """One EMF line with every figure."""
    from aws_lambda_powertools.metrics import MetricUnit

    for name, value in figures.items():
        metrics.add_metric(name=name, unit=MetricUnit.Seconds if name.endswith("Seconds") else MetricUnit.Count, value=value)
    metrics.flush_metrics()


def finish(result: JobResult, logger, metrics, settings: HandlerSettings) -> dict[str, Any]:
    """The tail of every invocation: log the result, emit its metrics, publish it, then answer
    or raise :class:`JobFailed` so that Lambda's Errors metric and retries see a failure."""
    from rollwise.notify import publish_result

    body = result.body()
    failed = bool(result.failures())
    logger.info(f"{result.job} run finished", extra={"result": body})
    emit(metrics, result.metrics())
    publish_result(result.job, body, failed, settings.notify_topic_arn, resolve(AwsSettings))
    if failed:
        raise JobFailed(result)
    return {"statusCode": 200, "body": body}
