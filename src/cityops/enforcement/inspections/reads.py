"""Plans and visits as the API shows them (built from rows in a few queries), and what
the public may see of a published plan."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.businesses.service import get_business
from cityops.enforcement.inspections import repository
from cityops.enforcement.inspections.joint import proposals
from cityops.enforcement.inspections.models import (
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
)
from cityops.enforcement.inspections.schemas import (
    AgencyOnRead,
    AgencyRef,
    BusinessRef,
    ChecklistPointRead,
    FindingRead,
    InspectionBrief,
    InspectionDetail,
    InspectionRow,
    NoticeRead,
    OfficerOnRead,
    PlanDetail,
    PlanRead,
    ProposedAgencyRead,
    PublicPlanRead,
    PublicTargetRead,
    RecordRead,
)
from cityops.enforcement.inspections.service import points
from cityops.enforcement.registries.models import Agency, Item, Officer
from cityops.errors import NotFound


def plan_reads(session: Session, plans: Sequence[InspectionPlan]) -> list[PlanRead]:
    agencies = repository.agencies(session, {p.initiator_agency_id for p in plans})
    items = repository.items(session, {i for p in plans for i in p.item_ids})
    return [
        PlanRead(
            id=p.id,
            number=p.number,
            title=p.title,
            kind=p.kind,
            initiator_agency_id=p.initiator_agency_id,
            initiator_agency_name=agencies[p.initiator_agency_id].name,
            region_code=p.region_code,
            state=p.state,
            planned_from=p.planned_from,
            planned_until=p.planned_until,
            item_codes=[items[i].code for i in p.item_ids],
            type_codes=list(p.type_codes),
            target_count=p.target_count,
            officers_per_target=p.officers_per_target,
            seed=p.seed,
            draw=p.draw,
            published_at=p.published_at,
            submitted_at=p.submitted_at,
            approved_by=p.approved_by,
            approved_at=p.approved_at,
            reason=p.reason,
            note=p.note,
            created_by=p.created_by,
            created_at=p.created_at,
        )
        for p in plans
    ]


def inspection_briefs(session: Session, rows: Sequence[Inspection]) -> list[InspectionBrief]:
    names = {b.id: b.name for b in businesses.by_ids(session, [i.business_id for i in rows])}
    return [
        InspectionBrief(
            id=i.id,
            plan_id=i.plan_id,
            business_id=i.business_id,
            business_name=names[i.business_id],
            lead_agency_id=i.lead_agency_id,
            region_code=i.region_code,
            scheduled_at=i.scheduled_at,
            place=i.place,
            state=i.state,
            outcome=i.outcome,
            rectification_deadline=i.rectification_deadline,
        )
        for i in rows
    ]


def agencies_on(
    parts: Sequence[InspectionAgency],
    team: Sequence[InspectionOfficer],
    agencies: dict[int, Agency],
    officers: dict[int, Officer],
    items: dict[int, Item],
) -> list[AgencyOnRead]:
    """The agencies on a visit with their answers, items and officers."""
    return [
        AgencyOnRead(
            agency_id=a.agency_id,
            code=agencies[a.agency_id].code,
            name=agencies[a.agency_id].name,
            role=a.role,
            state=a.state,
            reason=a.reason,
            item_codes=[items[i].code for i in a.item_ids],
            invited_at=a.invited_at,
            responded_at=a.responded_at,
            responded_by=a.responded_by,
            officers=[
                OfficerOnRead(
                    officer_id=o.officer_id,
                    name=officers[o.officer_id].name,
                    certificate_number=officers[o.officer_id].certificate_number,
                )
                for o in team
                if o.agency_id == a.agency_id
            ],
        )
        for a in parts
    ]


def inspection_rows(session: Session, rows: Sequence[Inspection]) -> list[InspectionRow]:
    """Visits for a list with their plans, agencies and officers: one query per relation
    whatever the number of rows (the agencies and officers loaded with the rows)."""
    briefs = inspection_briefs(session, rows)
    agencies = repository.agencies(session, {a.agency_id for i in rows for a in i.agencies})
    officers = repository.officers(session, {o.officer_id for i in rows for o in i.officers})
    items = repository.items(session, {n for i in rows for a in i.agencies for n in a.item_ids})
    plans = repository.plans(session, {i.plan_id for i in rows if i.plan_id is not None})
    return [
        InspectionRow(
            **brief.model_dump(),
            plan_number=plans[i.plan_id].number if i.plan_id else None,
            plan_kind=plans[i.plan_id].kind if i.plan_id else None,
            source=i.source,
            agencies=agencies_on(i.agencies, i.officers, agencies, officers, items),
        )
        for i, brief in zip(rows, briefs, strict=True)
    ]


def records(session: Session, inspection: Inspection) -> list[RecordRead]:
    """The on-site records issued about the visit, each with the URL every agency on the
    visit may read it at."""
    issued = repository.record_documents(session, inspection.id)
    agencies = repository.agencies(session, {d.agency_id for d in issued})
    return [
        RecordRead(
            document_id=d.id,
            agency_id=d.agency_id,
            agency_name=agencies[d.agency_id].name,
            title=d.title,
            number=d.number,
            pages=d.pages,
            issued_at=d.issued_at,
            url=f"/api/v1/enforcement/inspections/{inspection.id}/records/{d.id}.pdf",
        )
        for d in issued
    ]


def plan_detail(session: Session, plan: InspectionPlan) -> PlanDetail:
    visits = repository.plan_inspections(session, plan.id)
    return PlanDetail(
        **plan_reads(session, [plan])[0].model_dump(),
        inspections=inspection_briefs(session, visits),
    )


def inspection_detail(session: Session, inspection: Inspection) -> InspectionDetail:
    """The visit with its agencies (and their officers), merged checklist, findings and
    notice."""
    session.refresh(inspection, ["agencies", "officers"])
    business = get_business(session, inspection.business_id)
    agencies = repository.agencies(session, [a.agency_id for a in inspection.agencies])
    found = repository.findings(session, inspection.id)
    officers = repository.officers(
        session, {o.officer_id for o in inspection.officers} | {f.officer_id for f in found}
    )
    items = repository.items(
        session, {i for a in inspection.agencies for i in a.item_ids} | {f.item_id for f in found}
    )
    plan = repository.plan(session, inspection.plan_id) if inspection.plan_id else None
    notice = repository.notice(session, inspection.id)
    return InspectionDetail(
        **inspection_briefs(session, [inspection])[0].model_dump(),
        plan_number=plan.number if plan else None,
        plan_kind=plan.kind if plan else None,
        source=inspection.source,
        grid_code=inspection.grid_code,
        business=BusinessRef.model_validate(business),
        started_at=inspection.started_at,
        finished_at=inspection.finished_at,
        reinspected_at=inspection.reinspected_at,
        closed_at=inspection.closed_at,
        agencies=agencies_on(inspection.agencies, inspection.officers, agencies, officers, items),
        checklist=[
            ChecklistPointRead(
                id=p.id,
                code=p.first.code,
                text=p.first.text,
                citation=p.first.citation,
                item_codes=list(dict.fromkeys(r.item_code for r in p.rows)),
                checklist_item_ids=sorted(p.ids),
                agencies=[AgencyRef(id=a, name=n) for a, n in p.agency_names.items()],
            )
            for p in points(session, inspection)
        ],
        findings=[
            FindingRead(
                id=f.id,
                agency_id=f.agency_id,
                agency_name=agencies[f.agency_id].name,
                checklist_item_id=f.checklist_item_id,
                item_id=f.item_id,
                item_code=items[f.item_id].code,
                officer_id=f.officer_id,
                officer_name=officers[f.officer_id].name,
                outcome=f.outcome,
                note=f.note,
                requirement=f.requirement,
                deadline=f.deadline,
                photos=len(f.photos),
                recorded_at=f.recorded_at,
                rectified=f.rectified,
                reinspection_note=f.reinspection_note,
                penalty_case_id=f.penalty_case_id,
            )
            for f in found
        ],
        notice=None
        if notice is None
        else NoticeRead(
            id=notice.id,
            number=notice.number,
            document_id=notice.document_id,
            deadline=notice.deadline,
            issued_at=notice.issued_at,
            served_at=notice.served_at,
            served_method=notice.served_method,
            proof_photos=len(notice.proof_keys),
            proof_note=notice.proof_note,
            proof_at=notice.proof_at,
        ),
        records=records(session, inspection),
    )


def proposed_agencies(session: Session, inspection: Inspection) -> list[ProposedAgencyRead]:
    business = get_business(session, inspection.business_id)
    on = {a.agency_id for a in inspection.agencies}
    return [
        ProposedAgencyRead(
            id=a.id,
            code=a.code,
            name=a.name,
            kind_name=a.kind_name,
            items=[i.code for i in held],
            invited=a.id in on,
        )
        for a, held in proposals(session, business).values()
    ]


def public_plan(session: Session, plan: InspectionPlan) -> PublicPlanRead:
    """What anyone may see of a published plan (公开): the plan, the draw's seed and
    digest, and each target with its state and outcome — no officer's name or phone."""
    if plan.published_at is None:
        raise NotFound(f"no published plan {plan.id}")
    agency = repository.agencies(session, [plan.initiator_agency_id])[plan.initiator_agency_id]
    visits = repository.plan_inspections(session, plan.id)
    found = {b.id: b for b in businesses.by_ids(session, [v.business_id for v in visits])}
    draw = plan.draw or {}
    return PublicPlanRead(
        number=plan.number,
        title=plan.title,
        kind=plan.kind,
        agency_name=agency.name,
        region_code=plan.region_code,
        planned_from=plan.planned_from,
        planned_until=plan.planned_until,
        published_at=plan.published_at,
        seed=plan.seed,
        candidates=draw.get("candidates"),
        candidates_digest=draw.get("candidates_digest"),
        targets=[
            PublicTargetRead(
                business_name=found[v.business_id].name,
                credit_code=found[v.business_id].credit_code,
                state=v.state,
                outcome=v.outcome,
            )
            for v in visits
        ],
    )


def published_plans(session: Session, *, limit: int = 50, offset: int = 0) -> list[PublicPlanRead]:
    """The published plans, newest first, as the public sees them (for the public entrance)."""
    query = repository.published_plans_query().limit(limit).offset(offset)
    return [public_plan(session, p) for p in session.scalars(query)]
