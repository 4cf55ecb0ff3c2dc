"""Health as JSON: the days waiting for the summaries job, counted per local day of each zone."""

from datetime import date

import orjson

from rollwise.api.schemas import Health
from rollwise.summaries.model import Invalidation
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.api import admin_token, services_for, tenant_token


def test_open_days_are_counted_per_zone_and_day_for_admins_only(serve, jwks_url, keys, tmp_path):
    store = SQLiteSummaryStore(tmp_path / "s.db", shards=4)
    store.create()
    store._put_invalidations(
        [Invalidation(date(2024, 3, 10), shard, f"t{shard}", "Asia/Kolkata") for shard in (0, 1, 2)]
        + [Invalidation(date(2024, 3, 10), 3, "u", "UTC")]
    )
    api = serve(services_for(store, jwks_url))
    body = orjson.loads(api.get("/v1/health", admin_token(keys)).data)
    Health.model_validate(body)  # what the document declares, no other field
    assert body["open_days"] == [{"day": "2024-03-10", "shards": 1}, {"day": "2024-03-10@Asia/Kolkata", "shards": 3}]
    assert orjson.loads(api.get("/v1/health", tenant_token(keys, "t1")).data)["open_days"] == []
