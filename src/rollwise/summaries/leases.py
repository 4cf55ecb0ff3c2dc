"""Leases on shards: a run computes a shard only while holding its lease, so two overlapping runs never
interleave their reads and writes of one shard. The second leaves the shard (and its markers) to the next run,
and a run that could not renew its lease in time writes nothing more.

Taking, renewing and giving back are each safe to repeat (a retry of a request whose answer was lost): the
run's own lease is its own, and a lease already given back is given back.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from rollwise.errors import StoreError
from rollwise.summaries.backend import SummaryBackend

log = logging.getLogger(__name__)

# How long a run's hold on a shard lasts unless renewed: a run renews it after a quarter, and writes
# nothing once half of it is gone unrenewed (a suspended process). A crashed run blocks its shard this long.
LEASE_SECONDS = 600


class GroupBusy(Exception):
    """The shard is being computed by another run, or this run lost its hold: not a failure,
    the shard's periods and markers are left to the next run."""


class Hold:
    """A run's lease on one shard: :meth:`check` right before each write."""

    def __init__(self, store: SummaryBackend, shard: int, owner: str) -> None:
        self.store, self.shard, self.owner = store, shard, owner
        self.renewed = time.time()

    def check(self) -> None:
        """Raise :class:`GroupBusy` if the hold may have lapsed; renew it once a quarter of it is gone."""
        now = time.time()
        if now - self.renewed >= LEASE_SECONDS / 2:
            raise GroupBusy(f"held longer than half its {LEASE_SECONDS} s lease without renewing it; left to the next run")
        if now - self.renewed >= LEASE_SECONDS / 4:
            if not self.store._renew_lease(self.shard, self.owner, now + LEASE_SECONDS):
                raise GroupBusy("its lease was taken by another run; left to the next run")
            self.renewed = now


class Leases(SummaryBackend):
    """The lease policy over a backend's three conditional puts."""

    @contextmanager
    def holding(self, shard: int) -> Iterator[Hold]:
        """Hold the shard's lease while computing its periods (:class:`GroupBusy` if another run has it).
        A lease that cannot be given back expires after LEASE_SECONDS."""
        hold = Hold(self, shard, uuid.uuid4().hex)
        if not self._acquire_lease(shard, hold.owner, hold.renewed, hold.renewed + LEASE_SECONDS):
            raise GroupBusy("being computed by another run; left to the next run")
        try:
            yield hold
        finally:
            try:
                with self.closing():
                    self._release_lease(shard, hold.owner)
            except StoreError as exc:
                log.warning("lease not given back: it expires by itself", extra={"shard": shard, "seconds": LEASE_SECONDS, "error": str(exc)})
