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


def _required(env: Mapping[str, str], name: str, function: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: the {function} function needs the {what}")
    return value


def summary_store_from_lambda_env(env: Mapping[str, str] | None = None):
    """The Lambda's store: DynamoDB, table from ``DYNAMODB_TABLE_NAME`` (required)."""
    env = os.environ if env is None else env
    table = _required(env, "DYNAMODB_TABLE_NAME", "aggregate-summaries", "table name")
    return summary_store_from_url(f"dynamodb://{table}", env)


def lateness_days(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return _int(env, "ROLLWISE_LATENESS_DAYS", 0)


DEFAULT_RUNS_URL = "file://rollwise-data"


def _runs_settings(env: Mapping[str, str], archive_mode: str | None = None):
    from datetime import timedelta

    from rollwise.runs.job import ARCHIVE_MODES, Settings

    mode = archive_mode or env.get("ROLLWISE_ARCHIVE_MODE") or "move"
    if mode not in ARCHIVE_MODES:
        raise ConfigError(f"archive mode must be one of {', '.join(ARCHIVE_MODES)}, got {mode!r}")
    threshold = env.get("ROLLWISE_MATCH_THRESHOLD") or "0.7"
    try:
        match_threshold = float(threshold)
    except ValueError:
        raise ConfigError(f"ROLLWISE_MATCH_THRESHOLD must be a number, got {threshold!r}") from None
    window = _int(env, "ROLLWISE_WINDOW_SECONDS", 300, minimum=1)
    if 86400 % window:
        raise ConfigError(f"ROLLWISE_WINDOW_SECONDS must divide a day evenly, got {window}")
    return Settings(
        window=timedelta(seconds=window),
        grace=timedelta(seconds=_int(env, "ROLLWISE_GRACE_SECONDS", 60)),
        archive_mode=mode,
        max_file_bytes=_int(env, "ROLLWISE_MAX_FILE_BYTES", 5 * 1024 * 1024, minimum=1),
        match_threshold=match_threshold,
        concurrency=_int(env, "ROLLWISE_CONCURRENCY", 32, minimum=1),
    )


def _runs_layout(env: Mapping[str, str]):
    from rollwise.runs.job import Layout

    raw = env.get("ROLLWISE_RAW_PREFIX")
    if raw is not None and raw and not raw.endswith("/"):
        raw += "/"
    return Layout.under(env.get("ROLLWISE_RUNS_ROOT", "runs"), raw)


def merge_job_from_url(url: str | None = None, env: Mapping[str, str] | None = None, archive_mode: str | None = None, on_file=None):
    """The merge job over ``s3://BUCKET[/PREFIX]``, ``file:///DIR`` or ``memory://``; default ``ROLLWISE_RUNS_URL`` or ./rollwise-data."""
    from rollwise.objects import store_from_url
    from rollwise.runs.job import MergeJob

    env = os.environ if env is None else env
    url = url or env.get("ROLLWISE_RUNS_URL") or DEFAULT_RUNS_URL
    try:
        store = store_from_url(url, env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return MergeJob(store, _runs_layout(env), _runs_settings(env, archive_mode), on_file)


def merge_job_from_lambda_env(env: Mapping[str, str] | None = None):
    """The Lambda's merge job: the bucket from ``SAM_MATCHING_OUT_RUNS_BUCKET`` (required)."""
    env = os.environ if env is None else env
    bucket = _required(env, "SAM_MATCHING_OUT_RUNS_BUCKET", "merge-runs", "bucket name")
    return merge_job_from_url(f"s3://{bucket}", env)
