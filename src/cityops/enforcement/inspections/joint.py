"""Joint inspections (综合查一次): one visit to one business by every agency that inspects
its type there, so that the owner is visited once instead of once per agency.

Any agency (typically a street's team) creates the plan with a time and a place; the
agencies to invite are proposed from the business type's items (those that may enforce
them in its street) and can be adjusted; each invited agency accepts, naming at least two
certified officers, or declines with a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.businesses.service import inspecting_agencies, type_items
from cityops.enforcement.inspections import access, repository
from cityops.enforcement.inspections.models import (
    AgencyRole,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
    InvitationState,
    PlanKind,
    PlanState,
)
from cityops.enforcement.inspections.plans import number_plan, with_request_key
from cityops.enforcement.inspections.schemas import JointPlanCreate
from cityops.enforcement.inspections.service import (
    audit,
    check_team,
    get_inspection,
    get_plan,
    local_day,
    settle_plan,
)
from cityops.enforcement.inspections.workflow import inspection_next, plan_next
from cityops.enforcement.registries.credentials import covers
from cityops.enforcement.registries.models import Agency, Item
from cityops.enforcement.registries.repository import agency_regions
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound


def proposals(session: Session, business: Business) -> dict[int, tuple[Agency, list[Item]]]:
    """Agency id → (agency, the type's items it enforces where the business is)."""
    return {agency.id: (agency, held) for agency, held in inspecting_agencies(session, business)}


def _invited(
    proposed: dict[int, tuple[Agency, list[Item]]], agency_ids: list[int], initiator_id: int
) -> list[int]:
    problems = []
    for n, agency_id in enumerate(agency_ids):
        if agency_id == initiator_id:
            problems.append(
                FieldProblem(f"agency_ids.{n}", "the initiating agency takes part already")
            )
        elif agency_id not in proposed:
            problems.append(
                FieldProblem(f"agency_ids.{n}", "enforces none of this business type's items here")
            )
    if problems:
        raise Invalid("agencies that cannot be invited", errors=problems)
    return list(dict.fromkeys(agency_ids))


def create_joint(
    session: Session,
    actor: Actor,
    body: JointPlanCreate,
    *,
    now: datetime,
    request_key: str | None = None,
) -> tuple[InspectionPlan, bool]:
    """A joint plan for one business with its one visit: the caller's agency initiates it
    with its officers; the proposed agencies (or those named) are invited. Returns the
    plan and whether it was made now (False: a resend under the same idempotency key)."""
    who = access.acting(session, actor)
    initiator = access.for_agency(who, body.agency_id)
    if request_key is not None and (
        earlier := repository.plan_by_request_key(session, actor.id or 0, request_key)
    ):
        return earlier, False
    business = businesses.business(session, body.business_id)
    if business is None or not business.active:
        problem = "no such business" if business is None else "the business is not active"
        raise Invalid(problem, errors=[FieldProblem("business_id", problem)])
    if body.scheduled_at <= now:
        raise Invalid(
            "the inspection must be in the future",
            errors=[FieldProblem("scheduled_at", "in the past")],
        )
    if not covers(agency_regions(session, [initiator]).get(initiator, []), business.region_code):
        raise Forbidden("your agency does not act where this business is")
    items = type_items(session, business)
    if not items:
        raise Invalid(
            f"type {business.type_code} lists no enforcement item",
            errors=[FieldProblem("business_id", "its type lists no items")],
        )
    proposed = proposals(session, business)
    invited = _invited(
        proposed,
        body.agency_ids if body.agency_ids is not None else [a for a in proposed if a != initiator],
        initiator,
    )
    day = local_day(body.scheduled_at)
    officer_ids = check_team(
        session,
        [initiator],
        body.officer_ids,
        business_id=business.id,
        region_code=business.region_code,
        on=day,
    )
    plan = InspectionPlan(
        title=body.title or f"综合查一次：{business.name}",
        kind=PlanKind.JOINT,
        initiator_agency_id=initiator,
        region_code=business.region_code,
        state=PlanState.DRAFT,
        planned_from=day,
        planned_until=day,
        item_ids=[i.id for i in items],
        type_codes=[business.type_code],
        target_count=1,
        officers_per_target=2,
        note=body.note,
        request_key=request_key,
        created_by=actor.id,
        created_at=now,
    )
    plan, made = with_request_key(session, plan, request_key, actor.id or 0)
    if not made:
        return plan, False
    number_plan(session, plan)
    held = proposed.get(initiator, (None, []))[1]
    inspection = Inspection(
        plan_id=plan.id,
        business_id=business.id,
        lead_agency_id=initiator,
        region_code=business.region_code,
        grid_code=business.grid_code,
        scheduled_at=body.scheduled_at,
        place=body.place or business.address,
        item_ids=plan.item_ids,
    )
    inspection.agencies.append(
        InspectionAgency(
            agency_id=initiator,
            role=AgencyRole.INITIATOR,
            state=InvitationState.ACCEPTED,
            item_ids=[i.id for i in held],
            invited_at=now,
            responded_at=now,
            responded_by=actor.id,
        )
    )
    inspection.agencies.extend(
        InspectionAgency(
            agency_id=a,
            role=AgencyRole.INVITED,
            state=InvitationState.INVITED,
            item_ids=[i.id for i in proposed[a][1]],
            invited_at=now,
        )
        for a in invited
    )
    inspection.officers.extend(
        InspectionOfficer(officer_id=o, agency_id=initiator) for o in officer_ids
    )
    session.add(inspection)
    session.flush()
    audit(
        session,
        actor,
        "inspection_plan.create",
        "inspection_plan",
        plan.id,
        now,
        kind=plan.kind,
        number=plan.number,
        business_id=business.id,
        invited=invited,
    )
    return plan, True


def _open_for_invitations(session: Session, inspection: Inspection, action: str) -> None:
    if inspection.plan_id is not None:
        plan_next(get_plan(session, inspection.plan_id).state, action)
    inspection_next(inspection.state, "schedule")


def set_invitations(
    session: Session, actor: Actor, inspection_id: int, agency_ids: list[int], *, now: datetime
) -> Inspection:
    """Invite exactly these agencies (besides the initiator): new ones are invited, those
    left out are no longer on the visit (with their officers). By the lead agency, before
    the visit starts."""
    who = access.acting(session, actor)
    inspection = get_inspection(session, inspection_id, lock=True)
    access.see_inspection(who, inspection)
    access.of_lead_agency(who, inspection)
    _open_for_invitations(session, inspection, "invite")
    business = businesses.business(session, inspection.business_id)
    assert business is not None
    proposed = proposals(session, business)
    wanted = _invited(proposed, agency_ids, inspection.lead_agency_id)
    current = {a.agency_id: a for a in inspection.agencies if a.role == AgencyRole.INVITED}
    removed = [a for a in current if a not in wanted]
    for agency_id in removed:
        inspection.agencies.remove(current[agency_id])
    inspection.officers = [o for o in inspection.officers if o.agency_id not in removed]
    for agency_id in wanted:
        if agency_id not in current:
            inspection.agencies.append(
                InspectionAgency(
                    agency_id=agency_id,
                    role=AgencyRole.INVITED,
                    state=InvitationState.INVITED,
                    item_ids=[i.id for i in proposed[agency_id][1]],
                    invited_at=now,
                )
            )
    session.flush()
    audit(
        session,
        actor,
        "inspection.invite",
        "inspection",
        inspection.id,
        now,
        invited=wanted,
        removed=removed,
    )
    return inspection


def _invitation(
    session: Session, actor: Actor, inspection_id: int, agency_id: int
) -> tuple[Inspection, InspectionAgency]:
    who = access.acting(session, actor)
    access.for_agency(who, agency_id)
    inspection = get_inspection(session, inspection_id, lock=True)
    row = next((a for a in inspection.agencies if a.agency_id == agency_id), None)
    if row is None:
        raise NotFound(f"your agency is not invited to inspection {inspection_id}")
    _open_for_invitations(session, inspection, "respond")
    return inspection, row


def accept(
    session: Session,
    actor: Actor,
    inspection_id: int,
    agency_id: int,
    *,
    officer_ids: list[int],
    now: datetime,
) -> Inspection:
    """The agency takes part with these officers (at least two, certified for the street
    on the day, none conflicting with the business); again, to change them."""
    inspection, row = _invitation(session, actor, inspection_id, agency_id)
    assert inspection.scheduled_at is not None
    ids = check_team(
        session,
        [agency_id],
        officer_ids,
        business_id=inspection.business_id,
        region_code=inspection.region_code,
        on=local_day(inspection.scheduled_at),
    )
    session.execute(
        delete(InspectionOfficer).where(
            InspectionOfficer.inspection_id == inspection.id,
            InspectionOfficer.agency_id == agency_id,
        )
    )
    session.expire(inspection, ["officers"])
    session.add_all(
        InspectionOfficer(inspection_id=inspection.id, officer_id=o, agency_id=agency_id)
        for o in ids
    )
    row.state, row.reason = InvitationState.ACCEPTED, ""
    row.responded_at, row.responded_by = now, actor.id
    session.flush()
    audit(
        session,
        actor,
        "inspection.accept",
        "inspection",
        inspection.id,
        now,
        agency_id=agency_id,
        officer_ids=ids,
    )
    return inspection


def decline(
    session: Session,
    actor: Actor,
    inspection_id: int,
    agency_id: int,
    *,
    reason: str,
    now: datetime,
) -> Inspection:
    """The agency does not take part, and says why."""
    inspection, row = _invitation(session, actor, inspection_id, agency_id)
    if row.role == AgencyRole.INITIATOR:
        raise Conflict("the initiating agency cannot decline its own inspection; cancel the plan")
    if not reason.strip():
        raise Invalid("say why", errors=[FieldProblem("reason", "empty")])
    session.execute(
        delete(InspectionOfficer).where(
            InspectionOfficer.inspection_id == inspection.id,
            InspectionOfficer.agency_id == agency_id,
        )
    )
    session.expire(inspection, ["officers"])
    row.state, row.reason = InvitationState.DECLINED, reason.strip()
    row.responded_at, row.responded_by = now, actor.id
    session.flush()
    audit(
        session,
        actor,
        "inspection.decline",
        "inspection",
        inspection.id,
        now,
        agency_id=agency_id,
        reason=row.reason,
    )
    return inspection


def schedule(
    session: Session,
    actor: Actor,
    inspection_id: int,
    *,
    scheduled_at: datetime,
    place: str,
    now: datetime,
) -> Inspection:
    """Set the time (and place) of a visit not yet started: a drawn target's, or a joint
    one moved. The officers already named must still qualify on the new day."""
    who = access.acting(session, actor)
    inspection = get_inspection(session, inspection_id, lock=True)
    access.see_inspection(who, inspection)
    access.of_lead_agency(who, inspection)
    inspection_next(inspection.state, "schedule")
    if scheduled_at <= now:
        raise Invalid(
            "the inspection must be in the future",
            errors=[FieldProblem("scheduled_at", "in the past")],
        )
    if inspection.plan_id is not None:
        plan = get_plan(session, inspection.plan_id)
        if not plan.planned_from <= local_day(scheduled_at) <= plan.planned_until:
            raise Invalid(
                "outside the plan's period",
                errors=[
                    FieldProblem(
                        "scheduled_at", f"between {plan.planned_from} and {plan.planned_until}"
                    )
                ],
            )
    day = local_day(scheduled_at)
    for part in inspection.agencies:
        team = [o.officer_id for o in inspection.officers if o.agency_id == part.agency_id]
        if team:
            check_team(
                session,
                [part.agency_id],
                team,
                business_id=inspection.business_id,
                region_code=inspection.region_code,
                on=day,
            )
    inspection.scheduled_at, inspection.place = scheduled_at, place or inspection.place
    session.flush()
    audit(
        session,
        actor,
        "inspection.schedule",
        "inspection",
        inspection.id,
        now,
        scheduled_at=scheduled_at.isoformat(),
        place=inspection.place,
    )
    return inspection


def cancel(
    session: Session, actor: Actor, inspection_id: int, *, reason: str, now: datetime
) -> Inspection:
    """Cancel one visit of a plan that has not started (the business closed, say), with
    the reason; by the lead agency. A joint plan's one visit goes with its plan."""
    who = access.acting(session, actor)
    inspection = get_inspection(session, inspection_id, lock=True)
    access.see_inspection(who, inspection)
    access.of_lead_agency(who, inspection)
    state = inspection_next(inspection.state, "cancel")
    plan = get_plan(session, inspection.plan_id) if inspection.plan_id is not None else None
    if plan is not None and plan.kind == PlanKind.JOINT:
        raise Conflict("cancel the joint plan itself (POST /enforcement/plans/{id}/cancel)")
    inspection.state, inspection.closed_at, inspection.note = state, now, reason
    session.flush()
    audit(session, actor, "inspection.cancel", "inspection", inspection.id, now, reason=reason)
    settle_plan(session, inspection.plan_id, now)
    return inspection
