"""Every query on the enforcement registries.

Text search is a conjunction of substring matches: Chinese has no spaces to split words on,
and at a registry's scale (tens of thousands of articles) a scan with LIKE answers in tens
of milliseconds on both databases (see docs/api.md for the figures)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import Session, contains_eager

from cityops.enforcement.registries.models import (
    Agency,
    AgencyItem,
    AgencyRegion,
    Article,
    Item,
    Law,
    Officer,
    OfficerRegion,
)


def terms(text: str | None) -> list[str]:
    """The words of a query: split on white space (half- and full-width)."""
    return (text or "").replace("\u3000", " ").split()


def has(column: Any, term: str) -> ColumnElement[bool]:
    """`column` holds `term`. Chinese has no letter case: a plain LIKE, which PostgreSQL
    runs over twice as fast as ILIKE; a word with Latin letters matches in any case."""
    if any(c.isascii() and c.isalpha() for c in term):
        return column.icontains(term, autoescape=True)  # type: ignore[no-any-return]
    return column.contains(term, autoescape=True)  # type: ignore[no-any-return]


def in_force(on: date) -> ColumnElement[bool]:
    """The law versions in force on a day: in effect, not yet superseded nor repealed."""
    return and_(
        or_(Law.effective_on.is_(None), Law.effective_on <= on),
        or_(Law.superseded_on.is_(None), Law.superseded_on > on),
        or_(Law.repealed_on.is_(None), Law.repealed_on > on),
    )


def laws_query(
    text: str | None = None,
    level: str | None = None,
    on: date | None = None,
    code: str | None = None,
) -> Select[Any]:
    """Law versions whose title, code, issuer or document number hold every word."""
    query = select(Law).order_by(Law.level, Law.code, Law.effective_on.desc(), Law.id)
    for term in terms(text):
        query = query.where(
            or_(
                has(Law.title, term),
                has(Law.code, term),
                has(Law.issuer, term),
                has(Law.document_number, term),
            )
        )
    if level:
        query = query.where(Law.level == level)
    if on is not None:
        query = query.where(in_force(on))
    if code:
        query = query.where(Law.code == code)
    return query


def articles_query(
    text: str | None = None,
    level: str | None = None,
    on: date | None = None,
    law_id: int | None = None,
    law_code: str | None = None,
) -> Select[Any]:
    """Articles each word of which is in the article's text or its law's title, with the
    law loaded: `消防法 疏散通道` finds the Fire Protection Law's articles on escape routes."""
    query = (
        select(Article)
        .join(Article.law)
        .options(contains_eager(Article.law))
        .order_by(
            Law.code, Law.effective_on.desc(), Article.number, Article.paragraph, Article.item
        )
    )
    for term in terms(text):
        query = query.where(
            or_(
                has(Article.text, term),
                has(Law.title, term),
            )
        )
    if level:
        query = query.where(Law.level == level)
    if on is not None:
        query = query.where(in_force(on))
    if law_id is not None:
        query = query.where(Article.law_id == law_id)
    if law_code:
        query = query.where(Law.code == law_code)
    return query


def items_query(
    text: str | None = None,
    kind: str | None = None,
    field: str | None = None,
    agency_kind: str | None = None,
    first_violation_exempt: bool | None = None,
    active: bool | None = None,
) -> Select[Any]:
    """Items whose code or name holds every word."""
    query = select(Item).order_by(Item.code)
    for term in terms(text):
        query = query.where(
            or_(
                has(Item.name, term),
                has(Item.code, term),
            )
        )
    if kind:
        query = query.where(Item.kind == kind)
    if field:
        query = query.where(Item.field == field)
    if agency_kind:
        # A JSON list; its text holds each kind in quotes on both databases.
        query = query.where(cast(Item.agency_kinds, String).like(f'%"{agency_kind}"%'))
    if first_violation_exempt is not None:
        query = query.where(Item.first_violation_exempt.is_(first_violation_exempt))
    if active is not None:
        query = query.where(Item.active.is_(active))
    return query


def item_by_code(session: Session, code: str) -> Item | None:
    return session.scalar(select(Item).where(Item.code == code))


def _relates(column: Any, region: str) -> ColumnElement[bool]:
    """A region code that covers `region` or lies within it."""
    return or_(literal(region).startswith(column), column.startswith(region))


def agencies_query(
    text: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    item_id: int | None = None,
    active: bool | None = None,
    item_kinds: Sequence[str] = (),
) -> Select[Any]:
    """Agencies by kind; acting in `region` (their jurisdiction covers it or lies within
    it); holding `item_id`: given it explicitly or, with the item's `item_kinds`, by kind."""
    query = select(Agency).order_by(Agency.code)
    for term in terms(text):
        query = query.where(
            or_(
                has(Agency.name, term),
                has(Agency.code, term),
            )
        )
    if kind:
        query = query.where(Agency.kind == kind)
    if region:
        query = query.where(
            exists().where(
                AgencyRegion.agency_id == Agency.id, _relates(AgencyRegion.region_code, region)
            )
        )
    if item_id is not None:
        given = exists().where(AgencyItem.agency_id == Agency.id, AgencyItem.item_id == item_id)
        query = query.where(or_(given, Agency.kind.in_(item_kinds)) if item_kinds else given)
    if active is not None:
        query = query.where(Agency.active.is_(active))
    return query


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def officers_query(
    text: str | None = None,
    agency_id: int | None = None,
    region: str | None = None,
    valid_on: date | None = None,
    active: bool | None = None,
    certificate_number: str | None = None,
) -> Select[Any]:
    """Officers by agency, name or certificate; acting in `region` (their certificate's
    regions relate to it, or, where it names none, their agency's); holding a certificate
    valid on `valid_on`."""
    query = select(Officer).order_by(Officer.agency_id, Officer.certificate_number)
    for term in terms(text):
        query = query.where(
            or_(
                has(Officer.name, term),
                has(Officer.certificate_number, term),
            )
        )
    if agency_id is not None:
        query = query.where(Officer.agency_id == agency_id)
    if region:
        own = exists().where(OfficerRegion.officer_id == Officer.id)
        query = query.where(
            or_(
                exists().where(
                    OfficerRegion.officer_id == Officer.id,
                    _relates(OfficerRegion.region_code, region),
                ),
                and_(
                    ~own,
                    exists().where(
                        AgencyRegion.agency_id == Officer.agency_id,
                        _relates(AgencyRegion.region_code, region),
                    ),
                ),
            )
        )
    if valid_on is not None:
        query = query.where(Officer.valid_from <= valid_on, Officer.valid_until >= valid_on)
    if active is not None:
        query = query.where(Officer.active.is_(active))
    if certificate_number:
        query = query.where(Officer.certificate_number == certificate_number)
    return query


def officers_of_person(session: Session, person_id: int) -> list[Officer]:
    """The active officer rows linked to a person (Officer.person_id), one per agency they
    act for."""
    query = select(Officer).where(Officer.person_id == person_id, Officer.active.is_(True))
    return list(session.scalars(query.order_by(Officer.agency_id, Officer.id)))


def officers_by_id(session: Session, ids: Sequence[int]) -> list[Officer]:
    if not ids:
        return []
    return list(session.scalars(select(Officer).where(Officer.id.in_(set(ids)))))


def agency_regions(session: Session, agency_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(AgencyRegion.agency_id, AgencyRegion.region_code)
        .where(AgencyRegion.agency_id.in_(set(agency_ids)))
        .order_by(AgencyRegion.region_code)
    )
    found: dict[int, list[str]] = {}
    for agency_id, code in rows:
        found.setdefault(agency_id, []).append(code)
    return found


def item_codes(session: Session, item_ids: Sequence[int]) -> dict[int, str]:
    if not item_ids:
        return {}
    query = select(Item.id, Item.code).where(Item.id.in_(set(item_ids)))
    return dict(session.execute(query).all())


def articles_by_id(session: Session, ids: Sequence[int]) -> dict[int, Article]:
    if not ids:
        return {}
    query = select(Article).join(Article.law).options(contains_eager(Article.law))
    return {a.id: a for a in session.scalars(query.where(Article.id.in_(set(ids))))}
