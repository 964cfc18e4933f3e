"""Scheduled work on sensors: silence alarms for devices that stopped reporting."""

from __future__ import annotations

from cityops.bootstrap import Context
from cityops.kit.periodic import PeriodicThread
from cityops.sensing.service import sweep_silence


def run_silence_sweep(context: Context) -> int:
    """One pass in its own transaction; returns the alarms raised."""
    uow = context.unit_of_work()
    try:
        raised = sweep_silence(uow.session, context.sensing_env(uow.session, context.clock.now()))
        uow.commit()
        return raised
    finally:
        uow.close()


def silence_thread(context: Context, interval: float) -> PeriodicThread:
    return PeriodicThread(
        "cityops-silence-sweep",
        interval,
        lambda: run_silence_sweep(context),
        "silence alarm(s) raised",
    )
