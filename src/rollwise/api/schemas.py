"""The API's answers as pydantic models: the OpenAPI document's response schemas are made from these, the
figures from the summaries model's own names, so no second list of fields can drift from what is sent.

A field that is left out rather than sent as null (``owner_id`` of a row not grouped by owner) is
``T | Absent``, so the document says "a string when present", not "a string or null".
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import SkipJsonSchema

from rollwise.periods import PERIOD_TYPES
from rollwise.summaries.model import COUNTERS, DURATION_FIELDS
from rollwise.summaries.usage import WINDOWS

Absent = SkipJsonSchema[None]  # left out of the answer when absent, never sent as null
PeriodType = Literal[PERIOD_TYPES]  # type: ignore[valid-type]
Window = Literal[WINDOWS]  # type: ignore[valid-type]


class Closed(BaseModel):
    """An answer whose every field is named here: the document says so (no other properties)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Problem(Closed):
    """An RFC 9457 problem: every refusal is one."""

    type: str
    title: str
    status: int
    detail: str
    parameter: str | Absent = Field(None, description="the input at fault")
    instance: str | Absent = Field(None, description="the path refused")


# Every figure a summary or a usage row carries, named as the model names them; null where none exists yet.
Figures: type[BaseModel] = create_model("Figures", __base__=Closed, **{name: (float | None, ...) for name in (*COUNTERS, *DURATION_FIELDS)})  # type: ignore[call-overload]


class UsageRow(Figures):  # type: ignore[valid-type, misc]
    from_: date = Field(alias="from")
    to: date
    zone: str
    starts_at: str
    ends_at: str
    owner_id: str | Absent = None
    metric_type: str | Absent = None
    complete: bool
    as_of: str | Absent = Field(None, description="when an incomplete row was computed")


class Usage(Closed):
    tenant: str
    zone: str
    from_: date = Field(alias="from")
    to: date
    window: Window
    group_by: list[str]
    complete: bool
    as_of: str | Absent = None
    rows: list[UsageRow]


class SummaryRow(Figures):  # type: ignore[valid-type, misc]
    """A stored summary, as ``summaries show --json`` prints it (rollwise.summaries.model.summary_row)."""

    tenant_id: str
    owner_id: str
    metric_type: str
    period_type: PeriodType
    period_start: date
    period_end: date
    zone: str
    starts_at: str
    ends_at: str


class SummariesPage(Closed):
    tenant: str
    period: PeriodType
    summaries: list[SummaryRow]
    next: str | None = Field(description="the cursor of the next page; null on the last")


class OpenDay(Closed):
    day: str = Field(description="a local day, with its zone unless UTC")
    shards: int


class WaitingWindow(Closed):
    window: str
    files: int


class Health(Closed):
    checked_at: str
    open_days: list[OpenDay]
    raw_files: int | Absent = Field(None, description="admin tokens only, with a merge job")
    oldest_raw: str | None = None
    waiting_windows: list[WaitingWindow] | Absent = None
    quarantined: int | Absent = None


class Open(BaseModel):
    """A document whose fields are the merge job's (its aggregate format), named here only where required."""

    model_config = ConfigDict(extra="allow")


class Windows(Open):
    windows: list[dict[str, Any]]


class Aggregate(Open):
    window_end: str
    stats: dict[str, Any]
    top_matches: list[dict[str, Any]]


class Matches(Open):
    matches: list[dict[str, Any]]
