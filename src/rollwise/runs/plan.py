"""Which windows are due, and their files: a pure plan from listed metadata.

A window is due once it is closed (its end plus the grace is past). Object
stores list keys in order and producers' stamps sort by time, so a window is
complete once the listing has passed it: it is handed out then, and memory
holds a window, not the whole backlog. Two things bend that order, and the
plan allows for both: an upper-case ``T`` sorts before every lower-case ``t``
of the same day, and a stamp with seconds sorts before the same minute without
them. Files without a stamp, or in sub-folders, are windowed by their
last-modified time or stamp and held to the end; a window they join after it
was merged takes them by conditional replace, like any late file. An unordered
listing (a local folder) is read whole first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from rollwise.runs.layout import Layout
from rollwise.windows import Window, stamp_in_name, window_ending, window_of


@dataclass(frozen=True, slots=True)
class RawFile:
    key: str
    e_tag: str
    size: int


@dataclass(frozen=True)
class WindowFiles:
    """A closed window and the raw files listed for it."""

    window: Window
    files: tuple[RawFile, ...]


def plan_windows(metas: Iterable, layout: Layout, reference: datetime, size: timedelta, grace: timedelta, ordered: bool) -> Iterator[WindowFiles]:
    """Closed windows with their raw files, oldest first; files of open windows wait.

    ``metas`` are listed objects (anything with ``key``, ``e_tag``, ``size`` and
    ``last_modified``), in key order when ``ordered``.
    """
    pending: dict[datetime, list[RawFile]] = defaultdict(list)
    for meta in metas:
        key = meta.key
        if not layout.is_input(key):
            continue
        stamp = stamp_in_name(key)
        w = window_of(stamp or meta.last_modified, size)
        if not w.is_closed(reference, grace):
            continue
        pending[w.end].append(RawFile(key, meta.e_tag, meta.size))
        if ordered and stamp is not None and "/" not in key[len(layout.raw) :]:
            horizon = _listed_past(key, stamp)
            for end in sorted(e for e in pending if e <= horizon):
                yield WindowFiles(window_ending(end, size), tuple(pending.pop(end)))
    for end in sorted(pending):
        yield WindowFiles(window_ending(end, size), tuple(pending[end]))


def _listed_past(key: str, stamp: datetime) -> datetime:
    """Every file stamped before this moment has been listed, once ``key`` has.

    After a lower-case ``t`` stamp, a later key can still carry the same minute
    without seconds; after an upper-case ``T``, any lower-case stamp of the same
    day can still come.
    """
    name = key[key.rfind("/") + 1 :]
    if name[8] == "T":
        return stamp.replace(hour=0, minute=0, second=0)
    return stamp.replace(second=0)
