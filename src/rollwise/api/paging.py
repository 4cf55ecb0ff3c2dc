"""Pages and their cursors. A cursor is the last key of a page, signed with the instance's key (HS256) and bound
to its query: a client can neither forge a position nor carry one to another query."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from rollwise.api.problems import bad_parameter

Key = tuple[str, ...]
T = TypeVar("T")


def cursor_after(key: bytes | str, scope: Mapping[str, str], last: Key) -> str:
    """The cursor of the page after the one ending at ``last``."""
    import jwt

    return jwt.encode({**scope, "k": list(last)}, key, algorithm="HS256")


def position(key: bytes | str, scope: Mapping[str, str], cursor: str | None) -> Key | None:
    """The key a cursor resumes after (None without one); 400 naming ``cursor`` for one this API did not give for
    this query."""
    if not cursor:
        return None
    import jwt

    try:
        doc = jwt.decode(cursor, key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise bad_parameter("cursor", "not a cursor this API gave (altered, or from another instance)") from None
    if {k: doc.get(k) for k in scope} != dict(scope):
        raise bad_parameter("cursor", "the cursor is for another query: pass the same parameters as the page that gave it")
    return tuple(doc["k"])


def page(items: Iterable[T], key: Callable[[T], Key], after: Key | None, limit: int) -> tuple[list[T], Key | None]:
    """Up to ``limit`` items after ``after`` from items in key order (read no further than one past the page),
    and the last key of the page when more follow."""
    found: list[T] = []
    for item in items:
        if after is not None and key(item) <= after:
            continue
        found.append(item)
        if len(found) > limit:
            return found[:limit], key(found[limit - 1])
    return found, None
