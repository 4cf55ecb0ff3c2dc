"""Reading and writing times: ISO 8601 in UTC, one writer for every timestamp rollwise stores.

Pure functions. Input times must carry a zone (a naive time is refused rather
than guessed), except where a producer is known to write UTC without one and
the caller says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

UTC = UTC
# Times rollwise accepts: anything else would overflow period arithmetic or a store's
# number range later, so it is refused where it enters.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """``2024-01-15T13:05:00Z``, with microseconds only when there are some: the one
    form every stored or printed timestamp takes."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def parse_timestamp(text: object, assume_utc: bool = False) -> datetime:
    """ISO 8601 with a zone, as an aware UTC datetime; ``ValueError`` naming the problem otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(text).__name__}")
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{_show(text)} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        if not assume_utc:
            raise ValueError(f"{_show(text)} has no time zone (add Z or an offset)")
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{_show(text)} is out of range") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"{_show(text)} is outside {EARLIEST.year}..{LATEST.year - 1}")
    return moment


def parse_date(text: object, name: str = "date") -> date:
    """``YYYY-MM-DD``; ``YYYYMMDD`` is accepted too (window stamps use it)."""
    if isinstance(text, str):
        raw = text.strip()
        if len(raw) == 8 and raw.isdigit():
            raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if EARLIEST.date() <= day < LATEST.date():
                return day
    raise ValueError(f"{name} must be a date like 2024-01-15, got {_show(text)}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
