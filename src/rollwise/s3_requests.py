"""The S3 requests obstore does not make: COPY and DELETE conditioned on the source's ETag.

S3 takes ``x-amz-copy-source-if-match`` on CopyObject, ``If-Match`` on
DeleteObject and an ``ETag`` per object in DeleteObjects (general purpose
buckets, since 2025); obstore's copy and delete take no precondition.

These three requests are signed by botocore's SigV4 signer with botocore's
credentials and sent on a urllib3 pool, path-style as obstore sends its own.
boto3's client would do the same at +39 MB of peak memory (its service models)
and more CPU per request, in a 128 MB function that makes one COPY per file
(docs/benchmarks.md). Errors carry S3's code and status in boto3's shape
(``.response``), which :func:`rollwise.objects.translate` reads.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from rollwise.config import AwsSettings

POOL_SIZE = 64  # the job's widest concurrency
RETRIES = 3  # on a lost connection, 500, 503 (SlowDown): each request here may be sent again safely


class S3Error(Exception):
    """S3 refused a request: its status, code and message, in boto3's ClientError shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def _credentials() -> Any:
    """Lambda's credentials are in the environment (a light provider); anything else takes botocore's whole chain."""
    from botocore.credentials import EnvProvider

    found = EnvProvider().load()
    if found is None:
        import botocore.session

        found = botocore.session.get_session().get_credentials()
    if found is None:
        raise S3Error(403, "NoCredentials", "no AWS credentials found (environment, profile or instance role)")
    return found


def _error(status: int, body: bytes) -> S3Error:
    try:
        fields = {child.tag.rpartition("}")[2]: child.text or "" for child in ET.fromstring(body).iter()}
        code, message = fields.get("Code") or str(status), fields.get("Message", "")
    except ET.ParseError:
        code, message = str(status), body[:200].decode("utf-8", "replace")
    return S3Error(status, code, message)


class ConditionalRequests:
    """One bucket (and prefix): copy-if-match and delete-if-match, keys relative to the prefix as obstore's are."""

    def __init__(self, bucket: str, prefix: str | None, aws: AwsSettings) -> None:
        self.bucket, self.prefix, self.aws = bucket, (prefix.strip("/") + "/") if prefix else "", aws
        endpoint = (aws.endpoint_url or f"https://s3.{aws.region}.amazonaws.com").rstrip("/")
        self.base = f"{endpoint}/{quote(bucket)}/"
        self._ready: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    def _setup(self) -> tuple[Any, Any, Any]:
        """The pool, the signer's class and the credentials, made on first use (a run that archives nothing never pays)."""
        if self._ready is None:
            with self._lock:
                if self._ready is None:
                    import urllib3
                    from botocore.auth import S3SigV4Auth

                    retries = urllib3.Retry(
                        total=RETRIES, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504), allowed_methods=None, raise_on_status=False
                    )
                    self._ready = (urllib3.PoolManager(maxsize=POOL_SIZE, retries=retries), S3SigV4Auth, _credentials())
        return self._ready

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        """``path``: after the bucket, encoded."""
        from botocore.awsrequest import AWSRequest

        pool, signer, credentials = self._setup()
        url = self.base + path
        request = AWSRequest(method, url, headers=headers, data=body)
        signer(credentials.get_frozen_credentials(), "s3", self.aws.region).add_auth(request)
        answer = pool.request(method, url, headers=dict(request.headers.items()), body=body or None)
        if answer.status >= 300:
            raise _error(answer.status, answer.data)
        return answer.data

    def copy(self, source: str, target: str, e_tag: str) -> None:
        """Copy only if the source's ETag is still ``e_tag`` (S3: 412 if not, 404 if it is gone)."""
        answer = self._send(
            "PUT",
            self._path(target),
            {"x-amz-copy-source": quote(f"{self.bucket}/{self.prefix}{source}", safe="/~"), "x-amz-copy-source-if-match": e_tag},
        )
        if b"<Error>" in answer:  # S3 may answer a copy 200 and fail it in the body
            raise _error(500, answer)

    def delete_one(self, key: str, e_tag: str) -> None:
        """DeleteObject with If-Match (S3: 412 if the object changed, 404 if it is gone)."""
        self._send("DELETE", self._path(key), {"If-Match": e_tag})

    def delete_many(self, keys: Sequence[str], e_tags: Sequence[str]) -> dict[str, dict[str, str]]:
        """DeleteObjects with an ETag per object (at most 1,000): each key that was not deleted, with S3's error for it."""
        objects = "".join(f"<Object><Key>{escape(self.prefix + k)}</Key><ETag>{escape(e)}</ETag></Object>" for k, e in zip(keys, e_tags, strict=True))
        body = f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>{objects}</Delete>'.encode()
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()  # S3 requires a checksum of the body
        answer = self._send("POST", "?delete", {"Content-MD5": md5, "Content-Type": "application/xml"}, body)
        cut = len(self.prefix)
        refused = {}
        for node in ET.fromstring(answer):
            if node.tag.rpartition("}")[2] == "Error":
                error = {child.tag.rpartition("}")[2]: child.text or "" for child in node}
                refused[error.get("Key", "")[cut:]] = error
        return refused

    def _path(self, key: str) -> str:
        return quote(self.prefix + key, safe="/~")
