"""The on-site inspection record (现场检查笔录) of a finished visit, one per agency that took
part, issued as PDFs through the documents service with the signatures taken on the phone.

Why one per agency and not one joint record: 综合查一次 spares the business repeated
visits and gives it one combined notice, but each agency's record is the evidence of its
own procedure — made by its own officers (at least two, with their certificates,
Administrative Penalty Law Art. 42), numbered in its own 检字 sequence, and the record a
penalty case opened from its findings rests on (Art. 46 现场笔录). A joint record issued by
the lead agency would be another agency's paper in that agency's case file. Each record
names the visit as joint and the other agencies on it, so the records read together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents import content
from cityops.enforcement.documents import service as documents
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections import access, checklist, repository
from cityops.enforcement.inspections.models import (
    FindingOutcome,
    Inspection,
    InspectionAgency,
    SignerRole,
)
from cityops.enforcement.inspections.service import (
    audit,
    local_day,
    points,
    taking_part,
    visible_inspection,
)
from cityops.enforcement.inspections.signatures import current
from cityops.enforcement.penalties import rules as penalty_rules
from cityops.enforcement.penalties.agency_rules import agency_rules
from cityops.errors import Conflict, NotFound
from cityops.kit.storage import BlobStorage

KIND = repository.RECORD_KIND
OUTCOME_WORDS = {
    FindingOutcome.PASS: "符合",
    FindingOutcome.FAIL: "不符合",
    FindingOutcome.NOT_APPLICABLE: "不适用",
}


def _record_text(
    session: Session,
    inspection: Inspection,
    part: InspectionAgency,
    business: Business,
    *,
    names: dict[int, str],
    present: str,
) -> tuple[str, tuple[str, ...]]:
    """检查情况 (one paragraph a line) and 发现问题 of one agency's part of the visit."""
    found = [
        f for f in repository.findings(session, inspection.id) if f.agency_id == part.agency_id
    ]
    points_ = points(session, inspection)
    items = repository.items(session, part.item_ids)
    others = [names[a] for a in names if a != part.agency_id]
    with_whom = f"在{present}陪同下，" if present else ""
    joint = (
        f"本次检查为综合查一次，由{names[inspection.lead_agency_id]}牵头，会同"
        f"{'、'.join(n for a, n in names.items() if a != inspection.lead_agency_id)}同时进行。"
        if others
        else ""
    )
    counts = {o: sum(f.outcome == o for f in found) for o in OUTCOME_WORDS}
    lines = [
        f"执法人员{with_whom}对{business.name}位于{inspection.place or business.address}的"
        f"经营场所进行了检查。{joint}",
        f"按照{'、'.join(f'“{i.name}”' for i in items.values()) or '本机关事项'}的检查要点逐项"
        f"检查{len(found)}项：符合{counts[FindingOutcome.PASS]}项，不符合"
        f"{counts[FindingOutcome.FAIL]}项，不适用{counts[FindingOutcome.NOT_APPLICABLE]}项。",
    ]
    failed = []
    for n, f in enumerate(found, 1):
        point = checklist.point_of(points_, f.checklist_item_id) if f.checklist_item_id else None
        asked = point.first.text if point is not None else f"（{items[f.item_id].name}）"
        note = f"，{f.note}" if f.note else ""
        lines.append(
            f"{n}. {asked.rstrip('。')}：{OUTCOME_WORDS[FindingOutcome(f.outcome)]}{note}。"
        )
        if f.outcome == FindingOutcome.FAIL:
            photos = f"，现场拍摄照片{len(f.photos)}张" if f.photos else ""
            failed.append(f"{f.note or '不符合要求'}（检查要点：{asked.rstrip('。')}{photos}）")
    return "\n".join(lines), tuple(failed)


def issue_records(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    inspection_id: int,
    *,
    present: str = "",
    now: datetime,
) -> list[IssuedDocument]:
    """Issue the finished visit's on-site records, one per agency that took part (by an
    officer on the visit), each with that agency's officers, findings and signatures and
    the party's; `present` is who was there for the party (现场负责人), by default the name
    the party signed with, else the business's representative. Once per visit."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    access.on_site_officer(who, inspection)
    if inspection.finished_at is None or inspection.started_at is None:
        raise Conflict(f"finish the inspection first: it is {inspection.state}")
    earlier = repository.record_documents(session, inspection.id)
    if earlier:
        raise Conflict(
            f"the on-site records were issued already: {'、'.join(d.number for d in earlier)}"
        )
    business = businesses.business(session, inspection.business_id)
    assert business is not None
    parts = taking_part(inspection)
    agencies = repository.agencies(session, [a.agency_id for a in parts])
    names = {a.agency_id: agencies[a.agency_id].name for a in parts}
    signed = current(repository.signatures(session, inspection.id))
    party_signed = [s for s in signed if s.role == SignerRole.PARTY]
    present = present.strip() or (party_signed[-1].name if party_signed else "")
    present = present or business.representative
    officers = repository.officers(session, [o.officer_id for o in inspection.officers])
    issued = []
    for part in parts:
        agency = agencies[part.agency_id]
        team = sorted(
            (officers[o.officer_id] for o in inspection.officers if o.agency_id == agency.id),
            key=lambda o: o.id,
        )
        team_ids = {o.id for o in team}
        ours = [s for s in signed if s.role == SignerRole.PARTY or s.officer_id in team_ids]
        record, failed = _record_text(
            session, inspection, part, business, names=names, present=present
        )
        prefix = agency_rules(session, agency.id).number_prefix
        number = documents.next_number(
            session,
            agency_id=agency.id,
            kind=KIND,
            year=local_day(now).year,
            prefix=prefix + penalty_rules.DOCUMENT_WORDS[KIND],
        )
        document = content.OnSiteRecord(
            number=number,
            issuer=content.Issuer(agency.name, agency.address, agency.phone),
            party=content.PartyInfo(
                name=business.name,
                kind=business.party_kind,
                identifier=business.credit_code,
                representative=business.representative,
                address=business.address,
                phone=business.phone,
            ),
            place=inspection.place or business.address,
            started_at=inspection.started_at,
            ended_at=inspection.finished_at,
            officers=tuple(content.Officer(o.name, o.certificate_number) for o in team),
            present=present,
            record=record,
            findings=failed,
            signatures=tuple(
                content.SignatureImage(
                    role=s.role,
                    name=s.name,
                    png=b"".join(storage.open(s.storage_key)),
                    signed_on=local_day(s.signed_at),
                )
                for s in ours
            ),
        )
        issued.append(
            documents.issue(
                session,
                storage,
                document,
                agency_id=agency.id,
                subject_kind="inspection",
                subject_id=inspection.id,
                actor_id=actor.id,
                now=now,
            )
        )
    audit(
        session, actor, "inspection.record", "inspection", inspection.id, now,
        documents=[d.id for d in issued], numbers=[d.number for d in issued],
        signatures=len(signed),
    )  # fmt: skip
    return issued


def record_document(
    session: Session, actor: Actor, inspection_id: int, document_id: int
) -> IssuedDocument:
    """One of the visit's on-site records, for everyone who may see the visit whichever
    agency issued it (as the combined notice)."""
    who = access.acting(session, actor)
    visible_inspection(session, who, inspection_id)
    found = {d.id: d for d in repository.record_documents(session, inspection_id)}
    if document_id not in found:
        raise NotFound(f"no on-site record {document_id} of inspection {inspection_id}")
    return found[document_id]
