"""Mappings: which items of another system's table are executions, and where each field is.

A mapping is data (a small JSON document, see ``docs/mappings.md``), so the
same engine reads any table: the built-in ``geek-cafe`` one reads the items
``geek-cafe-saas-sdk``'s ``Workflow`` model writes. Applied to a plain item
(:mod:`rollwise.summaries.ingest.dynamodb_items`) it gives a validated execution record, None
for an item that is not one to count, or :class:`RecordError` naming the item
and the problem.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rollwise.errors import ConfigError
from rollwise.summaries.ingest.dynamodb_items import Change
from rollwise.summaries.model import ID_FIELDS, STATUSES, TERMINAL, RecordError, normalize_record

# The record fields a mapping fills; the status has its own section.
TARGETS = (
    "tenant_id",
    "owner_id",
    "metric_type",
    "execution_id",
    "submitted_at",
    "started_at",
    "completed_at",
    "duration_ms",
    "profiles",
    "throttled",
    "rejected",
)
REQUIRED_TARGETS = ("tenant_id", "owner_id", "metric_type", "execution_id", "submitted_at")
OPERATORS = ("equals", "prefix", "in", "same_as", "present")

BUILTIN: dict[str, dict[str, Any]] = {
    # geek-cafe-saas-sdk's Workflow model (modules/workflows/models/execution.py): one item per execution,
    # pk "execution#<id>", sk "execution"; a child execution carries its root's id in root_id.
    "geek-cafe": {
        "description": "root workflow executions as geek-cafe-saas-sdk writes them",
        "take": [
            {"field": "pk", "prefix": "execution#"},
            {"field": "sk", "equals": "execution"},
            {"field": "root_id", "same_as": "id", "missing": "take"},
        ],
        "fields": {
            "tenant_id": "tenant_id",
            "owner_id": ["owner_id", "user_id"],
            "metric_type": "execution_type",
            "execution_id": ["id", "execution_id"],
            "submitted_at": "created_utc",
            "started_at": "started_utc",
            "completed_at": "completed_utc",
            "duration_ms": "duration_ms",
            "profiles": "actual_profiles",
            "throttled": {"present": "first_throttled_utc"},
        },
        "status": {
            "field": "status",
            "map": {
                "pending": "queued",
                "throttled": {"status": "queued", "throttled": 1},
                "rejected": {"status": "queued", "rejected": True},
                "running": "running",
                "succeeded": "succeeded",
                "failed": "failed",
                "cancelled": "cancelled",
                "timed_out": "timed_out",
            },
        },
    },
}

_ABSENT = object()


def _lookup(item: MappingType[str, Any], path: str) -> Any:
    """The value at ``path`` (a key, or dotted keys into nested maps); absent, null and blank text are absent."""
    value: Any = item.get(path, _ABSENT)
    if value is _ABSENT and "." in path:
        value = item
        for part in path.split("."):
            value = value.get(part, _ABSENT) if isinstance(value, MappingType) else _ABSENT
            if value is _ABSENT:
                break
    if value is None or (isinstance(value, str) and not value.strip()):
        return _ABSENT
    return value


@dataclass(frozen=True)
class Condition:
    """One test an item must pass to be taken; a missing field fails it unless ``missing`` is ``take``."""

    field: str
    operator: str
    operand: Any
    take_missing: bool = False

    def holds(self, item: MappingType[str, Any]) -> bool:
        value = _lookup(item, self.field)
        if value is _ABSENT:
            return self.take_missing
        if self.operator == "equals":
            return value == self.operand
        if self.operator == "prefix":
            return isinstance(value, str) and value.startswith(self.operand)
        if self.operator == "in":
            return value in self.operand
        if self.operator == "same_as":
            other = _lookup(item, self.operand)
            return other is _ABSENT or value == other
        return True  # present


@dataclass(frozen=True)
class Field:
    """Where one record field is: the first of ``paths`` that is set; with ``present``, 1 if one is set, else 0."""

    paths: tuple[str, ...]
    present: bool = False

    def value(self, item: MappingType[str, Any]) -> Any:
        for path in self.paths:
            value = _lookup(item, path)
            if value is not _ABSENT:
                return 1 if self.present else value
        return 0 if self.present else None


@dataclass(frozen=True)
class StatusRule:
    status: str
    throttled: int = 0
    rejected: bool = False


@dataclass(frozen=True)
class Mapping:
    name: str
    take: tuple[Condition, ...]
    fields: MappingType[str, Field]
    status: Field
    statuses: MappingType[str, StatusRule] | None  # None: the item's statuses are rollwise's own
    description: str = ""

    def applies_to(self, item: MappingType[str, Any]) -> bool:
        return all(c.holds(item) for c in self.take)

    def record(self, item: MappingType[str, Any]) -> dict[str, Any] | None:
        """The item's validated execution record; None when the mapping does not take it."""
        if not self.applies_to(item):
            return None
        try:
            return normalize_record(self.raw_record(item))
        except RecordError as exc:
            raise RecordError(f"{self.label(item)}: {exc}") from None

    def raw_record(self, item: MappingType[str, Any]) -> dict[str, Any]:
        raw = {target: spec.value(item) for target, spec in self.fields.items()}
        for target in ID_FIELDS:
            if isinstance(raw.get(target), int) and not isinstance(raw[target], bool):
                raw[target] = str(raw[target])  # a numeric id (an N attribute) names the same execution as its text
        for target in REQUIRED_TARGETS:
            if raw.get(target) is None:
                raise RecordError(f"{target} is required: {' and '.join(self.fields[target].paths)} not set")
        source = self.status.value(item)
        if self.statuses is None:
            rule = StatusRule(source) if isinstance(source, str) else None
        else:
            rule = self.statuses.get(source) if isinstance(source, str) else None
        if rule is None:
            known = ", ".join(sorted(self.statuses or STATUSES))
            raise RecordError(f"status {source!r} ({self.status.paths[0]}) is not one the mapping knows: {known}"[:300])
        raw["status"] = rule.status
        if rule.throttled and not raw.get("throttled"):
            raw["throttled"] = rule.throttled
        if rule.rejected:
            raw["rejected"] = True
        if rule.status not in TERMINAL:
            # An execution rollwise counts as unfinished has no outcome to time (the SDK stamps rejections complete).
            raw["completed_at"] = raw["duration_ms"] = None
        return raw

    @staticmethod
    def label(item: MappingType[str, Any]) -> str:
        for name in ("pk", "PK", "id"):
            if isinstance(item.get(name), (str, int)):
                return f"item {name}={str(item[name])[:120]!r}"
        return "item"

    def to_dict(self) -> dict[str, Any]:
        """The mapping as its JSON document (``summaries mapping NAME`` prints it)."""
        doc: dict[str, Any] = {"name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["take"] = [{"field": c.field, c.operator: c.operand, **({"missing": "take"} if c.take_missing else {})} for c in self.take]
        doc["fields"] = {
            t: ({"present": f.paths[0]} if f.present else (f.paths[0] if len(f.paths) == 1 else list(f.paths))) for t, f in self.fields.items()
        }
        status: dict[str, Any] = {"field": self.status.paths[0] if len(self.status.paths) == 1 else list(self.status.paths)}
        if self.statuses is not None:
            status["map"] = {
                k: (
                    r.status
                    if (r.throttled, r.rejected) == (0, False)
                    else {"status": r.status, **({"throttled": r.throttled} if r.throttled else {}), **({"rejected": True} if r.rejected else {})}
                )
                for k, r in self.statuses.items()
            }
        doc["status"] = status
        return doc


# -- reading a mapping --------------------------------------------------------------------------
def mapping_from_dict(doc: Any, source: str) -> Mapping:
    """A mapping document checked whole: ConfigError naming ``source`` and the first problem."""

    def bad(problem: str) -> ConfigError:
        return ConfigError(f"mapping {source}: {problem}")

    if not isinstance(doc, MappingType):
        raise bad("must be a JSON object")
    unknown = set(doc) - {"name", "description", "take", "fields", "status"}
    if unknown:
        raise bad(f"unknown key(s) {', '.join(sorted(unknown))} (allowed: name, description, take, fields, status)")
    take = []
    for i, c in enumerate(doc.get("take") or []):
        if not isinstance(c, MappingType) or not isinstance(c.get("field"), str):
            raise bad(f"take[{i}] must be an object with a 'field'")
        ops = [op for op in OPERATORS if op in c]
        extra = set(c) - {"field", "missing", *OPERATORS}
        if len(ops) != 1 or extra:
            raise bad(f"take[{i}] needs exactly one of {', '.join(OPERATORS)} (and optionally 'missing')")
        op = ops[0]
        operand = c[op]
        if op in ("prefix", "same_as") and not isinstance(operand, str):
            raise bad(f"take[{i}].{op} must be a string")
        if op == "in" and not isinstance(operand, list):
            raise bad(f"take[{i}].in must be a list")
        if op == "present" and operand is not True:
            raise bad(f"take[{i}].present must be true")
        if c.get("missing", "skip") not in ("skip", "take"):
            raise bad(f"take[{i}].missing must be 'skip' or 'take'")
        take.append(Condition(c["field"], op, operand, c.get("missing") == "take"))
    fields_doc = doc.get("fields")
    if not isinstance(fields_doc, MappingType):
        raise bad("'fields' must be an object from record field to item attribute")
    fields: dict[str, Field] = {}
    for target, spec in fields_doc.items():
        if target not in TARGETS:
            raise bad(f"fields.{target} is not a record field (one of {', '.join(TARGETS)})")
        fields[target] = _field(spec, f"fields.{target}", bad)
    missing = [t for t in REQUIRED_TARGETS if t not in fields]
    if missing:
        raise bad(f"fields must say where {', '.join(missing)} is")
    status_doc = doc.get("status")
    if not isinstance(status_doc, MappingType) or "field" not in status_doc or set(status_doc) - {"field", "map"}:
        raise bad("'status' must be an object with a 'field' and optionally a 'map'")
    statuses = None
    if status_doc.get("map") is not None:
        if not isinstance(status_doc["map"], MappingType) or not status_doc["map"]:
            raise bad("status.map must be an object from the item's status to rollwise's")
        statuses = {str(k): _rule(v, f"status.map.{k}", bad) for k, v in status_doc["map"].items()}
    name = doc.get("name", source)
    if not isinstance(name, str) or not name.strip():
        raise bad("name must be a non-empty string")
    return Mapping(name, tuple(take), fields, _field(status_doc["field"], "status.field", bad), statuses, str(doc.get("description") or ""))


def _field(spec: Any, where: str, bad) -> Field:
    if isinstance(spec, str) and spec:
        return Field((spec,))
    if isinstance(spec, list) and spec and all(isinstance(p, str) and p for p in spec):
        return Field(tuple(spec))
    if isinstance(spec, MappingType) and set(spec) == {"present"} and isinstance(spec["present"], str):
        return Field((spec["present"],), present=True)
    raise bad(f'{where} must be an attribute name, a list of them (the first set wins) or {{"present": NAME}}')


def _rule(spec: Any, where: str, bad) -> StatusRule:
    if isinstance(spec, str):
        spec = {"status": spec}
    if not isinstance(spec, MappingType) or set(spec) - {"status", "throttled", "rejected"}:
        raise bad(f"{where} must be a status or an object with status, throttled, rejected")
    if spec.get("status") not in STATUSES:
        raise bad(f"{where}: status must be one of {', '.join(STATUSES)}, got {spec.get('status')!r}")
    throttled = spec.get("throttled", 0)
    if isinstance(throttled, bool) or throttled not in (0, 1):
        raise bad(f"{where}.throttled must be 0 or 1")
    if not isinstance(spec.get("rejected", False), bool):
        raise bad(f"{where}.rejected must be true or false")
    return StatusRule(spec["status"], throttled, spec.get("rejected", False))


def load_mapping(spec: str) -> Mapping:
    """A mapping by built-in name, as inline JSON (``{...}``) or from a JSON file."""
    spec = spec.strip()
    if spec in BUILTIN:
        return mapping_from_dict({"name": spec, **BUILTIN[spec]}, spec)
    if spec.startswith("{"):
        source, text = "(inline JSON)", spec.encode()
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"mapping {spec!r} is neither a built-in one ({', '.join(BUILTIN)}) nor a file")
        source, text = str(path), path.read_bytes()
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"mapping {source}: invalid JSON: {exc}") from None
    return mapping_from_dict(doc, source)


# -- what a change to an item does --------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    """What to do with one item change: ``store`` a record, ``forget`` an execution
    (``key`` = tenant, execution id), or nothing (``skip``: not an execution; ``ignore``: a removal kept in history)."""

    kind: str
    record: dict[str, Any] | None = None
    key: tuple[str, str] | None = None


def action_of(change: Change, mapping: Mapping, on_remove: str = "ignore") -> Action:
    """A REMOVE is ignored unless ``on_remove`` is ``forget``, and then only when a person or
    program removed the item: TTL expiry (a removal by DynamoDB itself) never erases history."""
    if change.event != "REMOVE":
        record = mapping.record(change.new or {})
        return Action("store", record) if record is not None else Action("skip")
    old = change.old or {}
    if on_remove != "forget" or change.by_service:
        return Action("ignore")
    if not old or not mapping.applies_to(old):
        return Action("skip")
    tenant, execution = mapping.fields["tenant_id"].value(old), mapping.fields["execution_id"].value(old)
    if tenant is None or execution is None:
        raise RecordError(f"{mapping.label(old)}: a removed execution needs its tenant_id and execution_id to be forgotten")
    return Action("forget", key=(str(tenant), str(execution)))
