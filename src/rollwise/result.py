"""What both jobs return: one protocol, and one error raised after a run that finished with failures.

A run does all the work it can, then reports; partial failure is a result,
not an exception (as in Powertools' batch utilities). The handlers and the CLI
turn a result with failures into :class:`JobFailed` or a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rollwise.errors import RollwiseError


class JobResult(Protocol):
    """A finished run: its response body, its failures, its metrics."""

    job: str

    def body(self) -> dict[str, Any]: ...

    def failures(self) -> list[str]:
        """One line per failed unit of work (a period of a shard, an operation on a file); empty when all went well."""
        ...

    def metrics(self) -> Mapping[str, float]:
        """Figures for CloudWatch, by metric name; names ending in ``Seconds`` are seconds, the rest counts."""
        ...


class JobFailed(RollwiseError, RuntimeError):
    """Raised after a run that finished what it could, so Lambda counts an error and alarms see it."""

    def __init__(self, result: JobResult) -> None:
        failures = result.failures()
        shown = "; ".join(failures[:10]) + (f"; and {len(failures) - 10} more" if len(failures) > 10 else "")
        super().__init__(f"{result.job}: {len(failures)} failure(s): {shown}")
        self.result = result


class Failure:
    """One operation that failed on one key, as a result reports it."""

    __slots__ = ("key", "operation", "error")

    def __init__(self, key: str, operation: str, error: BaseException | str) -> None:
        self.key, self.operation, self.error = key, operation, str(error)[:300]

    def __repr__(self) -> str:
        return f"Failure({self.key!r}, {self.operation!r}, {self.error!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Failure) and (self.key, self.operation, self.error) == (other.key, other.operation, other.error)

    def __hash__(self) -> int:
        return hash((self.key, self.operation, self.error))

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "operation": self.operation, "error": self.error}

    def line(self) -> str:
        return f"{self.operation} {self.key}: {self.error}"
