"""Penalty case I/O: opening a case, the body of each action, and what is read back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from cityops.enforcement.penalties.rules import Measure, ServiceMethod
from cityops.enforcement.registries.models import Grade
from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime

PartyKind = Literal["citizen", "organisation"]
Source = Literal["inspection", "complaint", "referral", "patrol", "other"]
Exempt = Literal["first_violation", "minor"]
Text = Annotated[str, Field(max_length=4000)]
Line = Annotated[str, Field(max_length=200)]
OfficerIds = Annotated[list[int], Field(max_length=20)]
Cny = Annotated[int, Field(ge=0, le=10**12)]


class PartyIn(Schema):
    """当事人, when the case is not against a registered business."""

    kind: PartyKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    identifier: Annotated[str, Field(max_length=40)] = ""
    representative: Annotated[str, Field(max_length=60)] = ""
    address: Line = ""
    phone: Annotated[str, Field(max_length=40)] = ""


class CaseOpen(Schema):
    """Propose a case for filing (立案申请) under the general procedure."""

    item_code: str
    agency_code: str | None = Field(None, description="default: the one agency you act for")
    business_id: int | None = None
    party: PartyIn | None = Field(None, description="required without business_id")
    source: Source = "inspection"
    region_code: str | None = Field(None, description="default: the business's street")
    title: Line | None = Field(None, description="案由; default: the item's name")
    facts: Text = ""
    place: Line = ""
    violation_on: date
    violation_ended_on: date | None = Field(None, description="the end of a continuing one")
    serious_harm: bool = Field(False, description="life, health or financial security harmed")
    discovered_on: date | None = Field(None, description="default: today")
    officer_ids: OfficerIds = Field(default_factory=list, description="承办人员 (registry ids)")


class OnTheSpot(Schema):
    """A decision made on the spot under the simplified procedure (Art. 51)."""

    item_code: str
    agency_code: str | None = None
    business_id: int | None = None
    party: PartyIn | None = None
    region_code: str | None = None
    facts: Text
    place: Line = ""
    violation_on: date
    officer_ids: OfficerIds
    grade: Grade = Grade.LIGHTER
    benchmark_id: int | None = None
    measures: list[Measure]
    fine: Cny | None = None
    departure_reason: Text = ""
    recipient: Line = Field("", description="who received the form; default: the party")


class FromFinding(Schema):
    finding_id: int


class _Act(Schema):
    note: Text = ""


class ApproveFiling(_Act):
    action: Literal["approve_filing"]
    officer_ids: OfficerIds = Field(default_factory=list, description="承办人员, if not yet set")


class RefuseFiling(_Act):
    action: Literal["refuse_filing"]


class CollectEvidence(_Act):
    action: Literal["collect_evidence"]
    officer_ids: OfficerIds
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]


class RecordInquiry(_Act):
    action: Literal["record_inquiry"]
    officer_ids: OfficerIds
    person: Line
    record: Text


class InspectSite(_Act):
    action: Literal["inspect_site"]
    officer_ids: OfficerIds
    place: Line = ""
    started_at: UTCDatetime | None = None
    ended_at: UTCDatetime | None = None
    present: Line = ""
    record: Text
    findings: Annotated[list[Line], Field(max_length=50)] = Field(default_factory=list)


class OrderCorrection(_Act):
    action: Literal["order_correction"]
    officer_ids: OfficerIds
    requirement: Text
    deadline: date


class Proposal(Schema):
    """The penalty: intended (propose) or decided (decide)."""

    grade: Grade
    benchmark_id: int | None = None
    measures: list[Measure] = Field(default_factory=list)
    fine: Cny | None = None
    base_amount: Cny | None = Field(None, description="货值金额 … for a multiple")
    confiscated_value: Cny | None = None
    other_measures: Text = ""
    departure_reason: Text = ""


class Propose(_Act, Proposal):
    action: Literal["propose"]
    facts: Text | None = Field(None, description="违法事实, if changed")
    major_public_interest: bool = False
    complex: bool = False


class RequestReview(_Act):
    action: Literal["request_review"]


class PassReview(_Act):
    action: Literal["pass_review"]


class ReturnReview(_Act):
    action: Literal["return_review"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]


class ServeNotice(_Act):
    action: Literal["serve_notice"]
    method: ServiceMethod = ServiceMethod.IN_PERSON


class RecordStatement(_Act):
    action: Literal["record_statement"]
    statement: Text
    waive_hearing: bool = False


class RequestHearing(_Act):
    action: Literal["request_hearing"]


class NotifyHearing(_Act):
    action: Literal["notify_hearing"]
    hearing_on: date
    place: Line
    host_officer_id: int


class HoldHearing(_Act):
    action: Literal["hold_hearing"]
    held: bool = Field(True, description="false: the party did not come (Art. 64 item 6)")
    record: Text = ""


class Lapse(_Act):
    action: Literal["lapse"]


class ReopenInvestigation(_Act):
    action: Literal["reopen_investigation"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]


class Extend(_Act):
    action: Literal["extend"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]
    collective: bool = Field(False, description="decided collectively (集体讨论)")


class Decide(_Act):
    """The decision. A penalty field left out takes the proposal's value."""

    action: Literal["decide"]
    outcome: Literal["penalty", "no_penalty"] = "penalty"
    grade: Grade | None = None
    benchmark_id: int | None = None
    measures: list[Measure] | None = None
    fine: Cny | None = None
    base_amount: Cny | None = None
    confiscated_value: Cny | None = None
    other_measures: Text | None = None
    departure_reason: Text | None = None
    exempt: Exempt | None = None
    exempt_reason: Text = ""
    first_violation: bool = False
    harm_slight: bool = False
    no_harm: bool = False
    corrected: bool = False
    collective: bool = Field(False, description="集体讨论 (Art. 57 para. 2)")
    publish: bool | None = Field(None, description="social impact (Art. 48); default: yes")


class Serve(_Act):
    action: Literal["serve"]
    method: ServiceMethod = ServiceMethod.IN_PERSON
    recipient: Line = ""
    place: Line = ""
    served_at: UTCDatetime | None = None
    officer_ids: OfficerIds = Field(default_factory=list)


class RecordPayment(_Act):
    action: Literal["record_payment"]
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    paid_on: date | None = None


class RecordExecution(_Act):
    action: Literal["record_execution"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]


class RecordFiling(_Act):
    action: Literal["record_filing"]


class Publish(_Act):
    action: Literal["publish"]


class Close(_Act):
    action: Literal["close"]


class Terminate(_Act):
    action: Literal["terminate"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]


ActionBody = Annotated[
    ApproveFiling | RefuseFiling | CollectEvidence | RecordInquiry | InspectSite
    | OrderCorrection | Propose | RequestReview | PassReview | ReturnReview | ServeNotice
    | RecordStatement | RequestHearing | NotifyHearing | HoldHearing | Lapse
    | ReopenInvestigation | Extend | Decide | Serve | RecordPayment | RecordExecution
    | RecordFiling | Publish | Close | Terminate,
    Field(discriminator="action"),
]  # fmt: skip


class CaseFilter(Schema):
    stage: list[str] | None = None
    agency_code: str | None = None
    procedure: str | None = None
    overdue: bool | None = None
    business_id: int | None = None
    text: str | None = None


# -- reads -----------------------------------------------------------------------------------


class CaseRead(ReadSchema):
    id: int
    number: str | None
    agency_id: int
    agency_name: str = ""
    item_id: int
    item_code: str = ""
    business_id: int | None
    party_kind: str
    party_name: str
    party_identifier: str
    procedure: str
    stage: str
    stage_name: str = ""
    source: str
    origin_kind: str | None
    origin_id: int | None
    title: str
    region_code: str
    violation_on: date
    discovered_on: date
    filed_on: date | None
    decision_due: date | None
    extended_until: date | None
    decided_on: date | None
    served_on: date | None
    published_on: date | None
    closed_on: date | None
    grade: str | None
    benchmark_id: int | None
    fine: int | None
    measures: list[str]
    other_measures: str
    departure_reason: str
    exempt: str | None
    exempt_reason: str
    legal_review_required: bool
    legal_review_why: str
    hearing_right: bool
    hearing_requested: bool
    stage_due: date | None
    light: Literal["green", "yellow", "red"] | None = None
    overdue: bool = False
    created_by: int | None
    created_at: datetime


class StepRead(ReadSchema):
    id: int
    seq: int
    kind: str
    from_stage: str | None
    to_stage: str
    at: datetime
    actor_id: int | None
    actor_name: str
    officer_ids: list[int]
    note: str
    document_id: int | None
    payload: dict[str, Any]


class DeadlineRead(Schema):
    """One period of the case: from when, until when, by what rule, and how it stands."""

    name: str
    label: str
    basis: str
    unit: str
    starts_on: date
    due: date
    done_on: date | None = None
    on_time: bool | None = None
    light: Literal["green", "yellow", "red"] | None = None
    used: float | None = None


class DocumentRead(Schema):
    id: int
    kind: str
    title: str
    number: str
    step_kind: str
    url: str


class CaseDetail(CaseRead):
    party_representative: str
    party_address: str
    party_phone: str
    facts: str
    place: str
    officer_ids: list[int]
    violation_ended_on: date | None
    serious_harm: bool
    base_amount: int | None
    confiscated_value: int | None
    notified_on: date | None
    hearing_on: date | None
    decision_kind: str | None
    service_method: str | None
    payment_due: date | None
    paid: Decimal = Decimal(0)
    late_fee: Decimal | None = None
    amount_due: Decimal | None = None
    publication_required: bool
    publication_due: date | None
    record_due: date | None
    recorded_on: date | None
    allowed_actions: list[str] = Field(default_factory=list)
    deadlines: list[DeadlineRead] = Field(default_factory=list)
    documents: list[DocumentRead] = Field(default_factory=list)
    steps: list[StepRead] = Field(default_factory=list)


class PublicDecisionRead(Schema):
    """A published decision as the public sees it (Art. 48): a citizen's name masked and
    their ID and contacts left out."""

    number: str
    agency: str
    party_name: str
    party_identifier: str
    title: str
    facts: str
    basis: list[str]
    penalty: str
    decided_on: date
    published_on: date | None  # None: a preview before publication


class OverdueRead(Schema):
    case_id: int
    number: str | None
    agency_id: int
    stage: str
    kind: str
    due: date


class SettingsRead(Schema):
    agency_code: str
    number_prefix: str
    review_fine_citizen: int
    review_fine_organisation: int
    hearing_fine_citizen: int
    hearing_fine_organisation: int
    statement_days: int
    filing_working_days: int
    publication_working_days: int
    record_working_days: int
    extension_days: int
    payment_method: str
    reconsideration_body: str
    court: str


class SettingsUpdate(Schema):
    """Only the fields sent change; null puts one back to its default."""

    number_prefix: Annotated[str, Field(min_length=1, max_length=30)] | None = None
    review_fine_citizen: Cny | None = None
    review_fine_organisation: Cny | None = None
    hearing_fine_citizen: Cny | None = None
    hearing_fine_organisation: Cny | None = None
    statement_days: Annotated[int, Field(ge=1, le=60)] | None = None
    filing_working_days: Annotated[int, Field(ge=1, le=60)] | None = None
    publication_working_days: Annotated[int, Field(ge=0, le=60)] | None = None
    record_working_days: Annotated[int, Field(ge=0, le=60)] | None = None
    extension_days: Annotated[int, Field(ge=1, le=365)] | None = None
    payment_method: Text | None = None
    reconsideration_body: Line | None = None
    court: Line | None = None
