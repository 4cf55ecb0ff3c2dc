"""The one seam to DynamoDB: the client, its retries on the patience of the work under way, and AWS's errors
translated into rollwise's, naming the table and the fix. Every DynamoDB request rollwise makes goes through
here: the summaries store, the workflow SDK's table, the history import (tests/test_imports.py holds it)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from rollwise.config import AwsSettings
from rollwise.errors import OutOfRetryTime, StoreError, StoreNotFound
from rollwise.retry import Patience

BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
# Answers worth another try (the same request may succeed later), by error code: throttling, and the
# service's own failures. A request whose answer never came (a reset, a timeout) is one too.
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
TRANSIENT = THROTTLING | {"InternalServerError", "ServiceUnavailable", "InternalFailure"}
# botocore's own quick retries (a dropped connection, one throttle) before the store's patience takes over;
# few, so that a request never waits past the run's deadline on botocore's backoff.
CLIENT_ATTEMPTS = 3
Item = dict[str, Any]
T = TypeVar("T")


class TableNotFound(StoreNotFound):
    """The table does not exist in this region."""


class ConditionFailed(Exception):
    """A conditional write's condition did not hold (expected; callers decide)."""


def dynamodb_client(aws: AwsSettings) -> Any:
    """The low-level client every rollwise DynamoDB request goes through: botocore's few quick retries
    (the store's patience does the long ones), a pool for threads, and no parameter validation
    (requests are built by the builders above; it only costs CPU). botocore's own session, not boto3's: a
    low-level client is the same either way, and boto3 (with s3transfer) is a cold start's import the
    read API has no other use for."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": CLIENT_ATTEMPTS}, max_pool_connections=16, parameter_validation=False)
    with _CREATING:  # a client is thread-safe, its session is not: stores made in threads make theirs one at a time
        return _botocore_session().create_client("dynamodb", region_name=aws.region, endpoint_url=aws.endpoint_url or None, config=config)


_CREATING = threading.Lock()


@functools.lru_cache(maxsize=1)
def _botocore_session() -> Any:
    """One session per process, as boto3's default one: credentials are resolved once, not per client."""
    import botocore.session

    return botocore.session.get_session()


def transient(exc: BaseException) -> tuple[str, str] | None:
    """(code, message) of a botocore error worth retrying, or None."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in TRANSIENT or status >= 500:
            return code or str(status), error.get("Message", "")
        return None
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return type(exc).__name__, str(exc)
    return None


def retried(call: Callable[[], T], patience: Callable[[], Patience], operation: str, table: str) -> T:
    """``call()``, again after a backoff while it is throttled or unanswered, until ``patience()`` is spent
    (:class:`OutOfRetryTime`). Every request rollwise makes is safe to repeat: a retry of one that took
    effect changes nothing."""
    from botocore.exceptions import BotoCoreError, ClientError

    attempt, waiting = 0, None
    while True:
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            busy = transient(exc)
            if busy is None:
                raise
            waiting = waiting or patience()  # one for the request: taken at its first retry, kept to its last
            if not waiting.wait(attempt):
                raise out_of_retry_time(operation, table, waiting.waited, f"still answered {busy[0]}") from None
            attempt += 1


def api_name(method: str) -> str:
    """The API's name of a boto3 method: ``batch_write_item`` is BatchWriteItem."""
    return "".join(part.title() for part in method.split("_"))


def out_of_retry_time(operation: str, table: str, waited: float, what: str) -> OutOfRetryTime:
    """The error a user sees when the table throttled past the run's patience: the table, the request, the fix."""
    return OutOfRetryTime(
        f"{operation} on table {table!r}: {what} after {waited:.0f} s of retries: the table is throttled "
        "or unavailable; raise its capacity or switch it to on-demand, then run again (what is left is "
        "marked for the next run)"
    )


class TableRequests:
    """Requests to one table, each retried on the patience of the run under way (:func:`retried`), batches
    until every part is written: what the summaries store and the SDK's summaries table share."""

    table_name: str
    _client: Any  # built on first use, from _aws (or the environment)
    _aws: AwsSettings | None
    patience_now: Callable[[], Patience]  # the patience of the request under way

    @property
    def client(self) -> Any:
        if self._client is None:
            from rollwise.config import resolve

            self._aws = self._aws or resolve(AwsSettings)
            self._client = dynamodb_client(self._aws)
        return self._client

    def not_found_hint(self) -> str:
        return f"create it with rollwise summaries init --store dynamodb://{self.table_name}"

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One request, :func:`retried` on the run's patience; AWS errors become StoreError naming the table and the fix."""
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self.client, operation)
        try:
            return retried(lambda: method(**kwargs), self.patience_now, api_name(operation), self.table_name)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, BotoCoreError):
                raise StoreError(f"{api_name(operation)} on table {self.table_name!r} failed: {exc}") from None
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(message) from None
            if code == "ResourceNotFoundException":
                raise TableNotFound(f"table {self.table_name!r} not found in {self.client.meta.region_name}: {self.not_found_hint()}") from None
            if code in ("AccessDeniedException", "UnrecognizedClientException"):
                raise StoreError(f"{api_name(operation)} on table {self.table_name!r} was denied: {message}") from None
            raise StoreError(f"{api_name(operation)} on table {self.table_name!r} failed: {code}: {message}") from None

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """In batches of 25; what a batch leaves unprocessed (throttled) is sent again after a backoff,
        until it is written or the run's patience is spent."""
        for i in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = {self.table_name: requests[i : i + BATCH_WRITE_LIMIT]}
            attempt, patience = 0, self.patience_now()
            while pending:
                pending = self._call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if pending and not self._backoff(
                    patience, attempt, "BatchWriteItem", f"{sum(len(v) for v in pending.values())} write(s) still unprocessed"
                ):
                    break
                attempt += 1

    def _backoff(self, patience: Patience, attempt: int, operation: str, what: str) -> bool:
        """Wait before sending a batch's unprocessed part again; :class:`OutOfRetryTime` once the patience is spent."""
        if not patience.wait(attempt):
            raise out_of_retry_time(operation, self.table_name, patience.waited, what)
        return True


class Table(TableRequests):
    """Requests to a table rollwise reads but does not keep (a history import's source): each on ``patience()``,
    the work's under way, or a minute of its own."""

    def __init__(self, table_name: str, client: Any = None, aws: AwsSettings | None = None, patience: Callable[[], Patience] | None = None) -> None:
        self.table_name, self._client, self._aws = table_name, client, aws
        self._patience = patience

    def patience_now(self) -> Patience:
        return self._patience() if self._patience else Patience.for_seconds(60)

    def not_found_hint(self) -> str:
        return "check its name, and the region (AWS_REGION)"

    def request(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One request on this table (``describe_table``, ``scan``...), retried and translated as every other."""
        return self._call(operation, TableName=self.table_name, **kwargs)
