"""Summaries as the workflow SDK's ``WorkflowMetricsSummary`` items (geek-cafe-saas-sdk 0.326.0), so that apps
built on the SDK read rollwise's figures where and how they already read their usage.

The key layout is the model's own (``modules/workflows/models/workflow_metrics_summary.py``): the primary key
``pk = execution_metrics_summary#<id>``, ``sk = metrics``, and three indexes whose keys the SDK builds with
``DynamoDBKey.build_key`` (``#``-joined pairs, lower-cased). The id is derived from what the item summarizes, so a
rerun replaces its item and never adds one; an item whose id is not the one its own fields give was not written by
rollwise (the SDK handler's items carry random ids). Pure: no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rollwise.periods import Period
from rollwise.summaries.model import EVENT_COUNTERS, QUANTILES, SummaryKey
from rollwise.summaries.stored_items import StoredSummary

MODEL = "execution_metrics_summary"
PK, SK = "pk", "sk"
SORT_KEY = "metrics"  # the model's primary sort key, for every item of the model
KEY_PREFIX = f"{MODEL}#"  # every item of the model, and only those: what the summaries function may write
INDEXES = {"gsi1": ("gsi1_pk", "gsi1_sk"), "gsi2": ("gsi2_pk", "gsi2_sk"), "gsi3": ("gsi3_pk", "gsi3_sk")}
WRITER = "rollwise"  # created_by_id of rollwise's items, for people reading the table
# The SDK's base model serializes these beside the model's fields (BaseTenantModel as of 0.326.0).
MODEL_NAME, MODEL_NAME_PLURAL, MODEL_VERSION = "workflow_metrics_summary", "workflow_metrics_summarys", "1.0.0"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/rollwise/rollwise#execution_metrics_summary")
# What `summaries sdk-check` compares: the counts, and the durations as whole milliseconds.
FIGURES_COMPARED = (*EVENT_COUNTERS, "total_duration_ms", "min_duration_ms", "max_duration_ms")
_COUNTS = EVENT_COUNTERS  # the model's counts the SDK's item carries as they are


def build_key(*pairs: tuple[str, Any]) -> str:
    """The SDK's ``DynamoDBKey.build_key`` for complete pairs: ``name#value`` joined by ``#``, lower-cased."""
    return "#".join(f"{name}#{value}" for name, value in pairs).lower()


def period_bounds(period: Period) -> tuple[int, int]:
    """The period's start and end as the UTC timestamps (seconds) the model keeps: its local midnights' instants.
    Whole seconds: every zone's midnight is one, and the model reads a stored whole number back as an int."""
    return int(period.starts_at.timestamp()), int(period.ends_at.timestamp())


def summary_id(tenant_id: str, owner_id: str, metric_type: str, period_type: str, period_start_ts: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join((tenant_id, owner_id, metric_type, period_type, str(period_start_ts)))))


def item_id(period: Period, key: SummaryKey) -> str:
    return summary_id(*key, period.kind, period_bounds(period)[0])


def primary_key(period: Period, key: SummaryKey) -> dict[str, dict[str, str]]:
    return {PK: {"S": build_key((MODEL, item_id(period, key)))}, SK: {"S": SORT_KEY}}


def index_keys(tenant_id: str, owner_id: str, metric_type: str, period_type: str, period_start_ts: int) -> dict[str, str]:
    """gsi1 (tenant), gsi2 (tenant and owner), gsi3 (tenant and metric type), each sorted by period type and start."""
    sort = build_key(("model", MODEL), ("period_type", period_type), ("period_start", period_start_ts))
    return {
        "gsi1_pk": build_key(("tenant", tenant_id)),
        "gsi1_sk": sort,
        "gsi2_pk": build_key(("tenant", tenant_id), ("owner", owner_id)),
        "gsi2_sk": sort,
        "gsi3_pk": build_key(("tenant", tenant_id), ("metric_type", metric_type)),
        "gsi3_sk": sort,
    }


def _number(value: float | int) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def summary_item(summary: StoredSummary, now: datetime) -> dict[str, Any]:
    """The model's item (DynamoDB's typed JSON) of one summary: every field the model has, the percentiles and
    the duration count in its ``metrics`` map, the keys its indexes build."""
    f, period = summary.figures, summary.period
    start, end = period_bounds(period)
    ident = summary_id(summary.tenant_id, summary.owner_id, summary.metric_type, period.kind, start)
    count = f.get("duration_count") or 0
    completed = sum(f.get(name) or 0 for name in ("success_count", "failure_count", "cancelled_count", "timeout_count"))
    metrics: dict[str, Any] = {"duration_count": _number(int(count))}
    for name, _ in QUANTILES:
        if f.get(name) is not None:
            metrics[name] = _number(float(f[name]))
    item: dict[str, Any] = {
        PK: {"S": build_key((MODEL, ident))},
        SK: {"S": SORT_KEY},
        **{name: {"S": value} for name, value in index_keys(summary.tenant_id, summary.owner_id, summary.metric_type, period.kind, start).items()},
        "id": {"S": ident},
        "tenant_id": {"S": summary.tenant_id},
        "owner_id": {"S": summary.owner_id},
        "metric_type": {"S": summary.metric_type},
        "period_type": {"S": period.kind},
        "period_start_ts": _number(start),
        "period_end_ts": _number(end),
        **{name: _number(int(f.get(name) or 0)) for name in _COUNTS},
        # The model keeps whole milliseconds, 0 where there was no duration, and the average as a float.
        "total_duration_ms": _number(round(f.get("total_duration_ms") or 0)),
        "avg_duration_ms": _number(float(f.get("avg_duration_ms") or 0.0)),
        "min_duration_ms": _number(round(f.get("min_duration_ms") or 0)),
        "max_duration_ms": _number(round(f.get("max_duration_ms") or 0)),
        "completion_count": _number(int(completed)),
        "success_rate": _number(float((f.get("success_count") or 0) / completed * 100 if completed else 0.0)),
        "is_tenant_wide": {"BOOL": False},
        "metrics": {"M": metrics},
        "model_name": {"S": MODEL_NAME},
        "model_name_plural": {"S": MODEL_NAME_PLURAL},
        "model_version": {"S": MODEL_VERSION},
        "version": {"N": "1"},
        "created_by_id": {"S": WRITER},
        "created_utc": {"S": now.isoformat()},
        "created_utc_ts": _number(now.timestamp()),
        "modified_utc": {"S": now.isoformat()},
        "modified_utc_ts": _number(now.timestamp()),
    }
    return item


def is_model_item(item: Mapping[str, Any]) -> bool:
    """An item of ``WorkflowMetricsSummary``: its primary key is the model's. Nothing else is ever touched."""
    pk, sk = item.get(PK, {}).get("S", ""), item.get(SK, {}).get("S", "")
    return pk.startswith(KEY_PREFIX) and sk == SORT_KEY


def written_by_rollwise(item: Mapping[str, Any]) -> bool:
    """Whether ``item`` is one rollwise wrote: its id is the one its own fields give (a random id is not)."""
    try:
        tenant_id, owner_id, metric_type, period_type = (item[name]["S"] for name in ("tenant_id", "owner_id", "metric_type", "period_type"))
        start = item["period_start_ts"]["N"]
        start_ts = int(start) if start.lstrip("-").isdigit() else None
    except (KeyError, TypeError):
        return False
    if start_ts is None:
        return False
    own_id = summary_id(tenant_id, owner_id, metric_type, period_type, start_ts)
    return item.get("id", {}).get("S") == own_id and item[PK]["S"] == build_key((MODEL, own_id))
