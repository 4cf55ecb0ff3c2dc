"""AWS's policy evaluation for one role's identity-based policy, and the checks each request makes.

After AWS's documented logic (IAM User Guide, "Policy evaluation logic"): an
explicit Deny wins, then an Allow, else the implicit deny. Actions match
without regard to case, with ``*`` and ``?``; resource ARNs match with regard
to case, with ``*`` and ``?`` (which cross ``/`` and ``:``); each condition
operator must hold for one of its values, every operator and key of a
statement must hold, and an ``...IfExists`` operator holds when its key is
absent. What each request needs follows the service's documentation: a
CopyObject reads its source and writes its target, a DeleteObjects deletes
each key, and a GetObject or HeadObject of a missing key is answered 403, not
404, unless the caller may list the bucket (with no ``s3:prefix`` in that
check's context).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

from support.gateway import Reply, Request, access_denied

ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Call:
    """One authorization check: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: dict = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + (f" {self.context}" if self.context else "")


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _wild(pattern: str, value: str, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _condition_holds(operator: str, key: str, wanted: Any, context: dict) -> bool:
    if operator.startswith(("ForAllValues:", "ForAnyValue:")):
        quantifier, _, inner = operator.partition(":")
        values = _listify(context.get(key, []))
        if quantifier == "ForAllValues":  # true for no values at all: AWS's documented (and risky) rule
            return all(_condition_holds(inner, key, wanted, {key: v}) for v in values)
        return any(_condition_holds(inner, key, wanted, {key: v}) for v in values)
    if_exists = operator.endswith("IfExists")
    op = operator.removesuffix("IfExists")
    present = key in context
    if op == "Null":
        return (str(_listify(wanted)[0]).lower() == "true") == (not present)
    if not present:
        return if_exists or op.startswith("StringNot") or op.startswith("ArnNot")
    values = [str(v) for v in _listify(context[key])]
    wanted = [str(w) for w in _listify(wanted)]
    match = {
        "StringEquals": lambda v, w: v == w,
        "StringLike": lambda v, w: _wild(w, v, case=True),
        "StringEqualsIgnoreCase": lambda v, w: v.lower() == w.lower(),
        "ArnEquals": lambda v, w: v == w,
        "ArnLike": lambda v, w: _wild(w, v, case=True),
        "Bool": lambda v, w: v.lower() == w.lower(),
    }
    negated = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}
    if op in negated:
        return not any(match[negated[op]](v, w) for v in values for w in wanted)
    if op not in match:
        raise NotImplementedError(f"condition operator {operator}")
    return any(match[op](v, w) for v in values for w in wanted)


def _applies(statement: dict, call: Call) -> bool:
    if "Action" in statement and not any(_wild(a, call.action, case=False) for a in _listify(statement["Action"])):
        return False
    if "NotAction" in statement and any(_wild(a, call.action, case=False) for a in _listify(statement["NotAction"])):
        return False
    if "Resource" in statement and not any(_wild(r, call.resource, case=True) for r in _listify(statement["Resource"])):
        return False
    if "NotResource" in statement and any(_wild(r, call.resource, case=True) for r in _listify(statement["NotResource"])):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, wanted, call.context):
                return False
    return True


def decision(statements: Iterable[dict], call: Call) -> str:
    """``Allow``, ``ExplicitDeny`` or ``ImplicitDeny``."""
    applying = [s for s in statements if _applies(s, call)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "ExplicitDeny"
    return "Allow" if any(s["Effect"] == "Allow" for s in applying) else "ImplicitDeny"


# -- what a request needs -------------------------------------------------------------------------------
def calls_of(request: Request, region: str) -> list[Call]:
    """The checks AWS makes for one HTTP request to S3 (path style), DynamoDB or SNS."""
    target = request.header("x-amz-target")
    if target.startswith("DynamoDB_"):
        return _dynamodb(target.split(".", 1)[1], json.loads(request.body or b"{}"), region)
    if request.method == "POST" and request.path in ("", "/") and b"Action=" in request.body:
        form = dict(parse_qsl(request.body.decode()))
        service = {"Publish": "sns"}.get(form["Action"], "unknown")
        return [Call(f"{service}:{form['Action']}", form.get("TopicArn", ""))]
    return _s3(request)


def _partition_keys(items: Iterable[dict]) -> list[str]:
    # The hash key: PK in rollwise's table, pk in the workflow SDK's.
    return sorted({next(iter(v.values())) for item in items for k, v in item.items() if k in ("PK", "pk")})


def _query_partition(body: dict) -> list[str]:
    """The partition a Query reads (its hash-key equality), as dynamodb:LeadingKeys sees it."""
    names = body.get("ExpressionAttributeNames") or {}
    for left, right in re.findall(r"([#\w]+)\s*=\s*(:\w+)", body.get("KeyConditionExpression", "")):
        if names.get(left, left) in ("PK", "GSI1PK", "GSI2PK", "GSI3PK"):
            return [next(iter(body["ExpressionAttributeValues"][right].values()))]
    return []


def _dynamodb(operation: str, body: dict, region: str) -> list[Call]:
    table = lambda name: f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"  # noqa: E731
    if operation == "BatchWriteItem":
        return [
            Call(
                f"dynamodb:{operation}",
                table(name),
                {
                    "dynamodb:LeadingKeys": _partition_keys(
                        [r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") for r in requests]
                    )
                },
            )
            for name, requests in body["RequestItems"].items()
        ]
    if operation == "BatchGetItem":
        return [
            Call(f"dynamodb:{operation}", table(name), {"dynamodb:LeadingKeys": _partition_keys(spec["Keys"])})
            for name, spec in body["RequestItems"].items()
        ]
    if operation == "TransactWriteItems":
        return [
            Call(
                "dynamodb:"
                + kind.replace("Put", "PutItem")
                .replace("Delete", "DeleteItem")
                .replace("Update", "UpdateItem")
                .replace("ConditionCheck", "ConditionCheckItem"),
                table(item[kind]["TableName"]),
            )
            for item in body["TransactItems"]
            for kind in item
        ]
    resource = table(body["TableName"]) + (f"/index/{body['IndexName']}" if body.get("IndexName") else "")
    keys = _query_partition(body) if operation == "Query" else _partition_keys([body.get("Item") or body.get("Key") or {}])
    return [Call(f"dynamodb:{operation}", resource, {"dynamodb:LeadingKeys": keys} if keys else {})]


def _s3(request: Request) -> list[Call]:
    path = unquote(request.path).lstrip("/")
    bucket, _, key = path.partition("/")
    bucket_arn, object_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"
    q = request.query
    if not key:
        if request.method == "GET":
            context = {f"s3:{k}": q[k] for k in ("prefix", "delimiter", "max-keys") if k in q}
            return [Call("s3:ListBucket", bucket_arn, context)]
        if request.method == "POST" and "delete" in q:
            keys = [e.text or "" for e in ElementTree.fromstring(request.body).iter() if e.tag.endswith("Key")]
            return [Call("s3:DeleteObject", f"{bucket_arn}/{k}") for k in keys]
        return [Call(f"s3:{request.method}Bucket", bucket_arn)]
    if request.method in ("GET", "HEAD"):
        return [Call("s3:GetObject", object_arn)]
    if request.method == "PUT":
        source = request.header("x-amz-copy-source")
        if source:
            return [Call("s3:GetObject", "arn:aws:s3:::" + unquote(source).lstrip("/").split("?")[0]), Call("s3:PutObject", object_arn)]
        return [Call("s3:PutObject", object_arn)]
    if request.method == "POST":  # multipart: create and complete
        return [Call("s3:PutObject", object_arn)]
    if request.method == "DELETE":
        return [Call("s3:AbortMultipartUpload" if "uploadId" in q else "s3:DeleteObject", object_arn)]
    raise NotImplementedError(f"{request.method} {request.path}")


def denial(request: Request, call: Call) -> Reply:
    """The error the service answers a denied request with."""
    message = f"User: arn:aws:sts::{ACCOUNT}:assumed-role/function is not authorized to perform: {call.action} on resource: {call.resource}"
    if request.header("x-amz-target").startswith("DynamoDB_"):
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": message}).encode()
        return Reply(400, body, {"Content-Type": "application/x-amz-json-1.0"}, note=str(call))
    if call.action.startswith("sns:"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>{message}</Message></Error>"
            "<RequestId>0</RequestId></ErrorResponse>"
        ).encode()
        return Reply(403, body, {"Content-Type": "text/xml"}, note=str(call))
    reply = access_denied(message)
    reply.note = str(call)
    return reply


class Enforcer:
    """Plugs a role's statements into a gateway: denied requests get AWS's answer, every check is kept."""

    def __init__(self, statements: list[dict], region: str = "us-east-1") -> None:
        self.statements, self.region = statements, region
        self.checks: list[tuple[Call, str]] = []  # one per check a request made
        self.implicit: list[tuple[Call, str]] = []  # S3's own listing check behind a read of a missing key

    def decide(self, request: Request) -> Reply | None:
        for call in calls_of(request, self.region):
            verdict = decision(self.statements, call)
            self.checks.append((call, verdict))
            if verdict != "Allow":
                return denial(request, call)
        return None

    def after(self, request: Request, status: int) -> Reply | None:
        """S3 answers a read of a missing key with 403 unless the caller may list the bucket there."""
        if status != 404 or request.method not in ("GET", "HEAD") or request.header("x-amz-target"):
            return None
        bucket, _, key = unquote(request.path).lstrip("/").partition("/")
        if not key:
            return None
        listing = Call("s3:ListBucket", f"arn:aws:s3:::{bucket}")  # no s3:prefix in this check
        verdict = decision(self.statements, listing)
        self.implicit.append((listing, verdict))
        return None if verdict == "Allow" else denial(request, Call("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"))

    def denied(self) -> list[str]:
        return [str(call) for call, verdict in self.checks if verdict != "Allow"]

    def install(self, gateway) -> None:
        gateway.decide, gateway.after = self.decide, self.after
