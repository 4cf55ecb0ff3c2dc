"""The S3 requests obstore does not make, against moto behind a gateway holding S3's preconditions."""

import uuid

import boto3
import pytest

from rollwise import objects
from rollwise.config import AwsSettings
from support.gateway import Reply
from support.s3_preconditions import S3Preconditions


@pytest.fixture
def strict(moto_server, gateway, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    checks = S3Preconditions(gateway)
    bucket = f"req-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    store = objects.open_store(f"s3://{bucket}/under/a prefix", AwsSettings(endpoint_url=gateway.url))
    return store, gateway, checks


def test_a_bulk_delete_whose_answer_was_lost_is_sent_again_and_each_key_gets_its_outcome(strict):
    """urllib3 sends DeleteObjects again after the connection dropped: the keys it deleted are gone by then."""
    store, gateway, checks = strict
    tags = {f"raw/{i} é+&.json": objects.write(store, f"raw/{i} é+&.json", b"x%d" % i) for i in range(3)}
    lost = []

    def decide(request):
        if request.method == "POST" and "delete" in request.query and not lost:
            lost.append(request)
            return Reply(drop=True, note="DeleteObjects answer lost")
        return checks.decide(request)

    gateway.decide = decide
    outcome = objects.delete_many(store, sorted(tags), tags)
    assert sorted(outcome.gone) == sorted(tags) and outcome.done == [] and outcome.failed == {}
    assert [r.method for r in gateway.requests if "delete" in r.query] == ["POST", "POST"]
    assert [m.key for m in objects.list_objects(store, "raw/")] == []


def test_keys_with_spaces_and_unicode_are_copied_and_refused_as_s3_does(strict):
    store, gateway, checks = strict
    key = "raw/a b/ü+%2F=.json"
    first = objects.write(store, key, b"1")
    objects.copy(store, key, "archive/ü b.json", first)
    assert objects.read(store, "archive/ü b.json").data == b"1"
    objects.write(store, key, b"2")
    with pytest.raises(objects.PreconditionFailed, match="changed since it was listed"):
        objects.copy(store, key, "archive/ü b.json", first)
    assert checks.refused == [("copy", f"under/a prefix/{key}", 412)]


def test_a_copy_answered_200_with_an_error_in_its_body_failed(strict):
    """S3 may fail a CopyObject after its 200 status: the body says so."""
    store, gateway, checks = strict
    e_tag = objects.write(store, "raw/a.json", b"1")
    body = b'<?xml version="1.0"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'
    gateway.decide = lambda request: (
        Reply(200, body, {"Content-Type": "application/xml"}) if request.header("x-amz-copy-source") else checks.decide(request)
    )
    with pytest.raises(objects.RequestFailed, match="InternalError"):
        objects.copy(store, "raw/a.json", "archive/a.json", e_tag)


def test_a_refusal_names_the_key_and_the_permission(strict):
    store, gateway, checks = strict
    e_tag = objects.write(store, "raw/a.json", b"1")
    denied = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
    gateway.decide = lambda request: Reply(403, denied) if request.method == "DELETE" else checks.decide(request)
    with pytest.raises(objects.PermissionDenied, match=r"delete s3://.*/raw/a.json was denied: the credentials need s3:DeleteObject"):
        store.delete(["raw/a.json"], [e_tag])
