"""Working-time arithmetic: concrete deadlines around real holidays, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cityops.catalog.models import TimeUnit
from cityops.config import Settings
from cityops.errors import Invalid, NotFound
from cityops.worktime.service import (
    WorkCalendar,
    delete_override,
    list_overrides,
    load_calendar,
    parse_windows,
    set_override,
    year_summary,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(parse_windows("09:00-12:00,13:30-17:30"), SH)
WH, WD, NH = TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_HOURS


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_working_hours_skip_lunch_and_nights() -> None:
    assert CAL.add(at(2026, 11, 24, 11, 30), 1, WH) == at(2026, 11, 24, 14, 0)
    assert CAL.add(at(2026, 11, 24, 7, 0), 1, WH) == at(2026, 11, 24, 10, 0)
    assert CAL.add(at(2026, 11, 24, 17, 0), 1, WH) == at(2026, 11, 25, 9, 30)
    assert CAL.add(at(2026, 11, 24, 12, 30), 0.5, WH) == at(2026, 11, 24, 14, 0)


def test_friday_evening_lands_on_monday() -> None:
    assert CAL.add(at(2026, 11, 27, 17, 0), 1, WH) == at(2026, 11, 30, 9, 30)


def test_national_day_holiday_is_skipped_and_the_makeup_saturday_counts() -> None:
    # 2026: 1–7 October off (Thursday 1st to Wednesday 7th, with the weekend), 8–9 worked,
    # Saturday 10 October a make-up working day.
    assert CAL.add(at(2026, 9, 30, 17, 0), 1, WH) == at(2026, 10, 8, 9, 30)
    assert CAL.is_workday(date(2026, 10, 10))
    assert CAL.add(at(2026, 10, 9, 17, 0), 1, WH) == at(2026, 10, 10, 9, 30)
    assert not CAL.is_workday(date(2026, 10, 11))


def test_working_days_are_whole_days_of_working_time() -> None:
    assert CAL.add(at(2026, 11, 24, 10, 0), 1, WD) == at(2026, 11, 25, 10, 0)
    assert CAL.add(at(2026, 11, 24, 20, 0), 1, WD) == at(2026, 11, 25, 17, 30)
    assert CAL.add(at(2026, 11, 27, 10, 0), 2, WD) == at(2026, 12, 1, 10, 0)
    assert CAL.add(at(2026, 11, 24, 10, 0), 0.5, WD) == at(2026, 11, 24, 15, 0)


def test_natural_hours_ignore_the_calendar() -> None:
    assert CAL.add(at(2026, 10, 1, 22, 0), 6, NH) == at(2026, 10, 2, 4, 0)
    assert CAL.add(at(2026, 10, 1, 22, 0), 30, TimeUnit.MINUTES) == at(2026, 10, 1, 22, 30)


def test_overrides_win_over_the_official_schedule() -> None:
    cal = WorkCalendar(CAL.windows, SH, {date(2026, 11, 25): False, date(2026, 11, 28): True})
    assert cal.add(at(2026, 11, 24, 17, 0), 1, WH) == at(2026, 11, 26, 9, 30)
    assert cal.add(at(2026, 11, 27, 17, 0), 1, WH) == at(2026, 11, 28, 9, 30)


def test_years_without_an_official_schedule_fall_back_to_weekdays() -> None:
    assert not WorkCalendar.officially_covered(2031)
    assert CAL.is_workday(date(2031, 10, 1))  # a Wednesday: no official holiday known yet
    assert not CAL.is_workday(date(2031, 10, 4))  # a Saturday
    assert CAL.add(at(2031, 10, 3, 17, 0), 1, WH) == at(2031, 10, 6, 9, 30)


def test_traffic_light() -> None:
    start, due = at(2026, 11, 24, 9, 0), at(2026, 11, 24, 14, 30)  # 4 working hours
    assert CAL.traffic_light(start, due, at(2026, 11, 24, 11, 0), WH) == ("green", 0.5)
    assert CAL.traffic_light(start, due, at(2026, 11, 24, 12, 45), WH) == ("green", 0.75)
    light, used = CAL.traffic_light(start, due, at(2026, 11, 24, 13, 45), WH)
    assert (light, used) == ("yellow", 0.8125)
    assert CAL.traffic_light(start, due, due, WH)[0] == "yellow"
    assert CAL.traffic_light(start, due, at(2026, 11, 24, 15, 0), WH)[0] == "red"
    # Lunch does not use up a working-hour limit, but a natural-hour one runs on.
    assert CAL.traffic_light(start, due, at(2026, 11, 24, 13, 30), WH)[1] == 0.75


def test_bad_windows_are_refused() -> None:
    for text in ("9-12", "12:00-09:00", "09:00-12:00,11:00-13:00", "nonsense"):
        with pytest.raises(Invalid):
            parse_windows(text)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
working_units = st.sampled_from([WH, WD])


def _in_working_time(cal: WorkCalendar, instant: datetime) -> bool:
    local = instant.astimezone(SH)
    t = local.time()
    inside = any(a <= t <= b for a, b in cal.windows)
    return cal.is_workday(local.date()) and inside


@settings(max_examples=150, deadline=None)
@given(start=instants, value=st.floats(min_value=0.01, max_value=40), unit=working_units)
def test_a_working_deadline_falls_in_working_time(
    start: datetime, value: float, unit: TimeUnit
) -> None:
    assert _in_working_time(CAL, CAL.add(start, value, unit))


@settings(max_examples=150, deadline=None)
@given(start=instants, value=st.floats(min_value=0, max_value=60), unit=working_units)
def test_elapsed_inverts_add(start: datetime, value: float, unit: TimeUnit) -> None:
    assert CAL.elapsed(start, CAL.add(start, value, unit), unit) == pytest.approx(value, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    start=instants,
    a=st.floats(min_value=0, max_value=50),
    b=st.floats(min_value=0, max_value=50),
    unit=st.sampled_from([WH, WD, NH]),
)
def test_add_is_monotonic(start: datetime, a: float, b: float, unit: TimeUnit) -> None:
    lo, hi = sorted((a, b))
    assert CAL.add(start, lo, unit) <= CAL.add(start, hi, unit)


@settings(max_examples=100, deadline=None)
@given(start=instants, value=st.floats(min_value=0.01, max_value=20))
def test_adding_in_two_parts_equals_adding_at_once(start: datetime, value: float) -> None:
    half = CAL.add(start, value / 2, WH)
    assert abs(CAL.add(half, value / 2, WH) - CAL.add(start, value, WH)) < timedelta(milliseconds=1)


def test_overrides_are_stored_and_loaded(session: Session) -> None:
    set_override(session, date(2026, 11, 25), False, "区庆")
    set_override(session, date(2026, 11, 28), True, "调休")
    set_override(session, date(2026, 11, 25), False, "区庆日")
    cal = load_calendar(session, Settings())
    assert not cal.is_workday(date(2026, 11, 25))
    assert cal.is_workday(date(2026, 11, 28))
    assert [(o.day, o.name) for o in list_overrides(session, 2026)] == [
        (date(2026, 11, 25), "区庆日"), (date(2026, 11, 28), "调休"),
    ]  # fmt: skip
    assert list_overrides(session, 2027) == []
    summary = year_summary(cal, 2026)
    assert date(2026, 11, 25) in summary.holidays and date(2026, 11, 28) in summary.makeup_workdays
    delete_override(session, date(2026, 11, 25))
    with pytest.raises(NotFound):
        delete_override(session, date(2026, 11, 25))


def test_windows_come_from_settings() -> None:
    cal = WorkCalendar.from_settings(Settings(workday_windows="08:30-12:00,14:00-18:00"))
    assert cal.windows == [(time(8, 30), time(12, 0)), (time(14, 0), time(18, 0))]
    assert cal.day_minutes == 450
