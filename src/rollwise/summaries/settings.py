"""The summaries job's settings: each default, variable and meaning written once, here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rollwise.config import required, setting, state_home
from rollwise.periods import zone_info
from rollwise.summaries.capacity import VOLUME, shards_for


@dataclass(frozen=True)
class SummariesSettings:
    store: str = setting("sqlite:///rollwise.db", "ROLLWISE_STORE", "the store: sqlite:///PATH or dynamodb://TABLE")
    table: str = setting("", "DYNAMODB_TABLE_NAME", "the table (required by the deployed function)")
    shards: int = setting(
        shards_for(VOLUME),
        "ROLLWISE_SHARDS",
        "partitions a day is spread over, for a new store (a store keeps "
        "its own count, which every writer and the job follow); see `rollwise summaries shards`",
        minimum=1,
    )
    lateness_days: int = setting(0, "ROLLWISE_LATENESS_DAYS", "also re-read the last N days every night", minimum=0)
    retry_seconds: int = setting(
        300,
        "ROLLWISE_RETRY_SECONDS",
        "how long a command keeps retrying a throttled or failing table, "
        "in all, before it leaves what is unwritten to the next run (the Lambda retries until its deadline)",
        minimum=0,
    )
    default_zone: str = setting(
        "UTC", "ROLLWISE_DEFAULT_ZONE", "the IANA time zone of tenants with none set (`rollwise tenants set T --zone Z` sets one)"
    )
    delay_hours: int = setting(
        2,
        "ROLLWISE_DELAY_HOURS",
        "hours after a tenant's local day ends before the hourly run aggregates it (room for late data; 2 is the seed's 2 AM)",
        minimum=0,
    )
    record_retention_days: int = setting(
        0,
        "ROLLWISE_RECORD_RETENTION_DAYS",
        "days records are kept (a TTL attribute on "
        "DynamoDB, deleted by the nightly run on SQLite); 0 keeps them forever. "
        "Summaries never expire; periods past the floor are frozen",
        minimum=0,
    )
    sdk_summaries_table: str = setting(
        "",
        "ROLLWISE_SDK_SUMMARIES_TABLE",
        "also write every summary into this table as the "
        "workflow SDK's WorkflowMetricsSummary items, where apps built on the SDK read them "
        "(docs/geek-cafe.md); empty: not written",
    )

    def __post_init__(self) -> None:
        zone_info(self.default_zone)  # an unknown name is refused here, naming it

    def lambda_url(self) -> str:
        """The deployed function's store: the table named by its one required setting."""
        return f"dynamodb://{required(self.table, 'DYNAMODB_TABLE_NAME', 'the name of its DynamoDB table')}"


REMOVE_POLICIES = ("ignore", "forget")


@dataclass(frozen=True)
class IngestSettings:
    """How items of another system's table become execution records (stream ingest, ``ingest --mapping``, ``import``)."""

    mapping: str = setting("geek-cafe", "ROLLWISE_MAPPING", "which items are executions: a built-in mapping's name, a JSON file, or inline JSON")
    on_remove: str = setting(
        "ignore",
        "ROLLWISE_ON_REMOVE",
        "a removed item: ignore (TTL expiry must not erase history) or forget (delete its record, unless DynamoDB's TTL removed it)",
        choices=REMOVE_POLICIES,
    )
    state_dir: str = setting(
        "",
        "ROLLWISE_STATE_DIR",
        "where `summaries import` keeps its checkpoints (under imports/); default $XDG_STATE_HOME/rollwise, that is ~/.local/state/rollwise",
    )

    def checkpoints(self) -> Path:
        """The folder of import checkpoints."""
        return (Path(self.state_dir).expanduser() if self.state_dir else state_home() / "rollwise") / "imports"
