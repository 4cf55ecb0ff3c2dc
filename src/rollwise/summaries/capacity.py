"""How many shards a volume of executions needs: the documented rule, from measured figures.

A shard's day is read and aggregated by one process (one Lambda invocation, or
one branch of the fan-out), so a shard must hold no more records than one
invocation gets through before its deadline, with room to spare. The figures
below come from ``bench/summaries.py`` (docs/benchmarks.md): change them with
a new measurement, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from rollwise.lambda_limits import TIMEOUT_SECONDS, vcpu_share

# CPU time of the summaries job per record, on one full core (bench/summaries.py, 100,000 records:
# the median of 3 runs, reading, aggregating and writing included).
CPU_US_PER_RECORD = 13.6
# The summaries function: its memory, and how long before its timeout it starts no period.
SUMMARIES_MEMORY_MB = 256
DEADLINE_MARGIN_SECONDS = 60
# A shard's day must fit this many times in one run: the nightly run of a 1st of the month or a Monday
# also merges the month or the week, retries repeat work, and volumes grow.
HEADROOM = 2.0
VOLUME = 10_000_000  # executions a day the default deploy is sized for


def records_per_run(
    memory_mb: int = SUMMARIES_MEMORY_MB, timeout_seconds: int = TIMEOUT_SECONDS, margin_seconds: int = DEADLINE_MARGIN_SECONDS
) -> int:
    """Records one invocation aggregates before its deadline."""
    return int((timeout_seconds - margin_seconds) * vcpu_share(memory_mb) / (CPU_US_PER_RECORD / 1e6))


def records_per_shard(memory_mb: int = SUMMARIES_MEMORY_MB, timeout_seconds: int = TIMEOUT_SECONDS) -> float:
    """The most records a shard's day may hold: 1/HEADROOM of what one run gets through."""
    return records_per_run(memory_mb, timeout_seconds) / HEADROOM


def shards_for(executions_per_day: int, memory_mb: int = SUMMARIES_MEMORY_MB, timeout_seconds: int = TIMEOUT_SECONDS) -> int:
    """The rule: the fewest shards that keep each shard's day within :func:`records_per_shard`."""
    if executions_per_day < 0:
        raise ValueError(f"executions a day must be 0 or more, got {executions_per_day}")
    return max(1, ceil(executions_per_day / records_per_shard(memory_mb, timeout_seconds)))


def one_run_fits(executions_per_day: int, memory_mb: int = SUMMARIES_MEMORY_MB, timeout_seconds: int = TIMEOUT_SECONDS) -> bool:
    """Whether one invocation gets through a whole night (every shard, one after the other) with the
    rule's headroom; if not, each shard needs its own invocation: the fan-out."""
    return shards_for(executions_per_day, memory_mb, timeout_seconds) == 1


@dataclass(frozen=True)
class Capacity:
    """One row of the capacity table: a volume, its shards, and what a shard's nightly run costs."""

    executions_per_day: int
    memory_mb: int
    shards: int
    cpu_seconds_per_shard: float
    seconds_per_shard: float  # at the function's vCPU share

    @property
    def fits(self) -> bool:
        return self.seconds_per_shard <= TIMEOUT_SECONDS - DEADLINE_MARGIN_SECONDS

    @property
    def fanout(self) -> bool:
        """Whether the night needs one invocation per shard (see :func:`one_run_fits`)."""
        return not one_run_fits(self.executions_per_day, self.memory_mb)


def capacity(executions_per_day: int, memory_mb: int = SUMMARIES_MEMORY_MB, shards: int | None = None) -> Capacity:
    shards = shards or shards_for(executions_per_day, memory_mb)
    cpu = executions_per_day / shards * CPU_US_PER_RECORD / 1e6
    return Capacity(executions_per_day, memory_mb, shards, round(cpu, 1), round(cpu / vcpu_share(memory_mb), 1))
