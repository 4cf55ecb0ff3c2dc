"""Each run's result, published to an SNS topic when ``NOTIFY_TOPIC_ARN`` is set."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import orjson

log = logging.getLogger(__name__)


def publish_result(job: str, body: Mapping[str, Any], failed: bool, env: Mapping[str, str] | None = None, client: Any = None) -> str | None:
    """Publish ``body`` as JSON with ``job`` and ``outcome`` message attributes, for subscription filters.

    A notification that cannot be sent is logged, never allowed to turn a
    finished run into a failed one. Returns the message id, or None.
    """
    env = os.environ if env is None else env
    topic = env.get("NOTIFY_TOPIC_ARN", "").strip()
    if not topic:
        return None
    outcome = "failure" if failed else "success"
    try:
        if client is None:
            import boto3

            client = boto3.client("sns", region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1")
        response = client.publish(
            TopicArn=topic,
            Subject=f"rollwise {job}: {outcome}",
            Message=orjson.dumps({"job": job, "outcome": outcome, "result": body}).decode(),
            MessageAttributes={
                "job": {"DataType": "String", "StringValue": job},
                "outcome": {"DataType": "String", "StringValue": outcome},
            },
        )
        return response["MessageId"]
    except Exception:  # noqa: BLE001 - reported in the logs; the run's own outcome stands
        log.exception("could not publish the run's result to %s", topic)
        return None
