"""The penalty procedure as pure functions: the way through, what each stage refuses and
why, who may act, and properties no sequence of actions can break."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.enforcement.penalties.workflow import (
    INVESTIGATIVE,
    OUTCOMES,
    Acting,
    Action,
    Facts,
    IllegalTransition,
    Procedure,
    Stage,
    Team,
    allowed_actions,
    apply,
    can_see,
    opened,
    plan,
)
from cityops.errors import DomainError, Forbidden, Invalid

AGENCY, OTHER = 1, 2
REGION = "500103001"
OFFICER = Acting(1, "张伟", frozenset({"officer"}), frozenset({AGENCY}))
LEAD = Acting(2, "王强", frozenset({"enforcement_lead"}), frozenset({AGENCY}))
REVIEWER = Acting(3, "法制", frozenset({"legal_reviewer"}), scope_code="500103")
STRANGER = Acting(4, "刘洋", frozenset({"officer", "enforcement_lead"}), frozenset({OTHER}))
WATCHER = Acting(5, "监督", frozenset({"enforcement_supervisor"}))
TEAM = Team(qualified=2)


def take(facts: Facts, who: Acting, action: Action, **kwargs: object) -> Facts:
    return apply(facts, plan(facts, who, action.value, **kwargs))  # type: ignore[arg-type]


def test_the_general_procedure_from_filing_to_closing() -> None:
    f = opened(Procedure.GENERAL, AGENCY, REGION)
    assert f.stage is Stage.FILING and allowed_actions(f, LEAD) == [
        "approve_filing",
        "refuse_filing",
    ]
    f = take(f, LEAD, Action.APPROVE_FILING)
    assert f.stage is Stage.INVESTIGATING
    f = take(f, OFFICER, Action.INSPECT_SITE, team=TEAM)
    f = take(f, OFFICER, Action.PROPOSE, outcome="review")
    assert f.stage is Stage.REVIEWING and f.review_required
    f = take(f, REVIEWER, Action.PASS_REVIEW)
    assert f.stage is Stage.NOTIFYING
    f = take(f, OFFICER, Action.SERVE_NOTICE)
    assert f.stage is Stage.NOTIFIED
    f = take(replace(f, notice_period_over=True), OFFICER, Action.LAPSE)
    f = take(f, LEAD, Action.DECIDE)
    assert f.stage is Stage.DECIDED and f.decided
    f = take(replace(f, needs_execution=True), OFFICER, Action.SERVE)
    assert f.stage is Stage.EXECUTING and f.served
    f = take(f, OFFICER, Action.RECORD_PAYMENT, outcome="part")
    assert f.stage is Stage.EXECUTING
    f = take(f, OFFICER, Action.RECORD_PAYMENT, outcome="in_full")
    f = take(f, LEAD, Action.PUBLISH)
    f = take(f, LEAD, Action.CLOSE)
    assert f.stage is Stage.CLOSED and allowed_actions(f, LEAD) == []


def test_a_simplified_decision_is_filed_with_the_agency_before_it_closes() -> None:
    f = opened(Procedure.SIMPLIFIED, AGENCY, REGION)
    assert f.stage is Stage.EXECUTED and f.decided and f.served
    with pytest.raises(IllegalTransition, match="file the decision made on the spot"):
        plan(f, LEAD, "close")
    f = take(f, OFFICER, Action.RECORD_FILING)
    assert take(f, LEAD, Action.CLOSE).stage is Stage.CLOSED
    with pytest.raises(IllegalTransition, match="simplified procedure has no such step"):
        plan(replace(f, stage=Stage.DECIDING), LEAD, "extend")


def test_an_action_out_of_order_names_the_stage_and_what_is_allowed() -> None:
    f = opened(Procedure.GENERAL, AGENCY, REGION)
    with pytest.raises(IllegalTransition) as caught:
        plan(f, LEAD, "decide")
    error = caught.value
    assert error.status == 409 and error.extra["current_stage"] == "filing"
    assert error.extra["allowed_actions"] == ["approve_filing", "refuse_filing"]
    f = replace(f, stage=Stage.INVESTIGATING)
    with pytest.raises(IllegalTransition, match="record at least one act of investigation"):
        plan(f, OFFICER, "propose")
    with pytest.raises(IllegalTransition, match="only after the advance notice"):
        plan(replace(f, investigated=True), LEAD, "decide", outcome="penalty")
    # No penalty may be decided straight after the investigation (Art. 57).
    assert plan(f, LEAD, "decide", outcome="no_penalty").to_stage is Stage.DECIDED
    with pytest.raises(Invalid) as unknown:
        plan(f, LEAD, "pay")
    assert unknown.value.errors[0].path == "action"


def test_roles_and_agencies() -> None:
    f = opened(Procedure.GENERAL, AGENCY, REGION)
    with pytest.raises(Forbidden):
        plan(f, OFFICER, "approve_filing")  # the lead approves filing
    with pytest.raises(Forbidden):
        plan(f, STRANGER, "approve_filing")  # a lead of another agency
    with pytest.raises(Forbidden):
        plan(replace(f, stage=Stage.REVIEWING), OFFICER, "pass_review")
    assert plan(replace(f, stage=Stage.REVIEWING), REVIEWER, "pass_review")
    assert can_see(WATCHER, f) and can_see(REVIEWER, f) and can_see(OFFICER, f)
    assert not can_see(STRANGER, f)
    assert allowed_actions(f, WATCHER) == []


def test_investigation_needs_two_certified_officers_and_extensions_a_collective_decision() -> None:
    f = replace(opened(Procedure.GENERAL, AGENCY, REGION), stage=Stage.INVESTIGATING)
    for team in (None, Team(qualified=1), Team(qualified=2, problems=("王强: expired",))):
        with pytest.raises(Invalid) as caught:
            plan(f, OFFICER, "record_inquiry", team=team)
        assert caught.value.errors[0].path == "officer_ids"
    f = take(f, LEAD, Action.EXTEND)
    assert f.extensions == 1
    with pytest.raises(Invalid) as caught:
        plan(f, LEAD, "extend")
    assert caught.value.errors[0].path == "collective"
    assert take(f, LEAD, Action.EXTEND, collective=True).extensions == 2


def test_the_party_hearing_and_the_review_after_it() -> None:
    f = replace(opened(Procedure.GENERAL, AGENCY, REGION), stage=Stage.NOTIFYING,
                investigated=True, hearing_right=True)  # fmt: skip
    f = take(f, OFFICER, Action.SERVE_NOTICE)
    # A statement within the hearing period keeps the case open for a hearing request.
    assert take(f, OFFICER, Action.RECORD_STATEMENT).stage is Stage.NOTIFIED
    assert take(f, OFFICER, Action.RECORD_STATEMENT, outcome="waive_hearing").stage is (
        Stage.DECIDING
    )
    with pytest.raises(IllegalTransition, match="periods"):
        plan(f, OFFICER, "lapse")
    f = take(f, OFFICER, Action.REQUEST_HEARING)
    with pytest.raises(IllegalTransition, match="notify the hearing first"):
        plan(f, OFFICER, "hold_hearing")
    f = take(f, OFFICER, Action.NOTIFY_HEARING)
    f = take(f, OFFICER, Action.HOLD_HEARING)
    assert f.stage is Stage.DECIDING and f.review_required and not f.review_passed
    with pytest.raises(IllegalTransition, match="legal review must pass first"):
        plan(f, LEAD, "decide")
    f = take(f, OFFICER, Action.REQUEST_REVIEW)
    f = take(f, REVIEWER, Action.PASS_REVIEW)
    assert f.stage is Stage.DECIDING  # the notice was served: back to the decision
    assert take(f, LEAD, Action.DECIDE).decided
    over = replace(f, stage=Stage.NOTIFIED, hearing_period_over=True)
    with pytest.raises(IllegalTransition, match="period to ask for a hearing has passed"):
        plan(over, OFFICER, "request_hearing")


# -- properties over any sequence of actions ---------------------------------------------------

ACTORS = [OFFICER, LEAD, REVIEWER, STRANGER]
TEAMS = [None, Team(qualified=1), TEAM, TEAM, Team(qualified=3, problems=("expired",))]
# What the clock and the case's content decide outside the workflow.
OUTSIDE = ["notice_period_over", "hearing_period_over", "needs_execution", "hearing_right"]


Pick = Callable[[Sequence[Any]], Any]
# Ending a case early is left to the rare random action, so that walks go deep.
ENDINGS = {Action.REFUSE_FILING.value, Action.TERMINATE.value}


def walk(pick: Pick, procedure: Procedure, length: int) -> list[tuple[str, Facts]]:
    """A random walk: mostly an action someone may take now, sometimes any action by
    anyone, with random teams, outcomes and passing time; the steps that happened."""
    facts = opened(procedure, AGENCY, REGION)
    history = [("opened", facts)]
    for _ in range(length):
        choices = [(w, Action(a)) for w in ACTORS for a in allowed_actions(facts, w)
                   if a not in ENDINGS]  # fmt: skip
        if choices and pick(range(10)) > 0:
            who, action = pick(choices)
        else:
            who, action = pick(ACTORS), pick(list(Action))
        team = pick(TEAMS)
        outcome = pick([*OUTCOMES.get(action, ()), None])
        if pick(range(4)) == 0:
            facts = replace(facts, **{pick(OUTSIDE): True})
        try:
            decision = plan(facts, who, action.value, outcome=outcome, team=team,
                            collective=pick([False, True]))  # fmt: skip
        except DomainError:
            continue
        if action in INVESTIGATIVE:
            assert team is not None and team.ok  # two certified officers on every such act
        if action is Action.DECIDE:
            assert not facts.review_required or facts.review_passed
            assert decision.outcome == "no_penalty" or facts.notice_served
        assert AGENCY in who.agency_ids or who is REVIEWER
        facts = apply(facts, decision)
        history.append((decision.step_kind, facts))
    return history


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from(list(Procedure)))
def test_no_sequence_closes_a_case_without_its_decision_and_service(
    data: st.DataObject, procedure: Procedure
) -> None:
    history = walk(lambda seq: data.draw(st.sampled_from(seq)), procedure, 60)
    kinds = [k for k, _ in history]
    facts = history[-1][1]
    if facts.stage is Stage.CLOSED:
        assert facts.decided and facts.served
        if procedure is Procedure.GENERAL:
            assert "filed" in kinds
            assert kinds.index("decided") < kinds.index("served") < kinds.index("closed")
        else:
            assert "recorded_with_agency" in kinds


def test_the_walks_do_reach_the_end() -> None:
    """The property above means something only if walks get to closing: seeded walks of
    the same kind do, often."""
    ends = [walk(random.Random(seed).choice, Procedure.GENERAL, 60)[-1][1].stage
            for seed in range(100)]  # fmt: skip
    assert ends.count(Stage.CLOSED) >= 30
