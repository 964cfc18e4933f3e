"""The workflow as a table: what each role may do in each state, in and out of scope."""

from __future__ import annotations

import pytest

from cityops.cases.workflow import (
    Action,
    Actor,
    CaseFacts,
    IllegalTransition,
    State,
    allowed_actions,
    can_see,
    plan,
)
from cityops.errors import Forbidden, Invalid

GRID = "500103001001001"
OTHER_GRID = "500103002001001"
DEPT = 7


def person(
    role: str, *, pid: int = 10, scope: str | None = "500103", dept: int | None = None
) -> Actor:
    return Actor(id=pid, name=role, roles=frozenset({role}), scope_code=scope, department_id=dept)


ROLES = {
    "call_taker": person("call_taker"),
    "shift_leader": person("shift_leader"),
    "dispatcher": person("dispatcher"),
    "supervisor": person("supervisor"),
    "inspector": person("inspector", scope=GRID),
    "grid_worker": person("grid_worker", pid=11, scope=GRID),
    "department_handler": person("department_handler", pid=12, scope=None, dept=DEPT),
    "admin": person("admin", scope="500103"),
}

URGE = {"urge"}

# The specification: in-scope actor, case reported by someone else (reporter 99), dispatched
# to department DEPT, no request pending, verification done where needed.
EXPECTED: dict[State, dict[str, set[str]]] = {
    State.REPORTED: {
        "call_taker": {"send_verify", "accept"},
        "shift_leader": {"send_verify", "accept", "cancel"} | URGE,
        "supervisor": URGE,
    },
    State.VERIFYING: {
        "shift_leader": {"cancel"} | URGE,
        "inspector": {"verify"},
        "grid_worker": {"verify"},
        "supervisor": URGE,
    },
    State.ACCEPTED: {"shift_leader": {"file", "cancel"} | URGE, "supervisor": URGE},
    State.FILED: {"dispatcher": {"dispatch"}, "shift_leader": {"cancel"} | URGE,
                  "supervisor": URGE},
    State.HANDLING: {
        "department_handler": {"sign_for", "request_extension", "request_return",
                               "request_defer", "report_handled"},
        "shift_leader": URGE,
        "supervisor": URGE,
    },
    State.DEFERRED: {"dispatcher": {"resume"}, "shift_leader": URGE, "supervisor": URGE},
    State.HANDLED: {"call_taker": {"send_check"}, "shift_leader": {"send_check"} | URGE,
                    "supervisor": URGE},
    State.CHECKING: {"inspector": {"check"}, "grid_worker": {"check"}, "shift_leader": URGE,
                     "supervisor": URGE},
    State.CHECKED: {"shift_leader": {"close"} | URGE, "supervisor": URGE},
    State.CLOSED: {"shift_leader": {"evaluate", "reopen"}, "supervisor": {"evaluate"},
                   "call_taker": {"reopen"}},
    State.EVALUATED: {"shift_leader": {"reopen"}, "call_taker": {"reopen"}},
    State.CANCELLED: {},
}  # fmt: skip


def facts(state: State, **kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "state": state,
        "region_code": GRID,
        "department_id": DEPT if state in (State.HANDLING, State.DEFERRED, State.HANDLED,
                                           State.CHECKING, State.CHECKED) else None,
        "reporter_id": 99,
        "verified": True,
    }  # fmt: skip
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_may_do_exactly_what_the_table_says(state: State, role: str) -> None:
    expected = EXPECTED[state].get(role, set())
    assert set(allowed_actions(facts(state), ROLES[role])) == expected


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_action_outside_the_table_is_refused(state: State, role: str) -> None:
    actor = ROLES[role]
    allowed = EXPECTED[state].get(role, set())
    for action in Action:
        if action.value in allowed or action in (Action.REPORT, Action.ESCALATE):
            continue
        with pytest.raises((IllegalTransition, Forbidden)):
            plan(facts(state), actor, action.value, outcome="pass")


def test_out_of_scope_staff_may_do_nothing() -> None:
    outside = facts(State.REPORTED, region_code=OTHER_GRID)
    for role in ("call_taker", "shift_leader", "inspector", "grid_worker"):
        actor = person(role, scope="500103001")
        assert allowed_actions(outside, actor) == []
        assert not can_see(actor, outside)


def test_another_department_may_not_handle() -> None:
    other = person("department_handler", dept=DEPT + 1, scope=None)
    f = facts(State.HANDLING)
    assert allowed_actions(f, other) == []
    assert not can_see(other, f)
    with pytest.raises(Forbidden):
        plan(f, other, "report_handled")


def test_the_assigned_grid_worker_handles_outside_their_scope() -> None:
    worker = person("grid_worker", pid=42, scope=OTHER_GRID)
    f = facts(State.HANDLING, department_id=None, assignee_id=42)
    assert "report_handled" in allowed_actions(f, worker)
    assert can_see(worker, f)


def test_the_handler_signs_for_a_task_once_each_time_it_reaches_them() -> None:
    handler = ROLES["department_handler"]
    decision = plan(facts(State.HANDLING), handler, "sign_for")
    assert (decision.from_state, decision.to_state) == (State.HANDLING, State.HANDLING)
    signed = facts(State.HANDLING, signed_for=True)
    assert "sign_for" not in allowed_actions(signed, handler)
    with pytest.raises(IllegalTransition, match="already signed for") as err:
        plan(signed, handler, "sign_for")
    assert err.value.allowed == ["request_extension", "request_return", "request_defer",
                                 "report_handled"]  # fmt: skip
    # Signing for is a record, not a gate: handling may be reported without it.
    assert plan(facts(State.HANDLING), handler, "report_handled").to_state is State.HANDLED


def test_only_the_handler_signs_for_and_only_while_handling() -> None:
    worker = person("grid_worker", pid=42, scope=OTHER_GRID)
    assigned = facts(State.HANDLING, department_id=None, assignee_id=42)
    assert allowed_actions(assigned, worker)[0] == "sign_for"
    with pytest.raises(Forbidden):
        plan(facts(State.HANDLING), person("department_handler", dept=DEPT + 1), "sign_for")
    with pytest.raises(Forbidden):
        plan(facts(State.HANDLING), ROLES["dispatcher"], "sign_for")
    for state in (State.FILED, State.DEFERRED, State.HANDLED):
        with pytest.raises(IllegalTransition):
            plan(facts(state), ROLES["department_handler"], "sign_for")


def test_public_reports_are_verified_before_acceptance() -> None:
    f = facts(State.REPORTED, needs_verification=True, verified=None)
    assert set(allowed_actions(f, ROLES["call_taker"])) == {"send_verify"}
    with pytest.raises(IllegalTransition) as err:
        plan(f, ROLES["call_taker"], "accept")
    assert err.value.current is State.REPORTED
    assert err.value.allowed == ["send_verify"]
    assert err.value.extra["allowed_actions"] == ["send_verify"]


def test_illegal_transition_names_state_and_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as err:
        plan(facts(State.FILED), ROLES["dispatcher"], "close")
    assert err.value.status == 409
    assert err.value.extra == {"current_state": "filed", "allowed_actions": ["dispatch"]}


def test_check_outcomes_lead_to_checked_or_back_to_handling() -> None:
    inspector = ROLES["inspector"]
    assert plan(facts(State.CHECKING), inspector, "check", "pass").to_state is State.CHECKED
    assert plan(facts(State.CHECKING), inspector, "check", "rework").to_state is State.HANDLING
    with pytest.raises(Invalid):
        plan(facts(State.CHECKING), inspector, "check", "maybe")


@pytest.mark.parametrize(
    ("kind", "target"),
    [("extension", State.HANDLING), ("return", State.FILED), ("defer", State.DEFERRED)],
)
def test_approving_a_request_depends_on_its_kind(kind: str, target: State) -> None:
    f = facts(State.HANDLING, pending_request=kind)
    decision = plan(f, ROLES["dispatcher"], "approve")
    assert decision.to_state is target
    assert decision.request_kind == kind


def test_a_pending_request_blocks_new_requests_and_handling() -> None:
    f = facts(State.HANDLING, pending_request="extension")
    handler = ROLES["department_handler"]
    assert allowed_actions(f, handler) == ["sign_for"]  # acknowledging receipt is not handling
    assert set(allowed_actions(f, ROLES["dispatcher"])) == {"approve", "reject"}
    with pytest.raises(IllegalTransition):
        plan(f, handler, "request_return")


def test_only_the_reporting_inspector_fixes_on_the_spot() -> None:
    inspector = ROLES["inspector"]
    own = facts(State.REPORTED, reporter_id=inspector.id)
    assert plan(own, inspector, "self_handle").to_state is State.CHECKED
    with pytest.raises(Forbidden):
        plan(facts(State.REPORTED), inspector, "self_handle")


def test_the_system_may_only_accept_file_dispatch_escalate_note_and_reopen() -> None:
    system = Actor.system("auto")
    assert allowed_actions(facts(State.REPORTED, verified=None), system) == [
        "accept",
        "escalate",
        "note",
    ]
    assert allowed_actions(facts(State.ACCEPTED), system) == ["file", "escalate", "note"]
    assert allowed_actions(facts(State.FILED), system) == ["dispatch", "escalate", "note"]
    # reopen: for a resident's own "dissatisfied" on the public page
    assert allowed_actions(facts(State.CLOSED), system) == ["reopen"]
    assert plan(facts(State.EVALUATED), system, "reopen").to_state is State.REPORTED
    assert allowed_actions(facts(State.CANCELLED), system) == []
    assert plan(facts(State.HANDLING), system, "escalate").to_state is State.HANDLING
    with pytest.raises(Forbidden):
        plan(facts(State.CHECKED), system, "close")


def test_a_case_without_a_class_may_be_filed_by_whoever_gives_it_one() -> None:
    # the class itself is required by the service (tests/cases/test_api.py)
    f = facts(State.ACCEPTED, has_class=False)
    assert plan(f, ROLES["shift_leader"], "file").to_state is State.FILED


def test_unknown_action_is_invalid_input() -> None:
    with pytest.raises(Invalid):
        plan(facts(State.REPORTED), ROLES["call_taker"], "teleport")
