"""S3's preconditions, held as S3 documents them, in front of an emulator more lenient than S3.

moto server ignores ``x-amz-copy-source-if-match`` on CopyObject and the
``ETag`` of each object in DeleteObjects. Installed on a :class:`gateway.Gateway`,
this forwards every request itself, one at a time, and answers every conditional
GET, COPY, DELETE and DeleteObjects itself where S3 would refuse it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html,
conditional-deletes.html): 412 ``PreconditionFailed`` when the object's ETag
is another, 404 ``NoSuchKey`` when it is gone; in DeleteObjects, an ``<Error>``
for that key and the others deleted. What passes is forwarded unchanged.
``refused`` and ``conditioned`` record what was checked, for a test to assert on.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote

from support.gateway import Gateway, Reply, Request

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _error(status: int, code: str, message: str) -> Reply:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
    return Reply(status, body, {"Content-Type": "application/xml"}, note=code)


def _same(a: str, b: str) -> bool:
    return a.strip().strip('"') == b.strip().strip('"')


class S3Preconditions:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.refused: list[tuple[str, str, int]] = []  # (request kind, key, status) answered here
        self.conditioned: list[tuple[str, str]] = []  # (request kind, key) that carried a precondition
        self.lock = threading.Lock()
        # One request at a time between a check and its forward: S3 evaluates a precondition atomically.
        self.serial = threading.Lock()
        import boto3

        upstream = f"{gateway.upstream.scheme}://{gateway.upstream.netloc}"
        self.s3 = boto3.client("s3", endpoint_url=upstream, region_name="us-east-1")  # signed, straight to the emulator
        gateway.decide = self.decide

    def _etag(self, path: str) -> str | None:
        bucket, key = path.lstrip("/").split("/", 1)
        try:
            return self.s3.head_object(Bucket=bucket, Key=unquote(key))["ETag"]
        except self.s3.exceptions.ClientError as exc:
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise

    def _note(self, kind: str, key: str, status: int | None = None) -> None:
        with self.lock:
            self.conditioned.append((kind, key))
            if status is not None:
                self.refused.append((kind, key, status))

    def _check(self, kind: str, path: str, e_tag: str) -> Reply | None:
        key = unquote(path.split("/", 2)[2])
        current = self._etag(path)
        if current is None:
            self._note(kind, key, 404)
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        if not _same(current, e_tag):
            self._note(kind, key, 412)
            return _error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        self._note(kind, key)
        return None

    def decide(self, request: Request) -> Reply:
        """Every request, one at a time: a check and the request it guards are one step, as in S3."""
        copy_source = request.header("x-amz-copy-source")
        with self.serial:
            refused = None
            if request.method == "PUT" and copy_source and request.header("x-amz-copy-source-if-match"):
                source = "/" + unquote(copy_source.split("?")[0]).lstrip("/")
                refused = self._check("copy", quote(source), request.header("x-amz-copy-source-if-match"))
            elif request.method in ("GET", "HEAD", "DELETE") and request.header("if-match") and request.path.count("/") >= 2:
                refused = self._check({"DELETE": "delete"}.get(request.method, "get"), request.path, request.header("if-match"))
            elif request.method == "POST" and "delete" in request.query and b"<ETag>" in request.body:
                return self._delete_objects(request)
            if refused is not None:
                return refused
            headers = {k: v for k, v in request.headers.items() if k not in ("connection", "host")}
            status, answer_headers, body = self.gateway._forward(request.method, request.target, headers, request.body)
        drop = ("transfer-encoding", "connection") if request.method == "HEAD" else ("transfer-encoding", "connection", "content-length")
        return Reply(status, body, {k: v for k, v in answer_headers if k.lower() not in drop})

    def _delete_objects(self, request: Request) -> Reply:
        bucket = request.path.strip("/").split("/")[0]
        root = ET.fromstring(request.body)
        ns = {"s3": S3_NS} if root.tag.startswith("{") else {}
        find = (lambda node, name: node.find(f"s3:{name}", ns)) if ns else (lambda node, name: node.find(name))
        quiet = find(root, "Quiet") is not None and find(root, "Quiet").text == "true"
        out = [f'<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="{S3_NS}">']
        for obj in root.findall("s3:Object", ns) if ns else root.findall("Object"):
            key = find(obj, "Key").text
            tag = find(obj, "ETag")
            path = f"/{bucket}/{quote(key)}"
            refused = self._check("delete_objects", path, tag.text) if tag is not None else None
            if refused is not None:
                code = "NoSuchKey" if refused.status == 404 else "PreconditionFailed"
                out.append(f"<Error><Key>{key}</Key><Code>{code}</Code><Message>{refused.note}</Message></Error>")
                continue
            self.s3.delete_object(Bucket=bucket, Key=key)
            if not quiet:
                out.append(f"<Deleted><Key>{key}</Key></Deleted>")
        out.append("</DeleteResult>")
        return Reply(200, "".join(out).encode(), {"Content-Type": "application/xml"}, note="DeleteObjects with ETags")
