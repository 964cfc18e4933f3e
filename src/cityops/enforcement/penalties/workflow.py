"""The administrative penalty procedure (行政处罚程序) as data and pure functions.

General procedure (普通程序): filing approved by the agency's lead (立案) → investigation by
at least two certified officers (调查取证) → the intended penalty proposed → legal review
where Art. 58 requires it (法制审核) → advance notice (事先告知, Art. 44/45) → the party's
statement, a hearing (Art. 63/64) or the period lapsing → the lead's decision → service
(送达, Art. 61) → execution (payment, Art. 67/72) → closing (结案). The simplified procedure
(简易程序, Art. 51) starts decided on the spot and served at once, and is filed with the
agency (备案) before it closes.

No database and no I/O here: `allowed_actions` and `plan` decide, `apply` says what a step
does to the facts, and the service applies it to the rows. Who may act is decided by role
*and* agency: officers act for the agencies their officer rows (or department) tie them to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from cityops.enforcement.penalties import rules
from cityops.enforcement.registries.credentials import MIN_OFFICERS
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid


class Stage(StrEnum):
    FILING = "filing"  # 待立案审批
    INVESTIGATING = "investigating"  # 调查取证
    REVIEWING = "reviewing"  # 法制审核
    NOTIFYING = "notifying"  # 待告知 (the intended penalty is settled)
    NOTIFIED = "notified"  # 已告知: the party may state, defend, ask for a hearing
    HEARING = "hearing"  # 听证
    DECIDING = "deciding"  # 待决定
    DECIDED = "decided"  # 已决定, to be served
    EXECUTING = "executing"  # 执行中
    EXECUTED = "executed"  # 执行完毕, to be closed
    CLOSED = "closed"  # 已结案
    NOT_FILED = "not_filed"  # 不予立案
    TERMINATED = "terminated"  # 终止 (移送司法机关 …)


STAGE_NAMES_ZH: dict[str, str] = {
    Stage.FILING: "待立案审批",
    Stage.INVESTIGATING: "调查取证",
    Stage.REVIEWING: "法制审核",
    Stage.NOTIFYING: "待告知",
    Stage.NOTIFIED: "告知期",
    Stage.HEARING: "听证",
    Stage.DECIDING: "待决定",
    Stage.DECIDED: "待送达",
    Stage.EXECUTING: "执行中",
    Stage.EXECUTED: "待结案",
    Stage.CLOSED: "已结案",
    Stage.NOT_FILED: "不予立案",
    Stage.TERMINATED: "已终止",
}

TERMINAL = frozenset({Stage.CLOSED, Stage.NOT_FILED, Stage.TERMINATED})
# The stages the ninety days of Art. 60 run in (filed, not yet decided).
BEFORE_DECISION = frozenset(
    {Stage.INVESTIGATING, Stage.REVIEWING, Stage.NOTIFYING, Stage.NOTIFIED, Stage.HEARING,
     Stage.DECIDING}
)  # fmt: skip
AFTER_DECISION = frozenset({Stage.DECIDED, Stage.EXECUTING, Stage.EXECUTED, Stage.CLOSED})


class Procedure(StrEnum):
    GENERAL = "general"  # 普通程序
    SIMPLIFIED = "simplified"  # 简易程序


class Action(StrEnum):
    APPROVE_FILING = "approve_filing"
    REFUSE_FILING = "refuse_filing"
    COLLECT_EVIDENCE = "collect_evidence"
    RECORD_INQUIRY = "record_inquiry"
    INSPECT_SITE = "inspect_site"
    ORDER_CORRECTION = "order_correction"
    PROPOSE = "propose"
    REQUEST_REVIEW = "request_review"
    PASS_REVIEW = "pass_review"
    RETURN_REVIEW = "return_review"
    SERVE_NOTICE = "serve_notice"
    RECORD_STATEMENT = "record_statement"
    REQUEST_HEARING = "request_hearing"
    NOTIFY_HEARING = "notify_hearing"
    HOLD_HEARING = "hold_hearing"
    LAPSE = "lapse"
    REOPEN_INVESTIGATION = "reopen_investigation"
    EXTEND = "extend"
    DECIDE = "decide"
    SERVE = "serve"
    RECORD_PAYMENT = "record_payment"
    RECORD_EXECUTION = "record_execution"
    RECORD_FILING = "record_filing"
    PUBLISH = "publish"
    CLOSE = "close"
    TERMINATE = "terminate"


# The step each action records (enforcement_penalty_steps.kind).
STEP_KINDS: dict[Action, str] = {
    Action.APPROVE_FILING: "filed",
    Action.REFUSE_FILING: "filing_refused",
    Action.COLLECT_EVIDENCE: "evidence_collected",
    Action.RECORD_INQUIRY: "inquiry_recorded",
    Action.INSPECT_SITE: "site_inspected",
    Action.ORDER_CORRECTION: "correction_ordered",
    Action.PROPOSE: "penalty_proposed",
    Action.REQUEST_REVIEW: "legal_review_requested",
    Action.PASS_REVIEW: "legal_review_passed",
    Action.RETURN_REVIEW: "legal_review_returned",
    Action.SERVE_NOTICE: "notice_served",
    Action.RECORD_STATEMENT: "statement_received",
    Action.REQUEST_HEARING: "hearing_requested",
    Action.NOTIFY_HEARING: "hearing_notified",
    Action.HOLD_HEARING: "hearing_held",
    Action.LAPSE: "statement_period_lapsed",
    Action.REOPEN_INVESTIGATION: "investigation_reopened",
    Action.EXTEND: "extension_approved",
    Action.DECIDE: "decided",
    Action.SERVE: "served",
    Action.RECORD_PAYMENT: "paid",
    Action.RECORD_EXECUTION: "executed",
    Action.RECORD_FILING: "recorded_with_agency",
    Action.PUBLISH: "published",
    Action.CLOSE: "closed",
    Action.TERMINATE: "terminated",
}
# Opening a case records one of these before any action.
OPENED, DECIDED_ON_SPOT = "opened", "decided_on_spot"

ACTION_NAMES_ZH: dict[str, str] = {
    Action.APPROVE_FILING: "批准立案",
    Action.REFUSE_FILING: "不予立案",
    Action.COLLECT_EVIDENCE: "调取证据",
    Action.RECORD_INQUIRY: "询问笔录",
    Action.INSPECT_SITE: "现场检查",
    Action.ORDER_CORRECTION: "责令改正",
    Action.PROPOSE: "拟定处罚意见",
    Action.REQUEST_REVIEW: "提请法制审核",
    Action.PASS_REVIEW: "法制审核通过",
    Action.RETURN_REVIEW: "法制审核退回",
    Action.SERVE_NOTICE: "送达事先告知书",
    Action.RECORD_STATEMENT: "陈述申辩",
    Action.REQUEST_HEARING: "申请听证",
    Action.NOTIFY_HEARING: "听证通知",
    Action.HOLD_HEARING: "举行听证",
    Action.LAPSE: "告知期满",
    Action.REOPEN_INVESTIGATION: "补充调查",
    Action.EXTEND: "延长办案期限",
    Action.DECIDE: "作出决定",
    Action.SERVE: "送达决定书",
    Action.RECORD_PAYMENT: "缴纳罚款",
    Action.RECORD_EXECUTION: "执行完毕",
    Action.RECORD_FILING: "简易程序备案",
    Action.PUBLISH: "公示",
    Action.CLOSE: "结案",
    Action.TERMINATE: "终止案件",
}

# Acts of investigation and inspection: two certified officers at least (Art. 42, 55).
INVESTIGATIVE = frozenset(
    {Action.COLLECT_EVIDENCE, Action.RECORD_INQUIRY, Action.INSPECT_SITE, Action.ORDER_CORRECTION}
)

# Roles as stored on people (cityops.org.models.Role); plain strings keep this module pure.
OFFICER, LEAD, REVIEWER = "officer", "enforcement_lead", "legal_reviewer"
ENFORCEMENT_SUPERVISOR, SUPERVISOR, ADMIN = "enforcement_supervisor", "supervisor", "admin"
READ_ALL_ROLES = frozenset({ENFORCEMENT_SUPERVISOR, SUPERVISOR, ADMIN})
ENFORCEMENT_ROLES = frozenset({OFFICER, LEAD, REVIEWER})


@dataclass(frozen=True)
class Acting:
    """Who acts: a person with roles, the agencies they act for, and their region scope."""

    id: int
    name: str
    roles: frozenset[str]
    agency_ids: frozenset[int] = frozenset()
    scope_code: str | None = None


@dataclass(frozen=True)
class Team:
    """The officers of an act as the certificate check found them."""

    qualified: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and self.qualified >= MIN_OFFICERS


@dataclass(frozen=True)
class Facts:
    """What the procedure needs to know of a case to decide."""

    stage: Stage
    procedure: Procedure
    agency_id: int
    region_code: str
    investigated: bool = False  # at least one act of investigation recorded
    review_required: bool = False
    review_passed: bool = False  # since the last proposal and the last hearing
    notice_served: bool = False  # for the current proposal
    hearing_right: bool = False
    hearing_period_over: bool = False
    notice_period_over: bool = False  # the statement and hearing-request periods both
    hearing_notified: bool = False
    needs_execution: bool = False  # a fine or a measure beyond the document itself
    decided: bool = False
    served: bool = False
    extensions: int = 0
    published: bool = False
    recorded: bool = False  # a simplified decision filed with the agency (备案)


def is_member(actor: Acting, facts: Facts) -> bool:
    return facts.agency_id in actor.agency_ids


def in_region(actor: Acting, region_code: str) -> bool:
    return actor.scope_code is not None and region_code.startswith(actor.scope_code)


def can_see(actor: Acting, facts: Facts) -> bool:
    """Supervisors and admins read every case; enforcement staff read their agency's, and a
    legal reviewer also the cases of their region."""
    if actor.roles & READ_ALL_ROLES:
        return True
    if actor.roles & ENFORCEMENT_ROLES and is_member(actor, facts):
        return True
    return REVIEWER in actor.roles and in_region(actor, facts.region_code)


def _officer(actor: Acting, facts: Facts) -> bool:
    """Officers of the case's agency (its lead is one of them)."""
    return bool(actor.roles & {OFFICER, LEAD}) and is_member(actor, facts)


def _lead(actor: Acting, facts: Facts) -> bool:
    return LEAD in actor.roles and is_member(actor, facts)


def _reviewer(actor: Acting, facts: Facts) -> bool:
    """The agency's legal reviewers, or those of the region (a district's legal office)."""
    return REVIEWER in actor.roles and (
        is_member(actor, facts) or in_region(actor, facts.region_code)
    )


def _no_guard(_facts: Facts) -> str | None:
    return None


@dataclass(frozen=True)
class Transition:
    """One action: the stages it starts from, where it leads (None: decided by `plan`),
    who may take it and what must hold."""

    action: Action
    sources: frozenset[Stage]
    target: Stage | None
    who: Callable[[Acting, Facts], bool]
    guard: Callable[[Facts], str | None] = field(default=_no_guard)


def _general(facts: Facts) -> str | None:
    if facts.procedure is not Procedure.GENERAL:
        return "the simplified procedure has no such step"
    return None


def _investigated(facts: Facts) -> str | None:
    return None if facts.investigated else "record at least one act of investigation first"


def _review_done(facts: Facts) -> str | None:
    if facts.review_required and not facts.review_passed:
        return f"legal review must pass first ({rules.REVIEW_BASIS})"
    return None


def _review_pending(facts: Facts) -> str | None:
    if not facts.review_required or facts.review_passed:
        return "no legal review is due"
    return None


def _hearing_open(facts: Facts) -> str | None:
    if not facts.hearing_right:
        return f"the intended penalty carries no hearing right ({rules.HEARING_BASIS})"
    if facts.hearing_period_over:
        return f"the period to ask for a hearing has passed ({rules.HEARING_REQUEST.basis})"
    return None


def _periods_over(facts: Facts) -> str | None:
    if not facts.notice_period_over:
        return "the periods to state a defence and to ask for a hearing have not passed"
    return None


def _hearing_notified(facts: Facts) -> str | None:
    return None if facts.hearing_notified else "notify the hearing first (notify_hearing)"


def _simplified_unrecorded(facts: Facts) -> str | None:
    if facts.procedure is not Procedure.SIMPLIFIED:
        return "only a decision made on the spot is filed with the agency"
    return "already filed with the agency" if facts.recorded else None


def _unpublished(facts: Facts) -> str | None:
    return "already published" if facts.published else None


def _closable(facts: Facts) -> str | None:
    if not (facts.decided and facts.served):
        return "a case closes only once decided and served with proof"
    if facts.procedure is Procedure.SIMPLIFIED and not facts.recorded:
        return "file the decision made on the spot with the agency first (record_filing)"
    return None


S = Stage
_NOTICE_STAGES = frozenset({S.NOTIFYING, S.NOTIFIED, S.HEARING, S.DECIDING})
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.APPROVE_FILING, frozenset({S.FILING}), S.INVESTIGATING, _lead),
        Transition(Action.REFUSE_FILING, frozenset({S.FILING}), S.NOT_FILED, _lead),
        *(Transition(a, frozenset({S.INVESTIGATING}), S.INVESTIGATING, _officer)
          for a in sorted(INVESTIGATIVE)),
        Transition(Action.PROPOSE, frozenset({S.INVESTIGATING}), None, _officer,
                   guard=_investigated),
        Transition(Action.REQUEST_REVIEW, frozenset({S.DECIDING}), S.REVIEWING, _officer,
                   guard=_review_pending),
        Transition(Action.PASS_REVIEW, frozenset({S.REVIEWING}), None, _reviewer),
        Transition(Action.RETURN_REVIEW, frozenset({S.REVIEWING}), S.INVESTIGATING, _reviewer),
        Transition(Action.SERVE_NOTICE, frozenset({S.NOTIFYING}), S.NOTIFIED, _officer,
                   guard=_review_done),
        Transition(Action.RECORD_STATEMENT, frozenset({S.NOTIFIED}), None, _officer),
        Transition(Action.REQUEST_HEARING, frozenset({S.NOTIFIED}), S.HEARING, _officer,
                   guard=_hearing_open),
        Transition(Action.NOTIFY_HEARING, frozenset({S.HEARING}), S.HEARING, _officer),
        Transition(Action.HOLD_HEARING, frozenset({S.HEARING}), S.DECIDING, _officer,
                   guard=_hearing_notified),
        Transition(Action.LAPSE, frozenset({S.NOTIFIED}), S.DECIDING, _officer,
                   guard=_periods_over),
        Transition(Action.REOPEN_INVESTIGATION, _NOTICE_STAGES, S.INVESTIGATING, _lead),
        Transition(Action.EXTEND, BEFORE_DECISION, None, _lead, guard=_general),
        Transition(Action.DECIDE, frozenset({S.INVESTIGATING, S.DECIDING}), S.DECIDED, _lead,
                   guard=_review_done),
        Transition(Action.SERVE, frozenset({S.DECIDED}), None, _officer),
        Transition(Action.RECORD_PAYMENT, frozenset({S.EXECUTING}), None, _officer),
        Transition(Action.RECORD_EXECUTION, frozenset({S.EXECUTING}), S.EXECUTED, _officer),
        Transition(Action.RECORD_FILING, frozenset(AFTER_DECISION - {S.CLOSED}), None,
                   _officer, guard=_simplified_unrecorded),
        Transition(Action.PUBLISH, AFTER_DECISION, None, _lead, guard=_unpublished),
        Transition(Action.CLOSE, frozenset({S.EXECUTED}), S.CLOSED, _lead, guard=_closable),
        Transition(Action.TERMINATE, BEFORE_DECISION, S.TERMINATED, _lead, guard=_general),
    )
}  # fmt: skip


class IllegalTransition(Conflict):
    """The action is not possible in the case's current stage (409)."""

    code = "illegal-transition"
    title = "Action not allowed in the current stage"

    def __init__(self, action: str, current: Stage, allowed: list[str], why: str = ""):
        detail = f"cannot {action} a penalty case that is {current.value}"
        if why:
            detail += f": {why}"
        super().__init__(detail, current_stage=current.value, allowed_actions=allowed)
        self.current = current
        self.allowed = allowed


def allowed_actions(facts: Facts, actor: Acting) -> list[str]:
    """The actions `actor` may take on the case now, in procedure order."""
    return [
        t.action.value
        for t in TRANSITIONS.values()
        if facts.stage in t.sources and t.who(actor, facts) and t.guard(facts) is None
    ]


@dataclass(frozen=True)
class Decision:
    """What taking an action does: the stage it leaves and the stage it reaches."""

    action: Action
    from_stage: Stage
    to_stage: Stage
    outcome: str | None = None

    @property
    def step_kind(self) -> str:
        return STEP_KINDS[self.action]


# The outcomes an action that has several takes (`outcome` of `plan`).
OUTCOMES: dict[Action, tuple[str, ...]] = {
    Action.PROPOSE: ("review", "notify"),
    Action.RECORD_STATEMENT: ("stated", "waive_hearing"),
    Action.HOLD_HEARING: ("held", "abandoned"),
    Action.DECIDE: ("penalty", "no_penalty"),
    Action.RECORD_PAYMENT: ("part", "in_full"),
}


def check(facts: Facts, actor: Acting, action: str) -> Transition:
    """The transition `action` takes, if the stage, the actor and the guard allow it now:
    409 naming the stage and the allowed actions, 403 for the wrong role or agency."""
    try:
        act = Action(action)
    except ValueError:
        raise Invalid(
            f"unknown action {action!r}",
            errors=[FieldProblem("action", "unknown action")],
            allowed_actions=[a.value for a in Action],
        ) from None
    transition = TRANSITIONS[act]
    if facts.stage not in transition.sources:
        raise IllegalTransition(act.value, facts.stage, allowed_actions(facts, actor))
    if not transition.who(actor, facts):
        raise Forbidden(
            f"your role or agency does not allow {act.value} on this case",
            allowed_actions=allowed_actions(facts, actor),
        )
    why = transition.guard(facts)
    if why:
        raise IllegalTransition(act.value, facts.stage, allowed_actions(facts, actor), why)
    return transition


def plan(
    facts: Facts,
    actor: Acting,
    action: str,
    *,
    outcome: str | None = None,
    team: Team | None = None,
    collective: bool = False,
) -> Decision:
    """Decide what `action` by `actor` does to a case, or raise why it may not happen (see
    `check`; and 422 for an investigative act without two certified officers or a further
    extension without a collective decision)."""
    transition = check(facts, actor, action)
    act = transition.action
    choice = _outcome(act, outcome)
    if act in INVESTIGATIVE:
        _require_team(team)
    if act is Action.EXTEND and facts.extensions >= 1 and not collective:
        raise Invalid(
            "a further extension needs a collective decision",
            errors=[FieldProblem("collective", "a second extension is decided collectively")],
        )
    if act is Action.DECIDE and facts.stage is S.INVESTIGATING and choice == "penalty":
        raise IllegalTransition(
            act.value, facts.stage, allowed_actions(facts, actor),
            f"a penalty is decided only after the advance notice ({rules.NOTICE_BASIS})",
        )  # fmt: skip
    return Decision(act, facts.stage, transition.target or _target(act, facts, choice), choice)


def _outcome(act: Action, outcome: str | None) -> str | None:
    options = OUTCOMES.get(act)
    if options is None:
        return None
    if outcome is None:
        return options[0]
    if outcome not in options:
        raise Invalid(
            f"outcome must be one of {', '.join(options)}",
            errors=[FieldProblem("outcome", f"one of: {', '.join(options)}")],
        )
    return outcome


def _require_team(team: Team | None) -> None:
    minimum = MIN_OFFICERS
    if team is None or team.qualified < minimum or team.problems:
        problems = list(team.problems) if team else []
        message = f"at least {minimum} certified officers act together ({rules.OFFICERS_BASIS})"
        raise Invalid(
            "; ".join([*problems, message]) if problems else message,
            errors=[FieldProblem("officer_ids", p) for p in problems]
            or [FieldProblem("officer_ids", message)],
        )


def _target(act: Action, facts: Facts, outcome: str | None) -> Stage:
    if act is Action.PROPOSE:
        return S.REVIEWING if outcome == "review" else S.NOTIFYING
    if act is Action.PASS_REVIEW:
        return S.DECIDING if facts.notice_served else S.NOTIFYING
    if act is Action.RECORD_STATEMENT:
        done = outcome == "waive_hearing" or not facts.hearing_right or facts.hearing_period_over
        return S.DECIDING if done else S.NOTIFIED
    if act is Action.SERVE:
        return S.EXECUTING if facts.needs_execution else S.EXECUTED
    if act is Action.RECORD_PAYMENT:
        return S.EXECUTED if outcome == "in_full" else S.EXECUTING
    return facts.stage  # EXTEND, RECORD_FILING, PUBLISH keep the stage


def apply(facts: Facts, decision: Decision) -> Facts:
    """The facts after the decided step (what the service writes to the case's columns)."""
    act, new = decision.action, replace(facts, stage=decision.to_stage)
    if act in INVESTIGATIVE:
        return replace(new, investigated=True)
    if act is Action.PROPOSE:
        # A new proposal needs its own review (if any) and its own notice.
        return replace(new, review_required=decision.outcome == "review", review_passed=False,
                       notice_served=False, hearing_notified=False)  # fmt: skip
    if act is Action.PASS_REVIEW:
        return replace(new, review_passed=True)
    if act is Action.SERVE_NOTICE:
        return replace(new, notice_served=True, hearing_period_over=False,
                       notice_period_over=False)  # fmt: skip
    if act is Action.NOTIFY_HEARING:
        return replace(new, hearing_notified=True)
    if act is Action.HOLD_HEARING and decision.outcome == "held":
        # Art. 58 item 2: a decision after a hearing goes through legal review.
        return replace(new, review_required=True, review_passed=False)
    if act is Action.EXTEND:
        return replace(new, extensions=facts.extensions + 1)
    if act is Action.DECIDE:
        return replace(new, decided=True)
    if act is Action.SERVE:
        return replace(new, served=True)
    if act is Action.RECORD_FILING:
        return replace(new, recorded=True)
    if act is Action.PUBLISH:
        return replace(new, published=True)
    return new


def opened(procedure: Procedure, agency_id: int, region_code: str, *,
           needs_execution: bool = False) -> Facts:  # fmt: skip
    """A new case's facts: a general case awaits filing approval; a simplified one was
    decided and handed over on the spot."""
    if procedure is Procedure.GENERAL:
        return Facts(Stage.FILING, procedure, agency_id, region_code)
    return Facts(
        Stage.EXECUTING if needs_execution else Stage.EXECUTED, procedure, agency_id,
        region_code, investigated=True, needs_execution=needs_execution, decided=True,
        served=True,
    )  # fmt: skip
