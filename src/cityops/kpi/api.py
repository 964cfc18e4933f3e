"""`/api/v1/kpi`: indicators of regions, departments and people, and rankings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cityops.auth.service import Principal
from cityops.cases.workflow import ADMIN, CENTRE_ROLES, in_region
from cityops.deps import NowDep, PersonDep, UowDep
from cityops.errors import Forbidden
from cityops.kit.schemas import aware_utc
from cityops.kpi import service
from cityops.kpi.schemas import KpiRead, Weights

router = APIRouter(prefix="/kpi", tags=["kpi"])

DEFAULT_DAYS = 30


def period(
    now: NowDep, start: datetime | None = None, end: datetime | None = None
) -> tuple[datetime, datetime]:
    """[start, end): the last 30 days unless given; a time without zone is UTC."""
    end = aware_utc(end) if end else now
    start = aware_utc(start) if start else end - timedelta(days=DEFAULT_DAYS)
    return start, end


Period = Annotated[tuple[datetime, datetime], Depends(period)]


def _centre_in_scope(principal: Principal, region: str) -> None:
    actor = principal.actor
    if ADMIN in actor.roles:
        return
    if not (actor.roles & CENTRE_ROLES) or not in_region(actor, region):
        raise Forbidden("indicators of this region are outside your role or scope")


@router.get("/regions/{code}", summary="Indicators of a region")
def region(
    code: str, uow: UowDep, principal: PersonDep, span: Period,
    weights: Annotated[Weights, Query()],
) -> KpiRead:  # fmt: skip
    """结案率, 按期结案率, 按时处置率, 返工率, 延期率... of a district, street, community, grid."""
    _centre_in_scope(principal, code)
    return service.region_kpi(uow.session, code, *span, weights)


@router.get("/departments/{department_id}", summary="Indicators of a department")
def department(
    department_id: int, uow: UowDep, principal: PersonDep, span: Period,
    weights: Annotated[Weights, Query()],
) -> KpiRead:  # fmt: skip
    """A department's indicators, from the steps it took part in."""
    actor = principal.actor
    own = actor.department_id == department_id
    if not own and not (actor.roles & (CENTRE_ROLES | {ADMIN})):
        raise Forbidden("indicators of another department")
    return service.department_kpi(uow.session, department_id, *span, weights)


@router.get("/people/{person_id}", summary="Indicators of a person")
def person(person_id: int, uow: UowDep, principal: PersonDep, span: Period) -> KpiRead:
    """An inspector's 有效上报率, 按时核实率, 按时核查率 and counts."""
    actor = principal.actor
    if actor.id != person_id and not (actor.roles & (CENTRE_ROLES | {ADMIN})):
        raise Forbidden("indicators of another person")
    return service.person_kpi(uow.session, person_id, *span)


@router.get("/ranking", summary="Rank child regions or departments")
def ranking(
    uow: UowDep,
    principal: PersonDep,
    span: Period,
    weights: Annotated[Weights, Query()],
    parent: str | None = None,
    by: Annotated[str, Query(pattern="^(region|department)$")] = "region",
) -> list[KpiRead]:
    """Every child region of `parent` (or every department), best composite score first."""
    _centre_in_scope(principal, parent or (principal.actor.scope_code or ""))
    return service.ranking(uow.session, start=span[0], end=span[1], parent=parent, by=by,
                           weights=weights)  # fmt: skip
