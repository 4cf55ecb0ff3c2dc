"""DynamoDB through the boto3 low-level client.

Single-table layout (keys are strings):

=================  ===============================  ==============================
item               PK                               SK
=================  ===============================  ==============================
execution record   ``REC#<day key>#<shard>``        ``<tenant>#<execution id>``
record locator     ``LOC#<tenant>#<execution id>``  ``LOC``
invalidation       ``INVALIDATION``                 ``<day key>#<shard>``
store settings     ``SETTINGS``                     ``SHARDS``
tenant's zone      ``SETTINGS``                     ``ZONE#<tenant>``
zone's last day    ``SETTINGS``                     ``DONE#<zone>``
shard lease        ``LEASE#<shard>``                ``LEASE``
summary            ``SUM#<type>#<span key>#<shard>`` ``<start>#<tenant>#<owner>#<metric>``
=================  ===============================  ==============================

The settings partition is read whole, in one Query: an hourly run with
nothing due costs that and the markers' Query. A day key is a local date and its zone (:func:`rollwise.periods.day_key`):
``2024-03-10`` in UTC, ``2024-03-10@Asia/Kolkata`` elsewhere, so a UTC
tenant's items are keyed as they were before zones existed. A span key is
the first day of a summary partition's span, with the zone likewise.

A summary's partition holds every period of its type that starts in one span
(:data:`SPAN_OF`): a shard's daily summaries of a month, its weekly and
monthly ones of a year. A week's or a month's days and a year's months are
then one Query (two for a week across months), not one per day.

Each item type has one key builder, one item builder and one parser, below;
nothing else in the store makes or reads a key. A summary keeps its figures
as one JSON attribute and its sketch as one binary attribute, and carries
three sparse index keys for the read side: GSI1 by tenant
(``<tenant>#<type>`` / ``<start>#<owner>#<metric>``), GSI2 by tenant and
owner, GSI3 by tenant and metric type. Every read is a Query; nothing scans.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar

import orjson

from rollwise.config import AwsSettings
from rollwise.errors import OutOfRetryTime, StoreError
from rollwise.periods import UTC_ZONE, Period, day_key, parse_day_key, period_containing
from rollwise.retry import Patience
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.store import (
    DEFAULT_SHARDS,
    LEASE_SECONDS,
    Places,
    RecordItem,
    StoredSummary,
    StoreNotFound,
    SummaryStore,
    places_of,
    places_text,
)

INDEXES = {
    "GSI1": ("GSI1PK", "GSI1SK"),
    "GSI2": ("GSI2PK", "GSI2SK"),
    "GSI3": ("GSI3PK", "GSI3SK"),
}
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
# Answers worth another try (the same request may succeed later), by error code: throttling, and the
# service's own failures. A request whose answer never came (a reset, a timeout) is one too.
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
TRANSIENT = THROTTLING | {"InternalServerError", "ServiceUnavailable", "InternalFailure"}
# botocore's own quick retries (a dropped connection, one throttle) before the store's patience takes over;
# few, so that a request never waits past the run's deadline on botocore's backoff.
CLIENT_ATTEMPTS = 3
Item = dict[str, Any]
T = TypeVar("T")


class TableNotFound(StoreNotFound):
    """The table does not exist in this region."""


class ConditionFailed(Exception):
    """A conditional write's condition did not hold (expected; callers decide)."""


# The partition-key prefix of each item type: the keys below, and the deploy's IAM conditions
# (dynamodb:LeadingKeys), are made from these.
RECORD_PREFIX, LOCATOR_PREFIX, MARKER_PARTITION, LEASE_PREFIX, SUMMARY_PREFIX = "REC#", "LOC#", "INVALIDATION", "LEASE#", "SUM#"
SETTINGS_PARTITION = "SETTINGS"
ZONE_PREFIX, DONE_PREFIX = "ZONE#", "DONE#"  # sort keys in the settings partition
# The attribute DynamoDB's TTL reads on records and locators (epoch seconds), when records are kept for a while only.
TTL_ATTRIBUTE = "expires"


def job_key_patterns() -> dict[str, list[str]]:
    """The partition keys the summaries job gets, writes or deletes, by request (IAM wildcards)."""
    # Markers are written too: for periods a run had no time left to start. The shard count is read,
    # and written by the first process when the table has none.
    return {
        "BatchWriteItem": [SUMMARY_PREFIX + "*", MARKER_PARTITION],
        "PutItem": [LEASE_PREFIX + "*", SETTINGS_PARTITION],
        "DeleteItem": [LEASE_PREFIX + "*", MARKER_PARTITION],
        "GetItem": [SETTINGS_PARTITION],
    }


def ingest_key_patterns() -> dict[str, list[str]]:
    """The partition keys ingest (the Recorder, the stream handler) reads and writes: where an
    execution's copies are, the copies, the invalidation markers of their days, and the table's settings
    (its shard count, and the tenants' zones, which say which local days a record belongs to)."""
    return {
        "BatchGetItem": [LOCATOR_PREFIX + "*"],
        "BatchWriteItem": [RECORD_PREFIX + "*", LOCATOR_PREFIX + "*", MARKER_PARTITION],
        "GetItem": [SETTINGS_PARTITION],
        "PutItem": [SETTINGS_PARTITION],
        "Query": [SETTINGS_PARTITION],
    }


def api_key_patterns() -> dict[str, list[str]]:
    """The partition keys the read API queries or gets on the base table: a tenant's records of the days not
    aggregated yet, the settings (zones, each zone's last day, the shard count), the markers (health). Its
    summary reads go through the tenant indexes, which hold summaries only."""
    return {"Query": [RECORD_PREFIX + "*", SETTINGS_PARTITION, MARKER_PARTITION], "GetItem": [SETTINGS_PARTITION]}


# -- execution records --------------------------------------------------------------------
def record_partition(day: str, shard: int) -> str:
    return f"{RECORD_PREFIX}{day}#{shard:03d}"


def record_key(day: str, shard: int, tenant_id: str, execution_id: str) -> Item:
    return {"PK": {"S": record_partition(day, shard)}, "SK": {"S": f"{tenant_id}#{execution_id}"}}


def record_item(item: RecordItem) -> Item:
    return {
        **record_key(item.day, item.shard, item.tenant_id, item.execution_id),
        "r": {"S": orjson.dumps(item.record).decode()},
        **({TTL_ATTRIBUTE: {"N": str(item.expires)}} if item.expires is not None else {}),
    }


def parse_record(item: Mapping[str, Any]) -> dict[str, Any]:
    return orjson.loads(item["r"]["S"])


# -- record locators ------------------------------------------------------------------------
def locator_key(tenant_id: str, execution_id: str) -> Item:
    return {"PK": {"S": f"{LOCATOR_PREFIX}{tenant_id}#{execution_id}"}, "SK": {"S": "LOC"}}


def locator_item(key: tuple[str, str], places: Places, expires: int | None = None) -> Item:
    return {**locator_key(*key), "places": {"S": places_text(places)}, **({TTL_ATTRIBUTE: {"N": str(expires)}} if expires is not None else {})}


def parse_locator(item: Mapping[str, Any]) -> tuple[tuple[str, str], Places]:
    _, tenant_id, execution_id = item["PK"]["S"].split("#", 2)
    return (tenant_id, execution_id), places_of(item["places"]["S"])


# -- invalidation markers ------------------------------------------------------------------


def marker_key(day: date, shard: int, zone: str = UTC_ZONE) -> Item:
    return {"PK": {"S": MARKER_PARTITION}, "SK": {"S": f"{day_key(day, zone)}#{shard:03d}"}}


def marker_item(marker: Invalidation) -> Item:
    return {**marker_key(marker.day, marker.shard, marker.zone), "token": {"S": marker.token}}


def parse_marker(item: Mapping[str, Any]) -> Invalidation:
    key, shard = item["SK"]["S"].rsplit("#", 1)
    day, zone = parse_day_key(key)
    return Invalidation(day, int(shard), item["token"]["S"], zone)


# -- tenants' zones -----------------------------------------------------------------------------
def zone_key(tenant_id: str) -> Item:
    return {"PK": {"S": SETTINGS_PARTITION}, "SK": {"S": ZONE_PREFIX + tenant_id}}


def zone_item(tenant_id: str, zone: str, moving_from: str | None = None) -> Item:
    return {**zone_key(tenant_id), "zone": {"S": zone}, **({"moving_from": {"S": moving_from}} if moving_from else {})}


def parse_zone(item: Mapping[str, Any]) -> tuple[str, tuple[str, str | None]]:
    return item["SK"]["S"][len(ZONE_PREFIX) :], (item["zone"]["S"], item.get("moving_from", {}).get("S"))


def done_item(zone: str, day: date) -> Item:
    return {"PK": {"S": SETTINGS_PARTITION}, "SK": {"S": DONE_PREFIX + zone}, "through": {"S": day.isoformat()}}


def parse_done(item: Mapping[str, Any]) -> tuple[str, date]:
    return item["SK"]["S"][len(DONE_PREFIX) :], date.fromisoformat(item["through"]["S"])


# -- store settings ---------------------------------------------------------------------------
def shards_key() -> Item:
    return {"PK": {"S": SETTINGS_PARTITION}, "SK": {"S": "SHARDS"}}


def shards_item(shards: int) -> Item:
    return {**shards_key(), "shards": {"N": str(shards)}}


def parse_shards(item: Mapping[str, Any]) -> int:
    return int(item["shards"]["N"])


# -- shard leases -----------------------------------------------------------------------------
def lease_key(shard: int) -> Item:
    return {"PK": {"S": f"{LEASE_PREFIX}{shard:03d}"}, "SK": {"S": "LEASE"}}


def lease_item(shard: int, owner: str, expires_at: float) -> Item:
    return {**lease_key(shard), "owner": {"S": owner}, "expires_at": {"N": f"{expires_at:.3f}"}}


# -- summaries ------------------------------------------------------------------------------
# The span one summary partition covers, by period type: the periods merged into a longer one
# (a week's or a month's days, a year's months) sit in one partition.
SPAN_OF = {"daily": "monthly", "weekly": "yearly", "monthly": "yearly", "yearly": "yearly"}


def summary_partition(kind: str, start: date, shard: int, zone: str = UTC_ZONE) -> str:
    """The partition of the ``kind`` summaries of a shard and zone whose period starts on ``start``."""
    return f"{SUMMARY_PREFIX}{kind}#{day_key(period_containing(SPAN_OF[kind], start).start, zone)}#{shard:03d}"


def summary_key(period: Period, shard: int, key: SummaryKey) -> Item:
    return {"PK": {"S": summary_partition(period.kind, period.start, shard, period.zone)}, "SK": {"S": "#".join((period.start.isoformat(), *key))}}


def after_every(prefix: str) -> str:
    """The lowest key above every key that starts with ``prefix + "#"`` (``$`` follows ``#``):
    a range ending at ``prefix#\uffff`` would leave out ids that start beyond U+FFFF, an emoji."""
    return prefix + "$"


def summary_ranges(kind: str, first: date, last: date, shard: int, zone: str = UTC_ZONE) -> Iterator[tuple[str, str, str]]:
    """(partition, lowest SK, highest SK) of each Query that reads the ``kind`` summaries of a
    shard and zone whose periods start from ``first`` to ``last``: one per span they reach."""
    span = period_containing(SPAN_OF[kind], first)
    while span.start <= last:
        low, high = max(first, span.start), min(last, span.end)
        yield summary_partition(kind, span.start, shard, zone), f"{low.isoformat()}#", after_every(high.isoformat())
        span = period_containing(SPAN_OF[kind], span.next_start)


def summary_index(tenant_id: str, period_type: str, owner_id: str | None = None, metric_type: str | None = None) -> tuple[str, str]:
    """The index and partition a read of one tenant's summaries queries."""
    if owner_id is not None:
        return "GSI2", f"{tenant_id}#{period_type}#O#{owner_id}"
    if metric_type is not None:
        return "GSI3", f"{tenant_id}#{period_type}#M#{metric_type}"
    return "GSI1", f"{tenant_id}#{period_type}"


def summary_item(period: Period, shard: int, s: StoredSummary) -> Item:
    start = period.start.isoformat()
    return {
        **summary_key(period, shard, s.key),
        "GSI1PK": {"S": summary_index(s.tenant_id, period.kind)[1]},
        "GSI1SK": {"S": f"{start}#{s.owner_id}#{s.metric_type}"},
        "GSI2PK": {"S": summary_index(s.tenant_id, period.kind, owner_id=s.owner_id)[1]},
        "GSI2SK": {"S": f"{start}#{s.metric_type}"},
        "GSI3PK": {"S": summary_index(s.tenant_id, period.kind, metric_type=s.metric_type)[1]},
        "GSI3SK": {"S": f"{start}#{s.owner_id}"},
        "tenant_id": {"S": s.tenant_id},
        "owner_id": {"S": s.owner_id},
        "metric_type": {"S": s.metric_type},
        "period_type": {"S": period.kind},
        "period_start": {"S": start},
        "period_end": {"S": period.end.isoformat()},
        **({} if period.zone == UTC_ZONE else {"zone": {"S": period.zone}}),
        "figures": {"S": orjson.dumps({k: v for k, v in s.figures.items() if k != "sketch"}).decode()},
        "sketch": {"B": s.figures["sketch"]},
    }


def parse_summary(item: Mapping[str, Any], period_type: str, period: Period | None = None) -> StoredSummary:
    start, tenant_id, owner_id, metric_type = item["SK"]["S"].split("#")
    if period is None:
        period = period_containing(period_type, date.fromisoformat(start), item.get("zone", {}).get("S", UTC_ZONE))
    figures = orjson.loads(item["figures"]["S"])
    figures["sketch"] = item["sketch"]["B"]
    return StoredSummary.load(tenant_id, owner_id, metric_type, period, figures)


SUMMARY_PROJECTION = "SK, figures, sketch, #zone"  # with SUMMARY_NAMES: ``zone`` is a reserved word
SUMMARY_NAMES = {"#zone": "zone"}


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: the keys and indexes this store needs (the deploy reuses them)."""
    attributes = [("PK", "S"), ("SK", "S")] + [(a, "S") for keys in INDEXES.values() for a in keys]
    # TTL (on TTL_ATTRIBUTE) is turned on after CreateTable: UpdateTimeToLive, by `summaries init` and the stack.
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


# -- the store ------------------------------------------------------------------------------
def dynamodb_client(aws: AwsSettings) -> Any:
    """The low-level client every rollwise DynamoDB request goes through: botocore's few quick retries
    (the store's patience does the long ones), a pool for threads, and no parameter validation
    (requests are built by the builders above; it only costs CPU). botocore's own session, not boto3's: a
    low-level client is the same either way, and boto3 (with s3transfer) is a cold start's import the
    read API has no other use for."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": CLIENT_ATTEMPTS}, max_pool_connections=16, parameter_validation=False)
    with _CREATING:  # a client is thread-safe, its session is not: stores made in threads make theirs one at a time
        return _botocore_session().create_client("dynamodb", region_name=aws.region, endpoint_url=aws.endpoint_url or None, config=config)


_CREATING = threading.Lock()


@functools.lru_cache(maxsize=1)
def _botocore_session() -> Any:
    """One session per process, as boto3's default one: credentials are resolved once, not per client."""
    import botocore.session

    return botocore.session.get_session()


def transient(exc: BaseException) -> tuple[str, str] | None:
    """(code, message) of a botocore error worth retrying, or None."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in TRANSIENT or status >= 500:
            return code or str(status), error.get("Message", "")
        return None
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return type(exc).__name__, str(exc)
    return None


def retried(call: Callable[[], T], patience: Callable[[], Patience], operation: str, table: str) -> T:
    """``call()``, again after a backoff while it is throttled or unanswered, until ``patience()`` is spent
    (:class:`OutOfRetryTime`). Every request rollwise makes is safe to repeat: a retry of one that took
    effect changes nothing."""
    from botocore.exceptions import BotoCoreError, ClientError

    attempt = 0
    while True:
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            busy = transient(exc)
            if busy is None:
                raise
            waiting = patience()
            if not waiting.wait(attempt):
                raise out_of_retry_time(operation, table, waiting.waited, f"still answered {busy[0]}") from None
            attempt += 1


def api_name(method: str) -> str:
    """The API's name of a boto3 method: ``batch_write_item`` is BatchWriteItem."""
    return "".join(part.title() for part in method.split("_"))


def out_of_retry_time(operation: str, table: str, waited: float, what: str) -> OutOfRetryTime:
    """The error a user sees when the table throttled past the run's patience: the table, the request, the fix."""
    return OutOfRetryTime(
        f"{operation} on table {table!r}: {what} after {waited:.0f} s of retries: the table is throttled "
        "or unavailable; raise its capacity or switch it to on-demand, then run again (what is left is "
        "marked for the next run)"
    )


class TableRequests:
    """Requests to one table, each retried on the patience of the run under way (:func:`retried`), batches
    until every part is written: what the summaries store and the SDK's summaries table share."""

    table_name: str
    _client: Any  # built on first use, from _aws (or the environment)
    _aws: AwsSettings | None
    patience_now: Callable[[], Patience]  # the patience of the request under way

    @property
    def client(self) -> Any:
        if self._client is None:
            from rollwise.config import resolve

            self._aws = self._aws or resolve(AwsSettings)
            self._client = dynamodb_client(self._aws)
        return self._client

    def not_found_hint(self) -> str:
        return f"create it with rollwise summaries init --store dynamodb://{self.table_name}"

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One request, :func:`retried` on the run's patience; AWS errors become StoreError naming the table and the fix."""
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self.client, operation)
        try:
            return retried(lambda: method(**kwargs), self.patience_now, api_name(operation), self.table_name)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, BotoCoreError):
                raise StoreError(f"{api_name(operation)} on table {self.table_name!r} failed: {exc}") from None
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(message) from None
            if code == "ResourceNotFoundException":
                raise TableNotFound(f"table {self.table_name!r} not found in {self.client.meta.region_name}: {self.not_found_hint()}") from None
            if code in ("AccessDeniedException", "UnrecognizedClientException"):
                raise StoreError(f"{api_name(operation)} on table {self.table_name!r} was denied: {message}") from None
            raise StoreError(f"{api_name(operation)} on table {self.table_name!r} failed: {code}: {message}") from None

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """In batches of 25; what a batch leaves unprocessed (throttled) is sent again after a backoff,
        until it is written or the run's patience is spent."""
        for i in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = {self.table_name: requests[i : i + BATCH_WRITE_LIMIT]}
            attempt = 0
            while pending:
                pending = self._call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if pending and not self._backoff(attempt, "BatchWriteItem", f"{sum(len(v) for v in pending.values())} write(s) still unprocessed"):
                    break
                attempt += 1

    def _backoff(self, attempt: int, operation: str, what: str) -> bool:
        """Wait before sending a batch's unprocessed part again; :class:`OutOfRetryTime` once the patience is spent."""
        patience = self.patience_now()
        if not patience.wait(attempt):
            raise out_of_retry_time(operation, self.table_name, patience.waited, what)
        return True


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
            attempt = 0
            while pending:
                response = self._call("batch_get_item", RequestItems=pending)
                yield from response.get("Responses", {}).get(self.table_name, [])
                pending = response.get("UnprocessedKeys") or {}
                if pending and not self._backoff(attempt, "BatchGetItem", f"{len(pending[self.table_name]['Keys'])} read(s) still unprocessed"):
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

    def _acquire_lease(self, shard: int, owner: str, now: float) -> bool:
        # The run's own lease is its own: a retry of an acquire whose answer was lost must succeed.
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=lease_item(shard, owner, now + LEASE_SECONDS),
                ConditionExpression="attribute_not_exists(PK) OR expires_at < :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}, ":owner": {"S": owner}},
            )
            return True
        except ConditionFailed:
            return False

    def _renew_lease(self, shard: int, owner: str, now: float) -> bool:
        try:
            # Repeating a renewal that took effect renews again: the condition still holds.
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=lease_item(shard, owner, now + LEASE_SECONDS),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
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
