"""How many files the merge job gets through, and the memory a volume needs: the documented rule, from measured
figures.

Each invocation merges what has closed since the last one, every SCHEDULE_MINUTES; it starts no window in its
last SAFETY_SECONDS. The job's Python work is one thread at a time (its requests overlap on many), so its pace is
its CPU per file over its share of a vCPU. The figure below comes from ``bench/merge.py`` (docs/benchmarks.md):
change it with a new measurement, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollwise.lambda_limits import MEMORY_SIZES, TIMEOUT_SECONDS, vcpu_share

# CPU time of the merge job per file on one full core: move mode with the records output, the heavier mode,
# against S3 as it answers (keep-alive), its start and listing left out (bench/merge.py, 10,100 files).
CPU_MS_PER_FILE = 0.80
MERGE_MEMORY_MB = 128
SCHEDULE_MINUTES = 5
# Start no window in the invocation's last seconds: time to archive the window under way and to answer.
SAFETY_SECONDS = 45
# A day's files must fit this many times in the schedule's invocations: windows are not even, retries repeat
# work, and volumes grow.
HEADROOM = 2.0


def files_per_invocation(memory_mb: int = MERGE_MEMORY_MB, timeout_seconds: int = TIMEOUT_SECONDS) -> int:
    """Files one invocation merges before it starts no more windows."""
    return int((timeout_seconds - SAFETY_SECONDS) * vcpu_share(memory_mb) * 1000 / CPU_MS_PER_FILE)


def files_per_day(memory_mb: int = MERGE_MEMORY_MB) -> int:
    """Files a day the schedule keeps up with, every invocation busy to its deadline (no headroom)."""
    return files_per_invocation(memory_mb) * (24 * 60 // SCHEDULE_MINUTES)


@dataclass(frozen=True)
class Capacity:
    """The memory a volume needs, and what an invocation then does with it."""

    files_per_day: int
    memory_mb: int | None  # None: no size keeps up (merge more often, or in more than one function)
    files_per_invocation: int
    seconds_per_invocation: float  # the CPU of one schedule period's files, at the size's vCPU share

    @property
    def fits(self) -> bool:
        return self.memory_mb is not None


def capacity(files_per_day_wanted: int) -> Capacity:
    """The smallest memory size whose schedule keeps up with ``files_per_day_wanted`` HEADROOM times over."""
    if files_per_day_wanted < 0:
        raise ValueError(f"files a day must be 0 or more, got {files_per_day_wanted}")
    memory = next((m for m in MEMORY_SIZES if files_per_day(m) >= files_per_day_wanted * HEADROOM), None)
    size = memory or MEMORY_SIZES[-1]
    per_period = files_per_day_wanted / (24 * 60 // SCHEDULE_MINUTES)
    return Capacity(files_per_day_wanted, memory, files_per_invocation(size), round(per_period * CPU_MS_PER_FILE / 1000 / vcpu_share(size), 1))
