"""`/api/v1/regions`, `/departments`, `/people`, `/duty`: the district's reference data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from cityops.auth.service import record_audit
from cityops.deps import AdminDep, NowDep, PersonDep, UowDep
from cityops.kit.pagination import Page, PageParams, paginate
from cityops.org import repository, service
from cityops.org.models import RegionLevel
from cityops.org.schemas import (
    DepartmentRead,
    DutyCreate,
    DutyRead,
    PersonCreate,
    PersonRead,
    RegionRead,
)

router = APIRouter(tags=["org"])


@router.get("/regions", summary="Regions: district, streets, communities, grids")
def list_regions(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    level: RegionLevel | None = None,
    parent: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
    geometry: bool = True,
) -> Page[RegionRead]:
    """Regions by level and parent, with their polygons as GeoJSON unless `geometry=false`."""
    query = repository.regions_query(level.value if level else None, parent)
    rows, total = paginate(uow.session, query, page)
    items = [service.region_read(r, with_geometry=geometry) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/regions/{code}", summary="One region")
def get_region(code: str, uow: UowDep, _caller: PersonDep) -> RegionRead:
    """The region with its polygon."""
    return service.region_read(service.get_region(uow.session, code))


@router.get("/departments", summary="Departments and street offices")
def list_departments(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    kind: str | None = None,
    active: bool | None = None,
) -> Page[DepartmentRead]:
    """Every unit that handles cases."""
    rows, total = paginate(uow.session, repository.departments_query(kind, active), page)
    return Page(items=[DepartmentRead.model_validate(r) for r in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.get("/people", summary="Staff")
def list_people(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    role: str | None = None,
    department_id: int | None = None,
    scope: str | None = None,
    text: str | None = None,
) -> Page[PersonRead]:
    """Staff by role, department, scope (a region code prefix) or name."""
    query = repository.people_query(role, department_id, scope, text)
    rows, total = paginate(uow.session, query, page)
    return Page(items=[PersonRead.model_validate(r) for r in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.post("/people", status_code=201, summary="Add a member of staff")
def create_person(body: PersonCreate, uow: UowDep, admin: AdminDep, now: NowDep) -> PersonRead:
    """A person with roles and scope (their login is made with `cityops user create`)."""
    person = service.create_person(uow.session, body)
    record_audit(uow.session, admin, "person.create", "person", person.id, now=now,
                 after=body.model_dump())  # fmt: skip
    uow.commit()
    return PersonRead.model_validate(person)


@router.get("/duty", summary="The duty roster")
def list_duty(
    uow: UowDep,
    _caller: PersonDep,
    page: Annotated[PageParams, Query()],
    grid_code: str | None = None,
    at: datetime | None = None,
) -> Page[DutyRead]:
    """Who covers which grid; `at` narrows to those on duty at that instant."""
    rows, total = paginate(uow.session, repository.duty_query(grid_code, at), page)
    return Page(items=[DutyRead.model_validate(r) for r in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.post("/duty", status_code=201, summary="Put a person on duty in a grid")
def create_duty(body: DutyCreate, uow: UowDep, admin: AdminDep, now: NowDep) -> DutyRead:
    """A duty span for a grid; automatic dispatch sends that grid's cases to them."""
    row = service.assign_duty(uow.session, body)
    record_audit(uow.session, admin, "duty.create", "duty", row.id, now=now,
                 after=body.model_dump(mode="json"))  # fmt: skip
    uow.commit()
    return DutyRead.model_validate(row)
