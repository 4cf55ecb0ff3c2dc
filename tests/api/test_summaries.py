"""The summaries route's pages: every stored summary once, in order, and a cursor that cannot be altered,
reused for another query, or read back out of the services that sign it."""

from __future__ import annotations

import base64

import jwt
import orjson
import pytest

from rollwise.api.schemas import SummariesPage
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.api import history, populate, services_for, tenant_token

PAGES = "/v1/tenants/tenant-000/summaries?period=daily&from=2024-03-01&to=2024-03-15"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SQLiteSummaryStore(tmp_path_factory.mktemp("api") / "s.db", shards=2)
    s.create()
    populate(s, history())
    return s


@pytest.fixture
def services(store, jwks_url):
    return services_for(store, jwks_url)


@pytest.fixture
def api(serve, services):
    return serve(services)


def page(api, token, path):
    """A page that is what the document declares (rollwise.api.schemas.SummariesPage, no other field)."""
    answer = api.get(path, token)
    assert answer.status == 200, answer.data
    doc = orjson.loads(answer.data)
    SummariesPage.model_validate(doc)
    return doc


def test_the_pages_hold_every_summary_of_the_range_once_in_order(api, keys, store):
    from datetime import date

    token = tenant_token(keys, "tenant-000")
    seen, doc = [], page(api, token, PAGES + "&limit=7")
    while True:
        assert len(doc["summaries"]) <= 7
        seen += doc["summaries"]
        if not doc["next"]:
            break
        doc = page(api, token, PAGES + f"&limit=7&cursor={doc['next']}")
    expected = [s.to_dict() for s in store.query_summaries("tenant-000", "daily", date(2024, 3, 1), date(2024, 3, 14))]
    assert len(expected) > 3 * 7 and seen == expected


def refused_cursor(api, token, cursor, why):
    answer = api.get(PAGES + f"&limit=7&cursor={cursor}", token)
    assert answer.status == 400, answer.data
    doc = orjson.loads(answer.data)
    assert doc["parameter"] == "cursor" and why in doc["detail"], doc


def test_a_cursor_altered_or_signed_with_another_key_is_refused(api, keys):
    token = tenant_token(keys, "tenant-000")
    cursor = page(api, token, PAGES + "&limit=7")["next"]
    header, payload, signature = cursor.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    skipped = base64.urlsafe_b64encode(orjson.dumps({**claims, "k": ["2024-03-12", "", ""]})).decode().rstrip("=")
    refused_cursor(api, token, f"{header}.{skipped}.{signature}", "not a cursor this API gave")
    refused_cursor(
        api,
        token,
        jwt.encode({**claims, "k": ["2024-03-12", "", ""]}, "another key of 32 bytes or more!!", algorithm="HS256"),
        "not a cursor this API gave",
    )


def test_a_cursor_for_another_query_is_refused(api, keys):
    token = tenant_token(keys, "tenant-000")
    cursor = page(api, token, "/v1/tenants/tenant-000/summaries?period=daily&from=2024-03-02&to=2024-03-15&limit=7")["next"]
    refused_cursor(api, token, cursor, "the cursor is for another query")


def test_the_cursor_key_is_in_no_repr_of_the_settings_or_services(services):
    from rollwise.api.settings import ApiSettings

    assert services.cursor_key not in repr(services)
    assert "s3cret-cursor-key" not in repr(ApiSettings(cursor_secret="s3cret-cursor-key"))
