"""Build jobs and stores from URLs or the environment: the one place settings are read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DEFAULT_STORE_URL = "sqlite:///rollwise.db"


class ConfigError(ValueError):
    """A setting that is missing or malformed, named."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def summary_store_from_url(url: str | None = None, env: Mapping[str, str] | None = None):
    """``sqlite:///PATH`` or ``dynamodb://TABLE``; default ``ROLLWISE_STORE`` or a SQLite file here."""
    env = os.environ if env is None else env
    url = url or env.get("ROLLWISE_STORE") or DEFAULT_STORE_URL
    shards = _int(env, "ROLLWISE_SHARDS", 8, minimum=1)
    if url.startswith("sqlite:///"):
        from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

        path = url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"store URL {url!r} has no file path")
        return SQLiteSummaryStore(Path(path), shards=shards)
    if url.startswith("dynamodb://"):
        from rollwise.summaries.stores.dynamodb import DynamoDBSummaryStore

        table = url[len("dynamodb://") :].strip("/")
        if not table:
            raise ConfigError(f"store URL {url!r} has no table name")
        return DynamoDBSummaryStore(table, shards=shards)
    raise ConfigError(f"store URL {url!r} is not supported: use sqlite:///PATH or dynamodb://TABLE")


def summary_store_from_lambda_env(env: Mapping[str, str] | None = None):
    """The Lambda's store: DynamoDB, table from ``DYNAMODB_TABLE_NAME`` (required)."""
    env = os.environ if env is None else env
    table = env.get("DYNAMODB_TABLE_NAME", "").strip()
    if not table:
        raise ConfigError("DYNAMODB_TABLE_NAME is not set: the aggregate-summaries function needs the table name")
    return summary_store_from_url(f"dynamodb://{table}", env)


def lateness_days(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return _int(env, "ROLLWISE_LATENESS_DAYS", 0)
