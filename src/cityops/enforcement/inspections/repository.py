"""Every query on inspection plans, visits, findings, notices and reminders, and the bulk
reads of the directory and roster that a draw needs at city scale."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections.draw import Candidate, Inspector
from cityops.enforcement.inspections.models import (
    Finding,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
    InspectionState,
    InvitationState,
    PlanState,
    RectificationNotice,
    Reminder,
    Signature,
)
from cityops.enforcement.registries.models import (
    Agency,
    AgencyRegion,
    ChecklistItem,
    Item,
    Officer,
    OfficerRegion,
)

# -- plans and visits ------------------------------------------------------------------------


def plan(session: Session, plan_id: int, *, lock: bool = False) -> InspectionPlan | None:
    query = select(InspectionPlan).where(InspectionPlan.id == plan_id)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def plans(session: Session, ids: Collection[int]) -> dict[int, InspectionPlan]:
    if not ids:
        return {}
    query = select(InspectionPlan).where(InspectionPlan.id.in_(set(ids)))
    return {p.id: p for p in session.scalars(query)}


def plan_by_request_key(session: Session, person_id: int, key: str) -> InspectionPlan | None:
    query = select(InspectionPlan).where(
        InspectionPlan.created_by == person_id, InspectionPlan.request_key == key
    )
    return session.scalar(query)


def inspection(session: Session, inspection_id: int, *, lock: bool = False) -> Inspection | None:
    query = (
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(selectinload(Inspection.agencies), selectinload(Inspection.officers))
    )
    if lock:
        query = query.with_for_update(of=Inspection)
    return session.scalar(query)


def _takes_part(agency_ids: Collection[int]) -> ColumnElement[bool]:
    return exists().where(
        InspectionAgency.inspection_id == Inspection.id,
        InspectionAgency.agency_id.in_(agency_ids),
    )


def plans_query(
    *,
    kind: str | None = None,
    state: str | None = None,
    agency_ids: Collection[int] | None = None,
    published: bool | None = None,
) -> Select[Any]:
    """Plans by kind and state; with `agency_ids`, only those an agency of them initiated
    or takes part in (invited to one of its visits)."""
    query = select(InspectionPlan).order_by(InspectionPlan.id.desc())
    if kind:
        query = query.where(InspectionPlan.kind == kind)
    if state:
        query = query.where(InspectionPlan.state == state)
    if published is not None:
        column = InspectionPlan.published_at
        query = query.where(column.is_not(None) if published else column.is_(None))
    if agency_ids is not None:
        invited = exists().where(Inspection.plan_id == InspectionPlan.id, _takes_part(agency_ids))
        query = query.where(or_(InspectionPlan.initiator_agency_id.in_(agency_ids), invited))
    return query


def inspections_query(
    *,
    states: Collection[str] = (),
    plan_id: int | None = None,
    business_id: int | None = None,
    agency_id: int | None = None,
    agency_ids: Collection[int] | None = None,
    scheduled_from: datetime | None = None,
    scheduled_until: datetime | None = None,
    mine: tuple[Collection[int], Collection[int]] | None = None,
) -> Select[Any]:
    """Visits by state (any of `states`), plan, business, an agency taking part, and time;
    with `agency_ids`, only those an agency of them takes part in; with `mine` (officer
    ids, agency ids), only those the officers are on or the agencies are invited to or
    accepted. The agencies and officers of each are loaded with them."""
    query = select(Inspection).order_by(Inspection.scheduled_at.desc(), Inspection.id.desc())
    if states:
        query = query.where(Inspection.state.in_(list(states)))
    if plan_id is not None:
        query = query.where(Inspection.plan_id == plan_id)
    if business_id is not None:
        query = query.where(Inspection.business_id == business_id)
    if agency_id is not None:
        query = query.where(_takes_part([agency_id]))
    if agency_ids is not None:
        query = query.where(_takes_part(agency_ids))
    if mine is not None:
        officer_ids, their_agencies = mine
        on_it = exists().where(
            InspectionOfficer.inspection_id == Inspection.id,
            InspectionOfficer.officer_id.in_(list(officer_ids) or [-1]),
        )
        asked = exists().where(
            InspectionAgency.inspection_id == Inspection.id,
            InspectionAgency.agency_id.in_(list(their_agencies) or [-1]),
            InspectionAgency.state.in_([InvitationState.INVITED, InvitationState.ACCEPTED]),
        )
        query = query.where(or_(on_it, asked))
    if scheduled_from is not None:
        query = query.where(Inspection.scheduled_at >= scheduled_from)
    if scheduled_until is not None:
        query = query.where(Inspection.scheduled_at < scheduled_until)
    return query.options(selectinload(Inspection.agencies), selectinload(Inspection.officers))


def plan_states(session: Session, plan_id: int) -> list[str]:
    query = select(Inspection.state).where(Inspection.plan_id == plan_id)
    return list(session.scalars(query))


def findings(session: Session, inspection_id: int) -> list[Finding]:
    query = select(Finding).where(Finding.inspection_id == inspection_id).order_by(Finding.id)
    return list(session.scalars(query))


def finding_by_request_key(session: Session, officer_id: int, key: str) -> Finding | None:
    query = select(Finding).where(Finding.officer_id == officer_id, Finding.request_key == key)
    return session.scalar(query)


def notice(session: Session, inspection_id: int) -> RectificationNotice | None:
    query = select(RectificationNotice).where(RectificationNotice.inspection_id == inspection_id)
    return session.scalar(query)


def signatures(session: Session, inspection_id: int) -> list[Signature]:
    query = select(Signature).where(Signature.inspection_id == inspection_id)
    return list(session.scalars(query.order_by(Signature.signed_at, Signature.id)))


def signature_by_request_key(session: Session, officer_id: int, key: str) -> Signature | None:
    query = select(Signature).where(Signature.taken_by == officer_id, Signature.request_key == key)
    return session.scalar(query)


# The kind of the on-site record as the documents service stores it (content class name).
RECORD_KIND = "on_site_record"


def record_documents(session: Session, inspection_id: int) -> list[IssuedDocument]:
    """The on-site records (现场检查笔录) issued about the visit, oldest first."""
    query = select(IssuedDocument).where(
        IssuedDocument.subject_kind == "inspection",
        IssuedDocument.subject_id == inspection_id,
        IssuedDocument.kind == RECORD_KIND,
    )
    return list(session.scalars(query.order_by(IssuedDocument.id)))


def notice_by_number(session: Session, number: str) -> RectificationNotice | None:
    return session.scalar(select(RectificationNotice).where(RectificationNotice.number == number))


def fallen_due(session: Session, today: date, limit: int) -> list[Inspection]:
    """Visits whose notice was served and whose deadline has passed (before `today`)."""
    query = (
        select(Inspection)
        .where(
            Inspection.state == InspectionState.NOTICE_SERVED,
            Inspection.rectification_deadline < today,
        )
        .order_by(Inspection.id)
        .limit(limit)
    )
    return list(session.scalars(query))


# -- who acts ----------------------------------------------------------------------------------


def officers_of_person(session: Session, person_id: int) -> list[Officer]:
    """The active officer rows a person acts through (their agencies)."""
    query = select(Officer).where(Officer.person_id == person_id, Officer.active.is_(True))
    return list(session.scalars(query.order_by(Officer.id)))


def officers(session: Session, ids: Collection[int]) -> dict[int, Officer]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(set(ids))))}


def agencies(session: Session, ids: Collection[int]) -> dict[int, Agency]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(set(ids))))}


def items(session: Session, ids: Collection[int]) -> dict[int, Item]:
    if not ids:
        return {}
    return {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(set(ids))))}


def checklist_rows(session: Session, item_ids: Sequence[int]) -> list[ChecklistItem]:
    """The checklist entries of the items, in the items' order given, each item's by
    position."""
    if not item_ids:
        return []
    rows = session.scalars(select(ChecklistItem).where(ChecklistItem.item_id.in_(set(item_ids))))
    order = {item_id: n for n, item_id in enumerate(item_ids)}
    return sorted(rows, key=lambda c: (order[c.item_id], c.position, c.code))


# -- the draw's directory and roster, in bulk ----------------------------------------------------


def _tuples(session: Session, query: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of a query of integer and text columns as tuples, read by the driver's
    cursor in the session's transaction. At a hundred thousand rows SQLAlchemy's row
    objects cost more than the query itself; such columns need no conversion (nor may the
    query's parameters: they are passed to the driver as they are)."""
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def draw_candidates(
    session: Session, *, region_code: str, type_codes: Sequence[str]
) -> list[Candidate]:
    """Active businesses in the region (or below it), of the types: three columns per row,
    so that 100,000 of them read in a fraction of a second."""
    query = select(Business.id, Business.credit_code, Business.region_code).where(
        Business.active.is_(True),
        Business.region_code.startswith(region_code, autoescape=True),
    )
    if type_codes:
        query = query.where(Business.type_code.in_(type_codes))
    return list(map(Candidate._make, _tuples(session, query)))


def draw_roster(
    session: Session, *, agency_id: int, region_code: str, valid_from: date, valid_until: date
) -> list[Inspector]:
    """The agency's officers who may act in the region (or part of it) for the whole period:
    active officers of an active agency, their certificate valid on every day of it, with
    their regions — the certificate's, or else the agency's jurisdiction. The same rule as
    `registries.service.eligible_officers`, read in three queries for a roster of
    thousands."""
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        return []
    rows = session.execute(
        select(Officer.id, Officer.certificate_number).where(
            Officer.agency_id == agency_id,
            Officer.active.is_(True),
            Officer.valid_from <= valid_from,
            Officer.valid_until >= valid_until,
        )
    ).all()
    own: dict[int, list[str]] = {}
    for officer_id, code in session.execute(
        select(OfficerRegion.officer_id, OfficerRegion.region_code)
        .join(Officer, Officer.id == OfficerRegion.officer_id)
        .where(Officer.agency_id == agency_id)
    ):
        own.setdefault(officer_id, []).append(code)
    jurisdiction = list(
        session.scalars(select(AgencyRegion.region_code).where(AgencyRegion.agency_id == agency_id))
    )
    roster = []
    for officer_id, number in rows:
        regions = tuple(own.get(officer_id) or jurisdiction)
        # Acting somewhere in the plan's region: one of theirs covers it or lies within it.
        if any(region_code.startswith(r) or r.startswith(region_code) for r in regions):
            roster.append(Inspector(officer_id, number, agency_id, regions))
    return roster


def plan_inspections(session: Session, plan_id: int) -> list[Inspection]:
    query = (
        select(Inspection)
        .where(Inspection.plan_id == plan_id)
        .options(selectinload(Inspection.officers), selectinload(Inspection.agencies))
        .order_by(Inspection.id)
    )
    return list(session.scalars(query))


def published_plans_query() -> Select[Any]:
    query = select(InspectionPlan).where(
        InspectionPlan.published_at.is_not(None), InspectionPlan.state != PlanState.CANCELLED
    )
    return query.order_by(InspectionPlan.published_at.desc(), InspectionPlan.id.desc())


# -- reminders ----------------------------------------------------------------------------------


def upcoming(session: Session, now: datetime, until: datetime) -> list[Inspection]:
    """Visits still scheduled between now and `until`, of approved plans (or none)."""
    query = (
        select(Inspection)
        .outerjoin(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
        .where(
            Inspection.state == InspectionState.SCHEDULED,
            Inspection.scheduled_at > now,
            Inspection.scheduled_at <= until,
            or_(
                Inspection.plan_id.is_(None),
                InspectionPlan.state.in_([PlanState.APPROVED, PlanState.IN_PROGRESS]),
            ),
        )
        .options(selectinload(Inspection.officers), selectinload(Inspection.agencies))
        .order_by(Inspection.scheduled_at, Inspection.id)
    )
    return list(session.scalars(query))


def reminder_keys(session: Session, inspection_ids: Collection[int]) -> set[tuple[int, int, str]]:
    if not inspection_ids:
        return set()
    rows = session.execute(
        select(Reminder.inspection_id, Reminder.officer_id, Reminder.kind).where(
            Reminder.inspection_id.in_(set(inspection_ids))
        )
    )
    return {(i, o, k) for i, o, k in rows}


def unsent_reminders(session: Session, max_attempts: int) -> list[Reminder]:
    query = select(Reminder).where(Reminder.sent_at.is_(None), Reminder.attempts < max_attempts)
    return list(session.scalars(query.order_by(Reminder.id)))


def officers_on(session: Session, inspection_id: int) -> list[InspectionOfficer]:
    query = select(InspectionOfficer).where(InspectionOfficer.inspection_id == inspection_id)
    return list(session.scalars(query))
