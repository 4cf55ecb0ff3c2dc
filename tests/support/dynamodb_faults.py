"""A faulty network in front of DynamoDB, plugged into a gateway (tests/support/gateway.py), answering as DynamoDB would.

What a table's clients meet in production, each at its own rate, from a seeded
random source so that a failing run can be replayed:

* a request reset before it reached the table (it did not happen);
* an answer dropped after the request reached the table (it happened; the client does not know);
* a 500 (InternalServerError), a throttle (ProvisionedThroughputExceededException);
* a BatchWriteItem (or BatchGetItem) answered in part: part of it forwarded, the rest handed back as
  UnprocessedItems (UnprocessedKeys), as DynamoDB does when a batch exceeds the table's capacity.

Answers are DynamoDB's JSON protocol with a correct ``x-amz-crc32``, so botocore reads them as it would AWS's.
"""

from __future__ import annotations

import json
import random
import threading
import zlib
from collections import Counter
from collections.abc import Callable

from support.gateway import Reply, Request

Rule = Callable[[str, dict], bool]  # (operation, request body) -> whether the fault applies


def dynamodb_answer(status: int, doc: dict) -> Reply:
    body = json.dumps(doc).encode()
    return Reply(status, body, {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": str(zlib.crc32(body)), "x-amzn-RequestId": "fault"})


def dynamodb_error(status: int, code: str, message: str) -> Reply:
    reply = dynamodb_answer(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    reply.note = code
    return reply


def throttled() -> Reply:
    return dynamodb_error(400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.")


def lease_request(kind: str) -> Rule:
    """Requests on shard leases: ``acquire`` (PutItem that may take a free lease), ``renew`` (PutItem
    held by its owner) or ``release`` (DeleteItem)."""

    def rule(operation: str, body: dict) -> bool:
        key = (body.get("Item") or body.get("Key") or {}).get("PK", {}).get("S", "")
        if not key.startswith("LEASE#"):
            return False
        condition = body.get("ConditionExpression", "")
        if kind == "release":
            return operation == "DeleteItem"
        return operation == "PutItem" and (("attribute_not_exists" in condition) == (kind == "acquire"))

    return rule


def lease_shard(body: dict) -> str:
    return (body.get("Item") or body.get("Key"))["PK"]["S"]


def writes_to(prefix: str) -> Rule:
    """BatchWriteItem requests that write an item whose partition key starts with ``prefix``."""

    def rule(operation: str, body: dict) -> bool:
        return operation == "BatchWriteItem" and any(
            (r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key"))["PK"]["S"].startswith(prefix)
            for requests in body["RequestItems"].values()
            for r in requests
        )

    return rule


class DynamoFaults:
    """The faults of one trial. ``drop_once``: rules whose first matching request per key (a
    ``key(body)``) has its answer dropped after it reached the table."""

    DATA_PLANE = {"GetItem", "PutItem", "DeleteItem", "UpdateItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem"}

    def __init__(
        self,
        seed: int = 0,
        throttle: float = 0.0,
        partial: float = 0.0,
        reset: float = 0.0,
        server_error: float = 0.0,
        drop: float = 0.0,
        drop_once: list[tuple[Rule, Callable[[dict], str]]] = (),
        throttle_always: Rule | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.throttle, self.partial, self.reset, self.server_error, self.drop = throttle, partial, reset, server_error, drop
        self.drop_once = list(drop_once)
        self.throttle_always = throttle_always  # requests matching it are throttled every time: a table out of capacity
        self.dropped_keys: set[tuple[int, str]] = set()
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.enabled = True

    def install(self, gateway) -> DynamoFaults:
        gateway.decide = self.decide
        return self

    def decide(self, request: Request) -> Reply | None:
        target = request.header("x-amz-target")
        if not self.enabled or not target.startswith("DynamoDB_"):
            return None
        operation = target.split(".", 1)[1]
        if operation not in self.DATA_PLANE:
            return None
        body = json.loads(request.body or b"{}")
        with self.lock:
            self.counts[operation] += 1
            for i, (rule, key) in enumerate(self.drop_once):
                if rule(operation, body) and (i, key(body)) not in self.dropped_keys:
                    self.dropped_keys.add((i, key(body)))
                    self.counts["dropped once"] += 1
                    return Reply(drop=True, note=f"answer of {operation} {key(body)} dropped")
            if self.throttle_always is not None and self.throttle_always(operation, body):
                self.counts["throttle"] += 1
                return throttled()
            draw = self.rng.random()
            fault = None
            for name, rate in (("reset", self.reset), ("server_error", self.server_error), ("throttle", self.throttle), ("drop", self.drop)):
                if draw < rate:
                    fault = name
                    break
                draw -= rate
            if fault is None and operation in ("BatchWriteItem", "BatchGetItem") and self.rng.random() < self.partial:
                fault = "partial"
                reply = self._in_part(operation, body)
            self.counts[fault or "through"] += 1
        if fault == "reset":
            return Reply(reset=True, note="reset")
        if fault == "server_error":
            return dynamodb_error(500, "InternalServerError", "Internal server error")
        if fault == "throttle":
            return throttled()
        if fault == "drop":
            return Reply(drop=True, note="answer dropped")
        if fault == "partial":
            return reply
        return None

    def _in_part(self, operation: str, body: dict) -> Reply:
        """Forward part of the batch; hand the rest back unprocessed. A batch of one is throttled whole, as DynamoDB does
        when it can process none of a batch."""
        field, answer_field = ("RequestItems", "UnprocessedItems") if operation == "BatchWriteItem" else ("RequestItems", "UnprocessedKeys")
        forwarded, left = {}, {}
        for table, spec in body[field].items():
            entries = spec if operation == "BatchWriteItem" else spec["Keys"]
            if len(entries) < 2:
                return throttled()
            chosen = set(self.rng.sample(range(len(entries)), self.rng.randint(1, len(entries) - 1)))
            kept = [e for i, e in enumerate(entries) if i in chosen]
            rest = [e for i, e in enumerate(entries) if i not in chosen]
            if operation == "BatchWriteItem":
                forwarded[table], left[table] = kept, rest
            else:
                forwarded[table], left[table] = {**spec, "Keys": kept}, {**spec, "Keys": rest}

        def rewrite(status: int, answer: bytes) -> Reply:
            if status != 200:
                return Reply(status, answer, {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": str(zlib.crc32(answer))})
            doc = json.loads(answer)
            doc[answer_field] = left
            return dynamodb_answer(200, doc)

        return Reply(forward_body=json.dumps({**body, field: forwarded}).encode(), rewrite=rewrite, note="answered in part")
