"""Pages and cursors on their own: pages that put together are the whole, read no further than one past the
page, and cursors that hold only for the query and the key that signed them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollwise.api import paging
from rollwise.api.problems import Problem

KEY = b"k" * 32
SCOPE = {"t": "tenant-1", "p": "daily", "f": "", "u": "", "o": "", "m": ""}


def key(item: tuple[str, str]) -> tuple[str, ...]:
    return item


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["2024-01-01", "2024-01-02"]), st.text(max_size=3)), unique=True).map(sorted), st.integers(1, 5))
def test_pages_put_together_are_every_item_once_in_order(items, limit):
    seen, after = [], None
    while True:
        read: list = []
        found, last = paging.page((read.append(i) or i for i in items), key, after, limit)
        assert len(found) <= limit and len(read) <= len(seen) + limit + 1  # stops one past the page
        seen += found
        if last is None:
            break
        cursor = paging.cursor_after(KEY, SCOPE, last)
        after = paging.position(KEY, SCOPE, cursor)
    assert seen == items


def test_an_exact_last_page_says_so_only_once_it_is_read_past():
    items = [("a",), ("b",), ("c",), ("d",)]
    assert paging.page(items, key, None, 2) == ([("a",), ("b",)], ("b",))
    assert paging.page(items, key, ("b",), 2) == ([("c",), ("d",)], None)


def refusal(cursor: str, scope=SCOPE, signing_key=KEY) -> str:
    with pytest.raises(Problem) as refused:
        paging.position(signing_key, scope, cursor)
    assert refused.value.status == 400 and refused.value.parameter == "cursor"
    return refused.value.detail


def test_a_cursor_holds_for_its_own_query_and_key_only():
    cursor = paging.cursor_after(KEY, SCOPE, ("2024-01-02", "u1", "ocr"))
    assert paging.position(KEY, SCOPE, cursor) == ("2024-01-02", "u1", "ocr")
    assert paging.position(KEY, SCOPE, None) is None and paging.position(KEY, SCOPE, "") is None
    assert "for another query" in refusal(cursor, {**SCOPE, "o": "someone-else"})
    assert "not a cursor this API gave" in refusal(cursor, signing_key=b"x" * 32)
    head, body, signature = cursor.split(".")
    assert "not a cursor this API gave" in refusal(f"{head}.{body}.{signature[:-2]}AA")
