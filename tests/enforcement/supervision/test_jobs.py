"""The scheduled pass: every active rule evaluated in its own transaction, committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import World, days_ago, flags, penalty_case

from cityops.enforcement.supervision.jobs import run_supervision, supervision_thread
from cityops.enforcement.supervision.models import SupervisionRule


def test_a_pass_raises_flags_once_and_commits(session: Session, world: World, context: Any) -> None:
    late = penalty_case(session, world, filed_on=days_ago(100))
    session.commit()
    assert run_supervision(context) == 1
    assert run_supervision(context) == 0  # found again, nothing new
    session.expire_all()
    (flag,) = flags(session, "overdue-stage")
    assert flag.subject_id == late.id
    evaluated = session.scalars(select(SupervisionRule.evaluated_at)).all()
    assert len(evaluated) == 10 and all(at == context.clock.now() for at in evaluated)


def test_the_thread_runs_the_pass_at_its_interval(context: Any) -> None:
    thread = supervision_thread(context, 600)
    assert (thread.name, thread.interval, thread.first_after) == (
        "cityops-enforcement-supervision",
        600,
        30.0,
    )
    assert not thread.is_alive()
