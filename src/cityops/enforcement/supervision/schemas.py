"""Supervision I/O: rules, flags with their evidence and steps, the supervisor's actions, an
evaluation's figures and the weekly trend as an ECharts-ready chart."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from cityops.enforcement.supervision.models import Severity
from cityops.kit.schemas import ReadSchema, Schema


class RuleRead(ReadSchema):
    id: int
    code: str
    title: str
    kind: str
    parameters: dict[str, Any]
    severity: str
    active: bool
    legal_source: str
    description: str
    updated_at: datetime | None
    evaluated_at: datetime | None = Field(description="the last evaluation of this rule")
    last_hits: int | None = Field(description="subjects found then")
    last_ms: int | None = Field(description="how long its query and sync took then")


class RuleUpdate(Schema):
    """What a district may change of a rule: its numbers, whether it runs, its severity and
    title. `parameters` are merged into the current ones (unknown names are refused)."""

    parameters: dict[str, Any] | None = None
    active: bool | None = None
    severity: Severity | None = None
    title: str | None = Field(None, min_length=1, max_length=200)


class LinkRead(ReadSchema):
    kind: str = Field(description="penalty_case or inspection")
    id: int
    href: str = Field(description="the subject's resource in this API")


class FlagRead(ReadSchema):
    id: int
    rule_code: str
    rule_title: str
    kind: str
    severity: str
    subject_type: str
    subject_id: int
    agency_id: int | None
    agency_name: str | None
    region_code: str | None
    business_id: int | None
    occurred_on: date | None
    message: str = Field(description="the evidence as a sentence, in Chinese")
    state: str
    state_name: str
    cleared: bool = Field(description="the subject complies now")
    cleared_at: datetime | None
    raised_at: datetime
    times_raised: int
    assignee_id: int | None
    correction_due: date | None
    link: LinkRead


class StepRead(ReadSchema):
    id: int
    kind: str
    kind_name: str
    at: datetime
    actor_id: int | None
    actor_name: str
    state_after: str
    note: str
    data: dict[str, Any]


class FlagDetail(FlagRead):
    evidence: dict[str, Any]
    legal_source: str
    answer: str
    answered_at: datetime | None
    resolution: str
    closed_at: datetime | None
    steps: list[StepRead]
    allowed_actions: list[str] = Field(description="what the caller may do now")


class AssignRequest(Schema):
    assignee_id: int = Field(description="an enforcement supervisor (a person's id)")
    note: str = Field("", max_length=2000)


class CorrectionRequest(Schema):
    due: date = Field(description="the day the agency must answer by")
    note: str = Field("", max_length=2000, description="what is to be corrected")


class AnswerRequest(Schema):
    answer: str = Field(min_length=1, max_length=4000, description="what the agency did")


class CloseRequest(Schema):
    note: str = Field("", max_length=2000)


class DismissRequest(Schema):
    reason: str = Field(min_length=1, max_length=2000, description="why it is no irregularity")


class RuleOutcomeRead(ReadSchema):
    code: str
    kind: str
    hits: int = Field(description="subjects breaking the rule now")
    raised: int = Field(description="new flags")
    raised_again: int
    updated: int = Field(description="flags whose evidence changed")
    cleared: int = Field(description="flags whose subject complies now")
    seconds: float


class EvaluationRead(ReadSchema):
    at: datetime
    seconds: float
    rules: list[RuleOutcomeRead]


class SeriesRead(ReadSchema):
    name: str
    type: str = Field(description="ECharts series type")
    stack: str
    rule_code: str | None
    measure: str = Field(description="raised or closed")
    data: list[int]


class AgencyTrendRead(ReadSchema):
    agency_id: int | None
    name: str | None
    raised: int
    closed: int
    open: int = Field(description="flags whose case is not closed or dismissed, now")


class TrendRead(ReadSchema):
    """Flags raised and closed per week (weeks start on Monday), ready for an ECharts
    option: `xAxis.data = weeks`, `legend.data = legend`, `series = series`."""

    weeks: list[date]
    legend: list[str]
    series: list[SeriesRead]
    totals: dict[str, list[int]]
    agencies: list[AgencyTrendRead]
