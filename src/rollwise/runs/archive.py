"""Archiving counted raw files: moved one by one (copy, then bulk delete), or bundled per window.

A raw file is archived only after the aggregate naming it is stored, so a file
that fails here stays under raw/ and the next run archives it without counting
it again. Each key gets its own outcome.

Every read, copy and delete of a raw file is conditioned on the ETag the
listing gave: a producer that writes the key again meanwhile keeps its new
version under raw/ (``changed``, not a failure), for the next run to find as a
rewrite. A rewrite (a key already counted, in another version) is archived
under its own name beside the version counted, never counted again.
"""

from __future__ import annotations

import gzip
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rollwise import objects
from rollwise.result import Failure
from rollwise.runs.layout import Layout
from rollwise.runs.plan import RawFile
from rollwise.runs.tables import files_digest
from rollwise.threads import each
from rollwise.windows import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchiveOutcome:
    archived: tuple[str, ...]
    failed: tuple[Failure, ...]
    changed: tuple[str, ...] = ()  # written again since the listing, before it was archived: left under raw/ for the next run
    superseded: tuple[str, ...] = ()  # archived, then not deleted: written again meanwhile, the new version left under raw/


class Bundle:
    """A gzip JSON Lines file on local disk (the Lambda's ephemeral storage), one line per original."""

    def __init__(self, window: Window) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"rollwise-{window.name}-", suffix=".jsonl.gz")
        self._file = gzip.open(os.fdopen(fd, "wb"), "wb", compresslevel=6)  # noqa: SIM115 - open for the bundle's life, closed by close()
        self.keys: dict[str, str] = {}

    def add(self, f: RawFile, body: bytes) -> None:
        """``body`` was parsed as JSON before it got here; outside strings a newline is
        only white space, so flattening it keeps the line valid JSON without a re-parse."""
        if f.key in self.keys:
            return
        content = orjson.Fragment(body.replace(b"\r", b" ").replace(b"\n", b" "))
        self._file.write(orjson.dumps({"key": f.key, "etag": f.e_tag, "content": content}) + b"\n")
        self.keys[f.key] = f.e_tag

    def digest(self) -> str:
        return files_digest(self.keys)

    def close(self) -> Path:
        self._file.close()
        return Path(self.path)

    def discard(self) -> None:
        try:
            self._file.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)


def _deleted(store: objects.ObjectStore, keys: Sequence[str], e_tags: dict[str, str], failed: list[Failure]) -> tuple[list[str], list[str]]:
    """The originals deleted, and those written again since (kept)."""
    outcome = objects.delete_many(store, keys, e_tags)
    failed.extend(Failure(k, "delete", e) for k, e in outcome.failed.items())
    return outcome.done, outcome.changed


def move(store: objects.ObjectStore, layout: Layout, files: Sequence[RawFile], concurrency: int, rewrites: Sequence[RawFile] = ()) -> ArchiveOutcome:
    """Copy each file to the archive (a rewrite beside the version counted), then delete the originals copied."""
    if not files and not rewrites:
        return ArchiveOutcome((), ())
    e_tags = {f.key: f.e_tag for f in (*files, *rewrites)}
    pairs = [(f.key, layout.archived_key(f.key)) for f in files] + [(f.key, layout.rewrite_key(f.key, f.e_tag)) for f in rewrites]
    copies = objects.copy_many(store, pairs, concurrency, e_tags)
    failed = [Failure(k, "copy", e) for k, e in copies.failed.items()]
    archived, superseded = _deleted(store, copies.done, e_tags, failed)
    return ArchiveOutcome(tuple(archived), tuple(failed), tuple(copies.changed), tuple(superseded))


def bundle(
    store: objects.ObjectStore, layout: Layout, window: Window, files: Sequence[RawFile], into: Bundle | None, concurrency: int
) -> ArchiveOutcome:
    """Write one bundle of the window's files (those not already in ``into`` are read now), then delete them.
    A line names its file's key and ETag, so a rewrite's line stands beside the counted version's in an earlier bundle."""
    if not files:
        if into is not None:
            into.discard()
        return ArchiveOutcome((), ())
    into = into or Bundle(window)
    failed: list[Failure] = []
    changed: list[str] = []

    def add(f: RawFile, got: Any) -> None:
        if isinstance(got, objects.Blob):
            into.add(f, got.data)
        elif isinstance(got, objects.PreconditionFailed):
            changed.append(f.key)
        elif isinstance(got, BaseException):
            failed.append(Failure(f.key, "get", got))

    try:
        each([f for f in files if f.key not in into.keys], lambda f: objects.read_if_exists(store, f.key, f.e_tag), add, concurrency)
        if not into.keys:
            return ArchiveOutcome((), tuple(failed), tuple(changed))
        key = layout.bundle_key(window, into.digest())
        try:
            objects.write(store, key, into.close())
        except objects.ObjectError as exc:
            return ArchiveOutcome((), tuple(failed + [Failure(k, "bundle", exc) for k in sorted(into.keys)]), tuple(changed))
        log.info("bundle written", extra={"bundle": key, "files": len(into.keys)})
        archived, superseded = _deleted(store, sorted(into.keys), dict(into.keys), failed)
        return ArchiveOutcome(tuple(archived), tuple(failed), tuple(changed), tuple(superseded))
    finally:
        into.discard()
