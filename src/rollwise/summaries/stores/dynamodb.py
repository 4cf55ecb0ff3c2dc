"""DynamoDB through the boto3 low-level client.

Single-table layout (keys are strings):

=================  ===============================  ==============================
item               PK                               SK
=================  ===============================  ==============================
execution record   ``REC#<day>#<shard>``            ``<tenant>#<execution id>``
invalidation       ``INVALIDATION``                 ``<day>#<shard>``
summary            ``SUM#<type>#<start>#<shard>``   ``<tenant>#<owner>#<metric>``
=================  ===============================  ==============================

A summary keeps its figures as one JSON attribute and its sketch as one binary
attribute: reading 6,000 summaries back then parses three attributes each, not
twenty. Summaries carry three sparse index keys for the read side: GSI1 by tenant
(``<tenant>#<type>`` / ``<start>#<owner>#<metric>``), GSI2 by tenant and owner,
GSI3 by tenant and metric type. Every read is a Query; nothing scans.
"""

from __future__ import annotations

import os
import time
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

import orjson

from rollwise.periods import Period, period_containing
from rollwise.summaries.model import SummaryKey
from rollwise.summaries.store import (
    DEFAULT_SHARDS,
    Invalidation,
    RecordItem,
    StoredSummary,
    SummaryStore,
)

INVALIDATION_PK = "INVALIDATION"
INDEXES = {
    "GSI1": ("GSI1PK", "GSI1SK"),
    "GSI2": ("GSI2PK", "GSI2SK"),
    "GSI3": ("GSI3PK", "GSI3SK"),
}


def _records_pk(day: str, shard: int) -> str:
    return f"REC#{day}#{shard:03d}"


def _summaries_pk(period: Period, shard: int) -> str:
    return f"SUM#{period.kind}#{period.start.isoformat()}#{shard:03d}"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: the keys and indexes this store needs (the deploy reuses them)."""
    attributes = [("PK", "S"), ("SK", "S")] + [(a, "S") for keys in INDEXES.values() for a in keys]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, (pk, sk) in INDEXES.items()
        ],
    }


class DynamoDBSummaryStore(SummaryStore):
    def __init__(self, table_name: str, shards: int = DEFAULT_SHARDS, client: Any = None) -> None:
        super().__init__(shards)
        if not table_name:
            raise ValueError("a DynamoDB table name is required (set DYNAMODB_TABLE_NAME)")
        self.table_name = table_name
        self._client = client

    def __getstate__(self) -> dict:
        # A boto3 client does not cross processes: another process builds its own from the environment.
        return {"table_name": self.table_name, "shards": self.shards, "_client": None}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # boto3 reads AWS_ENDPOINT_URL and AWS_REGION itself.
            self._client = boto3.client(
                "dynamodb",
                region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                config=Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=16),
            )
        return self._client

    def describe(self) -> str:
        return f"dynamodb://{self.table_name}"

    def create(self) -> bool:
        client = self.client
        try:
            client.describe_table(TableName=self.table_name)
            return False
        except client.exceptions.ResourceNotFoundException:
            pass
        client.create_table(**table_definition(self.table_name))
        client.get_waiter("table_exists").wait(TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        return True

    # -- batched writes -----------------------------------------------------
    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for i in range(0, len(requests), 25):
            pending = {self.table_name: requests[i : i + 25]}
            delay = 0.05
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if pending:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)

    def _put_record_items(self, items: list[RecordItem]) -> None:
        # One item per (day, execution): a record written twice in one batch keeps its last state.
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for i in items:
            latest[(_records_pk(i.day, i.shard), f"{i.tenant_id}#{i.execution_id}")] = {
                "PutRequest": {
                    "Item": {
                        "PK": {"S": _records_pk(i.day, i.shard)},
                        "SK": {"S": f"{i.tenant_id}#{i.execution_id}"},
                        "r": {"S": orjson.dumps(i.record).decode()},
                    }
                }
            }
        self._batch_write(list(latest.values()))

    def _put_invalidations(self, markers: list[Invalidation]) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            "PK": {"S": INVALIDATION_PK},
                            "SK": {"S": f"{m.day.isoformat()}#{m.shard:03d}"},
                            "token": {"S": m.token},
                        }
                    }
                }
                for m in markers
            ]
        )

    # -- reads --------------------------------------------------------------
    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table_name
        while True:
            page = self.client.query(**kwargs)
            yield from page["Items"]
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def read_records(self, day: date, shard: int) -> Iterator[Mapping[str, Any]]:
        loads = orjson.loads
        for item in self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": _records_pk(day.isoformat(), shard)}},
            ProjectionExpression="r",
            ConsistentRead=True,
        ):
            yield loads(item["r"]["S"])

    def invalidations(self) -> list[Invalidation]:
        out = []
        for item in self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": INVALIDATION_PK}},
            ConsistentRead=True,
        ):
            day, shard = item["SK"]["S"].split("#")
            out.append(Invalidation(date.fromisoformat(day), int(shard), item["token"]["S"]))
        return out

    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        client = self.client
        for m in markers:
            try:
                client.delete_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": INVALIDATION_PK}, "SK": {"S": f"{m.day.isoformat()}#{m.shard:03d}"}},
                    ConditionExpression="#token = :token",
                    ExpressionAttributeNames={"#token": "token"},
                    ExpressionAttributeValues={":token": {"S": m.token}},
                )
            except client.exceptions.ConditionalCheckFailedException:
                pass  # rewritten since we read it: new data, next run

    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]:
        out = {}
        for item in self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": _summaries_pk(period, shard)}},
            ProjectionExpression="SK, figures, sketch",
            ConsistentRead=True,
        ):
            s = _summary(item, period)
            out[s.key] = s
        return out

    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None:
        pk = _summaries_pk(period, shard)
        start = period.start.isoformat()
        requests: list[dict[str, Any]] = []
        for s in puts:
            item: dict[str, Any] = {
                "PK": {"S": pk},
                "SK": {"S": f"{s.tenant_id}#{s.owner_id}#{s.metric_type}"},
                "GSI1PK": {"S": f"{s.tenant_id}#{period.kind}"},
                "GSI1SK": {"S": f"{start}#{s.owner_id}#{s.metric_type}"},
                "GSI2PK": {"S": f"{s.tenant_id}#{period.kind}#O#{s.owner_id}"},
                "GSI2SK": {"S": f"{start}#{s.metric_type}"},
                "GSI3PK": {"S": f"{s.tenant_id}#{period.kind}#M#{s.metric_type}"},
                "GSI3SK": {"S": f"{start}#{s.owner_id}"},
                "tenant_id": {"S": s.tenant_id},
                "owner_id": {"S": s.owner_id},
                "metric_type": {"S": s.metric_type},
                "period_type": {"S": period.kind},
                "period_start": {"S": start},
                "period_end": {"S": period.end.isoformat()},
                "figures": {"S": orjson.dumps({k: v for k, v in s.figures.items() if k != "sketch"}).decode()},
                "sketch": {"B": s.figures["sketch"]},
            }
            requests.append({"PutRequest": {"Item": item}})
        for t, o, m in deletes:
            requests.append({"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": f"{t}#{o}#{m}"}}}})
        self._batch_write(requests)

    def query_summaries(self, tenant_id, period_type, since=None, until=None, owner_id=None, metric_type=None) -> Iterator[StoredSummary]:
        if owner_id is not None:
            index, pk = "GSI2", f"{tenant_id}#{period_type}#O#{owner_id}"
        elif metric_type is not None:
            index, pk = "GSI3", f"{tenant_id}#{period_type}#M#{metric_type}"
        else:
            index, pk = "GSI1", f"{tenant_id}#{period_type}"
        pk_name, sk_name = INDEXES[index]
        low = period_containing(period_type, since).start.isoformat() if since else "0000"
        high = (until.isoformat() if until else "9999") + "#\uffff"
        rows = []
        for item in self._query(
            IndexName=index,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": pk_name, "#sk": sk_name},
            ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            ProjectionExpression="SK, period_start, figures, sketch",
        ):
            summary = _summary(item, period_containing(period_type, date.fromisoformat(item["period_start"]["S"])))
            if metric_type is None or summary.metric_type == metric_type:
                rows.append(summary)
        rows.sort(key=lambda s: (s.period.start, s.owner_id, s.metric_type))
        yield from rows


def _summary(item: Mapping[str, Any], period: Period) -> StoredSummary:
    tenant_id, owner_id, metric_type = item["SK"]["S"].split("#")
    figures = orjson.loads(item["figures"]["S"])
    figures["sketch"] = item["sketch"]["B"]
    return StoredSummary.load(tenant_id, owner_id, metric_type, period, figures)
