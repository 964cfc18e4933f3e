"""`/api/v1/enforcement/businesses`: the directory of regulated businesses (监管对象名录库)
for enforcement staff and supervisors, and officers' conflicts (回避). The directory is
written by `cityops import businesses`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityops.auth.service import Principal
from cityops.deps import NowDep, PersonDep, UowDep, require_roles
from cityops.enforcement.businesses import repository, service
from cityops.enforcement.businesses.schemas import (
    BusinessDetail,
    BusinessRead,
    BusinessTypeRead,
    ConflictIn,
    ConflictRead,
)
from cityops.enforcement.registries.schemas import REGION_CODE
from cityops.kit.pagination import Page, PageParams, paginate

router = APIRouter(prefix="/enforcement/businesses", tags=["enforcement"])

# Who reads the directory: enforcement staff and those who supervise them. Phones and
# conflicts are for them; the centre's other staff have no business here.
READ_ROLES = (
    "officer",
    "enforcement_lead",
    "legal_reviewer",
    "enforcement_supervisor",
    "supervisor",
)
Reader = Annotated[Principal, require_roles(*READ_ROLES)]
Lead = Annotated[Principal, require_roles("enforcement_lead")]
Text = Annotated[
    str | None,
    Query(
        max_length=200,
        description="words, each in the name, credit code, address or representative",
    ),
]


@router.get("", summary="Regulated businesses (监管对象)")
def list_businesses(
    uow: UowDep,
    _caller: Reader,
    _person: PersonDep,
    page: Annotated[PageParams, Query()],
    text: Text = None,
    credit_code: Annotated[str | None, Query(max_length=40)] = None,
    type_code: Annotated[
        str | None, Query(alias="type", max_length=40, description="a business type's code")
    ] = None,
    region: Annotated[
        str | None, Query(pattern=REGION_CODE, description="in this region or below it")
    ] = None,
    grid: Annotated[str | None, Query(pattern=REGION_CODE)] = None,
    active: bool | None = None,
) -> Page[BusinessRead]:
    """Businesses by words, credit code, type, region (sub-regions included) and grid."""
    query = repository.businesses_query(text, credit_code, type_code, region, grid, active)
    rows, total = paginate(uow.session, query, page)
    items = service.business_reads(rows, privileged=True)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/types", summary="Business types (业态) and their items")
def list_types(uow: UowDep, _caller: Reader, _person: PersonDep) -> list[BusinessTypeRead]:
    """Every business type with the enforcement items that apply to it."""
    return [BusinessTypeRead.model_validate(t) for t in repository.types(uow.session)]


@router.get("/{business_id}", summary="One business with its licences and inspecting agencies")
def get_business(
    business_id: int, uow: UowDep, _caller: Reader, _person: PersonDep
) -> BusinessDetail:
    """The business, its licences, the agencies that inspect its type where it is (whom a
    joint inspection invites) and the officers who must not inspect it (回避)."""
    business = service.get_business(uow.session, business_id)
    return service.business_detail(uow.session, business, privileged=True)


@router.post("/{business_id}/conflicts", status_code=201, summary="Record an officer's conflict")
def record_conflict(
    business_id: int, body: ConflictIn, uow: UowDep, _lead: Lead, caller: PersonDep, now: NowDep
) -> ConflictRead:
    """The officer will not be drawn for, nor named on, an inspection of this business."""
    row = service.record_conflict(
        uow.session,
        caller.actor,
        business_id,
        officer_id=body.officer_id,
        reason=body.reason,
        now=now,
    )
    uow.commit()
    detail = service.business_detail(
        uow.session, service.get_business(uow.session, business_id), privileged=True
    )
    return next(c for c in detail.conflicts if c.officer_id == row.officer_id)
