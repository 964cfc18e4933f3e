"""The supervisor's case on a flag, pure: who may take which step from which state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.enforcement.supervision.models import FlagState
from cityops.enforcement.supervision.workflow import (
    TERMINAL,
    Action,
    Caller,
    allowed_actions,
    check,
)
from cityops.errors import Conflict, Forbidden

SUPERVISOR = Caller(1, "监督员", frozenset({"enforcement_supervisor"}))
LEAD_A = Caller(2, "负责人", frozenset({"enforcement_lead"}), agency_id=10)
OFFICER_B = Caller(3, "执法员", frozenset({"officer"}), agency_id=20)


def test_the_path_from_open_to_closed() -> None:
    state = FlagState.OPEN
    for caller, action in [
        (SUPERVISOR, Action.ASSIGN),
        (SUPERVISOR, Action.REQUEST_CORRECTION),
        (LEAD_A, Action.ANSWER),
        (SUPERVISOR, Action.CLOSE),
    ]:
        state = check(caller, state, action, agency_id=10)
    assert state is FlagState.CLOSED


def test_an_unsatisfying_answer_is_asked_again() -> None:
    state = check(SUPERVISOR, FlagState.ANSWERED, Action.REQUEST_CORRECTION, 10)
    assert state is FlagState.CORRECTION_REQUESTED


def test_only_the_flags_agency_answers() -> None:
    with pytest.raises(Forbidden):
        check(OFFICER_B, FlagState.CORRECTION_REQUESTED, Action.ANSWER, agency_id=10)
    with pytest.raises(Forbidden):
        check(SUPERVISOR, FlagState.CORRECTION_REQUESTED, Action.ANSWER, agency_id=10)


def test_agency_staff_do_not_supervise() -> None:
    for action in (Action.ASSIGN, Action.REQUEST_CORRECTION, Action.CLOSE, Action.DISMISS):
        with pytest.raises(Forbidden):
            check(LEAD_A, FlagState.OPEN, action, agency_id=10)


def test_a_wrong_step_names_the_state_and_what_it_allows() -> None:
    with pytest.raises(Conflict) as refused:
        check(LEAD_A, FlagState.OPEN, Action.ANSWER, agency_id=10)
    assert refused.value.extra == {
        "state": "open",
        "allowed": ["assign", "request_correction", "close", "dismiss"],
    }


def test_callers_see_their_own_agency_only() -> None:
    assert SUPERVISOR.sees(10) and SUPERVISOR.sees(None)
    assert LEAD_A.sees(10) and not LEAD_A.sees(20) and not LEAD_A.sees(None)
    assert not Caller(4, "调度员", frozenset({"dispatcher"}), agency_id=10).sees(10)


@given(st.lists(st.tuples(st.sampled_from([SUPERVISOR, LEAD_A]), st.sampled_from(Action))))
def test_no_step_leaves_a_closed_or_dismissed_case(steps: list[tuple[Caller, Action]]) -> None:
    state = FlagState.OPEN
    for caller, action in steps:
        try:
            after = check(caller, state, action, agency_id=10)
        except (Forbidden, Conflict):
            continue
        assert state not in TERMINAL
        state = after
    assert allowed_actions(FlagState.CLOSED) == allowed_actions(FlagState.DISMISSED) == []
