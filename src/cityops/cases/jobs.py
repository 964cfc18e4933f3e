"""Scheduled work on cases: the overdue sweep that marks and escalates late stages."""

from __future__ import annotations

from cityops.bootstrap import Context
from cityops.cases.service import sweep_overdue
from cityops.kit.periodic import PeriodicThread


def run_sweep(context: Context) -> int:
    """One pass of the overdue sweep in its own transaction; returns the cases escalated."""
    uow = context.unit_of_work()
    try:
        env = context.case_env(uow.session, context.clock.now())
        total = 0
        while True:
            count = sweep_overdue(uow.session, env, limit=500)
            uow.commit()
            total += count
            if count < 500:
                return total
    finally:
        uow.close()


def sweep_thread(context: Context, interval: float) -> PeriodicThread:
    """The overdue sweep every `interval` seconds, in a thread of its own."""
    return PeriodicThread(
        "cityops-sla-sweep", interval, lambda: run_sweep(context), "overdue case(s) escalated"
    )
