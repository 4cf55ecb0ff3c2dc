"""What both handlers share: structured logging and the event's reference time."""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Mapping

from rollwise.periods import parse_timestamp


class EventError(ValueError):
    """An invocation event rollwise cannot act on."""


def structured_logger(service: str):
    """A Powertools JSON logger whose settings also reach the ``rollwise`` loggers."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logger = Logger(service=service)
    logging.getLogger("rollwise").setLevel(logger.log_level)
    copy_config_to_registered_loggers(source_logger=logger, include={"rollwise"})
    return logger


def job_metrics(service: str):
    """Powertools Metrics: CloudWatch embedded metric format, written to the logs (no API call)."""
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "rollwise"), service=service)


def emit(metrics, figures: Mapping[str, float]) -> None:
    """One EMF line with every figure (all counts)."""
    from aws_lambda_powertools.metrics import MetricUnit

    for name, value in figures.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count if not name.endswith("Seconds") else MetricUnit.Seconds, value=value)
    metrics.flush_metrics()


def start_invocation(logger, event: Mapping[str, Any], context: Any) -> None:
    """Tag every log line of this invocation with a correlation id (the EventBridge event id)."""
    request_id = getattr(context, "aws_request_id", None)
    logger.set_correlation_id(str(event.get("id") or request_id or uuid.uuid4()))
    if request_id:
        logger.append_keys(function_request_id=request_id)


def reference_time(event: Mapping[str, Any]) -> datetime:
    """The event's ``time`` (EventBridge), so a retry does the same work; the clock otherwise."""
    if not isinstance(event, Mapping):
        raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
    raw = event.get("time")
    if raw is None:
        return datetime.now(timezone.utc)
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise EventError(f"event field 'time': {exc}") from None
