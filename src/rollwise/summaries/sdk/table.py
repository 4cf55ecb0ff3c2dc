"""The workflow SDK's own table, as the place apps built on the SDK read summaries from: rollwise writes each
period it computes there too (:mod:`rollwise.summaries.sdk.layout` gives the items), and ``summaries sdk-cleanup``
removes the model's items rollwise did not write. Requests go through the same retries as the summaries store's,
on the run's patience."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from rollwise.config import AwsSettings
from rollwise.dynamodb import TableRequests
from rollwise.periods import Period
from rollwise.retry import Patience
from rollwise.summaries.backend import DEFAULT_RETRY_SECONDS
from rollwise.summaries.model import SummaryKey
from rollwise.summaries.sdk.layout import (
    FIGURES_COMPARED,
    INDEXES,
    KEY_PREFIX,
    PK,
    SK,
    SORT_KEY,
    index_keys,
    is_model_item,
    period_bounds,
    primary_key,
    summary_item,
    written_by_rollwise,
)
from rollwise.summaries.store import SummaryStore
from rollwise.summaries.stored_items import StoredSummary

# What cleanup reads of an item: its keys and what its id is derived from.
_PROJECTION = "#pk, #sk, id, tenant_id, owner_id, metric_type, period_type, period_start_ts"


class SdkSummaryTable(TableRequests):
    def __init__(self, table_name: str, client: Any = None, aws: AwsSettings | None = None, patience: Callable[[], Patience] | None = None) -> None:
        if not table_name:
            raise ValueError("the workflow SDK's table name is required")
        self.table_name = table_name
        self._client = client
        self._aws = aws
        self.patience = patience  # the run's, set by the store it mirrors; else the commands' default

    def __getstate__(self) -> dict:
        return {"table_name": self.table_name, "_client": None, "_aws": self._aws, "patience": None}

    def patience_now(self) -> Patience:
        return self.patience() if self.patience else Patience.for_seconds(DEFAULT_RETRY_SECONDS)

    def not_found_hint(self) -> str:
        return "ROLLWISE_SDK_SUMMARIES_TABLE names the workflow SDK's table, which must exist (the SDK creates it)"

    def write(self, period: Period, current: Iterable[StoredSummary], removed: Iterable[SummaryKey], now: datetime | None = None) -> None:
        """Every summary of the period as computed now (each replaces its item: a rerun never duplicates) and the
        deletion of those no longer there."""
        now = now or datetime.now(UTC)
        requests = [{"PutRequest": {"Item": summary_item(s, now)}} for s in current]
        requests += [{"DeleteRequest": {"Key": primary_key(period, key)}} for key in removed]
        self._batch_write(requests)

    def model_items(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of the model's items, by a Scan filtered on its key layout: cleanup's one full read."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "ProjectionExpression": _PROJECTION,
            "FilterExpression": "begins_with(#pk, :prefix) AND #sk = :sk",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": {":prefix": {"S": KEY_PREFIX}, ":sk": {"S": SORT_KEY}},
        }
        while True:
            page = self._call("scan", **kwargs)
            yield [item for item in page.get("Items", []) if is_model_item(item)]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def approximate_items(self) -> int:
        """The table's item count as DynamoDB reports it (updated about every six hours): a progress bar's total."""
        return int(self._call("describe_table", TableName=self.table_name)["Table"].get("ItemCount", 0))

    def delete(self, items: Iterable[dict[str, Any]]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": {PK: item[PK], SK: item[SK]}}} for item in items])

    def read_period(self, tenant_id: str, period: Period) -> list[dict[str, Any]]:
        """The model's items of one tenant's period, through gsi1 as an app built on the SDK reads them (whole items:
        the index projects every attribute)."""
        keys = index_keys(tenant_id, "", "", period.kind, period_bounds(period)[0])
        pk_name, sk_name = INDEXES["gsi1"]
        items, kwargs = (
            [],
            {
                "TableName": self.table_name,
                "IndexName": "gsi1",
                "KeyConditionExpression": "#pk = :pk AND #sk = :sk",
                "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name},
                "ExpressionAttributeValues": {":pk": {"S": keys["gsi1_pk"]}, ":sk": {"S": keys["gsi1_sk"]}},
            },
        )
        while True:
            page = self._call("query", **kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def open_sdk_table(table_name: str, aws: AwsSettings, patience: Callable[[], Patience] | None = None) -> SdkSummaryTable | None:
    """The SDK table the settings name, or None when ROLLWISE_SDK_SUMMARIES_TABLE is not set."""
    return SdkSummaryTable(table_name, aws=aws, patience=patience) if table_name else None


@dataclass
class Cleanup:
    """What ``summaries sdk-cleanup`` found: the model's items read, those rollwise wrote (kept), the others."""

    scanned: int = 0
    kept: int = 0
    removed: int = 0
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def clean_up(table: SdkSummaryTable, dry_run: bool = False, on_items: Callable[[int], None] = lambda n: None) -> Cleanup:
    """Remove the model's items rollwise did not write (the SDK handler's duplicates and all-time rows), page by
    page; never another model's item. Run again, it finds nothing more to remove."""
    report = Cleanup(dry_run=dry_run)
    for page in table.model_items():
        others = [item for item in page if not written_by_rollwise(item)]
        if others and not dry_run:
            table.delete(others)
        report.scanned += len(page)
        report.kept += len(page) - len(others)
        report.removed += len(others)
        on_items(len(page))
    return report


def compare_day(store: SummaryStore, table: SdkSummaryTable, day: date) -> list[str]:
    """Each difference between a day's summaries in the store and in the SDK's table, tenant by tenant in its
    zone: the check that the switch from the SDK's handler went right. Empty when both agree."""
    from rollwise.periods import Period

    differences = []
    for tenant in store.known_tenants():
        period = Period("daily", day, store.zone_of(tenant))
        ours = {s.key: s.figures for s in store.query_summaries(tenant, "daily", day, day)}
        theirs = {}
        for item in table.read_period(tenant, period):
            if item.get("tenant_id", {}).get("S") != tenant:
                continue  # the SDK's keys are lower-cased: another tenant differing only in case
            theirs[(tenant, item["owner_id"]["S"], item["metric_type"]["S"])] = item
        for key in sorted(set(ours) | set(theirs)):
            label = f"{period.label} {'/'.join(key)}"
            if key not in theirs:
                differences.append(f"{label}: in the store, not in {table.table_name}")
            elif key not in ours:
                differences.append(f"{label}: in {table.table_name}, not in the store")
            else:
                for name in FIGURES_COMPARED:
                    mine, other = ours[key].get(name) or 0, theirs[key].get(name, {}).get("N")
                    if other is None or round(float(mine)) != round(float(other)):
                        differences.append(f"{label}: {name} is {mine} in the store, {other} in {table.table_name}")
    return differences
