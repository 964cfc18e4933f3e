"""Org use cases: people and duty, the grid index, and regions for the API."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.geo.index import GridIndex
from cityops.org.models import Department, DutyAssignment, Person, Region, RegionLevel, Role
from cityops.org.schemas import DutyCreate, PersonCreate, RegionRead

ROLES = frozenset(r.value for r in Role)


def load_grid_index(session: Session) -> GridIndex:
    """Every grid's polygon in an in-memory index."""
    rows = session.execute(
        select(Region.code, Region.geometry).where(
            Region.level == RegionLevel.GRID.value, Region.geometry.is_not(None)
        )
    ).all()
    return GridIndex([(code, shapely.from_wkb(wkb)) for code, wkb in rows if wkb is not None])


def region_read(region: Region, *, with_geometry: bool = True) -> RegionRead:
    geometry = None
    if with_geometry and region.geometry is not None:
        geometry = shapely.geometry.mapping(shapely.from_wkb(region.geometry))
    bbox = None
    if region.min_lon is not None:
        bbox = [region.min_lon, region.min_lat or 0, region.max_lon or 0, region.max_lat or 0]
    return RegionRead(
        code=region.code, level=region.level, name=region.name, parent_code=region.parent_code,
        grade=region.grade, area_m2=region.area_m2, bbox=bbox,
        geometry=_plain(geometry) if geometry else None,
    )  # fmt: skip


def _plain(value: Any) -> Any:
    """Tuples from shapely's mapping as lists, so the result is plain JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"no region {code}")
    return region


def check_person(session: Session, data: PersonCreate) -> list[FieldProblem]:
    problems = []
    for i, role in enumerate(data.roles):
        if role not in ROLES:
            problems.append(FieldProblem(f"roles.{i}", f"unknown role; one of {sorted(ROLES)}"))
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        problems.append(FieldProblem("department_id", "no such department"))
    if data.scope_code is not None and session.get(Region, data.scope_code) is None:
        problems.append(FieldProblem("scope_code", "no such region"))
    return problems


def create_person(session: Session, data: PersonCreate) -> Person:
    """A member of staff; roles must be known, scope and department must exist."""
    problems = check_person(session, data)
    if problems:
        raise Invalid("cannot create the person", errors=problems)
    if session.scalar(select(Person.id).where(Person.code == data.code)) is not None:
        raise Conflict(f"a person with code {data.code!r} exists")
    person = Person(**data.model_dump(), active=True)
    session.add(person)
    session.flush()
    return person


def assign_duty(session: Session, data: DutyCreate) -> DutyAssignment:
    """Put a person on duty in a grid for a time span."""
    problems = []
    person = session.get(Person, data.person_id)
    if person is None:
        problems.append(FieldProblem("person_id", "no such person"))
    grid = session.get(Region, data.grid_code)
    if grid is None or grid.level != RegionLevel.GRID.value:
        problems.append(FieldProblem("grid_code", "no such grid"))
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        problems.append(FieldProblem("ends_at", "must be after starts_at"))
    if person is not None and data.role not in person.roles:
        problems.append(FieldProblem("role", "the person does not hold this role"))
    if problems:
        raise Invalid("cannot assign the duty", errors=problems)
    row = DutyAssignment(**data.model_dump())
    session.add(row)
    session.flush()
    return row
