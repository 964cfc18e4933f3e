"""Reminders to the officers of a visit: only for an approved plan, each once, tried again
when the gateway refused it, and recorded when an officer has no phone to send to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.inspections.conftest import API, VISIT, Café, ok

from cityops.enforcement.inspections.jobs import run_reminders
from cityops.enforcement.inspections.models import Reminder
from cityops.enforcement.registries.models import Officer
from cityops.notify.sms import SmsFailed


@dataclass
class FlakySms:
    """A gateway that refuses the first `refusals` messages."""

    refusals: int
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, text: str) -> None:
        if self.refusals:
            self.refusals -= 1
            raise SmsFailed("the SMS gateway answered 503")
        self.sent.append((phone, text))


def test_reminders_wait_for_approval_and_survive_a_refusal(
    api: TestClient, login: Any, cafe: Café, context: Any, clock: Any, session: Session
) -> None:
    ma = session.scalar(select(Officer).where(Officer.certificate_number == "500103-JFB-0002"))
    assert ma is not None
    ma.phone = ""
    session.commit()
    clock.current = VISIT - timedelta(hours=20)
    context.sms = FlakySms(refusals=1)
    assert run_reminders(context) == 0  # a draft plan: nobody is reminded of it
    ok(api.post(f"{API}/plans/{cafe.plan_id}/submit", headers=login("jfb_officer")))
    ok(api.post(f"{API}/plans/{cafe.plan_id}/approve", headers=login("jfb_lead")))
    # Only the initiating team takes part so far: 孙浩 (refused once) and 马超 (no phone).
    assert run_reminders(context) == 0
    assert run_reminders(context) == 1
    assert run_reminders(context) == 0
    assert [phone for phone, _ in context.sms.sent] == ["13800000501"]
    rows = {r.officer_id: r for r in session.scalars(select(Reminder))}
    assert len(rows) == 2 and rows[ma.id].sent_at is None
    assert rows[ma.id].error == "no phone recorded for the officer"
    sun = next(r for r in rows.values() if r.officer_id != ma.id)
    assert sun.attempts == 2 and sun.sent_at is not None and sun.kind == "day_before"
