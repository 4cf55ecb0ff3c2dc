"""The stack's settings: from `infra/config.json`, overridden by `cdk -c key=value` context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rollwise.api.settings import ApiSettings
from rollwise.runs.capacity import MERGE_MEMORY_MB
from rollwise.runs.settings import ARCHIVE_MODES, MergeSettings
from rollwise.summaries.capacity import SUMMARIES_MEMORY_MB, VOLUME, one_run_fits, records_per_shard, shards_for
from rollwise.summaries.settings import REMOVE_POLICIES, IngestSettings, SummariesSettings

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class StackConfig:
    stack_name: str = "rollwise"
    # Use an existing table or bucket by name, or leave empty to create one.
    table_name: str = ""
    bucket_name: str = ""
    architecture: str = "x86_64"  # or arm64
    # The jobs' own defaults, from their settings classes.
    runs_root: str = MergeSettings.root
    raw_prefix: str = MergeSettings.raw_prefix  # empty: <runs_root>/raw/
    archive_mode: str = MergeSettings.archive_mode
    # The merge function's memory, and so its share of a vCPU: `rollwise runs capacity --files-per-day N` prints the
    # size a volume needs (rollwise.runs.capacity).
    merge_memory_mb: int = MERGE_MEMORY_MB
    # The summaries job is sized for this many executions a day: the shard count follows the capacity rule
    # (rollwise.summaries.capacity) unless `shards` is set. A table keeps the count it was first used with.
    executions_per_day: int = VOLUME
    shards: int = 0
    # Unset: the fan-out is on exactly when one invocation cannot get through the volume's night
    # (the capacity rule: above about 1.28 million executions a day at 256 MB).
    fanout: bool | None = None
    fanout_concurrency: int = 4
    # 0: no reservation (the default). Reserving takes capacity from the account's unreserved pool,
    # which must keep 10; on a new account (often 10 in all) CloudFormation refuses any reservation.
    # Neither job needs it for correctness: overlapping invocations are safe (docs/deploy.md).
    reserved_concurrency: int = 0
    alarm_email: str = ""
    # Tenants' clocks and records' lifetime: the summaries job's own defaults.
    default_zone: str = SummariesSettings.default_zone
    delay_hours: int = SummariesSettings.delay_hours
    record_retention_days: int = SummariesSettings.record_retention_days  # 0: records kept forever
    # SQL over the merge job's outputs: its records and window rows, and Glue tables over them (Athena).
    records_output: bool = MergeSettings.records_output
    sql_tables: bool = True
    glue_database: str = ""  # default: the stack name, as Glue spells names (rollwise)
    # Stream ingest: the ARN of an existing table's stream (NEW_AND_OLD_IMAGES) to take executions from.
    source_stream_arn: str = ""
    ingest_mapping: str = IngestSettings.mapping
    ingest_on_remove: str = IngestSettings.on_remove
    ingest_batch_size: int = 100
    ingest_max_retries: int = 5
    # The workflow SDK's table (by name, in the stack's account and region): every summary is also written there as the
    # SDK's WorkflowMetricsSummary items, where apps built on the SDK read them (docs/geek-cafe.md). Empty: not written.
    sdk_summaries_table: str = SummariesSettings.sdk_summaries_table
    # The read API (rollwise.handlers.api) behind an HTTP API with a JWT authorizer: on unless api is false. Tokens
    # come from api_issuer (any OIDC issuer; empty: a Cognito user pool the stack makes) for api_audience.
    api: bool = True
    api_issuer: str = ""
    api_audience: str = ""
    api_tenant_claim: str = ApiSettings.tenant_claim
    api_admin_group: str = ApiSettings.admin_group
    api_throttle_rate: int = 50  # requests a second, steady, for the stage
    api_throttle_burst: int = 100
    api_cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser; empty: none
    # The API function answers people, so its cold start shows: it runs on arm64 (Graviton: cheaper, and as fast or
    # faster to start) whatever the jobs run on; its asset is build/lambda/<api_architecture> unless api_asset_dir is set.
    api_architecture: str = "arm64"
    api_asset_dir: str = ""
    asset_dir: str = ""  # default: build/lambda/<architecture>, made by `make package`

    def __post_init__(self) -> None:
        for name in ("architecture", "api_architecture"):
            if getattr(self, name) not in ARCHITECTURES:
                raise ValueError(f"{name} must be x86_64 or arm64, got {getattr(self, name)!r}")
        if self.shards < 0 or self.executions_per_day < 0:
            raise ValueError(f"shards ({self.shards}) and executions_per_day ({self.executions_per_day}) must be 0 or more")
        if self.reserved_concurrency < 0:
            raise ValueError(f"reserved_concurrency must be 0 (none) or more, got {self.reserved_concurrency}")
        if self.fanout is False and not one_run_fits(self.executions_per_day, SUMMARIES_MEMORY_MB):
            raise ValueError(
                f"executions_per_day {self.executions_per_day:,} needs the fan-out: one run of the summaries job gets "
                f"through about {int(records_per_shard(SUMMARIES_MEMORY_MB)):,} executions a night with room "
                "to spare; set fanout true (or leave it unset), or lower executions_per_day"
            )
        if self.summary_fanout and 0 < self.reserved_concurrency < self.fanout_concurrency:
            raise ValueError(
                f"reserved_concurrency {self.reserved_concurrency} is below fanout_concurrency {self.fanout_concurrency}: "
                "the fan-out's shards would be throttled"
            )
        if self.source_stream_arn and not (
            self.source_stream_arn.startswith("arn:") and ":table/" in self.source_stream_arn and "/stream/" in self.source_stream_arn
        ):
            raise ValueError(
                f"source_stream_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL), "
                f"got {self.source_stream_arn!r}"
            )
        if self.ingest_on_remove not in REMOVE_POLICIES:
            raise ValueError(f"ingest_on_remove must be one of {', '.join(REMOVE_POLICIES)}, got {self.ingest_on_remove!r}")
        if not 1 <= self.ingest_batch_size <= 10000:
            raise ValueError(f"ingest_batch_size must be from 1 to 10000, got {self.ingest_batch_size}")
        if not -1 <= self.ingest_max_retries <= 10000:
            raise ValueError(f"ingest_max_retries must be from -1 (retry until the record expires) to 10000, got {self.ingest_max_retries}")
        SummariesSettings(
            default_zone=self.default_zone, delay_hours=self.delay_hours, record_retention_days=self.record_retention_days
        )  # the job's own checks (an unknown zone)
        if self.delay_hours < 0 or self.record_retention_days < 0:
            raise ValueError(f"delay_hours ({self.delay_hours}) and record_retention_days ({self.record_retention_days}) must be 0 or more")
        if bool(self.api_issuer) != bool(self.api_audience):
            raise ValueError(
                "api_issuer and api_audience go together: give both (an OIDC issuer and its audience), or neither "
                "(the stack makes a Cognito user pool and an app client)"
            )
        if self.api_issuer and not self.api_issuer.startswith("https://"):
            raise ValueError(f"api_issuer must be an https:// URL (API Gateway fetches its keys), got {self.api_issuer!r}")
        if self.api_throttle_rate < 1 or self.api_throttle_burst < 1:
            raise ValueError("api_throttle_rate and api_throttle_burst must be 1 or more")
        if not 128 <= self.merge_memory_mb <= 10240:
            raise ValueError(f"merge_memory_mb must be from 128 to 10240 (Lambda's sizes), got {self.merge_memory_mb}")
        if self.archive_mode not in ARCHIVE_MODES:
            raise ValueError(f"archive_mode must be one of {', '.join(ARCHIVE_MODES)}, got {self.archive_mode!r}")

    @property
    def summary_shards(self) -> int:
        """The shard count the functions are configured with: ``shards``, or the capacity rule's."""
        return self.shards or shards_for(self.executions_per_day, SUMMARIES_MEMORY_MB)

    @property
    def summary_fanout(self) -> bool:
        """Whether the summaries job runs as the fan-out: ``fanout``, or what the volume needs."""
        return self.fanout if self.fanout is not None else not one_run_fits(self.executions_per_day, SUMMARIES_MEMORY_MB)

    @property
    def database(self) -> str:
        """Glue names are lower case letters, digits and underscores."""
        return (self.glue_database or self.stack_name).lower().replace("-", "_")

    @property
    def asset_path(self) -> Path:
        return Path(self.asset_dir) if self.asset_dir else ROOT / "build" / "lambda" / self.architecture

    @property
    def api_asset_path(self) -> Path:
        """The read API's asset: the jobs' own when both run on one architecture."""
        if self.api_asset_dir:
            return Path(self.api_asset_dir)
        return self.asset_path if self.api_architecture == self.architecture else ROOT / "build" / "lambda" / self.api_architecture

    @property
    def asset_paths(self) -> list[Path]:
        """Every asset the stack deploys, for the check that they were built."""
        return list(dict.fromkeys([self.asset_path] + ([self.api_asset_path] if self.api else [])))

    @classmethod
    def load(cls, path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> StackConfig:
        values: dict[str, Any] = {}
        path = path or ROOT / "infra" / "config.json"
        if path.exists():
            values.update(json.loads(path.read_text()))
        for key, value in (overrides or {}).items():
            if value is not None:
                values[key] = value
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"unknown stack settings: {', '.join(sorted(unknown))}")
        return cls(**{k: _coerce(v, cls.__dataclass_fields__[k].default) for k, v in values.items()})


def _coerce(value: Any, default: Any) -> Any:
    """Context values arrive as strings (`-c fanout=true`); `fanout` may also be unset (`auto`)."""
    if default is None and isinstance(value, str):  # fanout
        return None if value.lower() in ("", "auto") else value.lower() in ("1", "true", "yes")
    if isinstance(default, bool) and isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, str):
        return int(value)
    return value
