"""The two shapes of run result files, and the one place their fields are mapped.

A file holds one JSON object or a JSON array of them. Each object is either
one item's result (an opportunity matched or not) or one run's summary. A
file that does not parse, or whose known fields have the wrong types, is a
poison file: :class:`PoisonFile` says why, and the job quarantines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# -- the field mapping ---------------------------------------------------------
ITEM_ID_FIELDS = ("solicitationNumber", "opportunity_id", "noticeId")
ITEM_LINK_FIELDS = ("link", "url", "uiLink")
RUN_COUNT_FIELDS = ("opportunities_processed", "matches", "no_matches", "errors")
DEFAULT_MATCH_THRESHOLD = 0.7


class PoisonFile(ValueError):
    """A run file that cannot be counted, with the reason."""


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    title: str | None
    score: float
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one object of a file contributes: counts, processing times, candidate matches."""

    opportunities_processed: int
    matches: int
    no_matches: int
    errors: int
    processing_time_ms: float | None
    top_matches: tuple[Match, ...]
    run_id: str | None = None


def _number(obj: dict, name: str, where: str, required: bool = False) -> float | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise PoisonFile(f"{where}: {name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PoisonFile(f"{where}: {name} must be a number, got {type(value).__name__}")
    if value != value or value in (float("inf"), float("-inf")):
        raise PoisonFile(f"{where}: {name} must be finite")
    return value


def _count(obj: dict, name: str, where: str) -> int:
    value = obj.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PoisonFile(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return value


def _text(obj: dict, name: str, where: str) -> str | None:
    value = obj.get(name)
    if value is None or isinstance(value, str):
        return value
    raise PoisonFile(f"{where}: {name} must be a string, got {type(value).__name__}")


def _ident(value: Any, name: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PoisonFile(f"{where}: {name} must be a non-empty string, got {value!r}")
    return str(value)


def _duration(obj: dict, where: str) -> float | None:
    ms = _number(obj, "processing_time_ms", where)
    if ms is not None and ms < 0:
        raise PoisonFile(f"{where}: processing_time_ms must not be negative")
    return ms


def item_outcome(obj: dict, where: str, threshold: float) -> Outcome:
    id_field = next(f for f in ITEM_ID_FIELDS if f in obj)
    ident = _ident(obj[id_field], id_field, where)
    title = _text(obj, "title", where)
    score = _number(obj, "score", where)
    matched = obj.get("matched")
    if matched is not None and not isinstance(matched, bool):
        raise PoisonFile(f"{where}: matched must be true or false, got {matched!r}")
    _text(obj, "timestamp", where)
    link = next((obj[f] for f in ITEM_LINK_FIELDS if isinstance(obj.get(f), str)), None)
    ms = _duration(obj, where)
    if obj.get("error") is not None:
        return Outcome(1, 0, 0, 1, ms, ())
    if matched is None:
        matched = score is not None and score >= threshold
    top = (Match(ident, title, float(score), link),) if matched and score is not None else ()
    return Outcome(1, int(matched), int(not matched), 0, ms, top)


def run_outcome(obj: dict, where: str) -> Outcome:
    run_id = _ident(obj.get("run_id"), "run_id", where)
    counts = [_count(obj, name, where) for name in RUN_COUNT_FIELDS]
    ms = _duration(obj, where)
    if ms is None and obj.get("started_at") is not None and obj.get("finished_at") is not None:
        from rollwise.periods import parse_timestamp

        try:
            started = parse_timestamp(_text(obj, "started_at", where))
            finished = parse_timestamp(_text(obj, "finished_at", where))
        except ValueError as exc:
            raise PoisonFile(f"{where}: {exc}") from None
        if finished < started:
            raise PoisonFile(f"{where}: finished_at is before started_at")
        ms = (finished - started).total_seconds() * 1000.0
    raw_top = obj.get("top_matches") or []
    if not isinstance(raw_top, list):
        raise PoisonFile(f"{where}: top_matches must be a list, got {type(raw_top).__name__}")
    top = []
    for i, m in enumerate(raw_top):
        at = f"{where}.top_matches[{i}]"
        if not isinstance(m, dict):
            raise PoisonFile(f"{at}: must be an object")
        raw_id = next((m[f] for f in ("id", *ITEM_ID_FIELDS) if f in m), None)
        link = next((m[f] for f in ITEM_LINK_FIELDS if isinstance(m.get(f), str)), None)
        top.append(Match(_ident(raw_id, "id", at), _text(m, "title", at), float(_number(m, "score", at, required=True)), link))
    return Outcome(*counts, ms, tuple(top), run_id)


def parse_run_file(body: bytes, threshold: float = DEFAULT_MATCH_THRESHOLD) -> list[Outcome]:
    """Every object of one file, or :class:`PoisonFile` naming what is wrong."""
    try:
        doc = orjson.loads(body)  # validates UTF-8 itself: one pass over the bytes
    except orjson.JSONDecodeError as exc:
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError as bad:
            raise PoisonFile(f"not UTF-8 text: byte {bad.start} cannot be decoded") from None
        raise PoisonFile(f"invalid JSON: {exc}") from None
    objects = doc if isinstance(doc, list) else [doc]
    out = []
    for i, obj in enumerate(objects):
        where = f"[{i}]" if isinstance(doc, list) else "$"
        if not isinstance(obj, dict):
            raise PoisonFile(f"{where}: expected a JSON object, got {type(obj).__name__}")
        if "run_id" in obj:
            out.append(run_outcome(obj, where))
        elif any(f in obj for f in ITEM_ID_FIELDS):
            out.append(item_outcome(obj, where, threshold))
        else:
            raise PoisonFile(f"{where}: neither an item result (one of {', '.join(ITEM_ID_FIELDS)}) nor a run summary (run_id)")
    return out
