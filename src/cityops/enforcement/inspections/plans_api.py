"""`/api/v1/enforcement/plans`: inspection plans — random (双随机) and special plans with
their draw, joint inspections (综合查一次), submission, approval by the agency's
enforcement lead, publication (公开) and cancellation.

Every route needs a person's login; officers and leads see their agencies' plans and
those their agencies are invited to, supervisors and admins see all. Creating a plan
honours the `Idempotency-Key` header."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from cityops.deps import NowDep, PersonDep, UowDep
from cityops.enforcement.inspections import access, joint, plans, reads, repository, service
from cityops.enforcement.inspections.api import IdempotencyKey
from cityops.enforcement.inspections.models import PlanKind, PlanState
from cityops.enforcement.inspections.schemas import (
    DrawCheckRead,
    DrawIn,
    JointPlanCreate,
    PlanCreate,
    PlanDetail,
    PlanRead,
    PublicPlanRead,
    ReasonIn,
)
from cityops.kit.bus import UnitOfWork
from cityops.kit.pagination import Page, PageParams, paginate

router = APIRouter(prefix="/enforcement/plans", tags=["enforcement"])
REPEAT: dict[int | str, dict[str, Any]] = {
    200: {"description": "A resend under the same Idempotency-Key: the plan made first"}
}


def _detail(uow: UnitOfWork, plan_id: int) -> PlanDetail:
    return reads.plan_detail(uow.session, service.get_plan(uow.session, plan_id))


@router.get("", summary="Inspection plans of your agencies, or all for supervisors")
def list_plans(
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    kind: PlanKind | None = None,
    state: PlanState | None = None,
    published: bool | None = None,
) -> Page[PlanRead]:
    """Plans by kind, state and whether published, newest first."""
    who = access.acting(uow.session, caller.actor)
    query = repository.plans_query(
        kind=kind.value if kind else None,
        state=state.value if state else None,
        agency_ids=who.scope,
        published=published,
    )
    rows, total = paginate(uow.session, query, page)
    return Page(
        items=reads.plan_reads(uow.session, rows), total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=201, responses=REPEAT, summary="A random (双随机) or special plan")
def create_plan(
    body: PlanCreate,
    response: Response,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> PlanDetail:
    """A draft plan of your agency: where, when, which items and types, how many targets
    with how many officers each. Draw it next."""
    plan, made = plans.create_plan(
        uow.session, caller.actor, body, now=now, request_key=idempotency_key
    )
    uow.commit()
    response.status_code = 201 if made else 200
    return _detail(uow, plan.id)


@router.post("/joint", status_code=201, responses=REPEAT, summary="A joint inspection (综合查一次)")
def create_joint(
    body: JointPlanCreate,
    response: Response,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> PlanDetail:
    """One visit to one business by every agency that inspects its type there: your agency
    leads with its officers, the agencies proposed by the type's items (or those you name)
    are invited."""
    plan, made = joint.create_joint(
        uow.session, caller.actor, body, now=now, request_key=idempotency_key
    )
    uow.commit()
    response.status_code = 201 if made else 200
    return _detail(uow, plan.id)


@router.get("/{plan_id}", summary="One plan with its visits")
def get_plan(plan_id: int, uow: UowDep, caller: PersonDep) -> PlanDetail:
    """The plan, its draw and its visits."""
    who = access.acting(uow.session, caller.actor)
    return reads.plan_detail(uow.session, service.visible_plan(uow.session, who, plan_id))


@router.post("/{plan_id}/draw", summary="Draw targets and inspectors (双随机)")
def draw(plan_id: int, body: DrawIn, uow: UowDep, caller: PersonDep, now: NowDep) -> PlanDetail:
    """Once per plan: the seed (given, or random) and what was drawn from how many are
    recorded, so that anyone can re-run it; a visit is made per target."""
    plans.draw_plan(uow.session, caller.actor, plan_id, seed=body.seed, now=now)
    uow.commit()
    return _detail(uow, plan_id)


@router.get("/{plan_id}/draw/check", summary="Re-run the draw from its recorded seed")
def check_draw(plan_id: int, uow: UowDep, caller: PersonDep) -> DrawCheckRead:
    """The same targets and officers when the directory and roster are as they were."""
    who = access.acting(uow.session, caller.actor)
    return DrawCheckRead.model_validate(plans.check_draw(uow.session, who, plan_id))


def _move(
    uow: UnitOfWork, caller: PersonDep, plan_id: int, action: str, now: NowDep, reason: str = ""
) -> PlanDetail:
    plans.move_plan(uow.session, caller.actor, plan_id, action, now=now, reason=reason)
    uow.commit()
    return _detail(uow, plan_id)


@router.post("/{plan_id}/submit", summary="Submit for approval")
def submit(plan_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> PlanDetail:
    """A drafted (and, unless joint, drawn) plan goes to the agency's enforcement lead."""
    return _move(uow, caller, plan_id, "submit", now)


@router.post("/{plan_id}/approve", summary="Approve (the agency's enforcement lead)")
def approve(plan_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> PlanDetail:
    """Only the enforcement lead of the plan's agency approves."""
    return _move(uow, caller, plan_id, "approve", now)


@router.post("/{plan_id}/return", summary="Return to draft (the agency's enforcement lead)")
def return_plan(
    plan_id: int, body: ReasonIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> PlanDetail:
    """Sent back with the reason."""
    return _move(uow, caller, plan_id, "return", now, body.reason)


@router.post("/{plan_id}/publish", summary="Publish (公开)")
def publish(plan_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> PlanDetail:
    """An approved plan becomes public: what was drawn, from how many, with the seed."""
    return _move(uow, caller, plan_id, "publish", now)


@router.post("/{plan_id}/cancel", summary="Cancel a plan not started")
def cancel(plan_id: int, body: ReasonIn, uow: UowDep, caller: PersonDep, now: NowDep) -> PlanDetail:
    """With the reason; its visits not started are cancelled."""
    return _move(uow, caller, plan_id, "cancel", now, body.reason)


@router.get("/{plan_id}/public", summary="What the public sees of a published plan")
def public_view(plan_id: int, uow: UowDep, caller: PersonDep) -> PublicPlanRead:
    """The plan as the public entrance shows it (no officer's name or phone)."""
    who = access.acting(uow.session, caller.actor)
    return reads.public_plan(uow.session, service.visible_plan(uow.session, who, plan_id))
