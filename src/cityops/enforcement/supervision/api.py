"""`/api/v1/enforcement/supervision/…`: supervision rules, flags with their evidence, the
supervisor's case on each flag (督办), weekly trends and evaluation on demand.

Enforcement supervisors and admins see and act on everything; an agency's lead and officers
see their agency's flags and answer them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.enforcement.supervision import repository, service
from cityops.enforcement.supervision import trends as weekly
from cityops.enforcement.supervision.models import FlagState, SubjectType
from cityops.enforcement.supervision.repository import FlagFilter, day_start
from cityops.enforcement.supervision.schemas import (
    AnswerRequest,
    AssignRequest,
    CloseRequest,
    CorrectionRequest,
    DismissRequest,
    EvaluationRead,
    FlagDetail,
    FlagRead,
    RuleRead,
    RuleUpdate,
    TrendRead,
)
from cityops.enforcement.supervision.workflow import Action
from cityops.kit.pagination import Page, PageParams, paginate

router = APIRouter(prefix="/enforcement/supervision", tags=["enforcement supervision"])


@router.get("/rules", summary="Supervision rules (监督规则)")
def list_rules(uow: UowDep, _caller: PersonDep) -> list[RuleRead]:
    """Every rule with its parameters, severity, legal source and last evaluation."""
    return [RuleRead.model_validate(r) for r in repository.rules(uow.session)]


@router.get("/rules/{code}", summary="One supervision rule")
def get_rule(code: str, uow: UowDep, _caller: PersonDep) -> RuleRead:
    """The rule by its code."""
    return RuleRead.model_validate(service.get_rule(uow.session, code))


@router.patch("/rules/{code}", summary="Change a rule's parameters or status")
def update_rule(
    code: str, body: RuleUpdate, uow: UowDep, person: PersonDep, now: NowDep
) -> RuleRead:
    """Admins and enforcement supervisors tune a rule; audited."""
    caller = service.caller_of(uow.session, person)
    rule = service.update_rule(uow.session, person, caller, code, body, now=now)
    uow.commit()
    return RuleRead.model_validate(rule)


@router.post("/evaluate", summary="Evaluate the rules now")
def evaluate(
    context: ContextDep,
    uow: UowDep,
    person: PersonDep,
    now: NowDep,
    rule: Annotated[list[str] | None, Query(description="only these rules (codes)")] = None,
) -> EvaluationRead:
    """Every active rule (or those named) over all subjects: counts per rule and the time."""
    # The checks read in a session of their own: on SQLite the request's would hold the
    # write lock from its first query on.
    with context.read_sessions() as reader:
        service.require_supervisor(service.caller_of(reader, person))
        env = service.make_env(reader, context.calendar.get(reader), now)
        result = service.run_evaluation(
            uow.session, env, principal=person, codes=rule, reader=reader
        )
    uow.commit()
    return EvaluationRead.model_validate(result)


@router.get("/flags", summary="Flags (预警)")
def list_flags(
    context: ContextDep,
    uow: UowDep,
    person: PersonDep,
    page: Annotated[PageParams, Query()],
    rule: Annotated[str | None, Query(description="the rule's code")] = None,
    agency_id: int | None = None,
    state: FlagState | None = None,
    cleared: Annotated[bool | None, Query(description="the subject complies now")] = None,
    subject_type: SubjectType | None = None,
    subject_id: int | None = None,
    raised_from: Annotated[date | None, Query(description="raised on or after (local day)")] = None,
    raised_until: Annotated[date | None, Query(description="raised on or before")] = None,
) -> Page[FlagRead]:
    """Flags the caller may see, the newest first."""
    caller = service.caller_of(uow.session, person)
    env = service.make_env(uow.session, context.calendar.get(uow.session), context.clock.now())
    wanted = FlagFilter(
        rule_code=rule,
        agency_id=agency_id,
        state=state.value if state else None,
        cleared=cleared,
        subject_type=subject_type.value if subject_type else None,
        subject_id=subject_id,
        raised_from=day_start(raised_from, env) if raised_from else None,
        raised_before=day_start(raised_until + timedelta(days=1), env) if raised_until else None,
    )
    query = repository.flags_query(service.scoped_filter(caller, wanted))
    rows, total = paginate(uow.session, query, page)
    items = service.flag_reads(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/flags/{flag_id}", summary="One flag with its evidence and steps")
def get_flag(flag_id: int, uow: UowDep, person: PersonDep) -> FlagDetail:
    """The evidence (facts and sentence), the link to the case or inspection, every step."""
    caller = service.caller_of(uow.session, person)
    flag = service.get_flag(uow.session, caller, flag_id)
    return service.flag_detail(uow.session, caller, flag)


def _act(
    uow: UowDep,
    person: PersonDep,
    context: ContextDep,
    flag_id: int,
    action: Action,
    **values: object,
) -> FlagDetail:
    now = context.clock.now()
    caller = service.caller_of(uow.session, person)
    today = now.astimezone(context.calendar.get(uow.session).zone).date()
    flag = service.act(uow.session, person, caller, flag_id, action, now=now, today=today, **values)  # type: ignore[arg-type]
    uow.commit()
    return service.flag_detail(uow.session, caller, flag)


@router.post("/flags/{flag_id}/assign", summary="Assign a flag to a supervisor")
def assign(
    flag_id: int, body: AssignRequest, uow: UowDep, person: PersonDep, context: ContextDep
) -> FlagDetail:
    """分派: to an enforcement supervisor who follows it up."""
    return _act(
        uow, person, context, flag_id, Action.ASSIGN, assignee_id=body.assignee_id, note=body.note
    )


@router.post("/flags/{flag_id}/request-correction", summary="Ask the agency to correct")
def request_correction(
    flag_id: int, body: CorrectionRequest, uow: UowDep, person: PersonDep, context: ContextDep
) -> FlagDetail:
    """发出整改督办: the agency answers by `due`."""
    return _act(
        uow, person, context, flag_id, Action.REQUEST_CORRECTION, due=body.due, note=body.note
    )


@router.post("/flags/{flag_id}/answer", summary="The agency's answer")
def answer(
    flag_id: int, body: AnswerRequest, uow: UowDep, person: PersonDep, context: ContextDep
) -> FlagDetail:
    """整改反馈: by the flag's agency (its lead or officers)."""
    return _act(uow, person, context, flag_id, Action.ANSWER, answer=body.answer)


@router.post("/flags/{flag_id}/close", summary="Close a flag's case")
def close(
    flag_id: int, body: CloseRequest, uow: UowDep, person: PersonDep, context: ContextDep
) -> FlagDetail:
    """办结."""
    return _act(uow, person, context, flag_id, Action.CLOSE, note=body.note)


@router.post("/flags/{flag_id}/dismiss", summary="Dismiss a flag with the reason")
def dismiss(
    flag_id: int, body: DismissRequest, uow: UowDep, person: PersonDep, context: ContextDep
) -> FlagDetail:
    """撤销: not an irregularity; the reason is required."""
    return _act(uow, person, context, flag_id, Action.DISMISS, reason=body.reason)


@router.get("/trends", summary="Flags raised and closed per week (ECharts-ready)")
def trends(
    context: ContextDep,
    uow: UowDep,
    person: PersonDep,
    since: Annotated[date | None, Query(description="default: 12 weeks before until")] = None,
    until: Annotated[date | None, Query(description="default: today")] = None,
    agency_id: int | None = None,
) -> TrendRead:
    """Per week and rule, for one agency or every agency the caller may see."""
    caller = service.caller_of(uow.session, person)
    env = service.make_env(uow.session, context.calendar.get(uow.session), context.clock.now())
    end = until or env.today
    start = since or end - timedelta(weeks=12)
    return weekly.trends(uow.session, caller, env, since=start, until=end, agency_id=agency_id)
