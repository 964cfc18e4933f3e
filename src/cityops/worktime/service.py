"""The working-time calendar: official holidays and make-up days, local overrides, daily
working windows, and deadline arithmetic in working hours, working days or natural time.

Definitions (cities differ; these are ours, and the tests pin them down):
- A *working day* is a day the calendar says is one: an override if there is one, else
  China's official schedule (holidays and 调休 make-up days, from `chinese_calendar`), else,
  for years the official schedule does not cover yet, Monday to Friday.
- *Working time* is the time inside the daily working windows on working days.
- N *working hours* from an instant is the instant at which N hours of working time have
  passed; time before a window, at lunch, at night or on a day off does not count.
- N *working days* is N times the working time of one full day: one working day from
  Tuesday 10:00 is Wednesday 10:00 when both are working days. A start outside working
  time counts from the next window's opening.
- Natural hours and minutes are plain clock time.
- A limit of zero is due at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from cityops.catalog.models import TimeUnit
from cityops.config import Settings
from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.worktime.models import CalendarOverride

GREEN_BELOW = 0.8  # below 80 % of the limit used
YELLOW_UP_TO = 1.0  # up to 100 %; beyond is red
# No real calendar goes this long without a working day; a misconfigured one must not hang.
MAX_DAYS_SEARCHED = 3700

Light = Literal["green", "yellow", "red"]


def parse_windows(text: str) -> list[tuple[time, time]]:
    """'09:00-12:00,13:30-17:30' → ordered, non-overlapping windows; Invalid otherwise."""
    windows: list[tuple[time, time]] = []
    try:
        for part in text.split(","):
            start_text, end_text = part.strip().split("-")
            start, end = (
                time.fromisoformat(start_text.strip()),
                time.fromisoformat(end_text.strip()),
            )
            windows.append((start, end))
    except ValueError:
        raise Invalid(
            f"working windows {text!r} are not HH:MM-HH:MM[,HH:MM-HH:MM...]",
            errors=[FieldProblem("workday_windows", "use HH:MM-HH:MM, comma separated")],
        ) from None
    previous_end = time(0, 0)
    for i, (start, end) in enumerate(windows):
        if end <= start or (i and start < previous_end):
            raise Invalid(
                f"working windows {text!r} must be ordered and must not overlap",
                errors=[FieldProblem("workday_windows", "ordered, non-overlapping windows")],
            )
        previous_end = end
    return windows


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass
class WorkCalendar:
    """Working windows in a zone plus the working status of each day."""

    windows: list[tuple[time, time]]
    zone: ZoneInfo
    overrides: dict[date, bool] = field(default_factory=dict)
    _cache: dict[date, bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._spans = [(_minutes(a), _minutes(b)) for a, b in self.windows]
        self.day_minutes = sum(b - a for a, b in self._spans)
        if self.day_minutes <= 0:
            raise Invalid("a working day needs at least one working window")

    @classmethod
    def from_settings(
        cls, settings: Settings, overrides: dict[date, bool] | None = None
    ) -> WorkCalendar:
        return cls(
            parse_windows(settings.workday_windows), ZoneInfo(settings.timezone), overrides or {}
        )

    # -- days -----------------------------------------------------------------------------

    @staticmethod
    def officially_covered(year: int) -> bool:
        """Whether China's published schedule for `year` is known to the calendar package."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self.overrides:
            result = self.overrides[day]
        else:
            try:
                result = bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                result = day.weekday() < 5
        self._cache[day] = result
        return result

    # -- arithmetic ------------------------------------------------------------------------

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("naive datetime given to the calendar")
        return instant.astimezone(self.zone)

    def _utc(self, day: date, minute: float) -> datetime:
        base = datetime.combine(day, time(0), tzinfo=self.zone)
        return (base + timedelta(minutes=minute)).astimezone(UTC)

    def add(self, start: datetime, value: float, unit: TimeUnit | str) -> datetime:
        """The instant `value` units of time after `start` (see the module's definitions)."""
        unit = TimeUnit(unit)
        if value < 0:
            raise ValueError("a time limit cannot be negative")
        if unit is TimeUnit.NATURAL_HOURS:
            return (start + timedelta(hours=value)).astimezone(UTC)
        if unit is TimeUnit.MINUTES:
            return (start + timedelta(minutes=value)).astimezone(UTC)
        if value == 0:
            return start.astimezone(UTC)
        remaining = value * 60 if unit is TimeUnit.WORKING_HOURS else value * self.day_minutes
        local = self._local(start)
        day = local.date()
        cursor = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
        for _ in range(MAX_DAYS_SEARCHED):
            if self.is_workday(day):
                for a, b in self._spans:
                    begin = max(a, cursor)
                    if begin >= b:
                        continue
                    available = b - begin
                    if remaining <= available + 1e-9:
                        return self._utc(day, begin + remaining)
                    remaining -= available
            day += timedelta(days=1)
            cursor = 0.0
        raise Invalid("no working time found within ten years: check the calendar overrides")

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Minutes of working time in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0.0
        a_local, b_local = self._local(start), self._local(end)
        total = 0.0
        day = a_local.date()
        last = b_local.date()
        a_min = a_local.hour * 60 + a_local.minute + a_local.second / 60 + a_local.microsecond / 6e7
        b_min = b_local.hour * 60 + b_local.minute + b_local.second / 60 + b_local.microsecond / 6e7
        while day <= last:
            if self.is_workday(day):
                lo = a_min if day == a_local.date() else 0.0
                hi = b_min if day == last else 24 * 60.0
                for ws, we in self._spans:
                    overlap = min(we, hi) - max(ws, lo)
                    if overlap > 0:
                        total += overlap
            day += timedelta(days=1)
        return total

    def elapsed(self, start: datetime, end: datetime, unit: TimeUnit | str) -> float:
        """Time between two instants in `unit`: the inverse of `add`; 0 if end <= start."""
        unit = TimeUnit(unit)
        if unit in (TimeUnit.NATURAL_HOURS, TimeUnit.MINUTES):
            seconds = max(0.0, (end - start).total_seconds())
            return seconds / 3600 if unit is TimeUnit.NATURAL_HOURS else seconds / 60
        minutes = self.working_minutes(start, end)
        return minutes / 60 if unit is TimeUnit.WORKING_HOURS else minutes / self.day_minutes

    def traffic_light(
        self, start: datetime, due: datetime, now: datetime, unit: TimeUnit | str
    ) -> tuple[Light, float]:
        """Green below 80 % of the limit used, yellow 80–100 %, red beyond; and the fraction."""
        limit = self.elapsed(start, due, unit)
        used = self.elapsed(start, now, unit)
        if limit <= 0:
            fraction = math.inf if now > due else 1.0
        else:
            fraction = used / limit
            if now > due:
                fraction = max(fraction, 1.0 + 1e-9)
        if fraction < GREEN_BELOW:
            return "green", fraction
        if fraction <= YELLOW_UP_TO:
            return "yellow", fraction
        return "red", fraction


# -- persistence ----------------------------------------------------------------------------


def load_calendar(session: Session, settings: Settings) -> WorkCalendar:
    """The calendar with this district's overrides."""
    overrides = {o.day: o.is_workday for o in session.scalars(select(CalendarOverride))}
    return WorkCalendar.from_settings(settings, overrides)


def set_override(session: Session, day: date, is_workday: bool, name: str = "") -> CalendarOverride:
    """Make `day` a working day or a day off, whatever the official schedule says."""
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, is_workday=is_workday, name=name)
        session.add(row)
    else:
        row.is_workday, row.name = is_workday, name
    session.flush()
    return row


def delete_override(session: Session, day: date) -> None:
    row = session.get(CalendarOverride, day)
    if row is None:
        raise NotFound(f"no override on {day.isoformat()}")
    session.delete(row)
    session.flush()


def list_overrides(session: Session, year: int) -> list[CalendarOverride]:
    return list(
        session.scalars(
            select(CalendarOverride)
            .where(extract("year", CalendarOverride.day) == year)
            .order_by(CalendarOverride.day)
        )
    )


@dataclass(frozen=True)
class YearSummary:
    year: int
    officially_covered: bool
    holidays: list[date]  # weekdays that are days off
    makeup_workdays: list[date]  # weekend days that are working days (调休)
    overrides: dict[date, bool]


def year_summary(calendar: WorkCalendar, year: int) -> YearSummary:
    """The days of `year` that differ from a plain Monday–Friday week, for an admin page."""
    holidays, makeup = [], []
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_workday(day)
        if day.weekday() < 5 and not working:
            holidays.append(day)
        elif day.weekday() >= 5 and working:
            makeup.append(day)
        day += timedelta(days=1)
    overrides = {d: w for d, w in calendar.overrides.items() if d.year == year}
    return YearSummary(year, WorkCalendar.officially_covered(year), holidays, makeup, overrides)
