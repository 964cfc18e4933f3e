"""A business's own side of enforcement (企业办事): signing in with its credit code and a code
sent to the phone registered for it, then its inspections, rectification notices with their
deadlines, the proof it uploads, and its penalty decisions with what is owed.

Services flush; the route commits and sends the text message after the commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from cityops.auth.models import AuditEntry
from cityops.cases.service import Picture
from cityops.citizens import intake
from cityops.citizens.service import mask_phone
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents.content import TITLES
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections import rectification
from cityops.enforcement.inspections.models import (
    AgencyRole,
    Inspection,
    InvitationState,
    RectificationNotice,
)
from cityops.enforcement.inspections.service import local_day
from cityops.enforcement.inspections.workflow import inspection_next
from cityops.enforcement.penalties import deadlines
from cityops.enforcement.penalties.checks import penalty_text
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.public import lookup, repository, tokens
from cityops.enforcement.public.schemas import (
    BusinessDecisionRead,
    BusinessInspectionRead,
    BusinessNoticeRead,
    BusinessOverview,
    BusinessRef,
    NoticeLineRead,
    ProofAccepted,
    ProofRead,
)
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound, Unauthorized
from cityops.kit.storage import BlobStorage

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _registered(session: Session, credit_code: str) -> Business:
    business = repository.business_by_credit_code(session, credit_code)
    if business is None or not business.active:
        raise NotFound("credit_code: no business is registered with this code",
                       errors=[FieldProblem("credit_code", "not registered")])  # fmt: skip
    return business


def registered_mobile(business: Business) -> str:
    """The mobile number registered for the business, digits only; the codes go there."""
    phone = re.sub(r"[\s\-]", "", business.phone or "").removeprefix("+86")
    if not MOBILE.match(phone):
        raise Invalid(
            "credit_code: no mobile phone is registered for this business; ask the agency "
            "that regulates it to record one",
            errors=[FieldProblem("credit_code", "no mobile phone registered")],
        )
    return phone


@dataclass(frozen=True)
class CodeIssued:
    phone: str
    phone_hint: str
    code: str


def ask_code(session: Session, secret: str, credit_code: str, client: str,
             now: datetime) -> CodeIssued:  # fmt: skip
    """A code for the phone registered for the business, recorded the way residents' codes
    are (the same limits per phone and per address); the caller sends it after the commit."""
    phone = registered_mobile(_registered(session, credit_code))
    code = intake.issue_phone_code(session, secret, phone, client, now)
    return CodeIssued(phone, mask_phone(phone) or "", code)


def phone_of(session: Session, credit_code: str) -> str:
    """The phone a sign-in code for the business was sent to."""
    return registered_mobile(_registered(session, credit_code))


@dataclass(frozen=True)
class SignedIn:
    business: Business
    token: str
    expires_at: datetime


def sign_in(session: Session, secret: str, credit_code: str, code: str,
            now: datetime) -> SignedIn:  # fmt: skip
    """Spend the code sent to the business's phone for a token for that business only.
    The caller has counted the try (`citizens.intake.check_phone_code`) in a transaction
    of its own."""
    business = _registered(session, credit_code)
    intake.use_phone_code(session, secret, registered_mobile(business), code, now)
    token = tokens.issue(business.id, business.credit_code, secret=secret, now=now)
    audit_business(session, business, "business.sign_in", "enforcement_business", business.id,
                   now=now)  # fmt: skip
    return SignedIn(business, token, now + tokens.TTL)


def business_of(session: Session, claims: tokens.BusinessClaims) -> Business:
    """The business a token speaks for, while it is registered under the same code."""
    business = session.get(Business, claims.business_id)
    if business is None or not business.active or business.credit_code != claims.credit_code:
        raise Unauthorized("business token: the business is no longer registered so; sign in again")
    return business


def audit_business(session: Session, business: Business, action: str, entity: str,
                   entity_id: str | int, *, now: datetime,
                   after: dict[str, object] | None = None) -> None:  # fmt: skip
    """Record what a business did through the entrance, naming it as the actor."""
    session.add(AuditEntry(at=now, actor=f"business:{business.id}:{business.credit_code}"[:100],
                           actor_id=None, action=action, entity=entity,
                           entity_id=str(entity_id), before=None, after=after))  # fmt: skip


# -- what the business sees ------------------------------------------------------------------

# The documents a business gets (addressed to it); internal forms (the filing approval)
# and records are the agency's.
PARTY_DOCUMENT_KINDS = frozenset({"rectification_notice", "order_to_correct", "advance_notice",
                                  "penalty_decision"})  # fmt: skip
DOCUMENT_URL = "/api/v1/public/enforcement/business/documents/{id}.pdf"
PROOF_URL = "/api/v1/public/enforcement/business/notices/{id}/proof"
CENT = Decimal("0.01")


def _fen(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def business_ref(business: Business) -> BusinessRef:
    return BusinessRef(id=business.id, name=business.name, credit_code=business.credit_code,
                       type_name=business.type.name, address=business.address)  # fmt: skip


def _agency_names(session: Session, inspection: Inspection) -> list[str]:
    """The agencies that took part in a visit, the initiator first."""
    taking = [a for a in inspection.agencies if a.state != InvitationState.DECLINED]
    names = repository.agencies_by_id(session, {a.agency_id for a in taking})
    order = sorted(taking, key=lambda a: (a.role != AgencyRole.INITIATOR, a.invited_at))
    return [names[a.agency_id].name for a in order]


def _can_prove(inspection: Inspection) -> bool:
    try:
        inspection_next(inspection.state, "prove")
    except Conflict:
        return False
    return True


def notice_read(session: Session, notice: RectificationNotice, inspection: Inspection,
                today: date) -> BusinessNoticeRead:  # fmt: skip
    """The notice as its PDF says it (the same content), with days left to each deadline."""
    content = rectification.notice_content(
        session, inspection, rectification.failed_findings(session, inspection.id),
        number=notice.number, contact="", now=notice.issued_at,
    )  # fmt: skip
    proof = None
    if notice.proof_at is not None:
        proof = ProofRead(at=notice.proof_at, photos=len(notice.proof_keys), note=notice.proof_note)
    return BusinessNoticeRead(
        id=notice.id, inspection_id=inspection.id, title=TITLES[type(content)],
        number=notice.number, agencies=[i.name for i in content.issuers],
        issued_on=local_day(notice.issued_at),
        served_on=local_day(notice.served_at) if notice.served_at else None,
        deadline=notice.deadline, days_left=(notice.deadline - today).days,
        lines=[NoticeLineRead(agency=line.agency, finding=line.finding,
                              requirement=line.requirement, deadline=line.deadline,
                              days_left=(line.deadline - today).days, basis=list(line.basis))
               for line in content.lines],
        document_url=DOCUMENT_URL.format(id=notice.document_id) if notice.document_id else None,
        proof=proof, can_upload=_can_prove(inspection), proof_url=PROOF_URL.format(id=notice.id),
    )  # fmt: skip


def decision_read(case: PenaltyCase, agency_name: str, document: IssuedDocument | None,
                  today: date) -> BusinessDecisionRead:  # fmt: skip
    """The decision with what is owed today: the fine, less what was paid, plus the late
    fee of Art. 72 once the fifteen days of Art. 67 are past (as recorded at payment, or
    as it stands today while unpaid)."""
    assert case.decided_on is not None
    fine = Decimal(case.fine or 0)
    paid = Decimal(case.paid_fen) / 100
    settled = paid >= fine or case.executed_on is not None
    due = case.payment_due or (deadlines.payment_due(case.served_on) if case.served_on else None)
    late_days, late = 0, Decimal(0)
    if case.late_fee_fen is not None:
        late = Decimal(case.late_fee_fen) / 100
    elif due is not None and case.fine and not settled:
        fee = deadlines.late_fee(case.fine, due, today)
        late_days, late = fee.days_late, fee.amount
    owed = max(Decimal(0), fine + late - paid) if not settled else Decimal(0)
    return BusinessDecisionRead(
        id=case.id, number=document.number if document else case.number or "",
        agency_name=agency_name, title=case.title,
        penalty=penalty_text(case.fine, case.measures or [], case.other_measures or ""),
        fine=case.fine, decided_on=case.decided_on, served_on=case.served_on, payment_due=due,
        days_left=(due - today).days if due and case.fine and not settled else None,
        paid=settled and bool(case.fine), paid_amount=_fen(paid), late_days=late_days,
        late_fee=_fen(late), amount_due=_fen(owed),
        document_url=DOCUMENT_URL.format(id=document.id) if document else None,
    )  # fmt: skip


def overview(session: Session, business: Business, today: date) -> BusinessOverview:
    """Everything of the business's own: its notices with their deadlines and proof, its
    penalty decisions with what is owed, and the visits it has had."""
    notices = [
        notice_read(session, n, i, today) for n, i in repository.notices_of(session, business.id)
    ]
    cases = repository.decisions_of(session, business.id)
    agencies = repository.agencies_by_id(session, {c.agency_id for c in cases})
    documents = repository.decision_documents(session, [c.id for c in cases])
    decisions = [decision_read(c, agencies[c.agency_id].name, documents.get(c.id), today)
                 for c in cases]  # fmt: skip
    visits = []
    for v in repository.visits_of(session, business.id):
        result = lookup.result_of(v)
        title = v.plan.title if v.plan is not None else "监督检查"
        visits.append(BusinessInspectionRead(
            id=v.id, title=title, agencies=_agency_names(session, v), scheduled_at=v.scheduled_at,
            started_at=v.started_at, place=v.place, result=result,
            result_name=lookup.RESULT_NAMES_ZH[result],
        ))  # fmt: skip
    return BusinessOverview(business=business_ref(business), today=today, notices=notices,
                            decisions=decisions, inspections=visits)  # fmt: skip


def document_of(session: Session, business: Business, document_id: int) -> IssuedDocument:
    """A document addressed to the business about its own visit or case; the same 404 for
    any other, so that nobody learns what another business was sent."""
    row = session.get(IssuedDocument, document_id)
    if (row is None or row.kind not in PARTY_DOCUMENT_KINDS
            or repository.business_of_subject(session, row.subject_kind, row.subject_id)
            != business.id):  # fmt: skip
        raise NotFound(f"no document {document_id} for this business")
    return row


def prove(session: Session, storage: BlobStorage, business: Business, notice_id: int, *,
          note: str, photos: list[Picture], max_photo_bytes: int, request_key: str | None,
          now: datetime) -> tuple[ProofAccepted, bool]:  # fmt: skip
    """The business's proof of rectification for its own notice, handed to the inspection
    (`inspections.rectification.submit_proof`), which then awaits re-inspection. Sent again
    under the same idempotency key, the first answer is returned and nothing is added.
    Returns the answer and whether it was a repeat."""
    scope = f"proof:{business.id}"
    if request_key is not None:
        earlier = repository.receipt(session, scope, request_key)
        if earlier is not None:
            return ProofAccepted.model_validate(earlier.response | {"repeat": True}), True
    notice = repository.notice_of(session, notice_id, business.id)
    if notice is None:
        raise NotFound(f"no notice {notice_id} for this business")
    done = rectification.submit_proof(
        session, storage, notice.inspection_id, note=note, photos=photos,
        max_photo_bytes=max_photo_bytes, now=now,
    )  # fmt: skip
    inspection = session.get(Inspection, notice.inspection_id)
    assert inspection is not None and done.proof_at is not None
    accepted = ProofAccepted(notice_id=notice.id, inspection_id=inspection.id,
                             photos=len(done.proof_keys), proof_at=done.proof_at,
                             state=inspection.state)  # fmt: skip
    audit_business(session, business, "business.proof", "inspection", inspection.id, now=now,
                   after={"notice": notice.number, "photos": len(photos)})  # fmt: skip
    if request_key is not None:
        repository.add_receipt(session, scope, request_key, accepted.model_dump(mode="json"), now)
    return accepted, False
