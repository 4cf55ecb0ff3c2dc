"""The mirror into the workflow SDK's table: each period a run computes is written there too, as the SDK's
model items, when a table is set (``ROLLWISE_SDK_SUMMARIES_TABLE``)."""

from __future__ import annotations

from typing import Any

from rollwise.periods import Period
from rollwise.summaries.backend import SummaryBackend
from rollwise.summaries.model import SummaryKey
from rollwise.summaries.stored_items import StoredSummary


class SdkMirror(SummaryBackend):
    # The workflow SDK's table (rollwise.summaries.sdk.table.SdkSummaryTable), or None: no mirror.
    sdk_table: Any = None

    def mirror_summaries(self, period: Period, current: list[StoredSummary], removed: list[SummaryKey]) -> None:
        """The period's summaries into the workflow SDK's table too, when one is set. Called before the store's
        own write: if it fails, the store still holds the old figures and the next run computes the period again.
        The table's requests are retried on the store's patience."""
        if self.sdk_table is not None and (current or removed):
            self.sdk_table.patience = self.patience_now
            self.sdk_table.write(period, current, removed)
