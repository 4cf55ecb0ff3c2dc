"""The summaries job's backends, one module each, opened by URL: ``sqlite:///PATH`` or ``dynamodb://TABLE``."""

from __future__ import annotations

from pathlib import Path

from rollwise.config import AwsSettings
from rollwise.errors import ConfigError, StoreNotFound
from rollwise.summaries.settings import SummariesSettings
from rollwise.summaries.store import SummaryStore


def open_summary_store(url: str, shards: int, aws: AwsSettings | None = None, create: bool = False, check: bool = True) -> SummaryStore:
    """The store a URL names. A SQLite file is made only when ``create`` (read-only commands never
    make one; ``check`` refuses a missing one); a DynamoDB table never is (``summaries init``
    does). Backends are imported only when named (boto3 is not needed for SQLite)."""
    if url.startswith("sqlite:///"):
        from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

        path = url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"store URL {url!r} has no file path")
        store = SQLiteSummaryStore(Path(path), shards=shards)
        if create:
            store.create()
        elif check and not store.exists():
            raise StoreNotFound(f"no store at {Path(path).resolve()}: create it with rollwise summaries init --store {url}")
        return store
    if url.startswith("dynamodb://"):
        from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

        table = url[len("dynamodb://") :].strip("/")
        if not table:
            raise ConfigError(f"store URL {url!r} has no table name")
        return DynamoDBSummaryStore(table, shards=shards, aws=aws)
    raise ConfigError(f"store URL {url!r} is not supported: use sqlite:///PATH or dynamodb://TABLE")


def configure(store: SummaryStore, settings: SummariesSettings, aws: AwsSettings) -> SummaryStore:
    """What every host sets on a store from the job's settings: tenants' default zone, records' lifetime,
    and the workflow SDK's table to write summaries into too."""
    store.default_zone = settings.default_zone
    store.retention_days = settings.record_retention_days
    if settings.sdk_summaries_table:
        from rollwise.summaries.sdk.table import open_sdk_table

        store.sdk_table = open_sdk_table(settings.sdk_summaries_table, aws)
    return store


def open_configured(settings: SummariesSettings, aws: AwsSettings, url: str | None = None, create: bool = False, check: bool = True) -> SummaryStore:
    """The store every host opens (the CLI, the three handlers, ``serve``): ``url``'s, else the deployed function's
    table, configured from the settings, its requests retried for ``retry_seconds`` when no work gives them a time."""
    store = open_summary_store(url or settings.lambda_url(), settings.shards, aws, create=create, check=check)
    store.retry_seconds = settings.retry_seconds
    return configure(store, settings, aws)
