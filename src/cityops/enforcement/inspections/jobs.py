"""Scheduled work on inspections: reminders to the officers of upcoming visits (sent after
the rows recording them are committed), and visits whose rectification deadline passed
becoming due for re-inspection."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.bootstrap import Context
from cityops.enforcement.inspections import reminders
from cityops.enforcement.inspections.rectification import fall_due
from cityops.kit.periodic import PeriodicThread
from cityops.notify.sms import SmsFailed

# Reminders go out up to this late (the hour-before one at worst 55 minutes before).
UPKEEP_SECONDS = 300.0


def run_reminders(context: Context) -> int:
    """Write the reminders due now, commit, send every one not yet sent, record what the
    gateway said; returns how many it took."""
    now = context.clock.now()

    def write(session: Session) -> list[tuple[int, str, str]]:
        reminders.queue(session, now)
        return reminders.pending(session)

    due = context.in_transaction(write)
    outcomes: list[tuple[int, str | None]] = []
    for reminder_id, phone, text in due:
        try:
            context.sms.send(phone, text)
            outcomes.append((reminder_id, None))
        except SmsFailed as exc:
            outcomes.append((reminder_id, str(exc)))
    if outcomes:
        context.in_transaction(lambda s: reminders.record_outcomes(s, outcomes, now))
    return sum(1 for _, error in outcomes if error is None)


def run_due(context: Context) -> int:
    """Visits past their rectification deadline become due for re-inspection."""
    now = context.clock.now()
    return context.in_transaction(lambda s: fall_due(s, now))


def run_upkeep(context: Context) -> int:
    """One pass of both; returns how much it did."""
    return run_reminders(context) + run_due(context)


def upkeep_thread(context: Context, interval: float = UPKEEP_SECONDS) -> PeriodicThread:
    """Inspection upkeep every `interval` seconds, in a thread of its own."""
    return PeriodicThread(
        "cityops-inspections",
        interval,
        lambda: run_upkeep(context),
        "inspection reminder(s) sent and visit(s) due for re-inspection",
        first_after=min(interval, 30.0),
    )
