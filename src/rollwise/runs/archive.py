"""Archiving counted raw files: each version's bytes kept in the archive (move mode) or in a bundle per
window, then the originals deleted in bulk.

A raw file is archived only after the aggregate naming it is stored, so a file that fails here stays under
raw/ and the next run archives it without counting it again. Each key gets its own outcome.

The archive gets the very bytes the commit read and counted (kept on local disk between the two, with the
original's content type and metadata): one native write per file, no copy, and the version counted even when
the producer writes the key again in between. An archived version is never overwritten: it is written only
where absent. Every read and delete of a raw file is conditioned on the ETag the listing gave: a producer that
writes the key again meanwhile keeps its new version under raw/ (``changed``, not a failure), for the next run
to find as a rewrite. A rewrite (a key already counted, in another version) is archived under its own name
beside the version counted (:meth:`Layout.rewrite_key`), never counted again.
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
    poison: tuple[tuple[RawFile, str], ...] = ()  # not fit for a bundle (not JSON): for the quarantine, with why


class LocalFile:
    """A window's file on the Lambda's ephemeral storage, for the life of the window: :meth:`discard` removes it."""

    path: str
    _file: Any

    def discard(self) -> None:
        try:
            self._file.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)


class Bundle(LocalFile):
    """A gzip JSON Lines file on local disk (the Lambda's ephemeral storage), one line per original."""

    def __init__(self, window: Window) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"rollwise-{window.name}-", suffix=".jsonl.gz")
        self._file = gzip.open(os.fdopen(fd, "wb"), "wb", compresslevel=6)  # noqa: SIM115 - open for the bundle's life, closed by close()
        self.keys: dict[str, str] = {}

    def add(self, f: RawFile, body: bytes) -> None:
        """``body`` must have parsed as JSON before it got here (every caller parses it); outside strings a
        newline is only white space, so flattening it keeps the line valid JSON without a re-parse."""
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


class Spool(LocalFile):
    """The counted versions' bytes and attributes on local disk (the Lambda's ephemeral storage), from the read
    that counted them to their archive write: the archive gets the very version counted, whatever the producer
    writes meanwhile, without a second request for it (a copy) and without holding a window's files in memory."""

    def __init__(self, window: Window) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"rollwise-{window.name}-", suffix=".spool")
        self._file = os.fdopen(fd, "w+b")
        self._end = 0
        self._flushed = True
        self.kept: dict[str, tuple[int, int, dict[str, str]]] = {}  # key -> offset, length, attributes

    def add(self, key: str, data: bytes, attributes: dict[str, str]) -> None:
        """One writer at a time (a commit's fold), before any read; reads then run on many threads."""
        self._file.write(data)
        self.kept[key] = (self._end, len(data), attributes)
        self._end += len(data)
        self._flushed = False

    def read(self, key: str) -> tuple[bytes, dict[str, str]]:
        if not self._flushed:  # once, after the last add: the reads come after the commit
            self._file.flush()
            self._flushed = True
        offset, length, attributes = self.kept[key]
        return os.pread(self._file.fileno(), length, offset), attributes

    def __contains__(self, key: object) -> bool:
        return key in self.kept


def _deleted(store: objects.ObjectStore, keys: Sequence[str], e_tags: dict[str, str], failed: list[Failure]) -> tuple[list[str], list[str]]:
    """The originals deleted, and those written again since (kept)."""
    outcome = objects.delete_many(store, keys, e_tags)
    failed.extend(Failure(k, "delete", e) for k, e in outcome.failed.items())
    return outcome.done, outcome.changed


def keep_version(store: objects.ObjectStore, layout: Layout, f: RawFile, data: bytes, attributes: dict[str, str], rewrite: bool = False) -> str:
    """Keep this version's bytes in the archive, where absent only: under its name (a counted version), or under
    ``rewrites/`` with its ETag (a ``rewrite``). Returns where it is; :class:`~rollwise.objects.RequestFailed` when
    that place holds another version's bytes, which stay."""
    key = layout.rewrite_key(f.key, f.e_tag) if rewrite else layout.archived_key(f.key)
    if not objects.keep(store, key, data, attributes):
        raise objects.RequestFailed(f"{key} holds another version than {f.e_tag} of {f.key}: left under raw/", f.key, "archive")
    return key


def move(
    store: objects.ObjectStore,
    layout: Layout,
    files: Sequence[RawFile],
    concurrency: int,
    rewrites: Sequence[RawFile] = (),
    spool: Spool | None = None,
) -> ArchiveOutcome:
    """Keep each file's version in the archive (a rewrite beside the version counted), then delete the originals
    kept. A file in ``spool`` is written from the bytes the commit counted: one native write; any other (counted
    by a run that stopped before archiving it, or a rewrite) is read first, that version only: one native read more."""
    if not files and not rewrites:
        return ArchiveOutcome((), ())
    e_tags = {f.key: f.e_tag for f in (*files, *rewrites)}
    done: list[str] = []
    failed: list[Failure] = []
    changed: list[str] = []

    def archive_one(item: tuple[RawFile, bool]) -> str | None:
        f, rewrite = item
        if spool is not None and f.key in spool and not rewrite:
            data, attributes = spool.read(f.key)
        else:
            blob = objects.read_if_exists(store, f.key, f.e_tag)
            if blob is None:
                return None
            data, attributes = blob.data, blob.attributes
        return keep_version(store, layout, f, data, attributes, rewrite)

    def fold(item: tuple[RawFile, bool], got: Any) -> None:
        key = item[0].key
        if isinstance(got, objects.PreconditionFailed):
            changed.append(key)
        elif isinstance(got, BaseException):
            failed.append(Failure(key, "archive", got))
        elif got is not None:  # None: gone, moved by another run
            done.append(key)

    pending = [(f, False) for f in files] + [(f, True) for f in rewrites]
    each(pending, archive_one, fold, concurrency)
    archived, superseded = _deleted(store, done, e_tags, failed)
    return ArchiveOutcome(tuple(archived), tuple(failed), tuple(changed), tuple(superseded))


def bundle(
    store: objects.ObjectStore, layout: Layout, window: Window, files: Sequence[RawFile], into: Bundle | None, concurrency: int
) -> ArchiveOutcome:
    """Write one bundle of the window's files (those not already in ``into`` are read now), then delete them.
    A line names its file's key and ETag, so a rewrite's line stands beside the counted version's in an earlier bundle.
    Only JSON goes into a bundle: a file read here that does not parse is returned as ``poison``, for the quarantine."""
    if not files:
        if into is not None:
            into.discard()
        return ArchiveOutcome((), ())
    into = into or Bundle(window)
    failed: list[Failure] = []
    changed: list[str] = []
    poison: list[tuple[RawFile, str]] = []

    def add(f: RawFile, got: Any) -> None:
        if isinstance(got, objects.Blob):
            try:
                orjson.loads(got.data)
            except orjson.JSONDecodeError as exc:  # a rewrite that is not JSON: a bundle line must be
                poison.append((f, f"not JSON: {exc}"))
                return
            into.add(f, got.data)
        elif isinstance(got, objects.PreconditionFailed):
            changed.append(f.key)
        elif isinstance(got, BaseException):
            failed.append(Failure(f.key, "get", got))

    try:
        each([f for f in files if f.key not in into.keys], lambda f: objects.read_if_exists(store, f.key, f.e_tag), add, concurrency)
        if not into.keys:
            return ArchiveOutcome((), tuple(failed), tuple(changed), poison=tuple(poison))
        key = layout.bundle_key(window, into.digest())
        try:
            objects.write(store, key, into.close())
        except objects.ObjectError as exc:
            return ArchiveOutcome((), tuple(failed + [Failure(k, "bundle", exc) for k in sorted(into.keys)]), tuple(changed), poison=tuple(poison))
        log.info("bundle written", extra={"bundle": key, "files": len(into.keys)})
        archived, superseded = _deleted(store, sorted(into.keys), dict(into.keys), failed)
        return ArchiveOutcome(tuple(archived), tuple(failed), tuple(changed), tuple(superseded), tuple(poison))
    finally:
        into.discard()
