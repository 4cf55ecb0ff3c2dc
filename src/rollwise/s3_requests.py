"""The S3 requests obstore does not make: COPY and DELETE conditioned on the source's ETag.

S3 takes ``x-amz-copy-source-if-match`` on CopyObject, ``If-Match`` on
DeleteObject and an ``ETag`` per object in DeleteObjects (general purpose
buckets, since 2025); obstore's copy and delete take no precondition. These go
through boto3's client, made on first use so a run that never archives (or a
cold start) does not import it. Errors are boto3's own: :mod:`rollwise.objects`
translates them with obstore's.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from rollwise.config import AwsSettings

# What the merge job needs of the client, and no more: no parameter validation (the keys are ours),
# checksums only where S3 requires one (DeleteObjects), the path style moto and S3 both take,
# and a pool as wide as the job's widest concurrency.
CLIENT_CONFIG: dict[str, Any] = {"parameter_validation": False, "request_checksum_calculation": "when_required",
                                 "response_checksum_validation": "when_required", "s3": {"addressing_style": "path"},
                                 "retries": {"mode": "standard", "max_attempts": 3}, "max_pool_connections": 64}


def s3_client(aws: AwsSettings) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=aws.region, endpoint_url=aws.endpoint_url or None, config=Config(**CLIENT_CONFIG))


class ConditionalRequests:
    """One bucket (and prefix): copy-if-match and delete-if-match, keys relative to the prefix as obstore's are."""

    def __init__(self, bucket: str, prefix: str | None, aws: AwsSettings) -> None:
        self.bucket, self.prefix, self.aws = bucket, (prefix.strip("/") + "/") if prefix else "", aws
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = s3_client(self.aws)
        return self._client

    def copy(self, source: str, target: str, e_tag: str) -> None:
        """Copy only if the source's ETag is still ``e_tag`` (S3: 412 if not, 404 if it is gone)."""
        self.client().copy_object(Bucket=self.bucket, Key=self.prefix + target, CopySource={"Bucket": self.bucket, "Key": self.prefix + source},
                                  CopySourceIfMatch=e_tag)

    def delete_one(self, key: str, e_tag: str) -> None:
        """DeleteObject with If-Match (S3: 412 if the object changed, 404 if it is gone)."""
        self.client().delete_object(Bucket=self.bucket, Key=self.prefix + key, IfMatch=e_tag)

    def delete_many(self, keys: Sequence[str], e_tags: Sequence[str]) -> dict[str, dict[str, str]]:
        """DeleteObjects with an ETag per object (at most 1,000): each key that was not deleted, with S3's error for it."""
        answer = self.client().delete_objects(Bucket=self.bucket, Delete={
            "Objects": [{"Key": self.prefix + k, "ETag": e} for k, e in zip(keys, e_tags)], "Quiet": True})
        cut = len(self.prefix)
        return {error["Key"][cut:]: error for error in answer.get("Errors", [])}
