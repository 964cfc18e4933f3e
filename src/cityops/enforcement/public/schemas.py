"""What the public entrance takes in and gives out. Nothing here names a citizen party in
full or shows a complainant's contact outside the supervisors' endpoints."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, field_validator

from cityops.citizens.schemas import MOBILE, plain_text
from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime

# A unified social credit code (18 characters) or, for a citizen, an ID number.
CREDIT_CODE = r"^[0-9A-Za-z]{18}$"


def _upper(value: str) -> str:
    return value.strip().upper()


# -- what is published ----------------------------------------------------------------------


class PublicResult(ReadSchema):
    """One business visited under a plan, and what was found."""

    business_name: str = Field(description="An organisation in full; a citizen as 张*")
    credit_code: str | None = Field(description="null for a citizen")
    result: str = Field(description="pending | compliant | rectification | rectified | penalty")
    result_name: str
    inspected_on: date | None


class PublicPlan(ReadSchema):
    """A published inspection plan (双随机、一公开): the draw and the results."""

    id: int
    number: str | None
    title: str
    kind: str
    kind_name: str
    agency_name: str
    region_name: str
    planned_from: date
    planned_until: date
    published_at: datetime | None
    seed: int | None = Field(description="The draw's recorded seed: the same seed over the "
                             "same directory draws the same businesses")  # fmt: skip
    candidates: int | None = Field(description="How many businesses the draw was made from")
    drawn: int = Field(description="How many were drawn (visited)")
    candidates_digest: str | None = Field(description="SHA-256 of the candidates' credit codes")
    items: list[str] = Field(description="The enforcement items checked")
    results: list[PublicResult]
    counts: dict[str, int] = Field(description="Businesses per result")


class PublicDecision(ReadSchema):
    """A published penalty decision (行政处罚决定公示, Art. 48)."""

    id: int
    number: str = Field(description="The decision's document number (文书号)")
    case_number: str
    agency_name: str
    party_kind: str
    party_name: str = Field(description="An organisation in full; a citizen as 张*")
    party_identifier: str | None = Field(description="The credit code; null for a citizen")
    title: str
    facts: str = Field(description="The facts in short")
    basis: list[str]
    penalty: str
    fine: int | None
    decided_on: date
    published_on: date


# -- complaints ------------------------------------------------------------------------------


class ComplaintIn(Schema):
    """A complaint about enforcement conduct, as the public page sends it (multipart, beside
    up to three `photos`). Name and phone are optional; a phone needs the code sent to it."""

    what: str = Field(min_length=5, max_length=2000, description="What happened")
    agency_id: int | None = Field(default=None, description="The agency, if known")
    officer_name: str | None = Field(default=None, max_length=60)
    certificate_number: str | None = Field(
        default=None, max_length=40, description="The officer's certificate, if seen"
    )
    happened_at: UTCDatetime = Field(description="When it happened")
    place: str = Field(min_length=2, max_length=250, description="Where it happened")
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, pattern=MOBILE)
    code: str | None = Field(default=None, pattern=r"^\d{6}$")

    _plain = field_validator("what", "officer_name", "certificate_number", "place", "name",
                             mode="after")(plain_text)  # fmt: skip


class ComplaintTaken(ReadSchema):
    ticket: str
    state: str
    state_name: str
    notice: str
    repeat: bool = False


class PhotoLink(ReadSchema):
    url: str
    content_type: str
    size: int


class ComplaintTrack(ReadSchema):
    """What anyone holding the ticket sees: no name or phone."""

    ticket: str
    state: str
    state_name: str
    what: str
    agency_name: str | None
    officer_name: str
    happened_at: datetime
    place: str
    created_at: datetime
    photos: list[PhotoLink]
    answer: str | None
    answered_at: datetime | None


class AgencyRef(ReadSchema):
    id: int
    name: str
    kind: str
    kind_name: str


class OfficerRef(ReadSchema):
    id: int
    name: str
    certificate_number: str
    agency_id: int
    agency_name: str


class ComplaintRead(ReadSchema):
    """A complaint as the enforcement supervisors see it, with the complainant's contact."""

    id: int
    ticket: str
    state: str
    state_name: str
    what: str
    agency: AgencyRef | None
    officer_name: str
    certificate_number: str
    officer: OfficerRef | None = Field(
        description="The registry's officer holding the certificate; null when none does or "
        "none was given"
    )
    certificate_found: bool | None = Field(description="null when no certificate was given")
    happened_at: datetime
    place: str
    name: str | None
    phone: str | None
    phone_verified: bool
    photos: list[PhotoLink]
    created_at: datetime
    updated_at: datetime
    handler_id: int | None
    handler_name: str | None
    taken_at: datetime | None
    answer: str
    answered_at: datetime | None
    answered_by: int | None
    answered_by_name: str | None
    flag_id: int | None


class ComplaintAnswerIn(Schema):
    answer: str = Field(min_length=5, max_length=2000, description="What was found and done")

    _plain = field_validator("answer", mode="after")(plain_text)


class PublicAgencyRead(ReadSchema):
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    phone: str
    address: str


# -- the business's sign-in ------------------------------------------------------------------


class BusinessCodeIn(Schema):
    credit_code: str = Field(pattern=CREDIT_CODE, description="统一社会信用代码, 18 characters")

    _upper = field_validator("credit_code", mode="after")(_upper)


class BusinessCodeSent(ReadSchema):
    phone_hint: str = Field(description="The registered phone the code went to, masked")
    expires_in: int = Field(description="Seconds the code stays good")
    resend_after: int = Field(description="Seconds before another code may be asked for")


class BusinessTokenIn(Schema):
    credit_code: str = Field(pattern=CREDIT_CODE)
    code: str = Field(pattern=r"^\d{6}$", description="The code sent to the registered phone")

    _upper = field_validator("credit_code", mode="after")(_upper)


class BusinessRef(ReadSchema):
    id: int
    name: str
    credit_code: str
    type_name: str
    address: str


class BusinessTokenRead(ReadSchema):
    access_token: str = Field(description="Send it as the X-Business-Token header")
    token_type: str = "business"
    expires_in: int
    expires_at: datetime
    business: BusinessRef


# -- the business's own ----------------------------------------------------------------------


class NoticeLineRead(ReadSchema):
    """One line of a rectification notice, as the PDF has it."""

    agency: str
    finding: str
    requirement: str
    deadline: date
    days_left: int = Field(description="Days until the deadline; negative once past it")
    basis: list[str]


class ProofRead(ReadSchema):
    at: datetime
    photos: int
    note: str


class BusinessNoticeRead(ReadSchema):
    """A rectification notice to the business (整改通知书), its deadline and proof."""

    id: int
    inspection_id: int
    title: str
    number: str
    agencies: list[str]
    issued_on: date
    served_on: date | None
    deadline: date
    days_left: int
    lines: list[NoticeLineRead]
    document_url: str | None = Field(description="The PDF, with the X-Business-Token header")
    proof: ProofRead | None
    can_upload: bool = Field(description="Whether proof of rectification may be sent now")
    proof_url: str


class BusinessDecisionRead(ReadSchema):
    """A penalty decision on the business, with what it owes (Art. 67, 72)."""

    id: int
    number: str
    agency_name: str
    title: str
    penalty: str
    fine: int | None
    decided_on: date
    served_on: date | None
    payment_due: date | None = Field(description="Art. 67: 15 days from service")
    days_left: int | None
    paid: bool
    paid_amount: str = Field(description="CNY paid, to the fen")
    late_days: int
    late_fee: str = Field(description="Art. 72: 3 % of the fine a day, at most the fine (CNY)")
    amount_due: str = Field(description="CNY still owed, late fee included")
    document_url: str | None


class BusinessInspectionRead(ReadSchema):
    """A visit the business had (visits not yet made are not shown: a random inspection
    is not announced)."""

    id: int
    title: str
    agencies: list[str]
    scheduled_at: datetime | None
    started_at: datetime | None
    place: str
    result: str
    result_name: str


class BusinessOverview(ReadSchema):
    business: BusinessRef
    today: date
    notices: list[BusinessNoticeRead]
    decisions: list[BusinessDecisionRead]
    inspections: list[BusinessInspectionRead]


class ProofIn(Schema):
    """Proof of rectification as the page sends it, beside up to three `photos`."""

    note: str | None = Field(default=None, max_length=2000, description="What was corrected")

    _plain = field_validator("note", mode="after")(plain_text)


class ProofAccepted(ReadSchema):
    notice_id: int
    inspection_id: int
    photos: int = Field(description="Photos of proof sent in all")
    proof_at: datetime
    state: str
    repeat: bool = False
