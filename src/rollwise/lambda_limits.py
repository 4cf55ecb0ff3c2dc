"""What a Lambda function gets: CPU in proportion to its memory, and the timeout rollwise's jobs deploy with.
Both jobs' capacity rules and the stack read these."""

from __future__ import annotations

# Lambda's CPU grows with memory: one full vCPU at 1,769 MB (AWS Lambda documentation).
FULL_VCPU_MB = 1769
# The memory sizes a capacity rule chooses from (MB): Lambda takes any from 128 to 10,240.
MEMORY_SIZES = (128, 256, 512, 1024, 1769, 3008)
# Every job function's timeout.
TIMEOUT_SECONDS = 300


def vcpu_share(memory_mb: int) -> float:
    """The share of one vCPU a function of ``memory_mb`` gets, for a job whose Python work is one thread at a
    time (the GIL): at most 1."""
    return min(memory_mb / FULL_VCPU_MB, 1.0)
