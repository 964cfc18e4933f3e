"""A visit without a plan (无计划检查): on a complaint (投诉举报) or a referral (转办交办),
which need none, or met on patrol (巡查发现), which supervision's `inspection_without_plan`
still flags. The caller's agency leads it with its officers; no other agency is invited
(a joint visit is planned: `joint.create_joint`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.inspections import access
from cityops.enforcement.inspections.joint import proposals
from cityops.enforcement.inspections.models import (
    AgencyRole,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InvitationState,
)
from cityops.enforcement.inspections.schemas import InspectionCreate
from cityops.enforcement.inspections.service import audit, check_team, local_day
from cityops.enforcement.registries.credentials import covers
from cityops.enforcement.registries.repository import agency_regions
from cityops.errors import FieldProblem, Forbidden, Invalid

# A complaint may be looked into at once: the time may be now, give or take the form's
# minutes, never long past.
GRACE = timedelta(minutes=15)


def create(session: Session, actor: Actor, body: InspectionCreate, *, now: datetime) -> Inspection:
    """A visit of the caller's agency to a business, for the reason given, with its items
    for the business's type (or those named of them) and at least two qualified officers."""
    who = access.acting(session, actor)
    agency_id = access.for_agency(who, body.lead_agency_id)
    business = businesses.business(session, body.business_id)
    if business is None or not business.active:
        problem = "no such business" if business is None else "the business is not active"
        raise Invalid(problem, errors=[FieldProblem("business_id", problem)])
    if not covers(agency_regions(session, [agency_id]).get(agency_id, []), business.region_code):
        raise Forbidden("your agency does not act where this business is")
    held = proposals(session, business).get(agency_id, (None, []))[1]
    if not held:
        raise Invalid(
            f"your agency enforces no item of type {business.type_code}",
            errors=[FieldProblem("business_id", "none of your agency's items is for its type")],
        )
    items = held
    if body.item_codes is not None:
        by_code = {i.code: i for i in held}
        unknown = [
            FieldProblem(f"item_codes.{n}", "not your agency's item for this business")
            for n, code in enumerate(body.item_codes)
            if code not in by_code
        ]
        if unknown or not body.item_codes:
            raise Invalid(
                "name items your agency enforces for this business",
                errors=unknown or [FieldProblem("item_codes", "empty")],
            )
        items = [by_code[c] for c in dict.fromkeys(body.item_codes)]
    if body.scheduled_at < now - GRACE:
        raise Invalid(
            "the inspection cannot be set in the past",
            errors=[FieldProblem("scheduled_at", "in the past")],
        )
    officer_ids = check_team(
        session,
        [agency_id],
        body.officer_ids,
        business_id=business.id,
        region_code=business.region_code,
        on=local_day(body.scheduled_at),
    )
    inspection = Inspection(
        plan_id=None,
        source=body.source,
        business_id=business.id,
        lead_agency_id=agency_id,
        region_code=business.region_code,
        grid_code=business.grid_code,
        scheduled_at=body.scheduled_at,
        place=body.place.strip() or business.address,
        item_ids=[i.id for i in items],
        note=body.reason.strip(),
    )
    inspection.agencies.append(
        InspectionAgency(
            agency_id=agency_id,
            role=AgencyRole.INITIATOR,
            state=InvitationState.ACCEPTED,
            item_ids=[i.id for i in items],
            invited_at=now,
            responded_at=now,
            responded_by=actor.id,
        )
    )
    inspection.officers.extend(
        InspectionOfficer(officer_id=o, agency_id=agency_id) for o in officer_ids
    )
    session.add(inspection)
    session.flush()
    audit(
        session, actor, "inspection.create", "inspection", inspection.id, now,
        source=body.source, business_id=business.id, agency_id=agency_id,
        officer_ids=officer_ids, reason=inspection.note,
    )  # fmt: skip
    return inspection
