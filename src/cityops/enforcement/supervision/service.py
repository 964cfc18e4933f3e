"""Supervision use cases: rules read and tuned, evaluations run, flags read within the
caller's scope, the supervisor's case acted on, and the weekly trend. Every write is
audited; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.enforcement.registries.models import Officer
from cityops.enforcement.supervision import repository
from cityops.enforcement.supervision.checks.common import Env
from cityops.enforcement.supervision.checks.registry import CHECKS
from cityops.enforcement.supervision.evaluator import (
    Evaluation,
    evaluate,
    load_default_rules,
    missing_default_rules,
)
from cityops.enforcement.supervision.models import (
    Flag,
    FlagState,
    FlagStep,
    RuleKind,
    SubjectType,
    SupervisionRule,
)
from cityops.enforcement.supervision.rules import parse_params
from cityops.enforcement.supervision.schemas import (
    FlagDetail,
    FlagRead,
    LinkRead,
    RuleRead,
    RuleUpdate,
    StepRead,
)
from cityops.enforcement.supervision.workflow import (
    ACTION_NAMES_ZH,
    ACTION_ROLES,
    AGENCY_ROLES,
    STATE_NAMES_ZH,
    TRANSITIONS,
    Action,
    Caller,
    check,
)
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound
from cityops.org.models import Person
from cityops.worktime.service import WorkCalendar

# Where each kind of subject is read in this API (the flag's link target).
SUBJECT_HREF = {
    SubjectType.PENALTY_CASE: "/api/v1/enforcement/penalty-cases/{id}",
    SubjectType.INSPECTION: "/api/v1/enforcement/inspections/{id}",
}
STEP_NAMES_ZH: dict[str, str] = {str(k): v for k, v in ACTION_NAMES_ZH.items()}
ASSIGNABLE_ROLES = frozenset({"enforcement_supervisor", "admin"})


def make_env(session: Session, calendar: WorkCalendar, now: datetime) -> Env:
    return Env(now=now, calendar=calendar, dialect=session.get_bind().dialect.name)


def caller_of(session: Session, principal: Principal) -> Caller:
    """The caller with the agency their officer row is of (registries.Officer.person_id)."""
    actor = principal.actor
    if actor.id is None:
        raise Forbidden("this needs a person's login")
    agency_id = session.scalar(
        select(Officer.agency_id)
        .where(Officer.person_id == actor.id, Officer.active.is_(True))
        .order_by(Officer.id)
        .limit(1)
    )
    return Caller(person_id=actor.id, name=actor.name, roles=actor.roles, agency_id=agency_id)


def require_supervisor(caller: Caller) -> None:
    if not caller.supervises:
        raise Forbidden("this needs one of the roles: admin, enforcement_supervisor")


def require_reader(caller: Caller) -> None:
    """Supervisors read every flag; an agency's lead and officers their agency's."""
    if caller.supervises:
        return
    if not caller.roles & AGENCY_ROLES:
        raise Forbidden(
            "this needs one of the roles: admin, enforcement_supervisor, enforcement_lead, officer"
        )
    if caller.agency_id is None:
        raise Forbidden("you are not an officer of any enforcement agency")


# -- rules ------------------------------------------------------------------------------------


def get_rule(session: Session, code: str) -> SupervisionRule:
    rule = repository.rule_by_code(session, code)
    if rule is None:
        raise NotFound(f"no supervision rule {code!r}")
    return rule


def update_rule(
    session: Session,
    principal: Principal,
    caller: Caller,
    code: str,
    body: RuleUpdate,
    *,
    now: datetime,
) -> SupervisionRule:
    """Change a rule's parameters (merged into the current ones and validated), whether it
    runs, its severity or title; audited with the row before and after."""
    require_supervisor(caller)
    rule = get_rule(session, code)
    before = RuleRead.model_validate(rule).model_dump(mode="json")
    if body.parameters is not None:
        merged = {**rule.parameters, **body.parameters}
        rule.parameters = parse_params(RuleKind(rule.kind), merged).model_dump()
    if body.active is not None:
        rule.active = body.active
    if body.severity is not None:
        rule.severity = body.severity.value
    if body.title is not None:
        rule.title = body.title
    rule.updated_at = now
    session.flush()
    record_audit(
        session,
        principal,
        "supervision_rule.update",
        "supervision_rule",
        rule.code,
        now=now,
        before=before,
        after=RuleRead.model_validate(rule).model_dump(mode="json"),
    )
    return rule


def run_evaluation(
    session: Session,
    env: Env,
    *,
    principal: Principal | None = None,
    codes: Sequence[str] | None = None,
    reader: Session | None = None,
) -> Evaluation:
    """Evaluate the active rules (or those named) after adding any shipped rule missing;
    an unknown code is a 422 naming it. Audited when a person asked for it. The checks run
    in `reader` when given (see `evaluator.evaluate`)."""
    source = reader or session
    if missing_default_rules(source):
        if reader is not None:
            # The new rows are not the reader's to see: this pass reads where it writes.
            reader.rollback()
            source = session
        load_default_rules(session, now=env.now)
        session.flush()
    if codes:
        known = set(source.scalars(select(SupervisionRule.code)))
        bad = [c for c in codes if c not in known]
        if bad:
            raise Invalid(
                f"no supervision rule {', '.join(bad)}",
                errors=[FieldProblem("rule", f"no such rule: {c}") for c in bad],
            )
    result = evaluate(
        session, env, CHECKS, codes=codes or None, reader=reader if source is reader else None
    )
    if principal is not None:
        after = {
            r.code: {"hits": r.hits, "raised": r.raised, "cleared": r.cleared} for r in result.rules
        }
        record_audit(
            session,
            principal,
            "supervision.evaluate",
            "supervision_rule",
            ",".join(codes) if codes else "*",
            now=env.now,
            after=after,
        )
    return result


# -- flags ------------------------------------------------------------------------------------


def get_flag(session: Session, caller: Caller, flag_id: int) -> Flag:
    """The flag, if the caller may see it (403 for another agency's)."""
    require_reader(caller)
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound(f"no flag {flag_id}")
    if not caller.sees(flag.agency_id):
        raise Forbidden("this flag is another agency's")
    return flag


def scoped_filter(caller: Caller, f: repository.FlagFilter) -> repository.FlagFilter:
    """The filter narrowed to what the caller may see: an agency's staff their agency's."""
    require_reader(caller)
    if caller.supervises:
        return f
    if f.agency_id is not None and f.agency_id != caller.agency_id:
        raise Forbidden("you may only read your own agency's flags")
    return repository.FlagFilter(**{**f.__dict__, "agency_id": caller.agency_id})


def link(flag: Flag) -> LinkRead:
    kind = SubjectType(flag.subject_type)
    return LinkRead(
        kind=kind.value, id=flag.subject_id, href=SUBJECT_HREF[kind].format(id=flag.subject_id)
    )


def flag_reads(session: Session, flags: Sequence[Flag]) -> list[FlagRead]:
    rules = repository.rules_by_id(session, [f.rule_id for f in flags])
    names = repository.agency_names(session, [f.agency_id for f in flags])
    return [_flag_read(f, rules[f.rule_id], names) for f in flags]


def _flag_read(flag: Flag, rule: SupervisionRule, names: dict[int, str]) -> FlagRead:
    return FlagRead(
        id=flag.id,
        rule_code=rule.code,
        rule_title=rule.title,
        kind=rule.kind,
        severity=rule.severity,
        subject_type=flag.subject_type,
        subject_id=flag.subject_id,
        agency_id=flag.agency_id,
        agency_name=names.get(flag.agency_id) if flag.agency_id is not None else None,
        region_code=flag.region_code,
        business_id=flag.business_id,
        occurred_on=flag.occurred_on,
        message=flag.message,
        state=flag.state,
        state_name=STATE_NAMES_ZH[FlagState(flag.state)],
        cleared=flag.cleared_at is not None,
        cleared_at=flag.cleared_at,
        raised_at=flag.raised_at,
        times_raised=flag.times_raised,
        assignee_id=flag.assignee_id,
        correction_due=flag.correction_due,
        link=link(flag),
    )


def flag_detail(session: Session, caller: Caller, flag: Flag) -> FlagDetail:
    """The flag with its evidence, the rule's legal source, its steps and what the caller
    may do with it now."""
    rule = session.get(SupervisionRule, flag.rule_id)
    assert rule is not None  # the foreign key holds it
    names = repository.agency_names(session, [flag.agency_id])
    steps = [
        StepRead(
            id=s.id,
            kind=s.kind,
            kind_name=STEP_NAMES_ZH.get(s.kind, s.kind),
            at=s.at,
            actor_id=s.actor_id,
            actor_name=s.actor_name,
            state_after=s.state_after,
            note=s.note,
            data=s.data,
        )
        for s in repository.steps(session, flag.id)
    ]
    return FlagDetail(
        **_flag_read(flag, rule, names).model_dump(),
        evidence=flag.evidence,
        legal_source=rule.legal_source,
        answer=flag.answer,
        answered_at=flag.answered_at,
        resolution=flag.resolution,
        closed_at=flag.closed_at,
        steps=steps,
        allowed_actions=[a.value for a in actions_for(caller, flag)],
    )


def actions_for(caller: Caller, flag: Flag) -> list[Action]:
    """What the caller may do with the flag now (role, scope and state)."""
    found = []
    for (state, action), _ in TRANSITIONS.items():
        if state != flag.state or action in found or not caller.roles & ACTION_ROLES[action]:
            continue
        if action is Action.ANSWER and caller.agency_id != flag.agency_id:
            continue
        found.append(action)
    return found


def act(
    session: Session,
    principal: Principal,
    caller: Caller,
    flag_id: int,
    action: Action,
    *,
    now: datetime,
    today: date,
    note: str = "",
    assignee_id: int | None = None,
    due: date | None = None,
    answer: str = "",
    reason: str = "",
) -> Flag:
    """One step of the supervisor's case (督办): checked for role, scope and state, applied,
    recorded as a step and audited."""
    flag = get_flag(session, caller, flag_id)
    before = {
        "state": flag.state,
        "assignee_id": flag.assignee_id,
        "correction_due": flag.correction_due.isoformat() if flag.correction_due else None,
    }
    after = check(caller, flag.state, action, flag.agency_id)
    data: dict[str, Any] = {}
    if action is Action.ASSIGN:
        assignee = session.get(Person, assignee_id) if assignee_id is not None else None
        if (
            assignee is None
            or not assignee.active
            or not ASSIGNABLE_ROLES & set(assignee.roles or ())
        ):
            raise Invalid(
                "the assignee must be an active enforcement supervisor",
                errors=[FieldProblem("assignee_id", "not an active enforcement supervisor")],
            )
        flag.assignee_id = assignee.id
        data = {"assignee_id": assignee.id, "assignee_name": assignee.name}
    elif action is Action.REQUEST_CORRECTION:
        if due is None or due < today:
            raise Invalid(
                "the deadline must be today or later",
                errors=[FieldProblem("due", f"before today ({today.isoformat()})")],
            )
        flag.correction_due = due
        data = {"due": due.isoformat()}
    elif action is Action.ANSWER:
        flag.answer, flag.answered_at = answer, now
        note = answer
    elif action is Action.DISMISS:
        if not reason.strip():
            raise Invalid(
                "a dismissal needs its reason", errors=[FieldProblem("reason", "required")]
            )
        flag.resolution, flag.closed_at = reason, now
        note = reason
    elif action is Action.CLOSE:
        flag.resolution, flag.closed_at = note, now
    flag.state = after.value
    flag.updated_at = now
    session.add(
        FlagStep(
            flag_id=flag.id,
            kind=action.value,
            at=now,
            actor_id=caller.person_id,
            actor_name=caller.name,
            state_after=after.value,
            note=note,
            data=data,
        )
    )
    session.flush()
    record_audit(
        session,
        principal,
        f"supervision_flag.{action.value}",
        "supervision_flag",
        flag.id,
        now=now,
        before=before,
        after={"state": after.value, **data, "note": note},
    )
    return flag
