"""`/api/v1/calendar`: the working-time calendar of a year and its local overrides."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import Field

from cityops.auth.service import record_audit
from cityops.deps import AdminDep, ContextDep, NowDep, PersonDep, UowDep
from cityops.kit.schemas import ReadSchema, Schema
from cityops.worktime import service

router = APIRouter(prefix="/calendar", tags=["calendar"])


class OverrideSet(Schema):
    is_workday: bool
    name: str = Field(default="", max_length=60)


class OverrideRead(ReadSchema):
    day: date
    is_workday: bool
    name: str


class YearRead(ReadSchema):
    year: int
    officially_covered: bool
    holidays: list[date]
    makeup_workdays: list[date]
    overrides: list[OverrideRead]
    windows: list[str]


@router.get("/{year}", summary="A year's holidays, make-up days and overrides")
def get_year(year: int, context: ContextDep, uow: UowDep, _caller: PersonDep) -> YearRead:
    """Weekdays off, weekend working days, local overrides, and whether the official
    schedule for the year is known yet (if not, add the overrides once it is published)."""
    calendar = context.calendar.get(uow.session)
    summary = service.year_summary(calendar, year)
    rows = service.list_overrides(uow.session, year)
    return YearRead(
        year=year, officially_covered=summary.officially_covered, holidays=summary.holidays,
        makeup_workdays=summary.makeup_workdays,
        overrides=[OverrideRead.model_validate(r) for r in rows],
        windows=[f"{a:%H:%M}-{b:%H:%M}" for a, b in calendar.windows],
    )  # fmt: skip


@router.put("/overrides/{day}", summary="Make a day a working day or a day off")
def set_override(
    day: date, body: OverrideSet, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> OverrideRead:
    """Override the official schedule for one day (e.g. a local holiday)."""
    row = service.set_override(uow.session, day, body.is_workday, body.name)
    record_audit(uow.session, admin, "calendar.set", "calendar_override", day.isoformat(),
                 now=now, after=body.model_dump())  # fmt: skip
    uow.commit()
    context.calendar.invalidate()
    return OverrideRead.model_validate(row)


@router.delete("/overrides/{day}", status_code=204, summary="Remove an override")
def delete_override(
    day: date, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> None:
    """Go back to the official schedule for that day."""
    service.delete_override(uow.session, day)
    record_audit(uow.session, admin, "calendar.delete", "calendar_override", day.isoformat(),
                 now=now)  # fmt: skip
    uow.commit()
    context.calendar.invalidate()
