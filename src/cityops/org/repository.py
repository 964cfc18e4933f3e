"""Every query on org tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, or_, select

from cityops.org.models import Department, DutyAssignment, Person, Region


def regions_query(level: str | None = None, parent: str | None = None) -> Select[Any]:
    query = select(Region).order_by(Region.code)
    if level:
        query = query.where(Region.level == level)
    if parent:
        query = query.where(Region.parent_code == parent)
    return query


def departments_query(kind: str | None = None, active: bool | None = None) -> Select[Any]:
    query = select(Department).order_by(Department.code)
    if kind:
        query = query.where(Department.kind == kind)
    if active is not None:
        query = query.where(Department.active.is_(active))
    return query


def people_query(
    role: str | None = None,
    department_id: int | None = None,
    scope: str | None = None,
    text: str | None = None,
) -> Select[Any]:
    query = select(Person).order_by(Person.code)
    if role:
        # Roles are a JSON list; its text holds each role in quotes on both databases.
        query = query.where(cast(Person.roles, String).like(f'%"{role}"%'))
    if department_id is not None:
        query = query.where(Person.department_id == department_id)
    if scope:
        query = query.where(Person.scope_code.startswith(scope, autoescape=True))
    if text:
        query = query.where(or_(Person.name.ilike(f"%{text}%"), Person.code.ilike(f"%{text}%")))
    return query


def duty_query(grid_code: str | None = None, at: datetime | None = None) -> Select[Any]:
    query = select(DutyAssignment).order_by(DutyAssignment.grid_code, DutyAssignment.starts_at)
    if grid_code:
        query = query.where(DutyAssignment.grid_code == grid_code)
    if at is not None:
        query = query.where(
            DutyAssignment.starts_at <= at,
            or_(DutyAssignment.ends_at.is_(None), DutyAssignment.ends_at > at),
        )
    return query
