"""Lambda entry point of stream ingest: another system's table, through its DynamoDB stream, into execution records.

Powertools' batch processing with partial batch responses: a record that
cannot be mapped is reported in ``batchItemFailures`` (Lambda retries from
it, and after the event source mapping's retries sends it to the on-failure
destination) while its neighbours are stored. The mapped records of a batch
are stored together when it ends, in stream order; if the store fails, every
record not yet stored is reported too, so nothing is dropped. Storing is
idempotent (a record written again is the same record), so a retried batch
counts nothing twice.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING, Any

from rollwise.config import AwsSettings, resolve
from rollwise.errors import StoreError
from rollwise.handlers import INGEST_SERVICE
from rollwise.handlers.common import (
    CLOSING_MARGIN_SECONDS,
    HandlerSettings,
    emit,
    event_object,
    job_metrics,
    patience,
    start_invocation,
    structured_logger,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

SERVICE = INGEST_SERVICE
logger = structured_logger(SERVICE)


@functools.cache
def _processor_class():
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from rollwise.summaries.ingest.dynamodb_items import change_of_stream_record
    from rollwise.summaries.ingest.mapping import Action, action_of

    class StreamIngest(BatchProcessor):
        """Maps each stream record on its own, and stores the batch's records in as few writes as its order allows."""

        def __init__(self, store, mapping, on_remove: str) -> None:
            super().__init__(EventType.DynamoDBStreams)
            self.store, self.mapping, self.on_remove = store, mapping, on_remove
            self.counts: Counter = Counter()
            self._writes: list[tuple[dict, Action]] = []

        def handle(self, record: DynamoDBRecord) -> Action:
            return action_of(change_of_stream_record(record.raw_event), self.mapping, self.on_remove)

        def _prepare(self) -> None:
            super()._prepare()
            self.counts = Counter()
            self._writes = []

        def success_handler(self, record: dict, result: Action):
            if result.kind in ("store", "forget"):
                self._writes.append((record, result))
            else:
                self.counts["skipped" if result.kind == "skip" else "removes_ignored"] += 1
            return super().success_handler(record, result)

        def failure_handler(self, record: DynamoDBRecord, exception):
            self.counts["rejected"] += 1
            stream = getattr(record, "dynamodb", None)
            logger.warning(
                "stream record rejected", extra={"sequence_number": stream.sequence_number if stream else None, "reason": str(exception[1])}
            )
            return super().failure_handler(record, exception)

        def _clean(self) -> None:
            self._write()
            super()._clean()

        def _write(self) -> None:
            """Consecutive stores in one write, a forget between them in its own: the stream's order kept."""
            i = 0
            while i < len(self._writes):
                kind = self._writes[i][1].kind
                j = i
                while j < len(self._writes) and self._writes[j][1].kind == kind:
                    j += 1
                group = self._writes[i:j]
                try:
                    if kind == "store":
                        self.store.put_records([a.record for _, a in group])
                    else:
                        self.store.forget_records([a.key for _, a in group])
                except StoreError as exc:
                    self._fail_from(i, exc)
                    return
                self.counts["stored" if kind == "store" else "forgotten"] += len(group)
                i = j

        def _fail_from(self, start: int, exc: StoreError) -> None:
            """Every record from ``start`` on was not stored: report it failed, for Lambda to retry."""
            logger.error(
                "store failed; the batch's remaining records are reported failed", extra={"records": len(self._writes) - start, "error": str(exc)}
            )
            for raw, _ in self._writes[start:]:
                self.success_messages.remove(raw)  # type: ignore[arg-type]  # Powertools keeps the raw records here, typed as its data classes
                self.fail_messages.append(DynamoDBRecord(raw))
                self.exceptions.append((type(exc), exc, None))
            self.counts["store_failed"] += len(self._writes) - start

        def figures(self) -> dict[str, float]:
            return {
                "RecordsStored": self.counts["stored"],
                "ExecutionsForgotten": self.counts["forgotten"],
                "ItemsSkipped": self.counts["skipped"],
                "RemovesIgnored": self.counts["removes_ignored"],
                "RecordsRejected": self.counts["rejected"],
                "RecordsNotStored": self.counts["store_failed"],
            }

    return StreamIngest


@functools.lru_cache(maxsize=4)
def _setup(summaries, ingest, aws):
    """The store and the mapping, kept across warm invocations (a boto3 client costs ~100 ms to build)."""
    from rollwise.summaries.ingest.mapping import load_mapping
    from rollwise.summaries.stores import open_configured

    return open_configured(summaries, aws), load_mapping(ingest.mapping)


def lambda_handler(event: Any, context: Any) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    from rollwise.summaries.settings import IngestSettings, SummariesSettings

    event = event_object(event)
    start_invocation(logger, event, context)
    ingest = resolve(IngestSettings)
    summaries = resolve(SummariesSettings)
    aws = resolve(AwsSettings)
    store, mapping = _setup(summaries, ingest, aws)
    # A throttled table is retried until shortly before the timeout; what is not stored then is reported failed, and retried.
    store.patience = patience(context, CLOSING_MARGIN_SECONDS, summaries.retry_seconds)
    from rollwise.summaries.tenant_zones import ZONES_MAX_AGE_SECONDS

    store.forget_zones(older_than=ZONES_MAX_AGE_SECONDS)  # a tenant's new zone is followed within a minute
    processor = _processor_class()(store, mapping, ingest.on_remove)
    try:
        response = process_partial_response(event=dict(event), record_handler=processor.handle, processor=processor, context=context)
    finally:
        logger.info("stream batch ingested", extra={"records": len(event.get("Records") or []), **processor.counts})
        emit(job_metrics(SERVICE, resolve(HandlerSettings)), processor.figures())
    return response
