"""The merge job's settings: each default, variable and meaning written once, here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rollwise.config import required, setting
from rollwise.runs.layout import Layout

ARCHIVE_MODES = ("move", "bundle")


@dataclass(frozen=True)
class MergeSettings:
    url: str = setting("file://rollwise-data", "ROLLWISE_RUNS_URL", "where run files are: s3://BUCKET[/PREFIX], file:///DIR or memory://")
    bucket: str = setting("", "SAM_MATCHING_OUT_RUNS_BUCKET", "the bucket of run files (required by the deployed function)")
    root: str = setting("runs", "ROLLWISE_RUNS_ROOT", "root prefix: aggregates at <root>/YYYYMMDDtHHMMZ.json")
    raw_prefix: str = setting("", "ROLLWISE_RAW_PREFIX", "where producers write; default <root>/raw/ (set <root>/ when they write into the root)")
    window_seconds: int = setting(300, "ROLLWISE_WINDOW_SECONDS", "window size in seconds: whole minutes that divide a day", minimum=60)
    grace_seconds: int = setting(60, "ROLLWISE_GRACE_SECONDS", "how long after its end a window still takes files", minimum=0)
    archive_mode: str = setting(
        "move",
        "ROLLWISE_ARCHIVE_MODE",
        "move (each file's counted bytes written to the archive, then a bulk delete) or bundle (one .jsonl.gz per window)",
        choices=ARCHIVE_MODES,
    )
    max_file_bytes: int = setting(5 * 1024 * 1024, "ROLLWISE_MAX_FILE_BYTES", "larger files are quarantined unread", minimum=1)
    match_threshold: float = setting(0.7, "ROLLWISE_MATCH_THRESHOLD", "an item without `matched` matches when score >= this")
    records_output: bool = setting(
        True,
        "ROLLWISE_RECORDS_OUTPUT",
        "write each window's records and one row per window under <root>/records/ and <root>/windows/ for SQL (Athena, DuckDB)",
    )
    concurrency: int = setting(32, "ROLLWISE_CONCURRENCY", "requests in flight", minimum=1)

    def __post_init__(self) -> None:
        if 86400 % self.window_seconds or self.window_seconds % 60:
            # Aggregates are named by the minute their window ends (YYYYMMDDtHHMMZ).
            raise ValueError(f"ROLLWISE_WINDOW_SECONDS must be whole minutes that divide a day evenly, got {self.window_seconds}")
        if self.archive_mode not in ARCHIVE_MODES:
            raise ValueError(f"archive mode must be one of {', '.join(ARCHIVE_MODES)}, got {self.archive_mode!r}")

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.grace_seconds)

    @property
    def layout(self) -> Layout:
        return Layout.under(self.root, self.raw_prefix or None)

    def lambda_url(self) -> str:
        """The deployed function's store: the bucket named by its one required setting."""
        return f"s3://{required(self.bucket, 'SAM_MATCHING_OUT_RUNS_BUCKET', 'the name of the bucket of run files')}"
