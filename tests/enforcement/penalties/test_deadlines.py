"""The periods of a case computed from the law's numbers: calendar days where the law says
days, working days where it says working days or where Art. 85 makes its short periods
working days, across the National Day and Spring Festival holidays of 2026 and their
make-up working days; the limitation period; the late fee."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from tests.enforcement.penalties.conftest import calendar, day

from cityops.enforcement.penalties import deadlines
from cityops.worktime.service import WorkCalendar


def test_the_decision_is_due_ninety_calendar_days_after_filing_and_thirty_more_per_extension(
) -> None:  # fmt: skip
    assert deadlines.decision_due(day("2026-09-01")) == day("2026-11-30")
    # Holidays do not stop calendar days: filed before National Day, due on the same day.
    assert deadlines.decision_due(day("2026-09-30")) == day("2026-12-29")
    assert deadlines.decision_due(day("2026-09-01"), extensions=1) == day("2026-12-30")
    assert deadlines.decision_due(day("2026-09-01"), 2, extension_days=15) == day("2026-12-30")


def test_publication_within_seven_working_days_across_national_day() -> None:
    cal = calendar()
    # Decided Wed 30 Sept: 1–7 Oct off, Sat 10 Oct a make-up working day, Sun 11 off.
    # Working days: 8, 9, 10, 12, 13, 14, 15 October.
    assert deadlines.publication_due(cal, day("2026-09-30")) == day("2026-10-15")
    # On plain weekdays it would have been Friday 9 October.
    plain = WorkCalendar(cal.windows, cal.zone, {
        date(2026, 10, d): date(2026, 10, d).weekday() < 5 for d in range(1, 12)
    })  # fmt: skip
    assert deadlines.publication_due(plain, day("2026-09-30")) == day("2026-10-09")


def test_publication_within_seven_working_days_across_the_spring_festival() -> None:
    # Decided Fri 13 Feb: Sat 14 Feb a make-up working day (1), 15–23 Feb off, then
    # 24, 25, 26, 27 Feb (5), Sat 28 Feb a make-up working day (6), Mon 2 March (7).
    assert deadlines.publication_due(calendar(), day("2026-02-13")) == day("2026-03-02")
    # A simplified decision made on the make-up Saturday is filed by Wednesday 25 Feb.
    assert deadlines.record_due(calendar(), day("2026-02-14")) == day("2026-02-25")


def test_the_laws_short_periods_are_working_days_art_85() -> None:
    cal = calendar()
    # Notice served Tue 29 Sept: 30 Sept (1), 8, 9, 10 (Sat, make-up), 12 Oct (5).
    assert deadlines.hearing_request_due(cal, day("2026-09-29")) == day("2026-10-12")
    assert deadlines.statement_due(cal, day("2026-09-29"), 3) == day("2026-10-09")
    # Decided Wed 30 Sept, absent party: served within seven working days, by 15 Oct.
    assert deadlines.service_due(cal, day("2026-09-30")) == day("2026-10-15")
    # A hearing notified on Mon 2 Nov is held on Wed 11 Nov at the earliest.
    assert deadlines.earliest_hearing(cal, day("2026-11-02")) == day("2026-11-11")
    # Payment is in calendar days (Art. 67): fifteen days from service, holidays counted.
    assert deadlines.payment_due(day("2026-09-30")) == day("2026-10-15")


def test_an_override_of_the_calendar_moves_a_working_day_deadline() -> None:
    cal = calendar()
    assert deadlines.publication_due(cal, day("2026-11-24"), 1) == day("2026-11-25")
    closed = WorkCalendar(cal.windows, cal.zone, {day("2026-11-25"): False})
    assert deadlines.publication_due(closed, day("2026-11-24"), 1) == day("2026-11-26")
    assert deadlines.add_working_days(cal, day("2026-11-24"), 0) == day("2026-11-24")
    with pytest.raises(ValueError, match="negative"):
        deadlines.add_working_days(cal, day("2026-11-24"), -1)


@pytest.mark.parametrize(
    ("violation", "ended", "serious", "last_day"),
    [
        ("2024-03-10", None, False, "2026-03-10"),
        ("2024-03-10", "2025-01-01", False, "2027-01-01"),  # counted from its end
        ("2024-03-10", None, True, "2029-03-10"),  # life, health, financial security
        ("2024-02-29", None, False, "2026-02-28"),  # no 29 February in 2026
    ],
)
def test_the_limitation_period_art_36(
    violation: str, ended: str | None, serious: bool, last_day: str
) -> None:
    limit = deadlines.limitation(day(violation), ended_on=day(ended) if ended else None,
                                 serious=serious)  # fmt: skip
    assert limit.last_day == day(last_day)
    assert limit.allows(day(last_day))
    assert not limit.allows(day(last_day) + timedelta(days=1))
    assert "第三十六条" in limit.basis


@pytest.mark.parametrize(
    ("fine", "paid_on", "days", "fee", "capped"),
    [
        (10_000, "2026-12-01", 0, "0.00", False),  # on the last day: in time
        (10_000, "2026-12-02", 1, "300.00", False),
        (15_001, "2026-12-02", 1, "450.03", False),
        (10_000, "2027-01-03", 33, "9900.00", False),
        (10_000, "2027-01-04", 34, "10000.00", True),  # never more than the fine itself
        (10_000, "2027-06-01", 182, "10000.00", True),
    ],
)
def test_the_late_fee_is_three_percent_a_day_capped_at_the_fine_art_72(
    fine: int, paid_on: str, days: int, fee: str, capped: bool
) -> None:
    late = deadlines.late_fee(fine, day("2026-12-01"), day(paid_on))
    assert (late.days_late, late.amount, late.capped) == (days, Decimal(fee), capped)


def test_the_traffic_light_of_a_period() -> None:
    start, due = day("2026-11-01"), day("2026-11-11")
    assert deadlines.light(start, due, day("2026-11-08")) == ("green", 0.7)
    assert deadlines.light(start, due, day("2026-11-09"))[0] == "yellow"
    assert deadlines.light(start, due, day("2026-11-11"))[0] == "yellow"  # the last day
    assert deadlines.light(start, due, day("2026-11-12"))[0] == "red"
