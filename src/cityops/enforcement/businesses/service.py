"""Business directory use cases: reading businesses with their licences and the agencies
that inspect them, recording officers' conflicts (回避), and the shipped sample."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.workflow import Actor
from cityops.enforcement.businesses import io, repository
from cityops.enforcement.businesses.models import Business, OfficerConflict
from cityops.enforcement.businesses.schemas import (
    BusinessDetail,
    BusinessRead,
    ConflictRead,
    InspectingAgency,
    LicenceRead,
)
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.io import ImportSummary, Progress, Table, filter_rows
from cityops.enforcement.registries.models import Agency, Item, Officer
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound
from cityops.org.models import Region

SEED_DIR = Path(__file__).parent / "seed"


def get_business(session: Session, business_id: int) -> Business:
    business = repository.business(session, business_id)
    if business is None:
        raise NotFound(f"no business {business_id}")
    return business


def business_reads(businesses: Sequence[Business], *, privileged: bool) -> list[BusinessRead]:
    """Businesses for the API; their phones in full only for `privileged` callers."""
    return [
        BusinessRead(
            id=b.id,
            credit_code=b.credit_code,
            name=b.name,
            party_kind=b.party_kind,
            type_code=b.type_code,
            type_name=b.type.name,
            representative=b.representative,
            phone=b.phone if privileged else registries.masked(b.phone),
            address=b.address,
            region_code=b.region_code,
            grid_code=b.grid_code,
            lon=b.lon,
            lat=b.lat,
            opened_on=b.opened_on,
            active=b.active,
            note=b.note,
        )
        for b in businesses
    ]


def type_items(session: Session, business: Business) -> list[Item]:
    """The enforcement items of the business's type that exist (in the type's order)."""
    codes = business.type.item_codes or []
    if not codes:
        return []
    found = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(codes)))}
    return [found[c] for c in codes if c in found and found[c].active]


def inspecting_agencies(session: Session, business: Business) -> list[tuple[Agency, list[Item]]]:
    """The agencies that may enforce the items of the business's type where it is, each
    with those items (`registries.service.agencies_for`), by agency code: whom a joint
    inspection of it invites."""
    held: dict[int, tuple[Agency, list[Item]]] = {}
    for item in type_items(session, business):
        for agency in registries.agencies_for(session, item.id, business.region_code):
            held.setdefault(agency.id, (agency, []))[1].append(item)
    return sorted(held.values(), key=lambda pair: pair[0].code)


def business_detail(session: Session, business: Business, *, privileged: bool) -> BusinessDetail:
    """The business with its licences, the agencies that inspect its type there and, for
    enforcement staff (`privileged`), the officers who must not inspect it."""
    agencies = [
        InspectingAgency(
            id=a.id,
            code=a.code,
            name=a.name,
            kind=a.kind,
            kind_name=a.kind_name,
            items=[i.code for i in items],
        )
        for a, items in inspecting_agencies(session, business)
    ]
    conflicts = []
    if privileged:
        rows = repository.conflicts_of(session, business.id)
        officers = {
            o.id: o
            for o in session.scalars(
                select(Officer).where(Officer.id.in_([c.officer_id for c in rows]))
            )
        }
        conflicts = [
            ConflictRead(
                officer_id=c.officer_id,
                officer_name=officers[c.officer_id].name,
                certificate_number=officers[c.officer_id].certificate_number,
                reason=c.reason,
                recorded_at=c.recorded_at,
            )
            for c in rows
        ]
    base = business_reads([business], privileged=privileged)[0]
    return BusinessDetail(
        **base.model_dump(),
        licences=[LicenceRead.model_validate(x) for x in business.licences],
        agencies=agencies,
        conflicts=conflicts,
    )


def record_conflict(
    session: Session,
    actor: Actor,
    business_id: int,
    *,
    officer_id: int,
    reason: str,
    now: datetime,
) -> OfficerConflict:
    """Record that an officer must not inspect a business (回避), or update the reason: by
    the enforcement lead of the officer's agency (or an admin); audited."""
    get_business(session, business_id)
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise Invalid(
            f"no officer {officer_id}", errors=[FieldProblem("officer_id", "no such officer")]
        )
    leads = session.scalars(
        select(Officer.agency_id).where(Officer.person_id == actor.id, Officer.active.is_(True))
    )
    if "admin" not in actor.roles and officer.agency_id not in set(leads):
        raise Forbidden("only the enforcement lead of the officer's agency records this")
    row = session.get(OfficerConflict, (business_id, officer_id))
    if row is None:
        row = OfficerConflict(business_id=business_id, officer_id=officer_id)
        session.add(row)
    row.reason, row.recorded_by, row.recorded_at = reason, actor.id, now
    session.flush()
    record_audit(
        session,
        Principal(actor=actor),
        "business.conflict",
        "business",
        business_id,
        now=now,
        after={"officer_id": officer_id, "reason": reason},
    )
    return row


def load_seed(session: Session, *, progress: Progress | None = None) -> ImportSummary:
    """Insert what is missing of the shipped sample of the demo district (渝中区): business
    types, about forty businesses in 解放碑街道 and 七星岗街道 with their licences, and a
    sample conflict. Businesses of streets that do not exist here are left out, grids that
    do not exist are left blank, and a conflict whose officer is not here is left out; rows
    that exist are left as they are. Load the enforcement registries' sample first (the
    types list its items)."""
    tables = io.read_tables(SEED_DIR)
    regions = set(session.scalars(select(Region.code)))
    tables["businesses"] = Table(
        tables["businesses"].label,
        tables["businesses"].header,
        [
            (n, row | {"grid_code": row["grid_code"] if row["grid_code"] in regions else ""})
            for n, row in tables["businesses"].rows
            if row["region_code"] in regions
        ],
    )
    kept = {row["credit_code"] for _, row in tables["businesses"].rows}
    kept |= set(session.scalars(select(Business.credit_code)))
    certificates = set(session.scalars(select(Officer.certificate_number)))
    tables["licences"] = filter_rows(tables["licences"], lambda row: row["credit_code"] in kept)
    tables["conflicts"] = filter_rows(
        tables["conflicts"],
        lambda row: row["credit_code"] in kept and row["certificate_number"] in certificates,
    )
    return io.import_tables(session, tables, keep_existing=True, progress=progress)
