"""Case I/O: reads with steps and the traffic light, filters, and action requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cityops.cases.queues import QueueName
from cityops.kit.schemas import ReadSchema, RequestKey, Schema, UTCDatetime


class StepRead(ReadSchema):
    id: int
    seq: int
    action: str
    action_name: str = ""
    from_state: str | None
    to_state: str
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    rule: str | None
    department_id: int | None
    stage_due_at: datetime | None
    on_time: bool | None
    note: str
    data: dict[str, Any]
    attachments: list[Any]


class AttachmentRead(ReadSchema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: int | None
    uploaded_at: datetime
    # Served with `box` drawn on it; `?original=true` serves the stored bytes (`sha256`).
    url: str
    box: list[float] | None = None


class CaseRead(ReadSchema):
    id: int
    number: str
    class_code: str | None
    class_name: str | None = None
    family: str
    urgency: str
    state: str
    description: str
    address: str | None
    lon: float
    lat: float
    grid_code: str | None
    region_code: str
    needs_placement: bool
    source_kind: str
    source: str
    reporter_id: int | None
    needs_verification: bool
    verified: bool | None
    self_handled: bool
    department_id: int | None
    assignee_id: int | None
    pending_request: dict[str, Any] | None
    signal_count: int
    rework_count: int
    extension_count: int
    return_count: int
    created_at: datetime
    reported_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    signed_for_at: datetime | None = Field(
        description="When the handler signed for the task (签收) since it last reached them"
    )
    handle_due_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    stage: str | None = None
    stage_started_at: datetime
    stage_due_at: datetime | None
    light: Literal["green", "yellow", "red"] | None = None
    used: float | None = Field(default=None, description="Fraction of the stage limit used")
    overdue: bool
    evaluation: int | None
    version: int


class CaseDetail(CaseRead):
    department_name: str | None = None
    assignee_name: str | None = None
    steps: list[StepRead]
    attachments: list[AttachmentRead]
    allowed_actions: list[str]


class CaseFilter(Schema):
    """Filters shared by the case list API, the console pages and KPI drill-downs."""

    state: list[str] | None = None
    class_code: list[str] | None = None
    region: str | None = Field(default=None, pattern=r"^\d{6,15}$")
    department_id: int | None = None
    assignee_id: int | None = None
    overdue: bool | None = None
    needs_placement: bool | None = None
    source_kind: list[str] | None = None
    created_from: UTCDatetime | None = None
    created_to: UTCDatetime | None = None
    text: str | None = Field(
        default=None, max_length=100, description="In the description or address, or a case number"
    )
    queue: QueueName | None = Field(default=None, description="A work queue (待办队列) by name")


class QueueCounts(Schema):
    """How many open cases wait in each work queue, within your scope and the filters."""

    counts: dict[str, int]


class SuggestionRead(ReadSchema):
    """A handler to dispatch to, with why it is suggested and how much it has open."""

    department_id: int | None
    department_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    open_tasks: int = Field(description="Cases with this handler still being handled")
    reasons: list[str] = Field(
        description="responsible_department, on_duty, dispatch_rule, street_office"
    )
    rule: str | None = Field(description="The automation rule behind dispatch_rule")


class ActionRequest(Schema):
    """An action on a case; which fields matter depends on the action."""

    action: str = Field(description="e.g. accept, file, dispatch, sign_for, report_handled, check")
    note: str = Field(default="", max_length=2000)
    outcome: str | None = Field(
        default=None, description="verify: confirmed|not_confirmed; check: pass|rework"
    )
    class_code: str | None = Field(
        default=None,
        description="accept, send_verify, file: classify the case (required to accept or "
        "file a case that has no class)",
    )
    department_id: int | None = Field(default=None, description="dispatch: to a department")
    assignee_id: int | None = Field(default=None, description="dispatch: to a person")
    extension_value: float | None = Field(default=None, gt=0, le=1000)
    extension_unit: Literal["working_hours", "working_days", "natural_hours"] | None = None
    score: int | None = Field(default=None, ge=1, le=5, description="evaluate: 1–5")
    attachment_ids: list[int] = Field(default_factory=list, max_length=20)
    expected_version: int | None = Field(
        default=None, description="Refuse (409) if the case changed since this version"
    )
    location: dict[str, float] | None = Field(
        default=None, description="Where the actor is (lon, lat), for on-site actions"
    )
    request_key: RequestKey | None = Field(
        default=None,
        description="Idempotency key (e.g. a UUID; 1–64 printable ASCII characters): a resend "
        "with the same key by the same person changes nothing and answers the case as it is",
    )
