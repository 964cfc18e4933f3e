"""Scheduled work on sensors: silence alarms for devices that stopped reporting, and the
upkeep of their storage (partitions, retention)."""

from __future__ import annotations

from cityops.bootstrap import Context
from cityops.kit.periodic import PeriodicThread
from cityops.sensing.judging import sweep_silence
from cityops.sensing.retention import MaintenanceReport, Progress, RetentionPolicy, maintain

# The first storage pass runs soon after start-up: on a database just migrated, readings
# land in the default partition until it has made the days' partitions.
FIRST_MAINTENANCE_AFTER = 10.0


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


def run_maintenance(
    context: Context, *, policy: RetentionPolicy | None = None, progress: Progress | None = None
) -> MaintenanceReport:
    """One pass of storage upkeep with the settings' retention; each step commits itself."""
    return maintain(
        context.sessions,
        policy or RetentionPolicy.from_settings(context.settings),
        context.clock.now(),
        read_sessions=context.read_sessions,
        progress=progress,
    )


def maintenance_thread(context: Context, interval: float) -> PeriodicThread:
    return PeriodicThread(
        "cityops-sensor-maintenance",
        interval,
        lambda: run_maintenance(context).changes,
        "sensor storage change(s)",
        first_after=min(FIRST_MAINTENANCE_AFTER, interval),
    )
