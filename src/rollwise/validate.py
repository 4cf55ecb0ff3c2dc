"""Field validators shared by both jobs' inputs. Each takes the job's own error type.

Every number that enters rollwise is bounded here, so that no value that
passes validation can fail a later step: sums stay exact in 64-bit integers
and in every store, sketches stay finite, periods stay inside the calendar.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, overload

from rollwise.timestamps import parse_timestamp

ErrorType = Callable[[str], Exception]

# A count (profiles, throttles, opportunities, matches...) of one record or file.
MAX_COUNT = 1_000_000_000
# A duration of one execution or run, in ms: about three years.
MAX_DURATION_MS = 100_000_000_000
# An identifier's size in UTF-8: three of them and two separators fit a DynamoDB sort key (1,024 bytes).
MAX_ID_BYTES = 200


def _at(where: str, name: str) -> str:
    return f"{where}: {name}" if where else name


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def count(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "") -> int:
    """A whole number in 0..MAX_COUNT; absent or null is 0."""
    value = obj.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise error(f"{_at(where, name)} must be a whole number from 0 to {MAX_COUNT:,}, got {_show(value)}")
    return value


@overload
def number(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", *, required: Literal[True]) -> float: ...
@overload
def number(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", required: bool = False) -> float | None: ...
def number(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", required: bool = False) -> float | None:
    """A finite number (not a boolean); absent or null is None."""
    value = obj.get(name)
    if value is None:
        if required:
            raise error(f"{_at(where, name)} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{_at(where, name)} must be a number, got {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        raise error(f"{_at(where, name)} is too large, got {_show(value)}") from None
    if not math.isfinite(as_float):
        raise error(f"{_at(where, name)} must be finite, got {_show(value)}")
    return value


def duration_ms(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "") -> float | None:
    """A duration in ms, 0..MAX_DURATION_MS; absent or null is None."""
    value = number(obj, name, error, where)
    if value is not None and not 0 <= value <= MAX_DURATION_MS:
        raise error(f"{_at(where, name)} must be from 0 to {MAX_DURATION_MS:,} ms, got {_show(value)}")
    return value


def text(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "") -> str | None:
    """A string that can be written as UTF-8; absent or null is None."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise error(f"{_at(where, name)} must be a string, got {type(value).__name__}")
    _encodable(value, name, error, where)
    return value


def identifier(value: Any, name: str, error: ErrorType, where: str = "", numbers: bool = False, in_keys: bool = False) -> str:
    """A non-blank id (a number too, with ``numbers``). With ``in_keys`` (it builds store keys):
    at most MAX_ID_BYTES, without '#' or control characters."""
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise error(f"{_at(where, name)} must be a non-empty string, got {_show(value)}")
    size = len(_encodable(value, name, error, where))
    if in_keys:
        if size > MAX_ID_BYTES:
            raise error(f"{_at(where, name)} is {size} bytes long, over the {MAX_ID_BYTES}-byte limit")
        if "#" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise error(f"{_at(where, name)} {_show(value)} must not contain '#' or control characters")
    return value


def flag(obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "") -> bool | None:
    value = obj.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise error(f"{_at(where, name)} must be true or false, got {_show(value)}")


@overload
def timestamp(
    obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", *, required: Literal[True], assume_utc: bool = False
) -> datetime: ...
@overload
def timestamp(
    obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", required: bool = False, assume_utc: bool = False
) -> datetime | None: ...
def timestamp(
    obj: Mapping[str, Any], name: str, error: ErrorType, where: str = "", required: bool = False, assume_utc: bool = False
) -> datetime | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise error(f"{_at(where, name)} is required")
        return None
    try:
        return parse_timestamp(value, assume_utc=assume_utc)
    except ValueError as exc:
        raise error(f"{_at(where, name)}: {exc}") from None


def _encodable(value: str, name: str, error: ErrorType, where: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise error(f"{_at(where, name)} is not valid Unicode text (a lone surrogate)") from None
