"""Where everything of the merge job lives in the bucket: the one place keys and prefixes are made.

Every other module, the report and the deploy's IAM policy take keys and
prefixes from here. Every prefix is empty (the bucket's root) or ends with '/'.

::

    <root>/raw/<stamp>_<id>.json              producers' files (the input)
    <root>/<YYYYMMDDtHHMMZ>.json              one aggregate per window, named by its end
    <root>/archive/<name>                     originals after their window is merged (move mode)
    <root>/archive/rewrites/<name>.<etag>.json    a file written again after it was counted, beside the first
    <root>/archive/bundles/<stamp>-<digest>.jsonl.gz   or one bundle per window (bundle mode)
    <root>/quarantine/<name>                  files that cannot be counted
    <root>/quarantine/<name>.error.json       beside each, why
    <root>/records/dt=<YYYY-MM-DD>/<stamp>-<digest>.jsonl.gz   the records of the files a commit added (for SQL)
    <root>/windows/dt=<YYYY-MM-DD>/<stamp>.json        one row per window: its figures (for SQL)

``dt`` is the day the window starts; ``<stamp>`` is the window's end, as the aggregate's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rollwise.windows import Window

# An aggregate's name: the window's end, as producers stamp their files (always written with a
# lower-case t; read with either).
AGGREGATE_NAME = re.compile(r"(\d{8})[tT](\d{4})Z\.json")
AGGREGATE_PATTERN = "????????t????Z.json"  # the same, as an IAM resource pattern
NOTE_SUFFIX = ".error.json"


def _prefix(text: str) -> str:
    text = text.strip().strip("/")
    return text + "/" if text else ""


@dataclass(frozen=True)
class Layout:
    root: str = "runs/"
    raw: str = "runs/raw/"

    @classmethod
    def under(cls, root: str = "runs", raw: str | None = None) -> Layout:
        """The layout with aggregates under ``root``; producers write under ``raw`` (default ``<root>/raw/``)."""
        base = _prefix(root)
        return cls(base, _prefix(raw) if raw else f"{base}raw/")

    @property
    def archive(self) -> str:
        return f"{self.root}archive/"

    @property
    def bundles(self) -> str:
        return f"{self.archive}bundles/"

    @property
    def quarantine(self) -> str:
        return f"{self.root}quarantine/"

    @property
    def records(self) -> str:
        return f"{self.root}records/"

    @property
    def windows(self) -> str:
        return f"{self.root}windows/"

    @staticmethod
    def partition(window: Window) -> str:
        """The Hive-style partition folder of a window's outputs: the day it starts."""
        return f"dt={window.start:%Y-%m-%d}/"

    def records_key(self, window: Window, digest: str) -> str:
        return f"{self.records}{self.partition(window)}{window.name}-{digest}.jsonl.gz"

    def window_row_key(self, window: Window) -> str:
        return f"{self.windows}{self.partition(window)}{window.name}.json"

    # -- aggregates -----------------------------------------------------------------
    def aggregate_key(self, window: Window) -> str:
        return f"{self.root}{window.name}.json"

    def aggregate_key_of(self, stamp: str) -> str:
        """The aggregate of a window stamp as a person types it (``20240115t1305Z``, ``.json`` or a ``T`` allowed)."""
        name = stamp.strip().rsplit("/", 1)[-1]
        name = name if name.endswith(".json") else name + ".json"
        m = AGGREGATE_NAME.fullmatch(name)
        if not m:
            raise ValueError(f"{stamp!r} is not a window stamp like 20240115t1305Z (the window's end, UTC)")
        return f"{self.root}{m.group(1)}t{m.group(2)}Z.json"

    def is_aggregate(self, key: str) -> bool:
        folder, _, name = key.rpartition("/")
        return (folder + "/" if folder else "") == self.root and AGGREGATE_NAME.fullmatch(name) is not None

    # -- inputs ---------------------------------------------------------------------
    def is_input(self, key: str) -> bool:
        """A producer's file: under raw/, and not an aggregate, the archive, the quarantine, the SQL outputs or a hidden file."""
        if not key.startswith(self.raw):
            return False
        if key.startswith((self.archive, self.quarantine, self.records, self.windows)):
            return False
        if "/." in key or key.startswith("."):
            return False
        return not self.is_aggregate(key)

    def lists_one_level(self) -> bool:
        """Producers write straight into the root: list it one level, never descending into the archive."""
        return self.raw == self.root

    def _name(self, raw_key: str) -> str:
        if not raw_key.startswith(self.raw):
            raise ValueError(f"{raw_key!r} is not under {self.raw!r}")
        return raw_key[len(self.raw) :]

    def archived_key(self, raw_key: str) -> str:
        return self.archive + self._name(raw_key)

    def rewrite_key(self, raw_key: str, e_tag: str) -> str:
        """Where a file written again after it was counted is archived: its name and the new version's
        ETag, so the version counted (at :meth:`archived_key`) and every later one are all kept."""
        name = self._name(raw_key)
        stem = name[: -len(".json")] if name.endswith(".json") else name
        version = "".join(c for c in e_tag if c.isalnum() or c == "-") or "none"
        return f"{self.archive}rewrites/{stem}.{version}.json"

    def bundle_key(self, window: Window, digest: str) -> str:
        return f"{self.bundles}{window.name}-{digest}.jsonl.gz"

    # -- quarantine -----------------------------------------------------------------
    def quarantined_key(self, raw_key: str) -> str:
        return self.quarantine + self._name(raw_key)

    def note_key(self, raw_key: str) -> str:
        """Beside a quarantined file, the note saying why."""
        return self.quarantined_key(raw_key) + NOTE_SUFFIX

    def is_note(self, key: str) -> bool:
        return key.startswith(self.quarantine) and key.endswith(NOTE_SUFFIX)

    # -- what the job may do, for its IAM policy ----------------------------------------
    def listed_prefixes(self) -> list[str]:
        """The folders the job lists (the ``s3:prefix`` of its ListBucket requests, as IAM
        ``StringLike`` patterns): the raw files; the root, where it checks whether a window's
        aggregate exists; the day folders of its SQL outputs, where it checks that a window's
        records exist (and where S3 tells a missing object from a denied one)."""
        return sorted({self.raw, self.root, self.records + "*", self.windows + "*"})

    def read_side(self) -> dict[str, list[str]]:
        """What the read API lists (its ``s3:prefix``: the root's aggregates, the raw backlog and the quarantine
        for health) and reads (aggregates, window rows), as IAM patterns."""
        return {"list": sorted({self.root, self.raw, self.quarantine}), "read": [self.root + AGGREGATE_PATTERN, self.windows + "*"]}

    def object_patterns(self) -> dict[str, list[str]]:
        """Key patterns (IAM wildcards) the job reads, writes and deletes. It reads back its own
        outputs: a window row's file count, and archived originals when it rebuilds lost records."""
        aggregates = self.root + AGGREGATE_PATTERN
        return {
            "read": [self.raw + "*", aggregates, self.archive + "*", self.records + "*", self.windows + "*"],
            "write": [aggregates, self.archive + "*", self.quarantine + "*", self.records + "*", self.windows + "*"],
            "delete": [self.raw + "*"],
        }
