"""Scheduled work on cases: the overdue sweep that marks and escalates late stages."""

from __future__ import annotations

import logging
import threading

from cityops.bootstrap import Context
from cityops.cases.service import sweep_overdue

log = logging.getLogger(__name__)


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


class SweepThread(threading.Thread):
    """Runs the sweep every `interval` seconds until stopped; a failed pass is logged."""

    def __init__(self, context: Context, interval: float) -> None:
        super().__init__(name="cityops-sla-sweep", daemon=True)
        self.context = context
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                escalated = run_sweep(self.context)
                if escalated:
                    log.info("escalated %d overdue case(s)", escalated)
            except Exception:
                log.exception("overdue sweep failed")

    def stop(self) -> None:
        self.stopped.set()
