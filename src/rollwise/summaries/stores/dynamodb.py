"""The summaries store on DynamoDB: one table, laid out as :mod:`rollwise.summaries.stores.dynamodb_layout`
says, every request through the seam (:mod:`rollwise.dynamodb`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from rollwise.config import AwsSettings
from rollwise.dynamodb import (
    BATCH_GET_LIMIT,
    ConditionFailed,
    Item,
    TableNotFound,
    TableRequests,
)
from rollwise.periods import UTC_ZONE, Period, day_key, period_containing
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.store import SummaryStore
from rollwise.summaries.stored_items import Places, RecordItem, StoredSummary
from rollwise.summaries.stores.dynamodb_layout import (
    DONE_PREFIX,
    INDEXES,
    MARKER_PARTITION,
    RECORD_PREFIX,
    SETTINGS_PARTITION,
    SUMMARY_NAMES,
    SUMMARY_PROJECTION,
    TTL_ATTRIBUTE,
    ZONE_PREFIX,
    after_every,
    done_item,
    lease_item,
    lease_key,
    locator_item,
    locator_key,
    marker_item,
    marker_key,
    parse_done,
    parse_locator,
    parse_marker,
    parse_record,
    parse_shards,
    parse_summary,
    parse_zone,
    record_item,
    record_key,
    record_partition,
    shards_item,
    shards_key,
    summary_index,
    summary_item,
    summary_key,
    summary_ranges,
    table_definition,
    zone_item,
)
from rollwise.summaries.tenant_zones import DEFAULT_SHARDS


class DynamoDBSummaryStore(SummaryStore, TableRequests):
    def __init__(self, table_name: str, shards: int = DEFAULT_SHARDS, client: Any = None, aws: AwsSettings | None = None) -> None:
        super().__init__(shards)
        if not table_name:
            raise ValueError("a DynamoDB table name is required")
        self.table_name = table_name
        self._client = client
        self._aws = aws
        self._settings_items: dict[str, Item] | None = None

    def __getstate__(self) -> dict:
        # A boto3 client does not cross processes: another process builds its own.
        state = super().__getstate__()
        state.update({"table_name": self.table_name, "_client": None, "_aws": self._aws, "_settings_items": None})
        return state

    @property
    def region(self) -> str:
        return self.client.meta.region_name

    def describe(self) -> str:
        return f"dynamodb://{self.table_name}"

    def enable_expiry(self) -> None:
        """Let DynamoDB's TTL delete records and locators past their ``expires`` time (idempotent)."""
        current = self._call("describe_time_to_live", TableName=self.table_name).get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and current.get("AttributeName") == TTL_ATTRIBUTE:
            return
        self._call("update_time_to_live", TableName=self.table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})

    def create(self) -> bool:
        try:
            self._call("describe_table", TableName=self.table_name)
            return False
        except TableNotFound:
            pass
        self._call("create_table", **table_definition(self.table_name))
        self.client.get_waiter("table_exists").wait(TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        return True

    def _batch_get(self, keys: list[Item], projection: str) -> Iterator[Item]:
        for i in range(0, len(keys), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {"Keys": keys[i : i + BATCH_GET_LIMIT], "ConsistentRead": True, "ProjectionExpression": projection}
            }
            attempt, patience = 0, self.patience_now()
            while pending:
                response = self._call("batch_get_item", RequestItems=pending)
                yield from response.get("Responses", {}).get(self.table_name, [])
                pending = response.get("UnprocessedKeys") or {}
                if pending and not self._backoff(
                    patience, attempt, "BatchGetItem", f"{len(pending[self.table_name]['Keys'])} read(s) still unprocessed"
                ):
                    break
                attempt += 1

    def _read_locators(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Places]:
        return dict(parse_locator(item) for item in self._batch_get([locator_key(*k) for k in keys], "PK, places"))

    def _put_locators(self, locators) -> None:
        self._batch_write([{"PutRequest": {"Item": locator_item(k, p, self.locator_expiry(p))}} for k, p in locators.items()])

    def _delete_locators(self, keys: list[tuple[str, str]]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": locator_key(*k)}} for k in keys])

    def _put_record_items(self, items: list[RecordItem]) -> None:
        self._batch_write([{"PutRequest": {"Item": record_item(i)}} for i in items])

    def _delete_record_items(self, keys: list[tuple[str, int, str, str]]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": record_key(day, shard, t, e)}} for day, shard, t, e in keys])

    def _put_invalidations(self, markers: list[Invalidation]) -> None:
        self._batch_write([{"PutRequest": {"Item": marker_item(m)}} for m in markers])

    # -- reads ----------------------------------------------------------------------------
    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table_name
        while True:
            page = self._call("query", **kwargs)
            yield from page["Items"]
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _partition(self, pk: str, projection: str | None = None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}, "ConsistentRead": True}
        if projection:
            kwargs["ProjectionExpression"] = projection
        return self._query(**kwargs)

    def _read_shards(self) -> int | None:
        if self._settings_items is not None:
            item = self._settings_items.get(shards_key()["SK"]["S"])
        else:
            item = self._call("get_item", TableName=self.table_name, Key=shards_key(), ConsistentRead=True).get("Item")
        return parse_shards(item) if item else None

    def _keep_shards(self, shards: int) -> int:
        try:
            self._call("put_item", TableName=self.table_name, Item=shards_item(shards), ConditionExpression="attribute_not_exists(PK)")
            self._settings_items = None
            return shards
        except ConditionFailed:  # another process stored one first: follow it
            return self._read_shards() or shards

    def _acquire_lease(self, shard: int, owner: str, now: float, until: float) -> bool:
        # The run's own lease is its own: a retry of an acquire whose answer was lost must succeed.
        return self._put_lease_if(
            shard, owner, until, "attribute_not_exists(PK) OR expires_at < :now OR #owner = :owner", {":now": {"N": f"{now:.3f}"}}
        )

    def _renew_lease(self, shard: int, owner: str, until: float) -> bool:
        # Repeating a renewal that took effect renews again: the condition still holds.
        return self._put_lease_if(shard, owner, until, "#owner = :owner")

    def _put_lease_if(self, shard: int, owner: str, until: float, condition: str, values: dict | None = None) -> bool:
        """One conditional write of the lease item: False when the condition failed."""
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=lease_item(shard, owner, until),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}, **(values or {})},
            )
            return True
        except ConditionFailed:
            return False

    def _release_lease(self, shard: int, owner: str) -> None:
        # a failed condition: already given back (a retry of a release whose answer was lost), or expired and taken by another run
        with contextlib.suppress(ConditionFailed):
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=lease_key(shard),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )

    def read_records(self, day: date, shard: int, zone: str = UTC_ZONE) -> Iterator[Mapping[str, Any]]:
        for item in self._partition(record_partition(day_key(day, zone), shard), "r"):
            yield parse_record(item)

    def _settings(self) -> dict[str, Item]:
        """The settings partition by sort key: one Query, kept until this store writes into it."""
        if self._settings_items is None:
            self._settings_items = {item["SK"]["S"]: item for item in self._partition(SETTINGS_PARTITION)}
        return self._settings_items

    def _forget_settings(self) -> None:
        self._settings_items = None

    def _read_zones(self) -> dict[str, tuple[str, str | None]]:
        return dict(parse_zone(item) for sk, item in self._settings().items() if sk.startswith(ZONE_PREFIX))

    def _put_zone(self, tenant_id: str, zone: str, moving_from: str | None) -> None:
        self._call("put_item", TableName=self.table_name, Item=zone_item(tenant_id, zone, moving_from))
        self._settings_items = None

    def read_tenant_records(self, tenant_id: str, day: date, zone: str) -> Iterator[Mapping[str, Any]]:
        for item in self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :tenant)",
            ConsistentRead=True,
            ExpressionAttributeValues={
                ":pk": {"S": record_partition(day_key(day, zone), self.shard_of(tenant_id))},
                ":tenant": {"S": tenant_id + "#"},
            },
            ProjectionExpression="r",
        ):
            yield parse_record(item)

    def _read_done(self) -> dict[str, date]:
        return dict(parse_done(item) for sk, item in self._settings().items() if sk.startswith(DONE_PREFIX))

    def _put_done(self, done: Mapping[str, date]) -> None:
        for zone, day in done.items():  # a day only moves forward: a late finish of an older plan leaves a newer one
            with contextlib.suppress(ConditionFailed):
                self._call(
                    "put_item",
                    TableName=self.table_name,
                    Item=done_item(zone, day),
                    ConditionExpression="attribute_not_exists(PK) OR through < :day",
                    ExpressionAttributeValues={":day": {"S": day.isoformat()}},
                )
        self._settings_items = None

    def _record_copies(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(PK, :rec)",
            "ExpressionAttributeValues": {":rec": {"S": RECORD_PREFIX}},
            "ProjectionExpression": "PK, r",
        }
        while True:
            page = self._call("scan", **kwargs)
            for item in page["Items"]:
                yield item["PK"]["S"][len(RECORD_PREFIX) :].rsplit("#", 1)[0], parse_record(item)
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def invalidations(self) -> list[Invalidation]:
        return [parse_marker(item) for item in self._partition(MARKER_PARTITION)]

    def clear_invalidations(self, markers: Iterable[Invalidation]) -> None:
        for m in markers:
            with contextlib.suppress(ConditionFailed):  # rewritten since we read it: new data, next run
                self._call(
                    "delete_item",
                    TableName=self.table_name,
                    Key=marker_key(m.day, m.shard, m.zone),
                    ConditionExpression="#token = :token",
                    ExpressionAttributeNames={"#token": "token"},
                    ExpressionAttributeValues={":token": {"S": m.token}},
                )

    def read_summaries(self, period: Period, shard: int) -> dict[SummaryKey, StoredSummary]:
        out = {}
        for item in self._summary_range(period.kind, period.start, period.start, shard, period.zone):
            s = parse_summary(item, period.kind, period)
            out[s.key] = s
        return out

    def summaries_within(self, kind: str, within: Period, shard: int) -> Iterator[StoredSummary]:
        for item in self._summary_range(kind, within.start, within.end, shard, within.zone):
            yield parse_summary(item, kind)

    def _summary_range(self, kind: str, first: date, last: date, shard: int, zone: str) -> Iterator[Item]:
        for pk, low, high in summary_ranges(kind, first, last, shard, zone):
            yield from self._query(
                KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
                ConsistentRead=True,
                ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
                ProjectionExpression=SUMMARY_PROJECTION,
                ExpressionAttributeNames=SUMMARY_NAMES,
            )

    def write_summaries(self, period: Period, shard: int, puts: list[StoredSummary], deletes: list[SummaryKey]) -> None:
        requests: list[dict[str, Any]] = [{"PutRequest": {"Item": summary_item(period, shard, s)}} for s in puts]
        requests += [{"DeleteRequest": {"Key": summary_key(period, shard, k)}} for k in deletes]
        self._batch_write(requests)

    def query_summaries(self, tenant_id, period_type, since=None, until=None, owner_id=None, metric_type=None) -> Iterator[StoredSummary]:
        index, pk = summary_index(tenant_id, period_type, owner_id, metric_type)
        pk_name, sk_name = INDEXES[index]
        low = period_containing(period_type, since).start.isoformat() if since else "0000"
        high = after_every(until.isoformat() if until else "9999")
        rows = []
        for item in self._query(
            IndexName=index,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": pk_name, "#sk": sk_name, **SUMMARY_NAMES},
            ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            ProjectionExpression=SUMMARY_PROJECTION,
        ):
            summary = parse_summary(item, period_type)
            if metric_type is None or summary.metric_type == metric_type:
                rows.append(summary)
        rows.sort(key=lambda s: (s.period.start, s.owner_id, s.metric_type))
        yield from rows
