"""Reminders to the officers of a visit: the day before and one hour before it starts, by
text message. Each reminder is written as a row first (one per visit, officer and kind,
unique), committed, and only then sent; the row records when the gateway took it. So a
reminder is sent once however often the job runs, and one the gateway refused is tried
again on the next pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityops.enforcement.businesses import repository as businesses
from cityops.enforcement.inspections import repository
from cityops.enforcement.inspections.models import (
    Inspection,
    InvitationState,
    Reminder,
    ReminderKind,
)
from cityops.enforcement.inspections.service import LOCAL

DAY_BEFORE = timedelta(days=1)
HOUR_BEFORE = timedelta(hours=1)
# A gateway that refused a message this often will not take it: stop trying, keep the error.
MAX_ATTEMPTS = 5


def _kind(until: timedelta) -> ReminderKind:
    # A pass that comes after the day-before time but within the last hour sends only the
    # hour-before reminder: two messages at once would say nothing more than one.
    return ReminderKind.HOUR_BEFORE if until <= HOUR_BEFORE else ReminderKind.DAY_BEFORE


def text_of(kind: ReminderKind, inspection: Inspection, business_name: str, agency: str) -> str:
    at = inspection.scheduled_at
    assert at is not None
    local = at.astimezone(LOCAL)
    when = (
        f"明天{local:%H:%M}" if kind == ReminderKind.DAY_BEFORE else f"今天{local:%H:%M}（1小时后）"
    )
    return (
        f"【{agency}】检查提醒：{when}在{inspection.place}对{business_name}开展检查"
        f"（检查编号{inspection.id}），请携带执法证件准时到场。"
    )


def _participants(inspection: Inspection) -> list[tuple[int, int]]:
    """(officer id, agency id) of every officer of an agency that takes part."""
    taking_part = {a.agency_id for a in inspection.agencies if a.state == InvitationState.ACCEPTED}
    return [(o.officer_id, o.agency_id) for o in inspection.officers if o.agency_id in taking_part]


def queue(session: Session, now: datetime) -> list[Reminder]:
    """Write the reminders that have fallen due and were not written before: for visits
    starting within a day, to each officer of each agency taking part (an officer named
    after the day-before reminder went out still gets one). An officer with no phone gets
    a row saying so, never sent."""
    upcoming = repository.upcoming(session, now, now + DAY_BEFORE)
    written = repository.reminder_keys(session, [i.id for i in upcoming])
    people = _people(session, upcoming)
    created = []
    for inspection in upcoming:
        assert inspection.scheduled_at is not None
        kind = _kind(inspection.scheduled_at - now)
        business_name, agencies = people.businesses[inspection.business_id], people.agencies
        for officer_id, agency_id in _participants(inspection):
            if (inspection.id, officer_id, kind) in written:
                continue
            phone = people.phones.get(officer_id, "")
            reminder = Reminder(
                inspection_id=inspection.id,
                officer_id=officer_id,
                kind=kind,
                phone=phone,
                text=text_of(kind, inspection, business_name, agencies[agency_id]),
                created_at=now,
                attempts=0 if phone else MAX_ATTEMPTS,
                error="" if phone else "no phone recorded for the officer",
            )
            session.add(reminder)
            created.append(reminder)
    session.flush()
    return created


@dataclass(frozen=True)
class _People:
    """What the messages name: officers' phones, agencies' and businesses' names by id."""

    phones: dict[int, str]
    agencies: dict[int, str]
    businesses: dict[int, str]


def _people(session: Session, inspections: Sequence[Inspection]) -> _People:
    officers = repository.officers(session, {o.officer_id for i in inspections for o in i.officers})
    agencies = repository.agencies(session, {a.agency_id for i in inspections for a in i.agencies})
    names = {b.id: b.name for b in businesses.by_ids(session, [i.business_id for i in inspections])}
    return _People(
        {o.id: o.phone for o in officers.values()}, {a.id: a.name for a in agencies.values()}, names
    )


def pending(session: Session) -> list[tuple[int, str, str]]:
    """(id, phone, text) of every reminder written and not yet taken by the gateway."""
    return [(r.id, r.phone, r.text) for r in repository.unsent_reminders(session, MAX_ATTEMPTS)]


def record_outcomes(
    session: Session, outcomes: Sequence[tuple[int, str | None]], now: datetime
) -> None:
    """After sending: each reminder taken (error None) or refused (the gateway's error)."""
    for reminder_id, error in outcomes:
        reminder = session.get(Reminder, reminder_id)
        if reminder is None:
            continue
        reminder.attempts += 1
        if error is None:
            reminder.sent_at, reminder.error = now, ""
        else:
            reminder.error = error
    session.flush()
