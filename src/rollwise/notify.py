"""Each run's result, published to an SNS topic (when one is configured)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from rollwise.config import AwsSettings

log = logging.getLogger(__name__)


def publish_result(job: str, body: Mapping[str, Any], failed: bool, topic_arn: str, aws: AwsSettings | None = None, client: Any = None) -> str | None:
    """Publish ``body`` as JSON with ``job`` and ``outcome`` message attributes, for subscription filters.

    A notification that cannot be sent is logged, never allowed to turn a
    finished run into a failed one. Returns the message id, or None.
    """
    if not topic_arn.strip():
        return None
    outcome = "failure" if failed else "success"
    try:
        if client is None:
            import boto3

            aws = aws or AwsSettings()
            client = boto3.client("sns", region_name=aws.region, endpoint_url=aws.endpoint_url or None)
        response = client.publish(
            TopicArn=topic_arn,
            Subject=f"rollwise {job}: {outcome}",
            Message=orjson.dumps({"job": job, "outcome": outcome, "result": body}).decode(),
            MessageAttributes={
                "job": {"DataType": "String", "StringValue": job},
                "outcome": {"DataType": "String", "StringValue": outcome},
            },
        )
        return response["MessageId"]
    except Exception:  # noqa: BLE001 - reported in the logs; the run's own outcome stands
        log.exception("could not publish the run's result to %s", topic_arn)
        return None
