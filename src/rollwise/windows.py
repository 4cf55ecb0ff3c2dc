"""Fixed time windows in UTC (5 minutes by default) and the names derived from them.

Pure arithmetic, no I/O. A window is closed once its end plus a grace period
is at or before the reference time; only closed windows are aggregated, so
files that are still arriving for a window are not split from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The producers' stamp: 20240115t1303Z (lowercase t; an upper-case T is accepted too).
STAMP = re.compile(r"(\d{8})[tT](\d{4})(\d{2})?Z")
STAMP_FORMAT = "%Y%m%dt%H%MZ"


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime

    @property
    def name(self) -> str:
        """The stamp of the window's end: 13:00-13:05 is ``...t1305Z``."""
        return self.end.strftime(STAMP_FORMAT)

    def is_closed(self, reference: datetime, grace: timedelta) -> bool:
        return self.end + grace <= reference

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def window_of(moment: datetime, size: timedelta) -> Window:
    """The window of ``size`` containing ``moment`` (start inclusive, end exclusive)."""
    if moment.tzinfo is None:
        raise ValueError("window_of needs an aware datetime")
    step = int(size.total_seconds())
    if step <= 0 or 86400 % step:
        raise ValueError(f"window size must divide a day evenly, got {size}")
    seconds = int((moment - EPOCH).total_seconds() // step) * step
    start = EPOCH + timedelta(seconds=seconds)
    return Window(start, start + size)


def window_ending(end: datetime, size: timedelta) -> Window:
    return Window(end - size, end)


def stamp_in_name(name: str) -> datetime | None:
    """The timestamp a producer put at the start of a file name, if any (``20240115t1303Z``,
    ``20240115T130345Z``)."""
    base = name[name.rfind("/") + 1 :]
    m = STAMP.match(base)
    if not m:
        return None
    day, hhmm, ss = m.group(1), m.group(2), m.group(3)
    try:
        return datetime(int(day[:4]), int(day[4:6]), int(day[6:]), int(hhmm[:2]), int(hhmm[2:]), int(ss or 0), tzinfo=UTC)
    except ValueError:
        return None
