"""Scheduled work of supervision: every active rule evaluated every so many seconds."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from cityops.bootstrap import Context
from cityops.enforcement.supervision.evaluator import Evaluation
from cityops.enforcement.supervision.service import make_env, run_evaluation
from cityops.kit.periodic import PeriodicThread

log = logging.getLogger(__name__)

# The first pass soon after start, so that a new deployment has its rules and flags
# without waiting a whole interval.
FIRST_PASS_AFTER = 30.0


def run_supervision(context: Context) -> int:
    """One pass over every active rule: the checks in a read-only session, the flags in a
    transaction of their own (run again if it lost a race with another pass); returns the
    flags raised or raised again."""

    def work(session: Session) -> Evaluation:
        with context.read_sessions() as reader:
            env = make_env(reader, context.calendar.get(reader), context.clock.now())
            return run_evaluation(session, env, reader=reader)

    result = context.in_transaction(work)
    log.info(
        "supervision: %d rule(s) in %.2f s: %s",
        len(result.rules),
        result.seconds,
        ", ".join(
            f"{r.code} {r.hits} (+{r.raised + r.raised_again}, -{r.cleared})" for r in result.rules
        ),
    )
    return sum(r.raised + r.raised_again for r in result.rules)


def supervision_thread(context: Context, interval: float) -> PeriodicThread:
    """The supervision pass every `interval` seconds, in a thread of its own."""
    return PeriodicThread(
        "cityops-enforcement-supervision",
        interval,
        lambda: run_supervision(context),
        "supervision flag(s) raised",
        first_after=min(FIRST_PASS_AFTER, interval),
    )
