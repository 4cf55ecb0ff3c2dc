"""DynamoDB items as other systems hand them over, made plain Python values.

Items arrive in three shapes: typed attribute values (``{"N": "42"}``, as in
stream records, Scan pages and ``aws dynamodb scan`` output), plain JSON, and
inside stream records or whole stream events. Numbers come out as ``int``
when whole and ``float`` otherwise, sets as sorted lists, so a mapping sees
what a writer meant, not how DynamoDB carried it. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

TYPE_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


class ItemError(ValueError):
    """An item, record or line that is not a DynamoDB item in any shape rollwise reads."""


def plain_value(value: Any) -> Any:
    """Decimals as int or float, sets as sorted lists, maps and lists all the way down."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ItemError(f"number {value} is not finite")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain_value(v) for v in value)
    return value


def is_typed(item: Mapping[str, Any]) -> bool:
    """Whether every attribute is a DynamoDB typed value (``{"S": ...}``)."""
    return bool(item) and all(isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in item.values())


def untyped(item: Mapping[str, Any]) -> dict[str, Any]:
    """A typed item (``{"pk": {"S": "a"}}``) as plain values (``{"pk": "a"}``)."""
    from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

    deserializer = TypeDeserializer()
    out = {}
    for name, value in item.items():
        try:
            out[name] = plain_value(deserializer.deserialize(value))
        except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError) as exc:
            raise ItemError(f"attribute {name!r}: not a DynamoDB value ({type(exc).__name__}: {exc})"[:300]) from None
    return out


@dataclass(frozen=True)
class Change:
    """One change to an item: ``event`` is INSERT, MODIFY, REMOVE (stream records) or ITEM (a
    plain item, as in a Scan); ``new`` the item after it, ``old`` before it (plain values)."""

    event: str
    new: Mapping[str, Any] | None
    old: Mapping[str, Any] | None = None
    by_service: bool = False  # a REMOVE made by DynamoDB itself: TTL expiry

    @property
    def item(self) -> Mapping[str, Any] | None:
        return self.old if self.event == "REMOVE" else self.new


def change_of_stream_record(record: Mapping[str, Any]) -> Change:
    """A stream record (``{"eventName": ..., "dynamodb": {"NewImage": ...}}``) as a :class:`Change`."""
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping):
        raise ItemError("a stream record needs a 'dynamodb' object")
    event = record.get("eventName")
    if event not in ("INSERT", "MODIFY", "REMOVE"):
        raise ItemError(f"eventName must be INSERT, MODIFY or REMOVE, got {event!r}"[:200])
    images = {}
    for name in ("NewImage", "OldImage"):
        image = stream.get(name)
        if image is not None and not isinstance(image, Mapping):
            raise ItemError(f"dynamodb.{name} must be an object")
        images[name] = untyped(image) if image else None
    if event != "REMOVE" and images["NewImage"] is None:
        raise ItemError(f"a {event} record has no NewImage: the stream must show new images (NEW_IMAGE or NEW_AND_OLD_IMAGES)")
    identity = record.get("userIdentity") or {}
    by_service = isinstance(identity, Mapping) and identity.get("type") == "Service" and identity.get("principalId") == "dynamodb.amazonaws.com"
    return Change(event, images["NewImage"], images["OldImage"], by_service)


def changes_of(obj: Any) -> Iterator[Change | ItemError]:
    """Every item change in one JSON value: a stream event (``Records``), a stream record, a Scan
    output (``Items``), a GetItem output (``Item``), a typed item or a plain item. A part that
    cannot be read is yielded as its :class:`ItemError`, so its neighbours still are."""
    if not isinstance(obj, Mapping):
        yield ItemError(f"expected a JSON object, got {type(obj).__name__}")
    elif isinstance(obj.get("Records"), list):
        for i, record in enumerate(obj["Records"]):
            yield _attempt(_stream_change, record, f"Records[{i}]")
    elif isinstance(obj.get("dynamodb"), Mapping) and "eventName" in obj:
        yield _attempt(_stream_change, obj)
    elif isinstance(obj.get("Items"), list):
        for i, item in enumerate(obj["Items"]):
            yield _attempt(_item_change, item, f"Items[{i}]")
    elif isinstance(obj.get("Item"), Mapping) and len(obj) == 1:
        yield _attempt(_item_change, obj["Item"])
    else:
        yield _attempt(_item_change, obj)


def _stream_change(record: Any) -> Change:
    return change_of_stream_record(record) if isinstance(record, Mapping) else _not_object(record)


def _item_change(item: Any) -> Change:
    return Change("ITEM", item_values(item))


def item_values(item: Any) -> dict[str, Any]:
    """One item, typed or plain, as plain values."""
    if not isinstance(item, Mapping):
        _not_object(item)
    return untyped(item) if is_typed(item) else plain_value(item)


def _not_object(value: Any) -> Any:
    raise ItemError(f"expected an object, got {type(value).__name__}")


def _attempt(make: Callable[[Any], Change], value: Any, where: str = "") -> Change | ItemError:
    try:
        return make(value)
    except ItemError as exc:
        return ItemError(f"{where}: {exc}") if where else exc
