"""Every query on the business directory (监管对象名录库)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from cityops.enforcement.businesses.models import (
    Business,
    BusinessType,
    Licence,
    OfficerConflict,
)
from cityops.enforcement.registries.repository import has, terms


def businesses_query(
    text: str | None = None,
    credit_code: str | None = None,
    type_code: str | None = None,
    region: str | None = None,
    grid: str | None = None,
    active: bool | None = None,
) -> Select[Any]:
    """Businesses whose name, credit code, address or representative holds every word; of
    a type; in a region or any region below it (a code is a prefix of its children's);
    in a grid."""
    query = select(Business).order_by(Business.region_code, Business.name, Business.id)
    for term in terms(text):
        query = query.where(
            or_(
                has(Business.name, term),
                has(Business.credit_code, term),
                has(Business.address, term),
                has(Business.representative, term),
            )
        )
    if credit_code:
        query = query.where(Business.credit_code == credit_code.strip().upper())
    if type_code:
        query = query.where(Business.type_code == type_code)
    if region:
        query = query.where(Business.region_code.startswith(region, autoescape=True))
    if grid:
        query = query.where(Business.grid_code == grid)
    if active is not None:
        query = query.where(Business.active.is_(active))
    return query


def business(session: Session, business_id: int) -> Business | None:
    query = (
        select(Business).where(Business.id == business_id).options(selectinload(Business.licences))
    )
    return session.scalar(query)


def by_credit_code(session: Session, codes: Sequence[str]) -> dict[str, Business]:
    if not codes:
        return {}
    query = select(Business).where(Business.credit_code.in_(set(codes)))
    return {b.credit_code: b for b in session.scalars(query)}


def types(session: Session) -> list[BusinessType]:
    return list(session.scalars(select(BusinessType).order_by(BusinessType.code)))


def business_type(session: Session, code: str) -> BusinessType | None:
    return session.scalar(select(BusinessType).where(BusinessType.code == code))


def licences_by_key(session: Session) -> dict[tuple[str, str], Licence]:
    return {(x.kind, x.number): x for x in session.scalars(select(Licence))}


def conflicts_of(session: Session, business_id: int) -> list[OfficerConflict]:
    query = (
        select(OfficerConflict)
        .where(OfficerConflict.business_id == business_id)
        .order_by(OfficerConflict.officer_id)
    )
    return list(session.scalars(query))


def conflicted_officers(session: Session, business_ids: Sequence[int]) -> dict[int, set[int]]:
    """Business id → the officers who must not inspect it."""
    found: dict[int, set[int]] = {}
    if not business_ids:
        return found
    rows = session.execute(
        select(OfficerConflict.business_id, OfficerConflict.officer_id).where(
            OfficerConflict.business_id.in_(set(business_ids))
        )
    )
    for business_id, officer_id in rows:
        found.setdefault(business_id, set()).add(officer_id)
    return found


def all_conflicts(session: Session) -> dict[int, set[int]]:
    """Every recorded conflict: business id → officer ids (a city has a few thousand)."""
    found: dict[int, set[int]] = {}
    for business_id, officer_id in session.execute(
        select(OfficerConflict.business_id, OfficerConflict.officer_id)
    ):
        found.setdefault(business_id, set()).add(officer_id)
    return found


def by_ids(session: Session, ids: Sequence[int]) -> list[Business]:
    if not ids:
        return []
    return list(session.scalars(select(Business).where(Business.id.in_(set(ids)))))
