"""`/api/v1/enforcement/penalty-cases`: administrative penalty cases from filing to closing
(and on the spot), with their steps, deadlines and documents; the agencies' numbers for the
procedure; and the published decisions anyone may read (Art. 48)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.enforcement.penalties import actions, agency_rules, opening, repository, views
from cityops.enforcement.penalties.schemas import (
    ActionBody,
    CaseDetail,
    CaseFilter,
    CaseOpen,
    CaseRead,
    FromFinding,
    OnTheSpot,
    OverdueRead,
    PublicDecisionRead,
    SettingsRead,
    SettingsUpdate,
)
from cityops.enforcement.penalties.service import PenaltyEnv, acting, get_visible
from cityops.enforcement.registries import service as registries
from cityops.errors import NotFound
from cityops.kit.pagination import Page, PageParams

router = APIRouter(prefix="/enforcement", tags=["enforcement"])
CASES = "/penalty-cases"


def env_of(context: ContextDep, uow: UowDep, now: NowDep) -> PenaltyEnv:
    return PenaltyEnv(context.calendar.get(uow.session), context.storage, now)


EnvDep = Annotated[PenaltyEnv, Depends(env_of)]


def case_filter(
    stage: Annotated[list[str] | None, Query()] = None,
    agency: Annotated[str | None, Query(description="the agency's code")] = None,
    procedure: str | None = None,
    overdue: bool | None = None,
    business_id: int | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
) -> CaseFilter:
    try:
        return CaseFilter(stage=stage, agency_code=agency, procedure=procedure, overdue=overdue,
                          business_id=business_id, text=text)  # fmt: skip
    except ValidationError as exc:  # a bad filter is the client's mistake: 422, by name
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        ) from None


@router.get(CASES, summary="List penalty cases")
def list_cases(
    uow: UowDep,
    caller: PersonDep,
    env: EnvDep,
    filters: Annotated[CaseFilter, Depends(case_filter)],
    page: Annotated[PageParams, Query()],
) -> Page[CaseRead]:
    """Your agencies' cases (all for supervisors), newest first, by stage, agency, overdue."""
    who = acting(uow.session, caller.actor)
    items, total = views.list_cases(uow.session, env, who, filters, page)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(CASES, status_code=201, summary="Propose a case for filing (立案申请)")
def open_case(body: CaseOpen, uow: UowDep, caller: PersonDep, env: EnvDep) -> CaseDetail:
    """A general-procedure case awaiting the lead's filing approval."""
    who = acting(uow.session, caller.actor)
    case = opening.open_case(uow.session, env, who, body)
    uow.commit()
    return views.detail(uow.session, env, who, case)


@router.post(f"{CASES}/on-the-spot", status_code=201, summary="Decide on the spot (简易程序)")
def on_the_spot(body: OnTheSpot, uow: UowDep, caller: PersonDep, env: EnvDep) -> CaseDetail:
    """A warning or a fine of at most 200 CNY (citizen) / 3,000 CNY (organisation), decided
    and handed over by two officers (Art. 51)."""
    who = acting(uow.session, caller.actor)
    case = opening.open_on_the_spot(uow.session, env, who, body)
    uow.commit()
    return views.detail(uow.session, env, who, case)


@router.post(
    f"{CASES}/from-finding",
    status_code=201,
    summary="Open the case of a failed inspection finding",
    responses={200: {"description": "The case the finding already led to"}},
)
def from_finding(
    body: FromFinding, response: Response, uow: UowDep, caller: PersonDep, env: EnvDep
) -> CaseDetail:
    """Idempotent per finding: asking again answers 200 with the same case."""
    existing = repository.case_by_origin(uow.session, opening.FINDING, body.finding_id)
    assert caller.actor.id is not None
    case = opening.open_from_finding(uow.session, finding_id=body.finding_id,
                                     actor_id=caller.actor.id, now=env.now)  # fmt: skip
    uow.commit()
    if existing is not None:
        response.status_code = 200
    who = acting(uow.session, caller.actor)
    return views.detail(uow.session, env, who, get_visible(uow.session, who, case.id))


@router.get(f"{CASES}/overdue", summary="Deadlines passed (for supervision)")
def overdue(
    uow: UowDep,
    caller: PersonDep,
    env: EnvDep,
    on: Annotated[date | None, Query(description="default: today")] = None,
) -> list[OverdueRead]:
    """Every deadline of an open case passed before the day: the stage's own (filing,
    decision, service, payment), publication, and filing a simplified decision (备案)."""
    agency_ids, _ = views.list_scope(acting(uow.session, caller.actor))
    rows = repository.overdue(uow.session, on=on or env.today, agency_ids=agency_ids)
    return [OverdueRead(case_id=r.case_id, number=r.number, agency_id=r.agency_id,
                        stage=r.stage, kind=r.kind, due=r.due) for r in rows]  # fmt: skip


@router.get(f"{CASES}/{{case_id}}", summary="A case with its steps, deadlines and documents")
def get_case(case_id: int, uow: UowDep, caller: PersonDep, env: EnvDep) -> CaseDetail:
    """The case, every step, each deadline with its light, its documents and your actions."""
    who = acting(uow.session, caller.actor)
    return views.detail(uow.session, env, who, get_visible(uow.session, who, case_id))


@router.post(f"{CASES}/{{case_id}}/actions", summary="Take an action on a case")
def act(
    case_id: int,
    body: Annotated[ActionBody, Body()],
    uow: UowDep,
    caller: PersonDep,
    env: EnvDep,
) -> CaseDetail:
    """approve_filing, collect_evidence, propose, serve_notice, decide, serve, close … as
    the procedure, your role and your agency allow; 409 names the stage and what is allowed."""
    who = acting(uow.session, caller.actor)
    case = actions.act(uow.session, env, who, case_id, body)
    uow.commit()
    return views.detail(uow.session, env, who, case)


@router.get(f"{CASES}/{{case_id}}/public", summary="The decision as the public sees it")
def public_view(case_id: int, uow: UowDep, caller: PersonDep) -> PublicDecisionRead:
    """What publication shows (or will show) of a decided case: a citizen's name masked."""
    case = get_visible(uow.session, acting(uow.session, caller.actor), case_id)
    if case.decided_on is None:
        raise NotFound(f"penalty case {case_id} has no decision yet")
    return views.public_read(uow.session, case)


@router.get("/penalty-decisions", summary="Published penalty decisions (公示)")
def published(
    uow: UowDep,
    page: Annotated[PageParams, Query()],
    text: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[PublicDecisionRead]:
    """Open to everyone: decisions made public under Art. 48, a citizen's name masked."""
    items, total = views.published(uow.session, text, page)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/penalty-settings/{agency_code}", summary="An agency's numbers for the procedure")
def get_settings(agency_code: str, uow: UowDep, _caller: PersonDep) -> SettingsRead:
    """Thresholds of legal review and of the hearing right, days and prefixes in force."""
    return _settings_read(uow, agency_code)


@router.put("/penalty-settings/{agency_code}", summary="Change an agency's numbers")
def put_settings(
    agency_code: str, body: SettingsUpdate, uow: UowDep, caller: PersonDep, now: NowDep
) -> SettingsRead:
    """For an admin or the agency's lead; fields sent change, null restores the default."""
    who = acting(uow.session, caller.actor)
    values = body.model_dump(include=body.model_fields_set)
    agency_rules.update_agency_rules(uow.session, who, agency_code, values, now=now)
    uow.commit()
    return _settings_read(uow, agency_code)


def _settings_read(uow: UowDep, agency_code: str) -> SettingsRead:
    agency = registries.get_agency(uow.session, agency_code)
    ar = agency_rules.agency_rules(uow.session, agency.id)
    fields = {k: v for k, v in vars(ar).items() if k in SettingsRead.model_fields}
    return SettingsRead(agency_code=agency.code, **fields)
