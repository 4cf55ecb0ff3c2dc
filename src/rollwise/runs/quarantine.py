"""Files that cannot be counted: moved to the quarantine with a note saying why, never retried.

A poison file must not block its window: its neighbours are counted, and it
leaves raw/ with the reason beside it for a person to read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from rollwise import objects
from rollwise.result import Failure
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.threads import each
from rollwise.timestamps import utc_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantineOutcome:
    moved: tuple[str, ...]
    failed: tuple[Failure, ...]


def note(f: RawFile, reason: str, at: datetime) -> bytes:
    return orjson.dumps({"key": f.key, "etag": f.e_tag, "size": f.size, "reason": reason, "quarantined_at": utc_text(at)}, option=orjson.OPT_INDENT_2)


def quarantine(
    store: objects.ObjectStore, layout: Layout, poison: Sequence[tuple[RawFile, str]], concurrency: int, at: datetime
) -> QuarantineOutcome:
    """Copy each file to the quarantine, write its note, then delete the originals."""
    if not poison:
        return QuarantineOutcome((), ())
    copied: list[str] = []
    failed: list[Failure] = []

    def move(item: tuple[RawFile, str]) -> None:
        f, reason = item
        objects.copy(store, f.key, layout.quarantined_key(f.key), f.e_tag)  # the version found bad, or none
        objects.write(store, layout.note_key(f.key), note(f, reason, at))

    def fold(item: tuple[RawFile, str], outcome: Any) -> None:
        f, reason = item
        if isinstance(outcome, objects.NotFound) and not isinstance(outcome, objects.BucketNotFound):
            return  # gone: another invocation moved it
        if isinstance(outcome, objects.PreconditionFailed):
            return  # written again: the new version waits under raw/ for the next run
        if isinstance(outcome, BaseException):
            failed.append(Failure(f.key, "quarantine", outcome))
            return
        copied.append(f.key)
        log.warning("file quarantined: %s: %s", f.key, reason, extra={"key": f.key, "reason": reason})

    each(poison, move, fold, concurrency)
    deleted = objects.delete_many(store, copied, {f.key: f.e_tag for f, _ in poison})
    failed.extend(Failure(k, "delete", e) for k, e in deleted.failed.items())
    return QuarantineOutcome(tuple(deleted.done), tuple(failed))
