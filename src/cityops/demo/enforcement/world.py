"""What the demo's enforcement stories act with: the session, the staff as actors, registry
ids by code, and the work to do, each piece at its moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import actor_of
from cityops.bootstrap import Context
from cityops.cases.workflow import Actor
from cityops.enforcement.businesses.models import Business
from cityops.kit.storage import BlobStorage
from cityops.org.models import Person
from cityops.worktime.service import WorkCalendar

STREET = "500103010"  # 解放碑街道: where the street team acts
TEAM = ("500103-JFB-0001", "500103-JFB-0002")  # 孙浩 and 马超, the street team's officers
SERVED = "直接送达"  # how the rectification notices reach the businesses

Work = Callable[[datetime], object]  # what it returns is not used


@dataclass
class World:
    """The demo's enforcement as it is being made. Stories add work with `then`; the work
    is done later in the order of its moments, so that documents are numbered, and audit
    entries written, in the order things happened."""

    context: Context
    session: Session
    calendar: WorkCalendar
    zone: ZoneInfo
    end: datetime
    people: dict[str, int]  # login → person
    officers: dict[str, int]  # certificate number → officer
    agencies: dict[str, int]  # code → agency
    work: list[tuple[datetime, int, Work]] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)  # what earlier work made, by name

    def at(self, days_before: int, hour: float) -> datetime:
        """The moment `hour` hours into the day `days_before` days before the end (negative:
        after it)."""
        return datetime.combine(self.day(days_before), time(0), self.zone) + timedelta(hours=hour)

    def day(self, days_before: int) -> date:
        return self.end.astimezone(self.zone).date() - timedelta(days=days_before)

    def then(self, days_before: int, hour: float, work: Work) -> None:
        self.work.append((self.at(days_before, hour), len(self.work), work))

    def in_order(self) -> list[tuple[datetime, Work]]:
        return [(moment, work) for moment, _, work in sorted(self.work, key=lambda w: w[:2])]

    def actor(self, login: str) -> Actor:
        return actor_of(self.session.get_one(Person, self.people[login]))

    def business(self, credit_code: str) -> Business:
        found = self.session.scalar(select(Business).where(Business.credit_code == credit_code))
        assert found is not None, f"no business {credit_code} in the shipped directory"
        return found

    def team(self) -> list[int]:
        """The street team's two officers, who inspect and investigate together."""
        return [self.officers[c] for c in TEAM]

    @property
    def storage(self) -> BlobStorage:
        return self.context.storage

    @property
    def max_photo_bytes(self) -> int:
        return self.context.settings.max_upload_bytes
