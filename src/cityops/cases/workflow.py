"""The seven-stage workflow of digital city management as data and pure functions.

report → accept (verify on site for reports not made by staff) → file or cancel → dispatch
→ sign for (签收: the handler acknowledges the task, once each time it reaches them) → handle
(extension, return and defer requests, approved by the dispatcher) → check (pass, or rework
back to the same department) → close → evaluate; plus the inspector's fix-on-the-spot
shortcut, and reopening (重新办理) when a resident is dissatisfied with the result. Signing
for is a record, not a gate: a handler may report handled without it.
No database and no I/O here: `allowed_actions` and `plan` decide, the service applies.
Who may act is decided by role *and* scope (the case's region or department).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid


class State(StrEnum):
    REPORTED = "reported"  # 上报, awaiting the call-taker
    VERIFYING = "verifying"  # 待核实, an inspector checks it exists
    ACCEPTED = "accepted"  # 已受理, awaiting the shift leader's decision
    FILED = "filed"  # 已立案, awaiting dispatch
    HANDLING = "handling"  # 处置中, the department's clock runs
    DEFERRED = "deferred"  # 挂账, long works approved to wait
    HANDLED = "handled"  # 已处置, awaiting a check
    CHECKING = "checking"  # 核查中, an inspector checks the result
    CHECKED = "checked"  # 核查通过, awaiting closure
    CLOSED = "closed"  # 已结案
    EVALUATED = "evaluated"  # 已评价
    CANCELLED = "cancelled"  # 已作废


OPEN_STATES = frozenset(State) - {State.CLOSED, State.EVALUATED, State.CANCELLED}
TERMINAL_STATES = frozenset({State.CLOSED, State.EVALUATED, State.CANCELLED})


class Action(StrEnum):
    REPORT = "report"
    SEND_VERIFY = "send_verify"
    VERIFY = "verify"
    ACCEPT = "accept"
    FILE = "file"
    CANCEL = "cancel"
    DISPATCH = "dispatch"
    SIGN_FOR = "sign_for"
    REQUEST_EXTENSION = "request_extension"
    REQUEST_RETURN = "request_return"
    REQUEST_DEFER = "request_defer"
    APPROVE = "approve"
    REJECT = "reject"
    RESUME = "resume"
    REPORT_HANDLED = "report_handled"
    SEND_CHECK = "send_check"
    CHECK = "check"
    SELF_HANDLE = "self_handle"
    CLOSE = "close"
    EVALUATE = "evaluate"
    ESCALATE = "escalate"
    URGE = "urge"
    REOPEN = "reopen"  # 重新办理: a resident was not satisfied with how it was closed
    NOTE = "note"  # the system records what happened around the case (a sensor cleared)


ACTION_NAMES_ZH = {
    Action.REPORT: "上报",
    Action.SEND_VERIFY: "派发核实",
    Action.VERIFY: "核实",
    Action.ACCEPT: "受理",
    Action.FILE: "立案",
    Action.CANCEL: "作废",
    Action.DISPATCH: "派遣",
    Action.SIGN_FOR: "签收",
    Action.REQUEST_EXTENSION: "申请延时",
    Action.REQUEST_RETURN: "申请回退",
    Action.REQUEST_DEFER: "申请挂账",
    Action.APPROVE: "批准申请",
    Action.REJECT: "驳回申请",
    Action.RESUME: "恢复处置",
    Action.REPORT_HANDLED: "处置反馈",
    Action.SEND_CHECK: "派发核查",
    Action.CHECK: "核查",
    Action.SELF_HANDLE: "自处理",
    Action.CLOSE: "结案",
    Action.EVALUATE: "评价",
    Action.ESCALATE: "超时升级",
    Action.URGE: "督办",
    Action.REOPEN: "重新办理",
    Action.NOTE: "情况记录",
}

# Roles as stored on people (cityops.org.models.Role); plain strings keep this module pure.
INSPECTOR, GRID_WORKER = "inspector", "grid_worker"
CALL_TAKER, SHIFT_LEADER, DISPATCHER = "call_taker", "shift_leader", "dispatcher"
DEPARTMENT_HANDLER, SUPERVISOR, ADMIN = "department_handler", "supervisor", "admin"
SYSTEM = "system"

FIELD_ROLES = frozenset({INSPECTOR, GRID_WORKER})
CENTRE_ROLES = frozenset({CALL_TAKER, SHIFT_LEADER, DISPATCHER, SUPERVISOR})
REQUEST_KINDS = ("extension", "return", "defer")


@dataclass(frozen=True)
class Actor:
    """Who acts: a person with roles and scope, or the system applying a named rule."""

    id: int | None
    name: str
    roles: frozenset[str]
    scope_code: str | None = None
    department_id: int | None = None
    rule: str | None = None

    @property
    def is_system(self) -> bool:
        return SYSTEM in self.roles

    @classmethod
    def system(cls, rule: str) -> Actor:
        return cls(id=None, name="系统", roles=frozenset({SYSTEM}), rule=rule)


@dataclass(frozen=True)
class CaseFacts:
    """What the workflow needs to know of a case to decide."""

    state: State
    region_code: str
    department_id: int | None = None
    assignee_id: int | None = None
    reporter_id: int | None = None
    needs_verification: bool = False
    verified: bool | None = None
    pending_request: str | None = None
    has_class: bool = True
    # Whether the handler has signed for the task since it last reached them.
    signed_for: bool = False


def in_region(actor: Actor, region_code: str) -> bool:
    """Whether the case's region lies in the actor's scope (codes nest by prefix)."""
    return actor.scope_code is not None and region_code.startswith(actor.scope_code)


def can_see(actor: Actor, facts: CaseFacts) -> bool:
    """Read access: admins and the system see all; others by region, department or duty."""
    if actor.is_system or ADMIN in actor.roles:
        return True
    if actor.id is not None and actor.id in (facts.assignee_id, facts.reporter_id):
        return True
    if (
        DEPARTMENT_HANDLER in actor.roles
        and actor.department_id is not None
        and actor.department_id == facts.department_id
    ):
        return True
    return bool((actor.roles - {DEPARTMENT_HANDLER}) and in_region(actor, facts.region_code))


def _region_role(*roles: str) -> Callable[[Actor, CaseFacts], bool]:
    wanted = frozenset(roles)

    def check(actor: Actor, facts: CaseFacts) -> bool:
        return bool(actor.roles & wanted) and in_region(actor, facts.region_code)

    return check


def _handler(actor: Actor, facts: CaseFacts) -> bool:
    """The department the case is with, or the worker it was dispatched to."""
    if actor.id is not None and facts.assignee_id == actor.id:
        return True
    return (
        DEPARTMENT_HANDLER in actor.roles
        and actor.department_id is not None
        and facts.department_id == actor.department_id
    )


def _reporter_in_field(actor: Actor, facts: CaseFacts) -> bool:
    is_reporter = actor.id is not None and actor.id == facts.reporter_id
    return bool(actor.roles & FIELD_ROLES) and is_reporter


def _no(_actor: Actor, _facts: CaseFacts) -> bool:
    return False


@dataclass(frozen=True)
class Transition:
    """One action: the states it starts from, where it leads, who may take it."""

    action: Action
    sources: frozenset[State]
    # The target, or None for "decided by the outcome" (see `plan`).
    target: State | None
    who: Callable[[Actor, CaseFacts], bool]
    system_may: bool = False
    guard: Callable[[CaseFacts], str | None] = field(default=lambda _f: None)


def _needs_no_verification(facts: CaseFacts) -> str | None:
    if facts.needs_verification and facts.verified is None:
        return "reports not made by staff are verified on site first (send_verify)"
    return None


def _no_pending(facts: CaseFacts) -> str | None:
    if facts.pending_request:
        return f"a {facts.pending_request} request awaits the dispatcher"
    return None


def _pending(facts: CaseFacts) -> str | None:
    return None if facts.pending_request else "no request awaits a decision"


def _not_signed_for(facts: CaseFacts) -> str | None:
    if facts.signed_for:
        return "already signed for since the task last reached its handler"
    return None


S = State
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.SEND_VERIFY, frozenset({S.REPORTED}), S.VERIFYING,
                   _region_role(CALL_TAKER, SHIFT_LEADER)),
        Transition(Action.VERIFY, frozenset({S.VERIFYING}), S.ACCEPTED,
                   _region_role(INSPECTOR, GRID_WORKER)),
        Transition(Action.ACCEPT, frozenset({S.REPORTED}), S.ACCEPTED,
                   _region_role(CALL_TAKER, SHIFT_LEADER), system_may=True,
                   guard=_needs_no_verification),
        Transition(Action.FILE, frozenset({S.ACCEPTED}), S.FILED,
                   _region_role(SHIFT_LEADER), system_may=True),
        Transition(Action.CANCEL, frozenset({S.REPORTED, S.VERIFYING, S.ACCEPTED, S.FILED}),
                   S.CANCELLED, _region_role(SHIFT_LEADER)),
        Transition(Action.DISPATCH, frozenset({S.FILED}), S.HANDLING,
                   _region_role(DISPATCHER), system_may=True),
        Transition(Action.SIGN_FOR, frozenset({S.HANDLING}), S.HANDLING, _handler,
                   guard=_not_signed_for),
        Transition(Action.REQUEST_EXTENSION, frozenset({S.HANDLING}), S.HANDLING, _handler,
                   guard=_no_pending),
        Transition(Action.REQUEST_RETURN, frozenset({S.HANDLING}), S.HANDLING, _handler,
                   guard=_no_pending),
        Transition(Action.REQUEST_DEFER, frozenset({S.HANDLING}), S.HANDLING, _handler,
                   guard=_no_pending),
        Transition(Action.APPROVE, frozenset({S.HANDLING}), None, _region_role(DISPATCHER),
                   guard=_pending),
        Transition(Action.REJECT, frozenset({S.HANDLING}), S.HANDLING, _region_role(DISPATCHER),
                   guard=_pending),
        Transition(Action.RESUME, frozenset({S.DEFERRED}), S.HANDLING, _region_role(DISPATCHER)),
        Transition(Action.REPORT_HANDLED, frozenset({S.HANDLING}), S.HANDLED, _handler,
                   guard=_no_pending),
        Transition(Action.SEND_CHECK, frozenset({S.HANDLED}), S.CHECKING,
                   _region_role(CALL_TAKER, SHIFT_LEADER)),
        Transition(Action.CHECK, frozenset({S.CHECKING}), None,
                   _region_role(INSPECTOR, GRID_WORKER)),
        Transition(Action.SELF_HANDLE, frozenset({S.REPORTED}), S.CHECKED, _reporter_in_field),
        Transition(Action.CLOSE, frozenset({S.CHECKED}), S.CLOSED, _region_role(SHIFT_LEADER)),
        Transition(Action.EVALUATE, frozenset({S.CLOSED}), S.EVALUATED,
                   _region_role(SHIFT_LEADER, SUPERVISOR)),
        # A resident's "dissatisfied" (their own rating, or the call-taker's call-back)
        # sends the case back to the call-taker, who takes it through the loop again.
        Transition(Action.REOPEN, frozenset({S.CLOSED, S.EVALUATED}), S.REPORTED,
                   _region_role(CALL_TAKER, SHIFT_LEADER), system_may=True),
        Transition(Action.ESCALATE, frozenset(OPEN_STATES), None, _no, system_may=True),
        Transition(Action.URGE, frozenset(OPEN_STATES), None,
                   _region_role(SHIFT_LEADER, SUPERVISOR)),
        Transition(Action.NOTE, frozenset(OPEN_STATES), None, _no, system_may=True),
    )
}  # fmt: skip


class IllegalTransition(Conflict):
    """The action is not possible in the case's current state (409)."""

    code = "illegal-transition"
    title = "Action not allowed in the current state"

    def __init__(self, action: str, current: State, allowed: list[str], why: str = ""):
        detail = f"cannot {action} a case that is {current.value}"
        if why:
            detail += f": {why}"
        super().__init__(detail, current_state=current.value, allowed_actions=allowed)
        self.current = current
        self.allowed = allowed


def _permitted(transition: Transition, actor: Actor, facts: CaseFacts) -> bool:
    if actor.is_system:
        return transition.system_may
    return transition.who(actor, facts)


def allowed_actions(facts: CaseFacts, actor: Actor) -> list[str]:
    """The actions `actor` may take on the case now, in workflow order."""
    return [
        t.action.value
        for t in TRANSITIONS.values()
        if facts.state in t.sources and _permitted(t, actor, facts) and t.guard(facts) is None
    ]


@dataclass(frozen=True)
class Decision:
    """What taking an action does: the target state and the request kind it touches."""

    action: Action
    from_state: State
    to_state: State
    request_kind: str | None = None


def plan(facts: CaseFacts, actor: Actor, action: str, outcome: str | None = None) -> Decision:
    """Decide what `action` by `actor` does to a case, or raise why it may not happen.

    `outcome` chooses between results of actions that have several: verify
    (confirmed | not_confirmed), check (pass | rework).
    """
    try:
        act = Action(action)
    except ValueError:
        raise Invalid(
            f"unknown action {action!r}", errors=[], allowed_actions=[a.value for a in Action]
        ) from None
    transition = TRANSITIONS.get(act)
    if transition is None:  # REPORT creates a case; it is not taken on one
        raise IllegalTransition(act.value, facts.state, allowed_actions(facts, actor))
    if facts.state not in transition.sources:
        raise IllegalTransition(act.value, facts.state, allowed_actions(facts, actor))
    if not _permitted(transition, actor, facts):
        raise Forbidden(
            f"your role or scope does not allow {act.value} on this case",
            allowed_actions=allowed_actions(facts, actor),
        )
    why = transition.guard(facts)
    if why:
        raise IllegalTransition(act.value, facts.state, allowed_actions(facts, actor), why)
    target = transition.target
    request_kind = None
    if act is Action.CHECK:
        target = _outcome(outcome, {"pass": S.CHECKED, "rework": S.HANDLING})
    elif act is Action.VERIFY:
        _outcome(outcome, {"confirmed": S.ACCEPTED, "not_confirmed": S.ACCEPTED})
    elif act is Action.APPROVE:
        request_kind = facts.pending_request
        target = {"extension": S.HANDLING, "return": S.FILED, "defer": S.DEFERRED}[
            request_kind or "extension"
        ]
    elif act in (Action.ESCALATE, Action.URGE, Action.NOTE):
        target = facts.state
    elif act in (Action.REQUEST_EXTENSION, Action.REQUEST_RETURN, Action.REQUEST_DEFER):
        request_kind = act.value.removeprefix("request_")
    elif act is Action.REJECT:
        request_kind = facts.pending_request
    assert target is not None
    return Decision(act, facts.state, target, request_kind)


def _outcome(outcome: str | None, options: dict[str, State]) -> State:
    if outcome not in options:
        raise Invalid(
            f"outcome must be one of {', '.join(options)}",
            errors=[FieldProblem("outcome", f"must be one of: {', '.join(options)}")],
        )
    return options[outcome]
