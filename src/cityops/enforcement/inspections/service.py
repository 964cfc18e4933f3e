"""What every inspection use case shares — reading plans and visits within the caller's
scope, the visit's merged checklist, the check of a team of officers, local days, the
audit — and the findings a penalty case is opened from (`findings_for_penalty`).

Services flush and never commit: the route, job or command that called them commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.service import Picture
from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.inspections import access, checklist, repository
from cityops.enforcement.inspections.models import (
    AgencyRole,
    Finding,
    FindingOutcome,
    Inspection,
    InspectionAgency,
    InspectionPlan,
    InspectionState,
    InvitationState,
    PlanState,
)
from cityops.enforcement.inspections.workflow import plan_ends, plan_next
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.citation import citation
from cityops.enforcement.registries.models import BasisRole, Item
from cityops.enforcement.registries.repository import articles_by_id
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.kit.storage import BlobStorage, new_key

# Enforcement dates (deadlines, the day of a visit) are days in China.
LOCAL = ZoneInfo("Asia/Shanghai")


def local_day(instant: datetime) -> date:
    return instant.astimezone(LOCAL).date()


def audit(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: int,
    now: datetime,
    **after: Any,
) -> None:
    """Who did what, in the caller's transaction (None: the system or the business)."""
    principal = Principal(actor=actor) if actor is not None else None
    record_audit(session, principal, action, entity, entity_id, now=now, after=after or None)


# -- reading ---------------------------------------------------------------------------------


def store_photos(storage: BlobStorage, prefix: str, photos: Sequence[Picture]) -> list[str]:
    """Store checked photos under `prefix`; their storage keys, in order."""
    keys = []
    for p in photos:
        assert isinstance(p.data, bytes)  # uploads, never blobs stored already
        keys.append(
            storage.put(new_key(prefix, p.filename or "photo.jpg"), p.data, p.content_type).key
        )
    return keys


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> InspectionPlan:
    plan = repository.plan(session, plan_id, lock=lock)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def get_inspection(session: Session, inspection_id: int, *, lock: bool = False) -> Inspection:
    inspection = repository.inspection(session, inspection_id, lock=lock)
    if inspection is None:
        raise NotFound(f"no inspection {inspection_id}")
    return inspection


def visible_plan(session: Session, who: access.Acting, plan_id: int) -> InspectionPlan:
    plan = get_plan(session, plan_id)
    access.see_plan(who, plan, repository.plan_inspections(session, plan_id))
    return plan


def visible_inspection(
    session: Session, who: access.Acting, inspection_id: int, *, lock: bool = False
) -> Inspection:
    inspection = get_inspection(session, inspection_id, lock=lock)
    access.see_inspection(who, inspection)
    return inspection


def taking_part(inspection: Inspection) -> list[InspectionAgency]:
    """The agencies on the visit: the initiator first, then those that accepted by id."""
    rows = [a for a in inspection.agencies if a.state == InvitationState.ACCEPTED]
    return sorted(rows, key=lambda a: (a.role != AgencyRole.INITIATOR, a.agency_id))


def points(session: Session, inspection: Inspection) -> list[checklist.Point]:
    """The visit's merged checklist: every taking-part agency's items' entries, each point
    once, labelled with the agencies that need it."""
    parts = taking_part(inspection)
    agencies = repository.agencies(session, [a.agency_id for a in parts])
    item_ids = [i for a in parts for i in a.item_ids]
    items = repository.items(session, item_ids)
    rows = repository.checklist_rows(session, list(dict.fromkeys(item_ids)))
    articles = articles_by_id(session, [r.article_id for r in rows if r.article_id is not None])
    by_item: dict[int, list[checklist.Row]] = {}
    for r in rows:
        article = articles.get(r.article_id) if r.article_id is not None else None
        cited = citation(article.law.title, article.number) if article else None
        by_item.setdefault(r.item_id, []).append(
            checklist.Row(
                r.id, r.item_id, items[r.item_id].code, r.code, r.text, r.article_id, cited
            )
        )
    return checklist.merge(
        [
            checklist.AgencyRows(
                a.agency_id,
                agencies[a.agency_id].name,
                tuple(row for i in a.item_ids for row in by_item.get(i, ())),
            )
            for a in parts
        ]
    )


def duty_citations(item: Item) -> list[str]:
    """The articles that set the duty an item's violation breaks (违法依据), cited to the
    paragraph and item."""
    return [
        citation(
            link.article.law.title,
            link.article.number,
            link.paragraph or link.article.paragraph,
            link.item_no or link.article.item,
        )
        for link in item.basis
        if link.role == BasisRole.DUTY
    ]


def check_team(
    session: Session,
    agency_ids: Collection[int],
    officer_ids: Sequence[int],
    *,
    business_id: int,
    region_code: str,
    on: date,
    path: str = "officer_ids",
) -> list[int]:
    """The officers, once each, if they may inspect this business together on the day:
    officers of the agencies given (one, mostly), none recorded as conflicting with the
    business (回避), and at least two with a valid certificate covering the region
    (`registries.service.check_officers`). Invalid naming each bad entry otherwise."""
    ids = list(dict.fromkeys(officer_ids))
    officers = repository.officers(session, ids)
    conflicts = businesses.conflicted_officers(session, [business_id]).get(business_id, set())
    problems = []
    for n, officer_id in enumerate(ids):
        officer = officers.get(officer_id)
        if officer is not None and officer.agency_id not in agency_ids:
            problems.append(
                FieldProblem(
                    f"{path}.{n}",
                    f"{officer.name} is not an officer of "
                    f"{'this agency' if len(agency_ids) == 1 else 'an agency on it'}",
                )
            )
        elif officer is not None and officer_id in conflicts:
            problems.append(
                FieldProblem(f"{path}.{n}", f"{officer.name} must not inspect this business (回避)")
            )
    if problems:
        raise Invalid("these officers may not inspect this business", errors=problems)
    registries.check_officers(session, ids, region_code, on).raise_if_blocked(path)
    return ids


def settle_plan(session: Session, plan_id: int | None, now: datetime) -> None:
    """Mark the plan completed once every visit of it has ended."""
    if plan_id is None:
        return
    plan = get_plan(session, plan_id)
    if plan.state in (PlanState.APPROVED, PlanState.IN_PROGRESS) and plan_ends(
        repository.plan_states(session, plan_id)
    ):
        plan.state = plan_next(plan.state, "complete")
        audit(session, None, "inspection_plan.complete", "inspection_plan", plan.id, now)


# -- penalty cases from findings -------------------------------------------------------------------


def findings_for_penalty(session: Session, inspection_id: int) -> list[Finding]:
    """The failed findings of an escalated visit that the re-inspection found not rectified
    and that no penalty case was opened from yet: each is a penalty case to open."""
    inspection = get_inspection(session, inspection_id)
    if inspection.state != InspectionState.ESCALATED:
        return []
    return [
        f
        for f in repository.findings(session, inspection_id)
        if f.outcome == FindingOutcome.FAIL and f.rectified is False and f.penalty_case_id is None
    ]


def mark_penalty_case(session: Session, finding_id: int, penalty_case_id: int) -> Finding:
    """Record the penalty case opened from a finding (once; the same case again is fine)."""
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound(f"no finding {finding_id}")
    if finding.penalty_case_id not in (None, penalty_case_id):
        raise Conflict(f"finding {finding_id} has penalty case {finding.penalty_case_id}")
    finding.penalty_case_id = penalty_case_id
    session.flush()
    return finding
