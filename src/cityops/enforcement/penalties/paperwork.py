"""The documents of a case (执法文书), filled from its rows and issued through the documents
service: numbered per agency, kind and year, rendered, stored, and named on the step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from cityops.enforcement.documents import content as c
from cityops.enforcement.documents import service as documents
from cityops.enforcement.penalties import rules
from cityops.enforcement.penalties.agency_rules import AgencyRules
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries import repository as registry
from cityops.enforcement.registries.citation import citation
from cityops.enforcement.registries.models import BasisRole, Item
from cityops.kit.storage import BlobStorage

SUBJECT_KIND = "penalty_case"

SOURCE_NAMES_ZH = {
    "inspection": "监督检查",
    "complaint": "投诉举报",
    "referral": "移送",
    "patrol": "巡查发现",
    "other": "其他",
}


def issuer(ar: AgencyRules) -> c.Issuer:
    return c.Issuer(name=ar.agency_name, address=ar.agency_address, phone=ar.agency_phone)


def party(case: PenaltyCase) -> c.PartyInfo:
    return c.PartyInfo(
        name=case.party_name, kind=case.party_kind, identifier=case.party_identifier,
        representative=case.party_representative, address=case.party_address,
        phone=case.party_phone,
    )  # fmt: skip


def officers(session: Session, ids: Sequence[int]) -> tuple[c.Officer, ...]:
    """The officers named, in the order given, with the certificates they show."""
    rows = {o.id: o for o in registry.officers_by_id(session, list(ids))}
    return tuple(
        c.Officer(rows[i].name, rows[i].certificate_number) for i in dict.fromkeys(ids) if i in rows
    )


def basis(item: Item, role: BasisRole | None = None) -> tuple[str, ...]:
    """The citations of the item's legal basis (in one role, or the duty and the penalty)."""
    roles = (role,) if role else (BasisRole.DUTY, BasisRole.PENALTY)
    return tuple(
        citation(
            link.article.law.title,
            link.article.number,
            link.paragraph or link.article.paragraph,
            link.item_no or link.article.item,
        )
        for r in roles
        for link in item.basis
        if link.role == r
    )


def evidence(steps: Sequence[PenaltyStep]) -> tuple[str, ...]:
    """What the investigation gathered, in order: evidence items, inquiry records, on-site
    records (with their numbers), the photos of the finding the case came from."""
    found: list[str] = []
    for step in steps:
        if step.kind == "opened" and step.payload.get("photos"):
            found.append(f"现场照片{len(step.payload['photos'])}张")
        elif step.kind == "evidence_collected":
            found.extend(str(x) for x in step.payload.get("items", []))
        elif step.kind == "inquiry_recorded":
            found.append(f"询问笔录（{step.payload.get('person', '')}）")
        elif step.kind == "site_inspected":
            found.append(f"现场检查笔录（{step.payload.get('number', '')}）")
    return tuple(found)


def number(session: Session, ar: AgencyRules, kind: str, on: date) -> str:
    """The agency's next number of a kind of document in the year: 渝中消罚决字〔2026〕第12号."""
    prefix = ar.number_prefix + rules.DOCUMENT_WORDS[kind]
    return documents.next_number(
        session, agency_id=ar.agency_id, kind=kind, year=on.year, prefix=prefix
    )


def issue(
    session: Session,
    storage: BlobStorage | None,
    document: c.Document,
    *,
    case: PenaltyCase,
    actor_id: int | None,
    now: datetime,
) -> int:
    """Render and store the document for the case; its id for the step."""
    if storage is None:
        raise ValueError("issuing a document needs the blob storage")
    issued = documents.issue(
        session, storage, document, agency_id=case.agency_id, subject_kind=SUBJECT_KIND,
        subject_id=case.id, actor_id=actor_id, now=now,
    )  # fmt: skip
    return int(issued.id)
