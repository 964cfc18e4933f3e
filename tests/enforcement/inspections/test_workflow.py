"""The states of plans and visits, pure: which action leads where, and a 409 that names
the states that would allow it."""

from __future__ import annotations

import pytest

from cityops.enforcement.inspections.workflow import inspection_next, plan_ends, plan_next
from cityops.errors import Conflict


def test_a_plan_goes_from_draft_to_completed() -> None:
    state = "draft"
    for action, expected in [
        ("submit", "submitted"),
        ("return", "draft"),
        ("submit", "submitted"),
        ("approve", "approved"),
        ("publish", "approved"),
        ("start", "in_progress"),
        ("start", "in_progress"),
        ("complete", "completed"),
    ]:
        state = plan_next(state, action)
        assert state == expected
    with pytest.raises(Conflict) as refused:
        plan_next("completed", "cancel")
    assert refused.value.extra["allowed"] == ["approved", "draft", "submitted"]
    assert "cannot cancel a plan that is completed" in refused.value.detail


def test_a_visit_closes_or_escalates() -> None:
    path = ["start", "finish_failed", "serve_notice", "prove", "reinspect_not_rectified"]
    state = "scheduled"
    for action in path:
        state = inspection_next(state, action)
    assert state == "escalated"
    assert inspection_next("notice_served", "fall_due") == "reinspection_due"
    assert inspection_next("in_progress", "finish_compliant") == "closed"
    for state, action in [
        ("scheduled", "record"),
        ("findings_recorded", "reinspect_rectified"),
        ("in_progress", "cancel"),
        ("closed", "start"),
    ]:
        with pytest.raises(Conflict):
            inspection_next(state, action)


def test_a_plan_ends_when_every_visit_has() -> None:
    assert plan_ends(["closed", "escalated", "cancelled"])
    assert not plan_ends(["closed", "reinspection_due"])
    assert not plan_ends([])
