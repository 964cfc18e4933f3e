"""What anyone may look up (公示查询): published inspection plans with their draw and the
result for each business visited (双随机、一公开), and published penalty decisions
(Administrative Penalty Law Art. 48).

A citizen party is never named in full, nor found by their name or ID number: publication
shows the surname only (张*), and a search by a person's name would tell who the masked
party is. Organisations are named in full with their credit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections.models import (
    Inspection,
    InspectionAgency,
    InspectionPlan,
    InspectionState,
    Outcome,
    PlanKind,
    PlanState,
)
from cityops.enforcement.penalties import views
from cityops.enforcement.penalties.checks import mask_name
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.public import repository
from cityops.enforcement.public.schemas import (
    PublicDecision,
    PublicPlan,
    PublicResult,
)
from cityops.enforcement.registries.models import Item
from cityops.kit.privacy import mask_personal
from cityops.org.models import Region

CITIZEN = "citizen"
FACTS_SHOWN = 200  # characters of the facts shown: the decision document has the rest

PLAN_KIND_NAMES_ZH = {
    PlanKind.RANDOM: "双随机抽查",
    PlanKind.JOINT: "综合查一次",
    PlanKind.SPECIAL: "专项检查",
}


class Result:
    """What the public is told of one visit."""

    PENDING = "pending"  # 待检查 / 检查中
    COMPLIANT = "compliant"  # 未发现问题
    RECTIFICATION = "rectification"  # 责令整改
    RECTIFIED = "rectified"  # 已整改
    PENALTY = "penalty"  # 立案处罚


RESULT_NAMES_ZH = {
    Result.PENDING: "尚未检查",
    Result.COMPLIANT: "未发现问题",
    Result.RECTIFICATION: "责令整改",
    Result.RECTIFIED: "已按期整改",
    Result.PENALTY: "未按期整改，立案处罚",
}

_AWAITING_RECTIFICATION = frozenset({InspectionState.FINDINGS_RECORDED,
                                     InspectionState.NOTICE_SERVED,
                                     InspectionState.REINSPECTION_DUE})  # fmt: skip


def result_of(inspection: Inspection) -> str:
    """The visit's result in the public's terms: known once the officers have finished."""
    if inspection.state == InspectionState.ESCALATED or inspection.outcome == Outcome.PENALTY:
        return Result.PENALTY
    if inspection.state in _AWAITING_RECTIFICATION:
        return Result.RECTIFICATION
    if inspection.state == InspectionState.CLOSED:
        return Result.RECTIFIED if inspection.outcome == Outcome.RECTIFICATION else Result.COMPLIANT
    return Result.PENDING


@dataclass(frozen=True)
class LookupFilter:
    """Words of a business's name or its credit code (organisations only), an agency, and
    a span of days (plans: their period overlaps it; decisions: decided in it)."""

    text: str | None = None
    agency_id: int | None = None
    since: date | None = None
    until: date | None = None


def _organisation_matches(text: str | None) -> list[object]:
    conditions: list[object] = []
    for word in (text or "").split():
        like = f"%{word}%"
        named = or_(Business.name.ilike(like), Business.credit_code.ilike(like))
        conditions.append(and_(Business.party_kind != CITIZEN, named))
    return conditions


def plans_query(f: LookupFilter) -> Select[Any]:
    """Published plans, the latest published first."""
    query = (
        select(InspectionPlan)
        .where(InspectionPlan.published_at.is_not(None),
               InspectionPlan.state != PlanState.CANCELLED)
        .order_by(InspectionPlan.published_at.desc(), InspectionPlan.id.desc())
    )  # fmt: skip
    words = _organisation_matches(f.text)
    if words:
        visited = (
            select(Inspection.id)
            .join(Business, Business.id == Inspection.business_id)
            .where(Inspection.plan_id == InspectionPlan.id, *words)  # type: ignore[arg-type]
        )
        query = query.where(or_(exists(visited), *(InspectionPlan.title.ilike(f"%{w}%")
                                                   for w in (f.text or "").split())))  # fmt: skip
    if f.agency_id is not None:
        takes_part = (
            select(InspectionAgency.inspection_id)
            .join(Inspection, Inspection.id == InspectionAgency.inspection_id)
            .where(
                Inspection.plan_id == InspectionPlan.id, InspectionAgency.agency_id == f.agency_id
            )
        )
        query = query.where(or_(InspectionPlan.initiator_agency_id == f.agency_id,
                                exists(takes_part)))  # fmt: skip
    if f.since is not None:
        query = query.where(InspectionPlan.planned_until >= f.since)
    if f.until is not None:
        query = query.where(InspectionPlan.planned_from <= f.until)
    return query


def _party(business: Business) -> tuple[str, str | None]:
    if business.party_kind == CITIZEN:
        return mask_name(business.name), None
    return business.name, business.credit_code


def plan_reads(session: Session, plans: Sequence[InspectionPlan]) -> list[PublicPlan]:
    """The plans as published: the draw (seed, how many drawn from how many, the digest to
    check a re-run by) and each business visited with its result."""
    ids = [p.id for p in plans]
    visits = list(session.scalars(
        select(Inspection).where(Inspection.plan_id.in_(ids))
        .where(Inspection.state != InspectionState.CANCELLED)
        .order_by(Inspection.id)
    )) if ids else []  # fmt: skip
    businesses = {b.id: b for b in session.scalars(
        select(Business).where(Business.id.in_({v.business_id for v in visits})))}  # fmt: skip
    agencies = repository.agencies_by_id(session, {p.initiator_agency_id for p in plans})
    regions = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_({p.region_code for p in plans}))).all())  # fmt: skip
    items = {i.id: i.name for i in session.scalars(
        select(Item).where(Item.id.in_({i for p in plans for i in p.item_ids or []})))}  # fmt: skip
    reads = []
    for plan in plans:
        results = []
        for visit in (v for v in visits if v.plan_id == plan.id):
            name, code = _party(businesses[visit.business_id])
            result = result_of(visit)
            done = visit.finished_at or visit.started_at
            results.append(PublicResult(
                business_name=name, credit_code=code, result=result,
                result_name=RESULT_NAMES_ZH[result],
                inspected_on=done.date() if done and result != Result.PENDING else None,
            ))  # fmt: skip
        draw = plan.draw or {}
        reads.append(PublicPlan(
            id=plan.id, number=plan.number, title=plan.title, kind=plan.kind,
            kind_name=PLAN_KIND_NAMES_ZH.get(PlanKind(plan.kind), plan.kind),
            agency_name=agencies[plan.initiator_agency_id].name,
            region_name=regions.get(plan.region_code, plan.region_code),
            planned_from=plan.planned_from, planned_until=plan.planned_until,
            published_at=plan.published_at, seed=plan.seed,
            candidates=draw.get("candidates"), drawn=len(draw.get("targets") or results),
            candidates_digest=draw.get("candidates_digest"),
            items=[items[i] for i in plan.item_ids or [] if i in items],
            results=results, counts=dict(Counter(r.result for r in results)),
        ))  # fmt: skip
    return reads


def decisions_query(f: LookupFilter) -> Select[Any]:
    """Published decisions, the latest decided first."""
    query = (
        select(PenaltyCase)
        .where(PenaltyCase.published_on.is_not(None), PenaltyCase.decided_on.is_not(None))
        .order_by(PenaltyCase.decided_on.desc(), PenaltyCase.id.desc())
    )
    for word in (f.text or "").split():
        like = f"%{word}%"
        query = query.where(and_(
            PenaltyCase.party_kind != CITIZEN,
            or_(PenaltyCase.party_name.ilike(like), PenaltyCase.party_identifier.ilike(like)),
        ))  # fmt: skip
    if f.agency_id is not None:
        query = query.where(PenaltyCase.agency_id == f.agency_id)
    if f.since is not None:
        query = query.where(PenaltyCase.decided_on >= f.since)
    if f.until is not None:
        query = query.where(PenaltyCase.decided_on <= f.until)
    return query


def short(text: str, limit: int = FACTS_SHOWN) -> str:
    """The facts in short: personal numbers masked, cut at `limit` characters."""
    text = mask_personal(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decision_reads(session: Session, cases: Sequence[PenaltyCase]) -> list[PublicDecision]:
    """The decisions as published (the penalty cases' own public view: a citizen masked and
    without ID, the decision document's number, the basis and the penalty in words), with
    the facts in short."""
    reads = []
    for case in cases:
        seen = views.public_read(session, case)
        assert seen.published_on is not None  # only published ones are asked for
        reads.append(PublicDecision(
            id=case.id, number=seen.number, case_number=case.number or "",
            agency_name=seen.agency, party_kind=case.party_kind, party_name=seen.party_name,
            party_identifier=seen.party_identifier or None, title=seen.title,
            facts=short(seen.facts), basis=seen.basis, penalty=seen.penalty, fine=case.fine,
            decided_on=seen.decided_on, published_on=seen.published_on,
        ))  # fmt: skip
    return reads
