"""The summaries table's key layout: every key, item and IAM pattern, and the table's definition.

The deploy (infra/) builds the table and the roles' conditions from this module.

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

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import orjson

from rollwise.periods import UTC_ZONE, Period, day_key, parse_day_key, period_containing
from rollwise.summaries.model import Invalidation, SummaryKey
from rollwise.summaries.stored_items import Places, RecordItem, StoredSummary, places_of, places_text

Item = dict[str, Any]

INDEXES = {
    "GSI1": ("GSI1PK", "GSI1SK"),
    "GSI2": ("GSI2PK", "GSI2SK"),
    "GSI3": ("GSI3PK", "GSI3SK"),
}

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
