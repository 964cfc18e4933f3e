"""`/api/v1/enforcement/…`: the four registries (legal basis, items, agencies, officers) for
any member of staff, the benchmark check of a fine and the check of a team of officers.
Writes go through `cityops import enforcement`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query

from cityops.deps import PersonDep, UowDep
from cityops.enforcement.registries import repository, service
from cityops.enforcement.registries.models import AgencyKind, ItemKind, LawLevel
from cityops.enforcement.registries.schemas import (
    REGION_CODE,
    AgencyRead,
    ArticleHit,
    FineCheckRead,
    FineCheckRequest,
    ItemDetail,
    ItemRead,
    LawDetail,
    LawRead,
    OfficerCheckRead,
    OfficerCheckRequest,
    OfficerProblemRead,
    OfficerRead,
)
from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.kit.pagination import Page, PageParams, paginate

router = APIRouter(prefix="/enforcement", tags=["enforcement"])

Text = Annotated[str | None, Query(max_length=200, description="words, all of which must match")]
ACTING_IN = "acting in the region: their jurisdiction covers it or lies within it"
T = TypeVar("T")
# Officers' phones are personal data: in full for these roles, masked for other staff.
PRIVILEGED_ROLES = ("admin", "supervisor")


def _filter(find: Callable[[], T], path: str) -> T:
    """A row a query filter names by code; an unknown code is a 422 naming the filter."""
    try:
        return find()
    except NotFound as exc:
        raise Invalid(exc.detail, errors=[FieldProblem(path, "no such code")]) from None


@router.get("/laws", summary="Laws, regulations and rules (执法依据)")
def list_laws(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    level: LawLevel | None = None,
    on: Annotated[date | None, Query(description="only the versions in force that day")] = None,
    code: str | None = None,
) -> Page[LawRead]:
    """Law versions by words of the title, code, issuer or document number."""
    query = repository.laws_query(text, level.value if level else None, on, code)
    rows, total = paginate(uow.session, query, page)
    items = [service.law_read(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/laws/{law_id}", summary="One law version with its articles")
def get_law(law_id: int, uow: UowDep, _caller: PersonDep) -> LawDetail:
    """The law version and every article stored of it, in order."""
    return service.law_detail(service.get_law(uow.session, law_id))


@router.get("/articles", summary="Search articles")
def search_articles(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    level: LawLevel | None = None,
    on: Annotated[date | None, Query(description="only laws in force that day")] = None,
    law_id: int | None = None,
    law_code: str | None = None,
) -> Page[ArticleHit]:
    """Articles each word of which is in the article or its law's title (消防法 疏散通道)."""
    query = repository.articles_query(text, level.value if level else None, on, law_id, law_code)
    rows, total = paginate(uow.session, query, page)
    items = [service.article_hit(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/items", summary="Enforcement items (执法事项)")
def list_items(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    kind: ItemKind | None = None,
    field: str | None = None,
    agency_kind: AgencyKind | None = None,
    first_violation_exempt: bool | None = None,
    active: bool | None = None,
) -> Page[ItemRead]:
    """Items by words of the code or name, kind, field, the agency kind holding them, and
    whether they are on the first-violation list (首违不罚)."""
    query = repository.items_query(
        text, kind.value if kind else None, field, agency_kind.value if agency_kind else None,
        first_violation_exempt, active,
    )  # fmt: skip
    rows, total = paginate(uow.session, query, page)
    items = [service.item_read(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/items/{code}", summary="One item with its basis, benchmark and checklist")
def get_item(code: str, uow: UowDep, _caller: PersonDep) -> ItemDetail:
    """The item with the articles it rests on, its discretion benchmark and checklist."""
    return service.item_detail(uow.session, service.get_item(uow.session, code))


@router.post("/items/{code}/fine-check", summary="Is a fine within the benchmark?")
def check_fine(code: str, body: FineCheckRequest, uow: UowDep, _caller: PersonDep) -> FineCheckRead:
    """Whether the fine keeps to the item's benchmark for the grade; if not, why (a penalty
    outside it needs a written reason)."""
    item = service.get_item(uow.session, code)
    check = service.check_fine(
        uow.session, item.id, body.grade, body.fine, party=body.party,
        base_amount=body.base_amount, benchmark_id=body.benchmark_id,
    )  # fmt: skip
    return service.fine_check_read(check)


@router.get("/agencies", summary="Enforcement agencies (执法主体)")
def list_agencies(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    kind: AgencyKind | None = None,
    region: Annotated[str | None, Query(pattern=REGION_CODE, description=ACTING_IN)] = None,
    item: Annotated[str | None, Query(description="holding this item (its code)")] = None,
    active: bool | None = None,
) -> Page[AgencyRead]:
    """Agencies by kind, region and the item they may enforce."""
    held = _filter(lambda: service.get_item(uow.session, item), "query.item") if item else None
    query = repository.agencies_query(
        text, kind.value if kind else None, region, held.id if held else None, active,
        item_kinds=held.agency_kinds if held else (),
    )  # fmt: skip
    rows, total = paginate(uow.session, query, page)
    items = service.agency_reads(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/agencies/{code}", summary="One agency")
def get_agency(code: str, uow: UowDep, _caller: PersonDep) -> AgencyRead:
    """The agency with its jurisdiction and the items it was given."""
    return service.agency_reads(uow.session, [service.get_agency(uow.session, code)])[0]


@router.get("/officers", summary="Enforcement officers (执法人员)")
def list_officers(
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    agency: Annotated[str | None, Query(description="the agency's code")] = None,
    region: Annotated[str | None, Query(pattern=REGION_CODE, description=ACTING_IN)] = None,
    valid_on: Annotated[date | None, Query(description="holding a valid certificate")] = None,
    active: bool | None = None,
) -> Page[OfficerRead]:
    """Officers by name or certificate number, agency, region and certificate validity;
    phones in full only for admins and supervisors."""
    agency_id = (
        _filter(lambda: service.get_agency(uow.session, agency), "query.agency").id
        if agency
        else None
    )
    query = repository.officers_query(text, agency_id, region, valid_on, active)
    rows, total = paginate(uow.session, query, page)
    items = service.officer_reads(rows, privileged=caller.has_role(*PRIVILEGED_ROLES))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/officers/me", summary="Your own officer rows (one per agency you act for)")
def my_officer_rows(uow: UowDep, caller: PersonDep) -> list[OfficerRead]:
    """The active registry rows linked to your person, with their agencies and your phone
    in full; 404 when none is."""
    rows = (
        repository.officers_of_person(uow.session, caller.actor.id)
        if caller.actor.id is not None
        else []
    )
    if not rows:
        raise NotFound(
            "you are not recorded as an active enforcement officer: no officer row of the "
            "registry is linked to your person (ask the registry's keeper to link it)"
        )
    return service.officer_reads(rows, privileged=True)


@router.get("/officers/{officer_id}", summary="One officer")
def get_officer(officer_id: int, uow: UowDep, caller: PersonDep) -> OfficerRead:
    """The officer and their certificate; the phone in full only for admins and supervisors."""
    officer = service.get_officer(uow.session, officer_id)
    return service.officer_reads([officer], privileged=caller.has_role(*PRIVILEGED_ROLES))[0]


@router.post("/officers/check", summary="May these officers act here that day?")
def check_officers(body: OfficerCheckRequest, uow: UowDep, _caller: PersonDep) -> OfficerCheckRead:
    """Every problem naming its officer (certificate not valid that day, inactive, outside
    their regions) and whether at least two qualify (Administrative Penalty Law Art. 42)."""
    check = service.check_officers(uow.session, body.officer_ids, body.region_code, body.on)
    problems = [
        OfficerProblemRead(kind=p.kind.value, officer_id=p.officer_id, name=p.name,
                           certificate_number=p.certificate_number, message=p.message,
                           blocking=p.blocking, basis=p.basis)
        for p in check.problems
    ]  # fmt: skip
    return OfficerCheckRead(ok=check.ok, problems=problems)
