"""The summaries store: the policies every backend shares, over the item hooks each backend fills.

A backend (SQLite, DynamoDB, memory: one module each under ``stores/``) only moves items
(:mod:`rollwise.summaries.backend`). The policies are written once, each in a module named for it:

* :mod:`~rollwise.summaries.tenant_zones`: every tenant has a time zone (UTC unless set), and its days, weeks,
  months and years are local to it; its shard is fixed by its id and the store's shard count;
* :mod:`~rollwise.summaries.record_writes`: records are kept once per local day they have an event on, under
  ``(day key, shard)``, with a locator beside them; a write into a closed day leaves an invalidation marker;
* :mod:`~rollwise.summaries.leases`: a run computes a shard only while holding the shard's lease;
* :mod:`~rollwise.summaries.sdk.mirror`: each period computed is written into the workflow SDK's table too.

Summaries are kept under ``(period type, period start, zone, shard)`` with ``(tenant, owner, metric type)``
inside, and indexed by tenant for reading; the parts a longer period merges (its days, or a year's months) are
read together, as a range.
"""

from __future__ import annotations

from rollwise.summaries.leases import Leases
from rollwise.summaries.record_writes import RecordWrites
from rollwise.summaries.sdk.mirror import SdkMirror


class SummaryStore(RecordWrites, Leases, SdkMirror):
    """Where execution records, invalidations and summaries live."""

    def __getstate__(self) -> dict:
        """What another process needs (a worker of ``--workers``): the settings, never a connection."""
        return {
            "configured_shards": self.configured_shards,
            "_shards": self._shards,
            "_unsettled": self._unsettled,
            "patience": self.patience,
            "retry_seconds": self.retry_seconds,
            "_closing": False,
            "default_zone": self.default_zone,
            "retention_days": self.retention_days,
            "_zones": self._zones,
            "_zones_read_at": self._zones_read_at,
            "sdk_table": self.sdk_table,
        }
