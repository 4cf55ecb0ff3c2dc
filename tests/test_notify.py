"""Notifications: a run's result reaches an SQS queue subscribed to the topic (moto server)."""

import json
import uuid

import boto3
import pytest

from rollwise.config import AwsSettings
from rollwise.notify import publish_result


@pytest.fixture
def topic_and_queue(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name=f"rollwise-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"runs-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    # only failures of the merge job reach this queue
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps({"job": ["merge-runs"], "outcome": ["failure"]})
    )
    return sqs, queue_url, topic


def received(sqs, queue_url):
    out = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in out]


def test_results_are_published_with_filterable_attributes(topic_and_queue, moto_server):
    sqs, queue_url, topic = topic_and_queue
    aws = AwsSettings(endpoint_url=moto_server.url)
    assert publish_result("merge-runs", {"files_processed": 3, "failed_operations": []}, False, topic, aws)
    assert publish_result("summaries", {"errors": ["x"]}, True, topic, aws)
    assert received(sqs, queue_url) == []  # neither matches the filter
    assert publish_result(
        "merge-runs", {"files_processed": 2, "failed_operations": [{"key": "k", "operation": "copy", "error": "e"}]}, True, topic, aws
    )
    (envelope,) = received(sqs, queue_url)
    assert envelope["MessageAttributes"]["job"]["Value"] == "merge-runs"
    assert envelope["MessageAttributes"]["outcome"]["Value"] == "failure"
    message = json.loads(envelope["Message"])
    assert message == {
        "job": "merge-runs",
        "outcome": "failure",
        "result": {"files_processed": 2, "failed_operations": [{"key": "k", "operation": "copy", "error": "e"}]},
    }


def test_without_a_topic_nothing_is_sent():
    assert publish_result("summaries", {}, False, "") is None


def test_a_broken_topic_is_logged_not_raised(moto_server, caplog):
    aws = AwsSettings(endpoint_url=moto_server.url)
    assert publish_result("summaries", {}, False, "arn:aws:sns:us-east-1:123456789012:does-not-exist", aws) is None
    assert "could not publish" in caplog.text
