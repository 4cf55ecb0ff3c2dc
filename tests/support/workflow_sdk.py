"""A workflow SDK's table, as users run it: execution items written by geek-cafe-saas-sdk itself.

The SDK is a dev dependency (pyproject), so the items are not a copy of its
format but its own output: each execution is built with its ``Workflow``
model and saved with ``boto3_assist`` (the SDK's write path) into a table on
an emulator. The facts behind the items stay here as :class:`Execution`, so
a test can compute the expected summaries from them without rollwise.
"""

from __future__ import annotations

import contextlib
import io
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

UTC = UTC


@dataclass(frozen=True)
class Execution:
    """One execution of the scenario, as the SDK's status machine leaves it."""

    id: str
    tenant: str
    owner: str
    execution_type: str
    status: str  # the SDK's: pending, throttled, running, succeeded, failed, cancelled, rejected, timed_out
    created: datetime
    started: datetime | None = None
    completed: datetime | None = None
    duration_ms: int | None = None
    profiles: int | None = None
    throttled_at: datetime | None = None
    root_id: str | None = None  # another execution's id: a child

    @property
    def is_root(self) -> bool:
        return self.root_id is None or self.root_id == self.id


def _sdk():
    with contextlib.redirect_stdout(io.StringIO()):  # the SDK prints a banner on import
        from geek_cafe_saas_sdk.modules.workflows.models.execution import Workflow
    return Workflow


def workflow_model(e: Execution):
    """The SDK's model of an execution, ready to save."""
    w = _sdk()()
    w.id = e.id
    w.tenant_id, w.owner_id, w.user_id = e.tenant, e.owner, e.owner
    w.execution_type = e.execution_type
    w.status = e.status
    w.created_utc_ts = e.created.timestamp()
    if e.root_id:
        w.root_id = e.root_id
        w.parent_id = e.root_id
    if e.started:
        w.started_utc = e.started.isoformat()
        w.started_utc_ts = e.started.timestamp()
    if e.completed:
        w.completed_utc = e.completed.isoformat()
        w.completed_utc_ts = e.completed.timestamp()
    if e.duration_ms is not None:
        w.duration_ms = e.duration_ms
    if e.profiles is not None:
        w.actual_profiles = e.profiles
    if e.throttled_at:
        w.first_throttled_utc = e.throttled_at.isoformat()
        w.first_throttled_utc_ts = e.throttled_at.timestamp()
    w.prep_for_save()
    return w


def workflow_item(e: Execution) -> dict:
    """The item as the SDK serializes it (``to_resource_dictionary``): plain values, numbers as Decimal."""
    return workflow_model(e).to_resource_dictionary()


def coordination_item(execution_id: str, tenant: str) -> dict:
    """Another of the SDK's items in the same table: not an execution."""
    with contextlib.redirect_stdout(io.StringIO()):
        from geek_cafe_saas_sdk.modules.workflows.models.coordination_record import CoordinationRecord
    c = CoordinationRecord()
    c.id, c.execution_id, c.step_type = uuid.uuid4().hex, execution_id, "split"
    c.tenant_id, c.owner_id, c.user_id = tenant, "owner", "owner"
    c.prep_for_save()
    return c.to_resource_dictionary()


def scenario(first: date, days: int, per_day: int, seed: int = 7) -> list[Execution]:
    """Executions over ``days`` days: every SDK status, throttled-then-finished ones, runs crossing midnight, children."""
    rng = random.Random(seed)
    out: list[Execution] = []
    for d in range(days):
        day = datetime.combine(first + timedelta(days=d), datetime.min.time(), tzinfo=UTC)
        for _ in range(per_day):
            created = day + timedelta(seconds=rng.randrange(86400))
            status = rng.choice(["succeeded"] * 5 + ["failed", "cancelled", "timed_out", "rejected", "throttled", "pending", "running"])
            throttled_at = created + timedelta(seconds=1) if status == "throttled" or rng.random() < 0.15 else None
            started = completed = duration = profiles = None
            if status in ("running", "succeeded", "failed", "cancelled", "timed_out"):
                started = created + timedelta(seconds=rng.randrange(1, 600))
            if status in ("succeeded", "failed", "cancelled", "timed_out"):
                duration = rng.randrange(200, 4 * 3600 * 1000)  # up to 4 hours: some cross midnight
                completed = started + timedelta(milliseconds=duration)
                profiles = rng.randrange(0, 50)
            if status == "rejected":
                completed = created + timedelta(milliseconds=5)  # the SDK stamps a rejection complete
                throttled_at = None
            e = Execution(
                uuid.uuid4().hex,
                f"tenant-{rng.randrange(3)}",
                f"owner-{rng.randrange(4)}",
                rng.choice(["step_function", "lambda", "sqs"]),
                status,
                created,
                started,
                completed,
                duration,
                profiles,
                throttled_at,
            )
            out.append(e)
            if rng.random() < 0.2:  # a child of this execution: never counted on its own
                out.append(
                    Execution(
                        uuid.uuid4().hex,
                        e.tenant,
                        e.owner,
                        e.execution_type,
                        "succeeded",
                        created,
                        started or created,
                        (started or created) + timedelta(seconds=3),
                        3000,
                        1,
                        None,
                        root_id=e.id,
                    )
                )
    return out


OUTCOMES = {"succeeded": "success_count", "failed": "failure_count", "cancelled": "cancelled_count", "timed_out": "timeout_count"}


def ground_truth(executions: Iterable[Execution], until: date) -> dict[tuple[str, str, str, str], Counter]:
    """Expected daily figures per (tenant, owner, metric type, day), tenant-wide rows included, from the facts alone:
    a submission (and its throttle or rejection) counts on its day, an outcome (with its profiles and duration) on its own."""
    daily: dict[tuple[str, str, str, str], Counter] = defaultdict(Counter)
    for e in executions:
        if not e.is_root:
            continue
        for owner in (e.owner, "__tenant__"):
            if e.created.date() <= until:
                c = daily[(e.tenant, owner, e.execution_type, e.created.date().isoformat())]
                c["submission_count"] += 1
                c["throttled_count"] += int(e.status == "throttled" or e.throttled_at is not None)
                c["rejected_count"] += int(e.status == "rejected")
            if e.status in OUTCOMES and e.completed.date() <= until:
                c = daily[(e.tenant, owner, e.execution_type, e.completed.date().isoformat())]
                c[OUTCOMES[e.status]] += 1
                c["total_profiles"] += e.profiles or 0
                c["duration_count"] += 1
                c["total_duration_ms"] += e.duration_ms
    return daily


def rolled(daily: dict[tuple[str, str, str, str], Counter], period_of) -> dict[tuple, Counter]:
    """Daily figures summed into the periods ``period_of(day)`` names."""
    out: dict[tuple, Counter] = defaultdict(Counter)
    for (tenant, owner, kind, day), figures in daily.items():
        out[(tenant, owner, kind, period_of(date.fromisoformat(day)))].update(figures)
    return out


# -- comparing rollwise's summaries with the truth ------------------------------------------------------
FIGURES = (
    "submission_count",
    "success_count",
    "failure_count",
    "cancelled_count",
    "timeout_count",
    "total_profiles",
    "throttled_count",
    "rejected_count",
    "duration_count",
    "total_duration_ms",
)
TENANTS = ("tenant-0", "tenant-1", "tenant-2")


def summaries_of(store, period_type: str) -> dict[tuple, dict]:
    return {
        (s.tenant_id, s.owner_id, s.metric_type, s.period.start.isoformat()): {f: s.figures[f] or 0 for f in FIGURES}
        for t in TENANTS
        for s in store.query_summaries(t, period_type)
    }


def expected(executions, until: date, period_type: str) -> dict[tuple, dict]:
    from rollwise.periods import period_containing

    daily = ground_truth(executions, until)
    table = daily if period_type == "daily" else rolled(daily, lambda d: period_containing(period_type, d).start.isoformat())
    return {key: {f: figures[f] for f in FIGURES} for key, figures in table.items()}


def assert_true_summaries(store, executions, until: date) -> None:
    for period_type in ("daily", "monthly"):
        got, want = summaries_of(store, period_type), expected(executions, until, period_type)
        if period_type == "monthly":  # the month still open when the run happened has none yet
            got = {k: v for k, v in got.items() if k in want}
        assert got == want, period_type


# -- the user's table ------------------------------------------------------------------------------
def create_table(client, name: str, stream: bool = True) -> str | None:
    """The SDK's table (pk/sk strings), with a NEW_AND_OLD_IMAGES stream; returns the stream's ARN."""
    spec = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        **spec,
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return client.describe_table(TableName=name)["Table"].get("LatestStreamArn")


def sdk_database(endpoint: str):
    """boto3_assist's DynamoDB, the SDK's own client, pointed at an emulator."""
    with contextlib.redirect_stdout(io.StringIO()):
        from boto3_assist.dynamodb.dynamodb import DynamoDB
    return DynamoDB(aws_end_point_url=endpoint, aws_region="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def lifecycle(e: Execution) -> list[Execution]:
    """The states the SDK saves an execution in, in order: created (pending), started (running), then final."""
    from dataclasses import replace

    states = [replace(e, status="pending", started=None, completed=None, duration_ms=None, profiles=None, throttled_at=None)]
    if e.throttled_at:
        states.append(replace(states[0], status="throttled", throttled_at=e.throttled_at))
    if e.started and e.status != "running":
        states.append(replace(e, status="running", completed=None, duration_ms=None, profiles=None))
    if e.status != "pending":
        states.append(e)
    return states


def save_all(db, table: str, executions: Iterable[Execution], extra_items: Iterable[dict] = (), stages: bool = True) -> None:
    """Write each execution the way the SDK's services do: its model through ``DynamoDB.save``, once per state it goes through."""
    for e in executions:
        for state in lifecycle(e) if stages else [e]:
            db.save(item=workflow_model(state), table_name=table)
    for item in extra_items:
        db.save(item=item, table_name=table)


def stream_events(streams_client, stream_arn: str, batch_size: int = 100) -> list[dict]:
    """The stream's records, cut into Lambda events (``Records`` with ``eventSourceARN``), as the event source mapping sends them."""
    records = []
    for shard in streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams_client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while iterator:
            page = streams_client.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    events = []
    for i in range(0, len(records), batch_size):
        batch = [_as_lambda_record(r, stream_arn) for r in records[i : i + batch_size]]
        events.append({"Records": batch})
    return events


def _as_lambda_record(record: dict, stream_arn: str) -> dict:
    """A GetRecords record as Lambda delivers it: JSON types (the creation time as epoch seconds) and the source ARN."""
    out = dict(record)
    stream = dict(out["dynamodb"])
    if isinstance(stream.get("ApproximateCreationDateTime"), datetime):
        stream["ApproximateCreationDateTime"] = int(stream["ApproximateCreationDateTime"].timestamp())
    out["dynamodb"] = stream
    out["eventSourceARN"] = stream_arn
    return out
