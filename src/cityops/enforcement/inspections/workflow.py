"""The states of a plan and of a visit, and which action moves which state where: data and
pure functions, no database. An action not allowed in a state is a 409 that says which
states allow it."""

from __future__ import annotations

from cityops.enforcement.inspections.models import InspectionState as S
from cityops.enforcement.inspections.models import PlanState as P
from cityops.errors import Conflict

# action → (the states it may start from, the state it leads to; None: stays)
PLAN_ACTIONS: dict[str, tuple[frozenset[P], P | None]] = {
    "draw": (frozenset({P.DRAFT}), None),
    "submit": (frozenset({P.DRAFT}), P.SUBMITTED),
    "return": (frozenset({P.SUBMITTED}), P.DRAFT),
    "approve": (frozenset({P.SUBMITTED}), P.APPROVED),
    "publish": (frozenset({P.APPROVED, P.IN_PROGRESS, P.COMPLETED}), None),
    "invite": (frozenset({P.DRAFT, P.SUBMITTED, P.APPROVED}), None),
    "respond": (frozenset({P.DRAFT, P.SUBMITTED, P.APPROVED}), None),
    "start": (frozenset({P.APPROVED, P.IN_PROGRESS}), P.IN_PROGRESS),
    "complete": (frozenset({P.APPROVED, P.IN_PROGRESS}), P.COMPLETED),
    "cancel": (frozenset({P.DRAFT, P.SUBMITTED, P.APPROVED}), P.CANCELLED),
}

INSPECTION_ACTIONS: dict[str, tuple[frozenset[S], S | None]] = {
    "schedule": (frozenset({S.SCHEDULED}), None),
    "start": (frozenset({S.SCHEDULED}), S.IN_PROGRESS),
    "record": (frozenset({S.IN_PROGRESS}), None),
    "finish_compliant": (frozenset({S.IN_PROGRESS}), S.CLOSED),
    "finish_failed": (frozenset({S.IN_PROGRESS}), S.FINDINGS_RECORDED),
    "issue_notice": (frozenset({S.FINDINGS_RECORDED}), None),
    "serve_notice": (frozenset({S.FINDINGS_RECORDED}), S.NOTICE_SERVED),
    "prove": (frozenset({S.NOTICE_SERVED, S.REINSPECTION_DUE}), S.REINSPECTION_DUE),
    "fall_due": (frozenset({S.NOTICE_SERVED}), S.REINSPECTION_DUE),
    "reinspect_rectified": (frozenset({S.REINSPECTION_DUE}), S.CLOSED),
    "reinspect_not_rectified": (frozenset({S.REINSPECTION_DUE}), S.ESCALATED),
    "cancel": (frozenset({S.SCHEDULED}), S.CANCELLED),
}

ENDED = frozenset({S.CLOSED, S.ESCALATED, S.CANCELLED})


def _next(
    table: dict[str, tuple[frozenset[P], P | None]] | dict[str, tuple[frozenset[S], S | None]],
    what: str,
    state: str,
    action: str,
) -> str:
    allowed, to = table[action]
    if state not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            f"cannot {action.replace('_', ' ')} a {what} that is {state} (only when {names})",
            current=state,
            allowed=sorted(s.value for s in allowed),
        )
    return (to or state).__str__()


def plan_next(state: str, action: str) -> str:
    """The plan's state after `action`; Conflict when the action is not allowed in `state`."""
    return _next(PLAN_ACTIONS, "plan", state, action)


def inspection_next(state: str, action: str) -> str:
    """The visit's state after `action`; Conflict when the action is not allowed in `state`."""
    return _next(INSPECTION_ACTIONS, "inspection", state, action)


def plan_ends(states: list[str]) -> bool:
    """Whether a plan whose visits are in `states` is done: every visit has ended."""
    return bool(states) and all(s in ENDED for s in states)
