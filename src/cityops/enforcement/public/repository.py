"""The public entrance's queries: complaints, the business a credit code names, and what a
business may see of its own visits, notices, decisions and documents. (What is published
for anyone is queried in `lookup`.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections.models import Inspection, RectificationNotice
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.public.models import Complaint, PublicReceipt
from cityops.enforcement.registries.models import Agency, Officer
from cityops.org.models import Person

# What documents are about (their `subject_kind`), and the decision's kind.
INSPECTION_SUBJECT = "inspection"
PENALTY_SUBJECT = "penalty_case"
DECISION_KIND = "penalty_decision"

# -- complaints ------------------------------------------------------------------------------


def complaint_by_key(session: Session, key: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.request_key == key))


def complaint_by_ticket(session: Session, ticket: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.ticket == ticket))


def complaints_from_client_since(session: Session, client: str, since: datetime) -> int:
    return int(session.scalar(
        select(func.count(Complaint.id))
        .where(Complaint.client == client, Complaint.created_at >= since)
    ) or 0)  # fmt: skip


def officer_by_certificate(session: Session, certificate: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.certificate_number == certificate))


@dataclass(frozen=True)
class ComplaintFilter:
    """The supervisors' list: by state, agency, when it came in, words of what happened."""

    states: tuple[str, ...] = ()
    agency_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def complaints_query(f: ComplaintFilter) -> Select[Any]:
    """Waiting ones first (received, then being handled, then answered), oldest first
    within each, so the longest waiting is on top."""
    waiting = case((Complaint.state == "received", 0), (Complaint.state == "handling", 1),
                   else_=2)  # fmt: skip
    query = select(Complaint).order_by(waiting, Complaint.created_at, Complaint.id)
    if f.states:
        query = query.where(Complaint.state.in_(f.states))
    if f.agency_id is not None:
        query = query.where(Complaint.agency_id == f.agency_id)
    if f.since is not None:
        query = query.where(Complaint.created_at >= f.since)
    if f.until is not None:
        query = query.where(Complaint.created_at < f.until)
    for word in (f.text or "").split():
        like = f"%{word}%"
        query = query.where(or_(Complaint.what.ilike(like), Complaint.place.ilike(like),
                                Complaint.officer_name.ilike(like),
                                Complaint.ticket.ilike(like)))  # fmt: skip
    return query


def officers_by_id(session: Session, ids: set[int]) -> dict[int, Officer]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(ids)))}


def people_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))
    return {int(person_id): str(name) for person_id, name in rows}


def agencies_by_id(session: Session, ids: set[int]) -> dict[int, Agency]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}


def active_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).where(Agency.active).order_by(Agency.id)))


# -- businesses ------------------------------------------------------------------------------


def business_by_credit_code(session: Session, credit_code: str) -> Business | None:
    return session.scalar(select(Business).where(Business.credit_code == credit_code))


# -- receipts --------------------------------------------------------------------------------


def receipt(session: Session, scope: str, key: str) -> PublicReceipt | None:
    return session.scalar(
        select(PublicReceipt).where(PublicReceipt.scope == scope, PublicReceipt.key == key)
    )


def add_receipt(session: Session, scope: str, key: str, response: dict[str, Any],
                now: datetime) -> None:  # fmt: skip
    session.add(PublicReceipt(scope=scope, key=key, response=response, created_at=now))
    session.flush()


# -- the business's own ----------------------------------------------------------------------


def visits_of(session: Session, business_id: int) -> list[Inspection]:
    """The visits the business has had (started), the latest first."""
    return list(session.scalars(
        select(Inspection)
        .where(Inspection.business_id == business_id, Inspection.started_at.is_not(None))
        .options(selectinload(Inspection.agencies), selectinload(Inspection.plan))
        .order_by(Inspection.started_at.desc(), Inspection.id.desc())
    ))  # fmt: skip


def notices_of(session: Session, business_id: int) -> list[tuple[RectificationNotice, Inspection]]:
    """The rectification notices issued to the business, the latest first."""
    rows = session.execute(
        select(RectificationNotice, Inspection)
        .join(Inspection, Inspection.id == RectificationNotice.inspection_id)
        .where(Inspection.business_id == business_id)
        .order_by(RectificationNotice.issued_at.desc(), RectificationNotice.id.desc())
    )
    return [(notice, inspection) for notice, inspection in rows]


def notice_of(session: Session, notice_id: int, business_id: int) -> RectificationNotice | None:
    """The notice, if it was issued to this business."""
    return session.scalar(
        select(RectificationNotice)
        .join(Inspection, Inspection.id == RectificationNotice.inspection_id)
        .where(RectificationNotice.id == notice_id, Inspection.business_id == business_id)
    )


def decisions_of(session: Session, business_id: int) -> list[PenaltyCase]:
    """The penalty cases decided against the business, the latest first."""
    return list(session.scalars(
        select(PenaltyCase)
        .where(PenaltyCase.business_id == business_id, PenaltyCase.decided_on.is_not(None))
        .order_by(PenaltyCase.decided_on.desc(), PenaltyCase.id.desc())
    ))  # fmt: skip


def decision_documents(session: Session, case_ids: Sequence[int]) -> dict[int, IssuedDocument]:
    """The decision document (行政处罚决定书) of each case, the latest where there are two."""
    if not case_ids:
        return {}
    rows = session.scalars(
        select(IssuedDocument)
        .where(IssuedDocument.subject_kind == PENALTY_SUBJECT,
               IssuedDocument.subject_id.in_(case_ids), IssuedDocument.kind == DECISION_KIND)
        .order_by(IssuedDocument.issued_at, IssuedDocument.id)
    )  # fmt: skip
    return {r.subject_id: r for r in rows}


def business_of_subject(session: Session, subject_kind: str, subject_id: int) -> int | None:
    """The business a document's subject (a visit, a penalty case) concerns."""
    if subject_kind == INSPECTION_SUBJECT:
        return session.scalar(select(Inspection.business_id).where(Inspection.id == subject_id))
    if subject_kind == PENALTY_SUBJECT:
        return session.scalar(select(PenaltyCase.business_id).where(PenaltyCase.id == subject_id))
    return None
