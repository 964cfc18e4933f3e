"""The supervisor's case on a flag (督办) as data and pure functions.

open → assigned (to a supervisor) → correction requested from the agency, with a deadline
→ the agency answers → closed; or dismissed with a reason at any point before the end. A
supervisor may ask again after an answer that does not satisfy them. Supervisors
(`enforcement_supervisor`, admins) act on every flag; an agency's lead and officers only
answer their own agency's. No database here: `check` decides, the service applies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cityops.enforcement.supervision.models import FlagState
from cityops.errors import Conflict, Forbidden


class Action(StrEnum):
    ASSIGN = "assign"  # 分派
    REQUEST_CORRECTION = "request_correction"  # 发出整改督办
    ANSWER = "answer"  # 机构反馈
    CLOSE = "close"  # 办结
    DISMISS = "dismiss"  # 撤销


class Event(StrEnum):
    """What the evaluation records on a flag (no person acts)."""

    RAISED = "raised"  # 触发预警
    CLEARED = "cleared"  # 已合规
    RAISED_AGAIN = "raised_again"  # 再次触发
    REOPENED = "reopened"  # 办结后再次触发，重新督办


ACTION_NAMES_ZH = {
    Action.ASSIGN: "分派",
    Action.REQUEST_CORRECTION: "发出整改督办",
    Action.ANSWER: "整改反馈",
    Action.CLOSE: "办结",
    Action.DISMISS: "撤销",
    Event.RAISED: "触发预警",
    Event.CLEARED: "已合规",
    Event.RAISED_AGAIN: "再次触发",
    Event.REOPENED: "重新督办",
}

STATE_NAMES_ZH = {
    FlagState.OPEN: "待督办",
    FlagState.ASSIGNED: "已分派",
    FlagState.CORRECTION_REQUESTED: "待整改反馈",
    FlagState.ANSWERED: "已反馈",
    FlagState.CLOSED: "已办结",
    FlagState.DISMISSED: "已撤销",
}

TERMINAL = frozenset({FlagState.CLOSED, FlagState.DISMISSED})

# (state, action) → the state after it.
TRANSITIONS: dict[tuple[FlagState, Action], FlagState] = {
    (FlagState.OPEN, Action.ASSIGN): FlagState.ASSIGNED,
    (FlagState.OPEN, Action.REQUEST_CORRECTION): FlagState.CORRECTION_REQUESTED,
    (FlagState.OPEN, Action.CLOSE): FlagState.CLOSED,
    (FlagState.OPEN, Action.DISMISS): FlagState.DISMISSED,
    (FlagState.ASSIGNED, Action.ASSIGN): FlagState.ASSIGNED,
    (FlagState.ASSIGNED, Action.REQUEST_CORRECTION): FlagState.CORRECTION_REQUESTED,
    (FlagState.ASSIGNED, Action.CLOSE): FlagState.CLOSED,
    (FlagState.ASSIGNED, Action.DISMISS): FlagState.DISMISSED,
    (FlagState.CORRECTION_REQUESTED, Action.ASSIGN): FlagState.CORRECTION_REQUESTED,
    (FlagState.CORRECTION_REQUESTED, Action.ANSWER): FlagState.ANSWERED,
    (FlagState.CORRECTION_REQUESTED, Action.CLOSE): FlagState.CLOSED,
    (FlagState.CORRECTION_REQUESTED, Action.DISMISS): FlagState.DISMISSED,
    (FlagState.ANSWERED, Action.ASSIGN): FlagState.ANSWERED,
    (FlagState.ANSWERED, Action.REQUEST_CORRECTION): FlagState.CORRECTION_REQUESTED,
    (FlagState.ANSWERED, Action.CLOSE): FlagState.CLOSED,
    (FlagState.ANSWERED, Action.DISMISS): FlagState.DISMISSED,
}

SUPERVISOR_ROLES = frozenset({"enforcement_supervisor", "admin"})
AGENCY_ROLES = frozenset({"enforcement_lead", "officer"})
# Who may take each action: supervisors everything but the agency's answer, which is the
# agency's own (its lead or its officers).
ACTION_ROLES: dict[Action, frozenset[str]] = {
    Action.ASSIGN: SUPERVISOR_ROLES,
    Action.REQUEST_CORRECTION: SUPERVISOR_ROLES,
    Action.ANSWER: AGENCY_ROLES,
    Action.CLOSE: SUPERVISOR_ROLES,
    Action.DISMISS: SUPERVISOR_ROLES,
}


@dataclass(frozen=True)
class Caller:
    """Who acts: their roles and, for agency staff, the agency their officer row is of."""

    person_id: int
    name: str
    roles: frozenset[str]
    agency_id: int | None = None

    @property
    def supervises(self) -> bool:
        return bool(self.roles & SUPERVISOR_ROLES)

    def sees(self, agency_id: int | None) -> bool:
        """Supervisors see every flag; agency staff their own agency's."""
        if self.supervises:
            return True
        return (
            bool(self.roles & AGENCY_ROLES)
            and self.agency_id is not None
            and self.agency_id == agency_id
        )


def allowed_actions(state: FlagState | str) -> list[Action]:
    """The actions open to someone in the state, whoever they are."""
    return [a for (s, a) in TRANSITIONS if s == state]


def check(
    caller: Caller, state: FlagState | str, action: Action, agency_id: int | None
) -> FlagState:
    """The state after `action`, or the refusal: Forbidden for the wrong role or another
    agency's flag, Conflict (naming the state and what it allows) for a wrong step."""
    if not caller.roles & ACTION_ROLES[action]:
        names = ", ".join(sorted(ACTION_ROLES[action]))
        raise Forbidden(f"{ACTION_NAMES_ZH[action]} ({action}) needs one of the roles: {names}")
    if action is Action.ANSWER and not (
        caller.agency_id is not None and caller.agency_id == agency_id
    ):
        raise Forbidden("only the flag's own agency answers it")
    after = TRANSITIONS.get((FlagState(state), action))
    if after is None:
        allowed = [a.value for a in allowed_actions(state)]
        raise Conflict(
            f"a flag in state {state} ({STATE_NAMES_ZH[FlagState(state)]}) cannot be {action}",
            state=str(state),
            allowed=allowed,
        )
    return after
