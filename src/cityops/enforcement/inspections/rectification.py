"""After the visit: ONE combined rectification notice (综合检查整改通知书) built from every
agency's failed findings, numbered and issued as a PDF through the documents service and
served; the business's proof of rectification; the re-inspection after the deadline (or
earlier on proof), which closes the visit or escalates it to penalty cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cityops.cases.service import Picture
from cityops.cases.workflow import Actor
from cityops.citizens.intake import check_photos
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.documents import content
from cityops.enforcement.documents import service as documents
from cityops.enforcement.inspections import access, checklist, repository
from cityops.enforcement.inspections.models import (
    Finding,
    FindingOutcome,
    Inspection,
    InspectionState,
    Outcome,
    RectificationNotice,
)
from cityops.enforcement.inspections.schemas import ResultIn
from cityops.enforcement.inspections.service import (
    audit,
    check_team,
    duty_citations,
    get_inspection,
    local_day,
    points,
    settle_plan,
    store_photos,
    taking_part,
    visible_inspection,
)
from cityops.enforcement.inspections.workflow import inspection_next
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from cityops.kit.storage import BlobStorage

NOTICE_KIND = "rectification_notice"
# 〔2026〕第N号 follows: e.g. 渝中解放碑综查改字〔2026〕第3号.
NOTICE_WORD = "综查改字"
# Proof may come in several uploads; this many photos in all.
MAX_PROOF_PHOTOS = 9


def short_name(agency_name: str) -> str:
    """The place part of an agency's name, as document numbers abbreviate it:
    重庆市渝中区解放碑街道综合行政执法大队 → 渝中解放碑, 重庆市渝中区消防救援支队 → 渝中."""
    name = agency_name.removeprefix("重庆市")
    for marker in ("街道", "镇", "乡", "区", "县"):
        if marker in name:
            return name[: name.index(marker)].replace("区", "").replace("县", "")
    return name[:4]


def _basis(session: Session, finding: Finding, point: checklist.Point | None) -> tuple[str, ...]:
    cited = []
    if point is not None:
        row = point.agencies.get(finding.agency_id, point.first)
        cited.append(row.citation)
    item = repository.items(session, [finding.item_id])[finding.item_id]
    cited.extend(duty_citations(item))
    return tuple(dict.fromkeys(c for c in cited if c))


def notice_content(
    session: Session,
    inspection: Inspection,
    failed: list[Finding],
    *,
    number: str,
    contact: str,
    now: datetime,
) -> content.RectificationNotice:
    """What the combined notice says: the party, every taking-part agency as issuer (the
    initiator first), one line per failed finding (agency, finding, requirement, deadline,
    legal basis) and the officers who inspected."""
    business = businesses.business(session, inspection.business_id)
    assert business is not None and inspection.started_at is not None
    parts = taking_part(inspection)
    agencies = repository.agencies(session, [a.agency_id for a in parts])
    order = {a.agency_id: n for n, a in enumerate(parts)}
    points_ = points(session, inspection)
    lines = []
    for f in sorted(failed, key=lambda f: (order.get(f.agency_id, 99), f.id)):
        point = checklist.point_of(points_, f.checklist_item_id) if f.checklist_item_id else None
        asked = f"（检查要点：{point.first.text}）" if point is not None else ""
        lines.append(
            content.RectificationLine(
                agency=agencies[f.agency_id].name,
                finding=(f.note or "不符合要求") + asked,
                requirement=f.requirement,
                deadline=f.deadline or local_day(now),
                basis=_basis(session, f, point),
            )
        )
    officers = repository.officers(session, [o.officer_id for o in inspection.officers])
    return content.RectificationNotice(
        number=number,
        party=content.PartyInfo(
            name=business.name,
            kind=business.party_kind,
            identifier=business.credit_code,
            representative=business.representative,
            address=business.address,
            phone=business.phone,
        ),
        place=inspection.place,
        inspected_on=local_day(inspection.started_at),
        issuers=tuple(
            content.Issuer(
                agencies[a.agency_id].name,
                agencies[a.agency_id].address,
                agencies[a.agency_id].phone,
            )
            for a in parts
        ),
        lines=tuple(lines),
        issued_on=local_day(now),
        contact=contact,
        officers=tuple(
            content.Officer(o.name, o.certificate_number)
            for o in sorted(officers.values(), key=lambda o: (o.agency_id, o.id))
        ),
    )


def failed_findings(session: Session, inspection_id: int) -> list[Finding]:
    return [
        f for f in repository.findings(session, inspection_id) if f.outcome == FindingOutcome.FAIL
    ]


def issue_notice(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    inspection_id: int,
    *,
    contact: str,
    now: datetime,
) -> RectificationNotice:
    """Number and issue the one combined notice (a PDF through the documents service) for
    every agency's failed findings; its deadline is the latest of theirs. By the lead
    agency's officers."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    access.of_lead_agency(who, inspection)
    inspection_next(inspection.state, "issue_notice")
    earlier = repository.notice(session, inspection.id)
    if earlier is not None:
        raise Conflict(f"the notice was issued already: {earlier.number}")
    failed = failed_findings(session, inspection.id)
    lead = repository.agencies(session, [inspection.lead_agency_id])[inspection.lead_agency_id]
    year = local_day(now).year
    number = documents.next_number(
        session,
        agency_id=lead.id,
        kind=NOTICE_KIND,
        year=year,
        prefix=f"{short_name(lead.name)}{NOTICE_WORD}",
    )
    if not contact:
        contact = f"整改完成后请上传整改照片，或联系{lead.name}" + (
            f"（{lead.phone}）" if lead.phone else ""
        )
    document = notice_content(session, inspection, failed, number=number, contact=contact, now=now)
    issued = documents.issue(
        session,
        storage,
        document,
        agency_id=lead.id,
        subject_kind="inspection",
        subject_id=inspection.id,
        actor_id=actor.id,
        now=now,
    )
    deadline = max(line.deadline for line in document.lines)
    notice = RectificationNotice(
        inspection_id=inspection.id,
        document_id=issued.id,
        number=number,
        deadline=deadline,
        issued_at=now,
        issued_by=actor.id,
    )
    session.add(notice)
    inspection.rectification_deadline = deadline
    session.flush()
    audit(
        session,
        actor,
        "inspection.notice",
        "inspection",
        inspection.id,
        now,
        number=number,
        document_id=issued.id,
        lines=len(document.lines),
        deadline=deadline.isoformat(),
    )
    return notice


def serve_notice(
    session: Session,
    actor: Actor,
    inspection_id: int,
    *,
    method: str,
    served_at: datetime | None,
    now: datetime,
) -> RectificationNotice:
    """Record the notice served (how, when): the visit then waits for its deadline."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    access.of_lead_agency(who, inspection)
    state = inspection_next(inspection.state, "serve_notice")
    notice = repository.notice(session, inspection.id)
    if notice is None:
        raise Conflict("issue the notice before serving it")
    served_at = served_at or now
    if served_at > now or (inspection.started_at and served_at < inspection.started_at):
        raise Invalid(
            "served_at: between the inspection's start and now",
            errors=[FieldProblem("served_at", "not between the start and now")],
        )
    notice.served_at, notice.served_method, notice.served_by = served_at, method, actor.id
    inspection.state = state
    session.flush()
    audit(
        session,
        actor,
        "inspection.serve",
        "inspection",
        inspection.id,
        now,
        method=method,
        served_at=served_at.isoformat(),
    )
    return notice


def inspection_for_proof(session: Session, *, notice_number: str, credit_code: str) -> Inspection:
    """The visit a business proves rectification for, by the notice's number and its own
    credit code (both on the notice it holds); NotFound for any mismatch alike."""
    notice = repository.notice_by_number(session, notice_number.strip())
    inspection = get_inspection(session, notice.inspection_id) if notice else None
    business = businesses.business(session, inspection.business_id) if inspection else None
    if business is None or business.credit_code != credit_code.strip().upper():
        raise NotFound("no such notice for this business")
    return inspection  # type: ignore[return-value]


def submit_proof(
    session: Session,
    storage: BlobStorage,
    inspection_id: int,
    *,
    note: str,
    photos: list[Picture],
    max_photo_bytes: int,
    now: datetime,
    actor: Actor | None = None,
) -> RectificationNotice:
    """The business's proof of rectification (photos and a note), uploaded by the business
    itself (`actor` None: the public entrance identified it, see `inspection_for_proof`)
    or by an officer of an agency on the visit on its behalf. The visit is then due for
    re-inspection, before the deadline if the officers wish."""
    if actor is not None:
        who = access.acting(session, actor)
        inspection = visible_inspection(session, who, inspection_id, lock=True)
        if not who.has(*access.ACTING_ROLES):
            raise Forbidden("this needs the role officer or enforcement_lead")
    else:
        inspection = get_inspection(session, inspection_id, lock=True)
    state = inspection_next(inspection.state, "prove")
    notice = repository.notice(session, inspection.id)
    assert notice is not None  # served, so issued
    if not photos and not note.strip():
        raise Invalid("send photos or a note", errors=[FieldProblem("photos", "none sent")])
    check_photos(photos, max_photo_bytes)
    if len(notice.proof_keys) + len(photos) > MAX_PROOF_PHOTOS:
        raise Invalid(
            f"at most {MAX_PROOF_PHOTOS} photos of proof in all",
            errors=[
                FieldProblem(
                    "photos", f"{len(notice.proof_keys)} sent already; at most {MAX_PROOF_PHOTOS}"
                )
            ],
        )
    keys = store_photos(storage, f"inspections/{inspection.id}/proof", photos)
    notice.proof_keys = [*notice.proof_keys, *keys]
    notice.proof_note = "\n".join(x for x in (notice.proof_note, note.strip()) if x)
    notice.proof_at = now
    inspection.state = state
    session.flush()
    by = "business" if actor is None else "officer on its behalf"
    audit(
        session,
        actor,
        "inspection.proof",
        "inspection",
        inspection.id,
        now,
        photos=len(keys),
        by=by,
    )
    return notice


def fall_due(session: Session, now: datetime, *, limit: int = 500) -> int:
    """Visits whose deadline passed (before today) are due for re-inspection (a job)."""
    today = local_day(now)
    due = repository.fallen_due(session, today, limit)
    for inspection in due:
        inspection.state = inspection_next(inspection.state, "fall_due")
        audit(
            session,
            None,
            "inspection.due",
            "inspection",
            inspection.id,
            now,
            deadline=str(inspection.rectification_deadline),
        )
    session.flush()
    return len(due)


def _results(failed: list[Finding], results: list[ResultIn]) -> dict[int, ResultIn]:
    ids = {f.id for f in failed}
    problems, given = [], {}
    for n, result in enumerate(results):
        if result.finding_id not in ids:
            problems.append(
                FieldProblem(f"results.{n}.finding_id", "not a failed finding of this inspection")
            )
        elif result.finding_id in given:
            problems.append(FieldProblem(f"results.{n}.finding_id", "given twice"))
        given[result.finding_id] = result
    problems += [
        FieldProblem("results", f"no result for finding {f.id}")
        for f in failed
        if f.id not in given
    ]
    if problems:
        raise Invalid("each failed finding needs one result", errors=problems)
    return given


def reinspect(
    session: Session,
    actor: Actor,
    inspection_id: int,
    *,
    officer_ids: list[int],
    results: list[ResultIn],
    now: datetime,
) -> Inspection:
    """The re-inspection (复查) by at least two certified officers of agencies on the visit:
    for each failed finding, rectified or not. All rectified: closed (outcome
    rectification); any not: escalated (outcome penalty), its findings for penalty cases."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    parts = {a.agency_id for a in taking_part(inspection)}
    if not who.has(*access.ACTING_ROLES) or not parts & who.agency_ids:
        raise Forbidden("only officers of the agencies on the inspection re-inspect")
    today = local_day(now)
    if (
        inspection.state == InspectionState.NOTICE_SERVED
        and inspection.rectification_deadline
        and inspection.rectification_deadline < today
    ):
        inspection.state = inspection_next(inspection.state, "fall_due")
    if inspection.state == InspectionState.NOTICE_SERVED:
        raise Conflict(
            f"the deadline is {inspection.rectification_deadline}: re-inspect after "
            "it, or once the business has sent proof of rectification"
        )
    inspection_next(inspection.state, "reinspect_rectified")
    ids = check_team(
        session,
        parts,
        officer_ids,
        business_id=inspection.business_id,
        region_code=inspection.region_code,
        on=today,
    )
    failed = failed_findings(session, inspection.id)
    given = _results(failed, results)
    for finding in failed:
        finding.rectified = given[finding.id].rectified
        finding.reinspection_note = given[finding.id].note.strip()
    rectified = all(f.rectified for f in failed)
    inspection.state = inspection_next(
        inspection.state, "reinspect_rectified" if rectified else "reinspect_not_rectified"
    )
    inspection.outcome = Outcome.RECTIFICATION if rectified else Outcome.PENALTY
    inspection.reinspected_at, inspection.closed_at = now, now
    inspection.reinspection_officer_ids = ids
    session.flush()
    audit(
        session,
        actor,
        "inspection.reinspect",
        "inspection",
        inspection.id,
        now,
        state=inspection.state,
        not_rectified=[f.id for f in failed if not f.rectified],
    )
    settle_plan(session, inspection.plan_id, now)
    return inspection
