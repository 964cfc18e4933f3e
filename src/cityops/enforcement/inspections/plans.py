"""Random (双随机) and special plans: create, draw targets and inspectors reproducibly,
re-run a draw, submit, approve or return (the agency's enforcement lead), publish (公开),
cancel. Joint plans (综合查一次) are made in `joint` and move through the same states."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.inspections import access, repository
from cityops.enforcement.inspections.draw import Draw, draw
from cityops.enforcement.inspections.models import (
    AgencyRole,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
    InspectionState,
    InvitationState,
    PlanKind,
    PlanState,
)
from cityops.enforcement.inspections.schemas import PlanCreate
from cityops.enforcement.inspections.service import audit, get_plan, visible_plan
from cityops.enforcement.inspections.workflow import plan_next
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import Item
from cityops.errors import Conflict, FieldProblem, Invalid
from cityops.org.models import Region


def _items(session: Session, agency_id: int, codes: Sequence[str]) -> list[Item]:
    found = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(codes)))}
    problems = []
    for n, code in enumerate(codes):
        item = found.get(code)
        if item is None:
            problems.append(FieldProblem(f"item_codes.{n}", f"no item {code!r}"))
        elif not registries.may_enforce(session, agency_id, item.id):
            problems.append(FieldProblem(f"item_codes.{n}", f"your agency does not hold {code}"))
    if problems:
        raise Invalid("items the plan cannot check", errors=problems)
    return [found[c] for c in dict.fromkeys(codes)]


def with_request_key(
    session: Session, plan: InspectionPlan, key: str | None, person_id: int
) -> tuple[InspectionPlan, bool]:
    """Add the plan; under an idempotency key already used by this person, the plan made
    the first time instead (also when the two requests raced)."""
    if key is None:
        session.add(plan)
        session.flush()
        return plan, True
    earlier = repository.plan_by_request_key(session, person_id, key)
    if earlier is not None:
        return earlier, False
    try:
        with session.begin_nested():
            session.add(plan)
    except IntegrityError:
        earlier = repository.plan_by_request_key(session, person_id, key)
        if earlier is None:
            raise
        return earlier, False
    return plan, True


def number_plan(session: Session, plan: InspectionPlan) -> None:
    agency = repository.agencies(session, [plan.initiator_agency_id])[plan.initiator_agency_id]
    plan.number = f"{agency.code}-JC-{plan.planned_from.year}-{plan.id:05d}"


def create_plan(
    session: Session,
    actor: Actor,
    body: PlanCreate,
    *,
    now: datetime,
    request_key: str | None = None,
) -> tuple[InspectionPlan, bool]:
    """A random (双随机) or special plan of the caller's agency, as a draft; returns it and
    whether it was made now (False: a resend under the same idempotency key)."""
    who = access.acting(session, actor)
    agency_id = access.for_agency(who, body.agency_id)
    if request_key is not None and (
        earlier := repository.plan_by_request_key(session, actor.id or 0, request_key)
    ):
        return earlier, False
    if session.get(Region, body.region_code) is None:
        raise Invalid(
            f"no region {body.region_code}", errors=[FieldProblem("region_code", "no such region")]
        )
    items = _items(session, agency_id, body.item_codes)
    for n, code in enumerate(body.type_codes):
        if businesses.business_type(session, code) is None:
            raise Invalid(
                f"no business type {code!r}",
                errors=[FieldProblem(f"type_codes.{n}", "no such business type")],
            )
    plan = InspectionPlan(
        title=body.title,
        kind=body.kind,
        initiator_agency_id=agency_id,
        region_code=body.region_code,
        state=PlanState.DRAFT,
        planned_from=body.planned_from,
        planned_until=body.planned_until,
        item_ids=[i.id for i in items],
        type_codes=list(dict.fromkeys(body.type_codes)),
        target_count=body.target_count,
        officers_per_target=body.officers_per_target,
        note=body.note,
        request_key=request_key,
        created_by=actor.id,
        created_at=now,
    )
    plan, made = with_request_key(session, plan, request_key, actor.id or 0)
    if made:
        number_plan(session, plan)
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
        )
    return plan, made


def draw_types(session: Session, plan: InspectionPlan) -> list[str]:
    """The business types a plan draws from: its own, or those listing any of its items."""
    if plan.type_codes:
        return list(plan.type_codes)
    codes = {i.code for i in repository.items(session, plan.item_ids).values()}
    return [t.code for t in businesses.types(session) if codes & set(t.item_codes or [])]


def run_draw(
    session: Session,
    *,
    region_code: str,
    type_codes: Sequence[str],
    agency_id: int,
    valid_from: date,
    valid_until: date,
    count: int,
    per_target: int,
    seed: int,
) -> Draw:
    """Draw from the directory and the agency's roster as they are now: active businesses of
    the types in the region; officers who may act there for the whole period; conflicts
    (回避) left out. Reads in bulk: 100,000 businesses and thousands of officers."""
    candidates = repository.draw_candidates(session, region_code=region_code, type_codes=type_codes)
    roster = repository.draw_roster(
        session,
        agency_id=agency_id,
        region_code=region_code,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return draw(
        candidates,
        roster,
        count=count,
        per_target=per_target,
        seed=seed,
        conflicts=businesses.all_conflicts(session),
    )


def _plan_draw(session: Session, plan: InspectionPlan, seed: int) -> Draw:
    return run_draw(
        session,
        region_code=plan.region_code,
        type_codes=draw_types(session, plan),
        agency_id=plan.initiator_agency_id,
        valid_from=plan.planned_from,
        valid_until=plan.planned_until,
        count=plan.target_count or 0,
        per_target=plan.officers_per_target,
        seed=seed,
    )


def draw_plan(
    session: Session, actor: Actor, plan_id: int, *, seed: int | None, now: datetime
) -> InspectionPlan:
    """Draw the plan's targets and inspectors once, record the seed and what was drawn from
    how many, and make a visit per target with its drawn officers."""
    who = access.acting(session, actor)
    plan = get_plan(session, plan_id, lock=True)
    access.for_agency(who, plan.initiator_agency_id)
    if plan.kind == PlanKind.JOINT:
        raise Conflict("a joint inspection's target is chosen, not drawn")
    plan_next(plan.state, "draw")
    if plan.draw is not None:
        raise Conflict(f"plan {plan.number} was drawn already (seed {plan.seed})")
    seed = secrets.randbelow(2**63) if seed is None else seed
    result = _plan_draw(session, plan, seed)
    found = {b.id: b for b in businesses.by_ids(session, [t.business_id for t in result.targets])}
    items = list(plan.item_ids)
    for target in result.targets:
        business = found[target.business_id]
        inspection = Inspection(
            plan_id=plan.id,
            business_id=business.id,
            lead_agency_id=plan.initiator_agency_id,
            region_code=business.region_code,
            grid_code=business.grid_code,
            place=business.address,
            item_ids=items,
            state=InspectionState.SCHEDULED,
        )
        inspection.agencies.append(
            InspectionAgency(
                agency_id=plan.initiator_agency_id,
                role=AgencyRole.INITIATOR,
                state=InvitationState.ACCEPTED,
                item_ids=items,
                invited_at=now,
                responded_at=now,
                responded_by=actor.id,
            )
        )
        inspection.officers.extend(
            InspectionOfficer(officer_id=o, agency_id=plan.initiator_agency_id)
            for o in target.officer_ids
        )
        session.add(inspection)
    plan.seed, plan.draw = (
        seed,
        result.record() | {"drawn_at": now.isoformat(), "types": draw_types(session, plan)},
    )
    session.flush()
    audit(
        session,
        actor,
        "inspection_plan.draw",
        "inspection_plan",
        plan.id,
        now,
        seed=seed,
        candidates=result.candidates,
        targets=len(result.targets),
        shortfalls=len(result.shortfalls),
    )
    return plan


def check_draw(session: Session, who: access.Acting, plan_id: int) -> dict[str, Any]:
    """Re-run the plan's draw from its recorded seed over the directory and roster as they
    are now: the same targets and officers when neither changed."""
    plan = visible_plan(session, who, plan_id)
    if plan.draw is None or plan.seed is None:
        raise Conflict(f"plan {plan.number} has not been drawn")
    rerun = _plan_draw(session, plan, plan.seed).record()
    recorded = {k: v for k, v in plan.draw.items() if k in rerun}
    return {
        "same": recorded.get("targets") == rerun["targets"],
        "same_directory": recorded.get("candidates_digest") == rerun["candidates_digest"],
        "same_roster": recorded.get("roster_digest") == rerun["roster_digest"],
        "recorded": recorded,
        "rerun": rerun,
    }


def move_plan(
    session: Session, actor: Actor, plan_id: int, action: str, *, now: datetime, reason: str = ""
) -> InspectionPlan:
    """Submit (draft → submitted), approve or return (by the agency's enforcement lead),
    publish (公开, an approved plan) or cancel (with a reason; visits not started end)."""
    who = access.acting(session, actor)
    plan = get_plan(session, plan_id, lock=True)
    access.for_agency(who, plan.initiator_agency_id, lead=action in ("approve", "return"))
    state = plan_next(plan.state, action)
    if action == "submit" and plan.kind != PlanKind.JOINT and plan.draw is None:
        raise Conflict("draw the plan's targets before submitting it")
    if action == "publish":
        if plan.published_at is not None:
            raise Conflict(f"plan {plan.number} was published at {plan.published_at}")
        plan.published_at = now
    elif action == "submit":
        plan.submitted_at = now
    elif action == "approve":
        plan.approved_by, plan.approved_at = actor.id, now
    elif action in ("return", "cancel"):
        plan.reason = reason
    if action == "cancel":
        for inspection in repository.plan_inspections(session, plan.id):
            if inspection.state == InspectionState.SCHEDULED:
                inspection.state, inspection.closed_at = InspectionState.CANCELLED, now
    plan.state = state
    session.flush()
    audit(
        session,
        actor,
        f"inspection_plan.{action}",
        "inspection_plan",
        plan.id,
        now,
        state=state,
        reason=reason or None,
    )
    return plan
