"""On site: start the visit, record each agency's findings per checklist point with photos
from the phone, finish. Only officers named on the visit for an agency that takes part
record, and only while the visit is in progress; each agency answers for its own points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.cases.service import Picture
from cityops.cases.workflow import Actor
from cityops.citizens.intake import check_photos, photo_type
from cityops.enforcement.inspections import access, checklist, repository
from cityops.enforcement.inspections.models import (
    Finding,
    FindingOutcome,
    Inspection,
    InvitationState,
    Outcome,
)
from cityops.enforcement.inspections.schemas import FindingIn
from cityops.enforcement.inspections.service import (
    audit,
    check_team,
    get_plan,
    local_day,
    points,
    settle_plan,
    store_photos,
    visible_inspection,
)
from cityops.enforcement.inspections.workflow import inspection_next, plan_next
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from cityops.kit.storage import BlobStorage

# An invitation still open when the visit starts is taken as declined, and says so.
NO_ANSWER = "检查开始前未答复"


def start(session: Session, actor: Actor, inspection_id: int, *, now: datetime) -> Inspection:
    """Start the visit (an officer on it): the plan approved, every taking-part agency's
    officers still qualified today; invitations not answered count as declined."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    access.on_site_officer(who, inspection)
    state = inspection_next(inspection.state, "start")
    if inspection.scheduled_at is None:
        raise Conflict("set the inspection's time first")
    if inspection.plan_id is not None:
        plan = get_plan(session, inspection.plan_id, lock=True)
        plan.state = plan_next(plan.state, "start")
    today = local_day(now)
    for part in inspection.agencies:
        if part.state == InvitationState.INVITED:
            part.state, part.reason, part.responded_at = InvitationState.DECLINED, NO_ANSWER, now
            continue
        team = [o.officer_id for o in inspection.officers if o.agency_id == part.agency_id]
        if part.state == InvitationState.ACCEPTED:
            check_team(
                session,
                [part.agency_id],
                team,
                business_id=inspection.business_id,
                region_code=inspection.region_code,
                on=today,
            )
    inspection.state, inspection.started_at = state, now
    session.flush()
    audit(session, actor, "inspection.start", "inspection", inspection.id, now)
    return inspection


def _point(
    points_: Sequence[checklist.Point], checklist_item_id: int, agency_id: int
) -> checklist.Row:
    point = checklist.point_of(points_, checklist_item_id)
    if point is None:
        raise Invalid(
            "not on this inspection's checklist",
            errors=[FieldProblem("checklist_item_id", "not on this checklist")],
        )
    row = point.agencies.get(agency_id)
    if row is None:
        names = "、".join(point.agency_names.values())
        raise Invalid(
            "not on your agency's checklist",
            errors=[
                FieldProblem("checklist_item_id", f"not your agency's point (it is {names}'s)")
            ],
        )
    return row


def _check_body(body: FindingIn, inspection: Inspection) -> None:
    problems = []
    if body.outcome == FindingOutcome.FAIL:
        if not body.requirement.strip():
            problems.append(FieldProblem("requirement", "required when the point fails"))
        if body.deadline is None:
            problems.append(FieldProblem("deadline", "required when the point fails"))
        elif inspection.started_at and body.deadline <= local_day(inspection.started_at):
            problems.append(FieldProblem("deadline", "must be after the day of the inspection"))
    else:
        for name, value in (("requirement", body.requirement.strip()), ("deadline", body.deadline)):
            if value:
                problems.append(FieldProblem(name, "only for a point that fails"))
    if body.checklist_item_id is None and not body.note.strip():
        problems.append(FieldProblem("note", "a finding outside the checklist says what it is"))
    if problems:
        raise Invalid("; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems)


def record(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    inspection_id: int,
    body: FindingIn,
    photos: list[Picture],
    *,
    max_photo_bytes: int,
    now: datetime,
    request_key: str | None = None,
) -> tuple[Finding, bool]:
    """Record (or correct) the caller's agency's result for a checklist point, or a finding
    outside the checklist under one of its items, with photos (JPEG, PNG or WebP). Returns
    the finding and whether it was created now. A resend under the same idempotency key
    returns the finding the first one recorded."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    officer_id, agency_id = access.on_site_officer(who, inspection)
    if request_key is not None:
        earlier = repository.finding_by_request_key(session, officer_id, request_key)
        if earlier is not None:
            if earlier.inspection_id != inspection.id:
                raise Conflict(
                    f"the idempotency key {request_key!r} was used for another inspection's finding"
                )
            return earlier, False
    inspection_next(inspection.state, "record")
    _check_body(body, inspection)
    part = next(a for a in inspection.agencies if a.agency_id == agency_id)
    existing = None
    if body.checklist_item_id is not None:
        row = _point(points(session, inspection), body.checklist_item_id, agency_id)
        checklist_item_id, item_id = row.checklist_item_id, row.item_id
        existing = next(
            (
                f
                for f in repository.findings(session, inspection.id)
                if f.agency_id == agency_id and f.checklist_item_id == checklist_item_id
            ),
            None,
        )
    elif body.item_id is None or body.item_id not in part.item_ids:
        raise Invalid(
            "name one of your agency's items for a finding outside the checklist",
            errors=[FieldProblem("item_id", "not one of your agency's items here")],
        )
    else:
        checklist_item_id, item_id = None, body.item_id
    check_photos(photos, max_photo_bytes)
    keys = store_photos(storage, f"inspections/{inspection.id}", photos)
    finding = existing or Finding(
        inspection_id=inspection.id,
        agency_id=agency_id,
        checklist_item_id=checklist_item_id,
        item_id=item_id,
        photos=[],
        request_key=request_key,
    )
    finding.officer_id, finding.outcome, finding.note = officer_id, body.outcome, body.note.strip()
    finding.requirement, finding.deadline = body.requirement.strip(), body.deadline
    finding.photos, finding.recorded_at = [*finding.photos, *keys], now
    if existing is None:
        session.add(finding)
    session.flush()
    audit(
        session,
        actor,
        "inspection.finding",
        "inspection",
        inspection.id,
        now,
        finding_id=finding.id,
        agency_id=agency_id,
        outcome=finding.outcome,
        photos=len(keys),
    )
    return finding, existing is None


def finish(session: Session, actor: Actor, inspection_id: int, *, now: datetime) -> Inspection:
    """Finish the visit (the lead agency's officer on it) once every taking-part agency has
    answered each of its points: with a failed point it waits for the combined notice;
    with none it is closed as compliant."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    _, agency_id = access.on_site_officer(who, inspection)
    if agency_id != inspection.lead_agency_id:
        raise Forbidden("the lead agency's officers finish the inspection")
    inspection_next(inspection.state, "record")
    found = repository.findings(session, inspection.id)
    answered = {(f.agency_id, f.checklist_item_id) for f in found}
    missing = [
        FieldProblem(f"checklist.{p.first.code}", f"no result from {p.agency_names[a]}")
        for p in points(session, inspection)
        for a, row in p.agencies.items()
        if (a, row.checklist_item_id) not in answered
    ]
    if missing:
        raise Invalid(f"{len(missing)} checklist point(s) without a result", errors=missing)
    failed = any(f.outcome == FindingOutcome.FAIL for f in found)
    inspection.state = inspection_next(
        inspection.state, "finish_failed" if failed else "finish_compliant"
    )
    inspection.finished_at = now
    if not failed:
        inspection.outcome, inspection.closed_at = Outcome.COMPLIANT, now
    session.flush()
    audit(
        session,
        actor,
        "inspection.finish",
        "inspection",
        inspection.id,
        now,
        state=inspection.state,
        findings=len(found),
    )
    if not failed:
        settle_plan(session, inspection.plan_id, now)
    return inspection


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str


def photo(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    inspection_id: int,
    finding_id: int,
    n: int,
) -> Photo:
    """The n-th photo (from 0) of a finding, for those who may see the visit."""
    who = access.acting(session, actor)
    visible_inspection(session, who, inspection_id)
    finding = session.get(Finding, finding_id)
    if (
        finding is None
        or finding.inspection_id != inspection_id
        or not 0 <= n < len(finding.photos)
    ):
        raise NotFound(f"no photo {n} of finding {finding_id}")
    data = b"".join(storage.open(finding.photos[n]))
    return Photo(data, photo_type(data) or "application/octet-stream")
