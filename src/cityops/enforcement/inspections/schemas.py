"""Inspection I/O: plans and their draw, visits with their agencies, officers, merged
checklist, findings and notice, and the bodies of every action."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core.core_schema import ValidationInfo

from cityops.enforcement.inspections.models import FindingOutcome, PlanKind
from cityops.enforcement.registries.schemas import REGION_CODE
from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime

OfficerIds = list[int]
# The ways a document may be served (Civil Procedure Law, as the penalty law refers to it).
SERVICE_METHODS = ("直接送达", "留置送达", "邮寄送达", "电子送达", "委托送达", "公告送达")
MAX_SEED = 2**63 - 1
# Why a visit is made without a plan (enforcement_inspections.source; a plan's visits say
# "plan"). Supervision's `inspection_without_plan` exempts complaint and referral.
UNPLANNED_SOURCES = ("complaint", "referral", "patrol")


# -- bodies ----------------------------------------------------------------------------------


class PlanCreate(Schema):
    """A random (双随机) or special (专项) plan of the caller's agency."""

    kind: Literal["random", "special"] = PlanKind.RANDOM.value
    title: str = Field(min_length=1, max_length=200)
    region_code: str = Field(pattern=REGION_CODE, description="where targets are drawn")
    planned_from: date
    planned_until: date
    item_codes: list[str] = Field(min_length=1, max_length=50, description="what is checked")
    type_codes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="the business types drawn from; none: the types listing any of the items",
    )
    target_count: int = Field(ge=1, le=100_000, description="how many businesses to draw")
    officers_per_target: int = Field(default=2, ge=2, le=10)
    agency_id: int | None = Field(default=None, description="needed if you act for several")
    note: str = Field(default="", max_length=2000)

    @field_validator("planned_until")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("planned_from")
        if start is not None and value < start:
            raise ValueError("must not be before planned_from")
        return value


class JointPlanCreate(Schema):
    """A joint inspection (综合查一次) of one business by several agencies at once."""

    business_id: int
    scheduled_at: UTCDatetime
    place: str = Field(default="", max_length=200, description="none: the business's address")
    title: str = Field(default="", max_length=200)
    officer_ids: OfficerIds = Field(
        min_length=2, max_length=20, description="the initiating agency's officers"
    )
    agency_ids: list[int] | None = Field(
        default=None,
        max_length=20,
        description="the agencies to invite; none: those the business's type proposes",
    )
    agency_id: int | None = Field(default=None, description="needed if you act for several")
    note: str = Field(default="", max_length=2000)


class DrawIn(Schema):
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="none: a random seed, recorded"
    )


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=1000)


class ScheduleIn(Schema):
    scheduled_at: UTCDatetime
    place: str = Field(default="", max_length=200)


class InvitationsIn(Schema):
    agency_ids: list[int] = Field(max_length=20, description="every agency to invite")


class AcceptIn(Schema):
    officer_ids: OfficerIds = Field(min_length=2, max_length=20)


class NoticeIn(Schema):
    contact: str = Field(default="", max_length=500, description="whom to tell when rectified")


class ServeIn(Schema):
    method: Literal[SERVICE_METHODS]  # type: ignore[valid-type]
    served_at: UTCDatetime | None = Field(default=None, description="none: now")


class ResultIn(Schema):
    finding_id: int
    rectified: bool
    note: str = Field(default="", max_length=2000)


class ReinspectionIn(Schema):
    officer_ids: OfficerIds = Field(min_length=2, max_length=20)
    results: list[ResultIn] = Field(min_length=1, max_length=500)


class FindingIn(Schema):
    """A finding as the form sends it (photos come beside it)."""

    checklist_item_id: int | None = None
    item_id: int | None = Field(default=None, description="for a free-text finding")
    outcome: FindingOutcome
    note: str = Field(default="", max_length=4000)
    requirement: str = Field(default="", max_length=2000, description="整改要求, when failed")
    deadline: date | None = Field(default=None, description="整改期限, when failed")


class InspectionCreate(Schema):
    """A visit without a plan (无计划检查): on a complaint (投诉举报), a referral (转办交办,
    移送) or met on patrol (巡查发现), by the caller's agency with its officers."""

    source: Literal[UNPLANNED_SOURCES]  # type: ignore[valid-type]
    business_id: int
    lead_agency_id: int | None = Field(
        default=None, description="the agency that inspects; needed if you act for several"
    )
    scheduled_at: UTCDatetime
    place: str = Field(default="", max_length=200, description="none: the business's address")
    reason: str = Field(
        min_length=1, max_length=2000, description="the complaint or referral and what it says"
    )
    officer_ids: OfficerIds = Field(min_length=2, max_length=20)
    item_codes: list[str] | None = Field(
        default=None,
        max_length=50,
        description="what is checked; none: the agency's items for the business's type",
    )


class RecordIn(Schema):
    present: str = Field(
        default="",
        max_length=200,
        description="who was there for the party (现场负责人); none: the name the party "
        "signed with, else the business's representative",
    )


# -- reads -----------------------------------------------------------------------------------


class InspectionBrief(ReadSchema):
    id: int
    plan_id: int | None
    business_id: int
    business_name: str
    lead_agency_id: int
    region_code: str
    scheduled_at: datetime | None
    place: str
    state: str
    outcome: str | None
    rectification_deadline: date | None


class PlanRead(ReadSchema):
    id: int
    number: str | None
    title: str
    kind: str
    initiator_agency_id: int
    initiator_agency_name: str
    region_code: str
    state: str
    planned_from: date
    planned_until: date
    item_codes: list[str]
    type_codes: list[str]
    target_count: int | None
    officers_per_target: int
    seed: int | None
    draw: dict[str, Any] | None = Field(description="what was drawn, from how many (digests)")
    published_at: datetime | None
    submitted_at: datetime | None
    approved_by: int | None
    approved_at: datetime | None
    reason: str
    note: str
    created_by: int
    created_at: datetime


class PlanDetail(PlanRead):
    inspections: list[InspectionBrief]


class DrawCheckRead(ReadSchema):
    """A re-run of a plan's draw from its recorded seed over today's directory."""

    same: bool = Field(description="the same targets and officers")
    same_directory: bool = Field(description="the candidates' digest is the recorded one")
    same_roster: bool
    recorded: dict[str, Any]
    rerun: dict[str, Any]


class OfficerOnRead(ReadSchema):
    officer_id: int
    name: str
    certificate_number: str


class AgencyOnRead(ReadSchema):
    agency_id: int
    code: str
    name: str
    role: str
    state: str
    reason: str
    item_codes: list[str]
    invited_at: datetime
    responded_at: datetime | None
    responded_by: int | None
    officers: list[OfficerOnRead]


class AgencyRef(ReadSchema):
    id: int
    name: str


class ChecklistPointRead(ReadSchema):
    id: int = Field(description="the checklist_item_id to record a finding under")
    code: str
    text: str
    citation: str | None
    item_codes: list[str]
    checklist_item_ids: list[int] = Field(description="every entry merged into this point")
    agencies: list[AgencyRef] = Field(description="the agencies that need it checked")


class FindingRead(ReadSchema):
    id: int
    agency_id: int
    agency_name: str
    checklist_item_id: int | None
    item_id: int
    item_code: str
    officer_id: int
    officer_name: str
    outcome: str
    note: str
    requirement: str
    deadline: date | None
    photos: int = Field(description="how many photos (GET …/findings/{id}/photos/{n})")
    recorded_at: datetime
    rectified: bool | None
    reinspection_note: str
    penalty_case_id: int | None


class NoticeRead(ReadSchema):
    id: int
    number: str
    document_id: int | None = Field(description="the issued PDF: GET /enforcement/documents/…")
    deadline: date
    issued_at: datetime
    served_at: datetime | None
    served_method: str
    proof_photos: int
    proof_note: str
    proof_at: datetime | None


class BusinessRef(ReadSchema):
    id: int
    name: str
    credit_code: str
    type_code: str
    address: str


class SignatureRead(ReadSchema):
    id: int
    role: str = Field(description="party | officer")
    name: str
    officer_id: int | None
    signed_at: datetime
    url: str = Field(description="the PNG")


class RecordRead(ReadSchema):
    """An on-site record (现场检查笔录) issued about the visit, by one agency on it."""

    document_id: int
    agency_id: int
    agency_name: str
    title: str
    number: str
    pages: int
    issued_at: datetime
    url: str = Field(description="the PDF, readable by every agency on the visit")


class InspectionRow(InspectionBrief):
    """A visit in a list: the brief with its plan, its agencies (their answers and
    officers) — what a phone shows without reading each visit."""

    plan_number: str | None
    plan_kind: str | None
    source: str
    agencies: list[AgencyOnRead]


class InspectionDetail(InspectionBrief):
    plan_number: str | None
    plan_kind: str | None
    source: str
    grid_code: str | None
    business: BusinessRef
    started_at: datetime | None
    finished_at: datetime | None
    reinspected_at: datetime | None
    closed_at: datetime | None
    agencies: list[AgencyOnRead]
    checklist: list[ChecklistPointRead]
    findings: list[FindingRead]
    notice: NoticeRead | None
    records: list[RecordRead] = Field(description="the on-site records (现场检查笔录) issued")


class ProposedAgencyRead(ReadSchema):
    id: int
    code: str
    name: str
    kind_name: str
    items: list[str]
    invited: bool = Field(description="already on the inspection")


class PublicTargetRead(ReadSchema):
    business_name: str
    credit_code: str
    state: str
    outcome: str | None


class PublicPlanRead(ReadSchema):
    """A published plan (公开): what anyone may see of it; no officer's name or phone."""

    number: str | None
    title: str
    kind: str
    agency_name: str
    region_code: str
    planned_from: date
    planned_until: date
    published_at: datetime
    seed: int | None
    candidates: int | None = Field(description="how many businesses were drawn from")
    candidates_digest: str | None
    targets: list[PublicTargetRead]
