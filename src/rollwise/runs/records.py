"""The two shapes of run result files, and the one place their fields are mapped.

A file holds one JSON object or a JSON array of them. Each object is either
one item's result (an opportunity matched or not) or one run's summary. A
file that does not parse, or whose known fields have the wrong types or are
out of range, is a poison file: :class:`PoisonFile` says why, and the job
quarantines it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from rollwise import validate
from rollwise.timestamps import parse_timestamp, utc_text

# -- the field mapping ---------------------------------------------------------
# The one UTC form utc_text writes. A timestamp already in it comes out of _timestamp unchanged
# whether it parses or not, so it is kept without a parse (most producers write this form).
UTC_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?Z")
ITEM_ID_FIELDS = ("solicitationNumber", "opportunity_id", "noticeId")
ITEM_LINK_FIELDS = ("link", "url", "uiLink")
RUN_COUNT_FIELDS = ("opportunities_processed", "matches", "no_matches", "errors")


class PoisonFile(ValueError):
    """A run file that cannot be counted, with the reason."""


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    title: str | None
    score: float | None  # None only in an item's own description, when it has no score; top matches always have one
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one object of a file contributes: counts, its processing time, candidate matches.

    ``time_ms`` is one item's processing time, or (with a ``run_id``) a whole
    run's duration: two different things, kept apart by the aggregate. The
    remaining fields describe the object for the records output
    (:mod:`rollwise.runs.tables`); ``source`` is the object as the producer wrote it.
    """

    opportunities_processed: int
    matches: int
    no_matches: int
    errors: int
    time_ms: float | None
    top_matches: tuple[Match, ...]
    run_id: str | None = None
    item: Match | None = None  # an item's id, title, score and link
    timestamp: str | None = None
    source: dict | None = None


def _link(obj: dict) -> str | None:
    return next((obj[f] for f in ITEM_LINK_FIELDS if isinstance(obj.get(f), str)), None)


def _ident(value: Any, name: str, where: str) -> str:
    """An opportunity or run id: a non-blank string, or a whole number up to 2**53 (exact in JSON everywhere)."""
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 2**53:
        raise PoisonFile(f"{where}: {name} must be a non-empty string or a whole number from 0 to 2**53, got {value!r}")
    return validate.identifier(value, name, PoisonFile, where, numbers=True)


def _id_field(obj: dict) -> str:
    """The first id field with a value: producers leave ``solicitationNumber`` empty when
    an opportunity has only a ``noticeId``. When every one is blank, the first present
    one (its validation then names the problem)."""
    present = [f for f in ITEM_ID_FIELDS if f in obj]
    for f in present:
        value = obj[f]
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return f
    return present[0]


def _timestamp(obj: dict, where: str) -> str | None:
    """The item's own time, in the one UTC form when it reads as ISO 8601. Producers such as
    the sam matcher write ``datetime.utcnow().isoformat()`` with no zone: that is UTC. A time
    that does not parse is kept as the producer wrote it: it is descriptive, never counted."""
    text = validate.text(obj, "timestamp", PoisonFile, where)
    if text is None or UTC_FORM.fullmatch(text):
        return text
    try:
        return utc_text(parse_timestamp(text, assume_utc=True))
    except ValueError:
        return text


def item_outcome(obj: dict, where: str, threshold: float) -> Outcome:
    id_field = _id_field(obj)
    ident = _ident(obj[id_field], id_field, where)
    title = validate.text(obj, "title", PoisonFile, where)
    score = validate.number(obj, "score", PoisonFile, where)
    matched = validate.flag(obj, "matched", PoisonFile, where)
    stamp = _timestamp(obj, where)
    link = _link(obj)
    ms = validate.duration_ms(obj, "processing_time_ms", PoisonFile, where)
    item = Match(ident, title, None if score is None else float(score), link)
    if obj.get("error"):  # a message, true, an object: the item failed; null, false or "" say it did not
        return Outcome(1, 0, 0, 1, ms, (), item=item, timestamp=stamp, source=obj)
    if matched is None:
        matched = score is not None and score >= threshold
    top = (item,) if matched and score is not None else ()
    return Outcome(1, int(matched), int(not matched), 0, ms, top, item=item, timestamp=stamp, source=obj)


def run_outcome(obj: dict, where: str) -> Outcome:
    run_id = _ident(obj.get("run_id"), "run_id", where)
    processed, matches, no_matches, errors = (validate.count(obj, name, PoisonFile, where) for name in RUN_COUNT_FIELDS)
    ms = validate.duration_ms(obj, "processing_time_ms", PoisonFile, where)
    if ms is None and obj.get("started_at") is not None and obj.get("finished_at") is not None:
        started = validate.timestamp(obj, "started_at", PoisonFile, where, required=True)
        finished = validate.timestamp(obj, "finished_at", PoisonFile, where, required=True)
        if finished < started:
            raise PoisonFile(f"{where}: finished_at is before started_at")
        ms = (finished - started).total_seconds() * 1000.0
        if ms > validate.MAX_DURATION_MS:
            raise PoisonFile(f"{where}: the run lasted over {validate.MAX_DURATION_MS:,} ms")
    raw_top = obj.get("top_matches")
    raw_top = [] if raw_top is None else raw_top
    if not isinstance(raw_top, list):
        raise PoisonFile(f"{where}: top_matches must be a list, got {type(raw_top).__name__}")
    top = []
    for i, m in enumerate(raw_top):
        at = f"{where}.top_matches[{i}]"
        if not isinstance(m, dict):
            raise PoisonFile(f"{at}: must be an object")
        raw_id = next((m[f] for f in ("id", *ITEM_ID_FIELDS) if f in m), None)
        ident = _ident(raw_id, "id", at)
        top.append(
            Match(ident, validate.text(m, "title", PoisonFile, at), float(validate.number(m, "score", PoisonFile, at, required=True)), _link(m))
        )
    return Outcome(processed, matches, no_matches, errors, ms, tuple(top), run_id, source=obj)


def parse_run_file(body: bytes, threshold: float) -> list[Outcome]:
    """Every object of one file, or :class:`PoisonFile` naming what is wrong."""
    try:
        doc = orjson.loads(body)  # validates UTF-8 itself: one pass over the bytes
    except orjson.JSONDecodeError as exc:
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError as bad:
            raise PoisonFile(f"not UTF-8 text: byte {bad.start} cannot be decoded") from None
        raise PoisonFile(f"invalid JSON: {exc}") from None
    objects: list[Any] = doc if isinstance(doc, list) else [doc]
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
