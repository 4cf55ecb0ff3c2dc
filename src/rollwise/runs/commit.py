"""One window's commit: read its new files, fold them into the aggregate, store it conditionally.

Exactly once, with no lock service: the aggregate is created only if absent
and replaced only if its ETag is unchanged, and its manifest names every raw
file counted in it. One attempt returns an immutable :class:`CommitOutcome`;
when another invocation stored the aggregate first, the shell
(:func:`commit_window`) tries again from what is stored now, and only the
final attempt's outcome is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rollwise import objects
from rollwise.runs.aggregate import WindowAggregate
from rollwise.runs.archive import Bundle, Spool
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.runs.records import PoisonFile, parse_run_file
from rollwise.runs.settings import MergeSettings
from rollwise.runs.tables import RecordsFile
from rollwise.threads import each
from rollwise.timestamps import utc_now
from rollwise.windows import Window

log = logging.getLogger(__name__)
COMMIT_ATTEMPTS = 8


@dataclass(frozen=True)
class CommitOutcome:
    """What a window's commit did. ``manifest`` is every file the stored aggregate counts after it."""

    window: Window
    key: str
    manifest: Mapping[str, str] = field(default_factory=dict)
    added: tuple[RawFile, ...] = ()
    late: bool = False
    poison: tuple[tuple[RawFile, str], ...] = ()
    rewritten: tuple[tuple[RawFile, str], ...] = ()  # written again after it was counted: the file, the ETag counted
    changed: tuple[RawFile, ...] = ()  # changed after the listing (the read was refused): left for the next run
    unread: tuple[tuple[RawFile, objects.ObjectError], ...] = ()
    conflict: bool = False
    gave_up: str | None = None
    aggregate: WindowAggregate | None = None
    bundle: Bundle | None = None  # the files added, for their bundle (bundle mode), written after the commit
    spool: Spool | None = None  # the files added, for their archive write (move mode), after the commit
    records: tuple[str, bytes] | None = None  # the records object of the files added: key, gzipped rows (written after the commit)
    attempts: int = 1

    def counted(self, files: Sequence[RawFile]) -> list[RawFile]:
        """Those of ``files`` the stored aggregate counts, in the version it counts (a rewrite is not one of them)."""
        bad = {f.key for f, _ in self.poison}
        return [f for f in files if self.manifest.get(f.key) == f.e_tag and f.key not in bad]


def attempt_commit(
    store: objects.ObjectStore,
    layout: Layout,
    window: Window,
    files: Sequence[RawFile],
    settings: MergeSettings,
    known_poison: Mapping[str, str] | None = None,
    on_read: Callable[[str], None] = lambda key: None,
) -> CommitOutcome:
    """One attempt: read the aggregate, read and fold the files it does not count, store it if anything was added."""
    key = layout.aggregate_key(window)
    stored = objects.read_if_exists(store, key)
    existing = WindowAggregate.from_json(window, stored.data) if stored else None
    agg = existing or WindowAggregate(window)
    poison: dict[str, tuple[RawFile, str]] = {}
    rewritten: list[tuple[RawFile, str]] = []
    for f in files:
        if known_poison and f.key in known_poison:
            poison[f.key] = (f, known_poison[f.key])
        elif f.key in agg.manifest and agg.manifest[f.key] != f.e_tag:
            rewritten.append((f, agg.manifest[f.key]))
    fresh = [f for f in files if f.key not in agg.manifest and f.key not in poison]
    bundle = Bundle(window) if settings.archive_mode == "bundle" and fresh else None
    spool = Spool(window) if settings.archive_mode == "move" and fresh else None
    records = RecordsFile() if settings.records_output and fresh else None
    added: list[RawFile] = []
    changed: list[RawFile] = []
    unread: list[tuple[RawFile, objects.ObjectError]] = []

    def fetch(f: RawFile) -> Any:
        """The version listed (or PreconditionFailed), parsed on this thread."""
        if f.size > settings.max_file_bytes:
            return PoisonFile(f"file is {f.size} bytes, over the {settings.max_file_bytes}-byte limit")
        blob = objects.read_if_exists(store, f.key, f.e_tag)
        if blob is None:  # archived meanwhile by another invocation, which counted it
            return None
        try:
            outcomes = parse_run_file(blob.data, settings.match_threshold)
        except PoisonFile as exc:
            return exc
        return blob, outcomes

    def fold(f: RawFile, got: Any) -> None:
        on_read(f.key)
        if isinstance(got, PoisonFile):
            poison[f.key] = (f, str(got))
        elif isinstance(got, objects.PreconditionFailed):
            changed.append(f)
        elif isinstance(got, BaseException):
            unread.append((f, got if isinstance(got, objects.ObjectError) else objects.RequestFailed(str(got), f.key, "get")))
        elif got is not None:
            blob, outcomes = got
            agg.add_file(f.key, f.e_tag, outcomes)
            added.append(f)
            if records is not None:
                records.add(window, f.key, f.e_tag, outcomes)
            if bundle:
                bundle.add(f, blob.data)
            if spool:
                spool.add(f.key, blob.data, blob.attributes)

    def discard() -> None:
        for kept in (bundle, spool):
            if kept is not None:
                kept.discard()

    try:
        each(fresh, fetch, fold, settings.concurrency)
        named = None
        if records is not None and len(records):
            named = (layout.records_key(window, records.digest()), records.data())
            agg.name_records(records.files, named[0])
        if added:
            data = agg.to_json(utc_now())
            if stored is None:
                objects.create(store, key, data)
            else:
                objects.replace(store, key, data, stored.e_tag)
    except (objects.AlreadyExists, objects.PreconditionFailed):
        discard()
        return CommitOutcome(window, key, poison=tuple(poison.values()), conflict=True)
    except BaseException:
        discard()
        raise
    return CommitOutcome(
        window,
        key,
        dict(agg.manifest),
        tuple(added),
        existing is not None and bool(added),
        tuple(poison.values()),
        tuple(rewritten),
        tuple(changed),
        tuple(unread),
        aggregate=agg if (added or existing) else None,
        bundle=bundle,
        spool=spool,
        records=named,
    )


def commit_window(
    store: objects.ObjectStore,
    layout: Layout,
    window: Window,
    files: Sequence[RawFile],
    settings: MergeSettings,
    on_file: Callable[[], None] = lambda: None,
) -> CommitOutcome:
    """Attempts until one is not beaten by another invocation; the final outcome only.
    ``on_file`` is called once per file, however many attempts read it."""
    seen: set[str] = set()

    def once(key: str) -> None:
        if key not in seen:
            seen.add(key)
            on_file()

    known_poison: dict[str, str] = {}
    for n in range(1, COMMIT_ATTEMPTS + 1):
        outcome = attempt_commit(store, layout, window, files, settings, known_poison, once)
        if not outcome.conflict:
            for f in files:
                once(f.key)
            return replace(outcome, attempts=n)
        known_poison.update({f.key: reason for f, reason in outcome.poison})
        log.info("aggregate changed under us, merging again", extra={"aggregate": outcome.key, "attempt": n})
    for f in files:
        once(f.key)
    return CommitOutcome(
        window,
        layout.aggregate_key(window),
        poison=tuple((f, known_poison[f.key]) for f in files if f.key in known_poison),
        gave_up=f"aggregate kept changing: gave up after {COMMIT_ATTEMPTS} attempts; the next run retries",
        attempts=COMMIT_ATTEMPTS,
    )
