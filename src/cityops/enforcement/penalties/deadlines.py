"""The deadlines of a penalty case, computed from the numbers in `rules`. Pure.

Days are counted as Chinese law counts periods (Civil Code Art. 201): the day an event
happens is not counted, so "within ninety days of filing" ends on filing day + 90, and that
day still counts as in time. The Administrative Penalty Law's two, three, five and seven
days are working days (Art. 85), as are the periods agency rules give in working days: each
working day of the calendar (holidays off, make-up days on) counts once.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from cityops.enforcement.penalties import rules
from cityops.worktime.service import GREEN_BELOW, YELLOW_UP_TO

Light = Literal["green", "yellow", "red"]
# No calendar goes this long without a working day; a misconfigured one must not hang.
MAX_DAYS_SEARCHED = 3700


class Workdays(Protocol):
    """What the deadlines need of the working-time calendar (`WorkCalendar`)."""

    def is_workday(self, day: date) -> bool: ...


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    year = day.year + years
    last = _calendar.monthrange(year, day.month)[1]
    return day.replace(year=year, day=min(day.day, last))


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


def add_working_days(calendar: Workdays, day: date, days: int) -> date:
    """The `days`-th working day after `day` (the day itself not counted); `day` itself
    for zero."""
    if days < 0:
        raise ValueError("a period cannot be negative")
    found = 0
    for _ in range(MAX_DAYS_SEARCHED):
        if found == days:
            return day
        day += timedelta(days=1)
        if calendar.is_workday(day):
            found += 1
    raise ValueError("no working day found within ten years: check the calendar overrides")


# -- limitation (Art. 36) ------------------------------------------------------------------


@dataclass(frozen=True)
class Limitation:
    """The last day a violation may be discovered and still be punished."""

    counted_from: date  # the violation's day, or the end of a continuing one
    years: int
    last_day: date
    basis: str

    def allows(self, discovered_on: date) -> bool:
        return discovered_on <= self.last_day


def limitation(violation_on: date, *, ended_on: date | None = None,
               serious: bool = False) -> Limitation:  # fmt: skip
    """Art. 36: two years from the violation (from its end when it continued), five where
    it concerns life, health or financial security with harmful consequences."""
    start = ended_on if ended_on is not None and ended_on > violation_on else violation_on
    rule = rules.LIMITATION_SERIOUS if serious else rules.LIMITATION
    return Limitation(start, rule.value, add_years(start, rule.value), rule.basis)


# -- the procedure's periods ---------------------------------------------------------------


def decision_due(filed_on: date, extensions: int = 0, extension_days: int | None = None) -> date:
    """Art. 60: ninety days from filing, plus each approved extension."""
    step = rules.EXTENSION.value if extension_days is None else extension_days
    return add_days(filed_on, rules.DECISION.value + extensions * step)


def statement_due(calendar: Workdays, notified_on: date,
                  days: int = rules.STATEMENT.value) -> date:  # fmt: skip
    """The last day to state and defend after the advance notice (Art. 45; working days
    like the law's own short periods, Art. 85)."""
    return add_working_days(calendar, notified_on, days)


def hearing_request_due(calendar: Workdays, notified_on: date) -> date:
    """Art. 64 item 1 with Art. 85: the last day to ask for a hearing, five working days
    after the notice."""
    return add_working_days(calendar, notified_on, rules.HEARING_REQUEST.value)


def earliest_hearing(calendar: Workdays, notice_on: date) -> date:
    """Art. 64 item 2 with Art. 85: the first day a hearing notified on `notice_on` may be
    held, seven working days later."""
    return add_working_days(calendar, notice_on, rules.HEARING_NOTICE.value)


def service_due(calendar: Workdays, decided_on: date) -> date:
    """Art. 61 with Art. 85: the decision reaches an absent party within seven working
    days."""
    return add_working_days(calendar, decided_on, rules.SERVICE.value)


def payment_due(served_on: date) -> date:
    """Art. 67: the fine is paid within fifteen days of receiving the decision."""
    return add_days(served_on, rules.PAYMENT.value)


def publication_due(calendar: Workdays, decided_on: date,
                    days: int = rules.PUBLICATION.value) -> date:  # fmt: skip
    """The three systems: published within seven working days of the decision."""
    return add_working_days(calendar, decided_on, days)


def filing_due(calendar: Workdays, discovered_on: date, days: int = rules.FILING.value) -> date:
    """The agency's rule: filing decided within so many working days of discovery."""
    return add_working_days(calendar, discovered_on, days)


def record_due(calendar: Workdays, decided_on: date,
               days: int = rules.SIMPLIFIED_RECORD.value) -> date:  # fmt: skip
    """A decision made on the spot is filed with the agency within so many working days."""
    return add_working_days(calendar, decided_on, days)


# -- late payment (Art. 72) ----------------------------------------------------------------

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LateFee:
    days_late: int
    amount: Decimal  # CNY, to the fen
    capped: bool  # reached the fine itself


def late_fee(fine: int, due: date, paid_on: date) -> LateFee:
    """Art. 72 para. 1 item 1: 3 % of the fine for each day after `due`, at most the fine."""
    days = max(0, (paid_on - due).days)
    raw = Decimal(fine) * Decimal(rules.LATE_FEE.value) / Decimal(100) * days
    capped = raw >= fine and days > 0
    amount = min(raw, Decimal(fine)).quantize(CENT, rounding=ROUND_HALF_UP)
    return LateFee(days, amount, capped)


# -- the traffic light ---------------------------------------------------------------------


def light(start: date, due: date, today: date) -> tuple[Light, float]:
    """Green below 80 % of the period used, yellow up to its last day, red after it (the
    thresholds of the working-time calendar's lights)."""
    total = (due - start).days
    used = (today - start).days
    if today > due:
        return "red", max(used / total if total > 0 else 1.0, 1.0 + 1e-9)
    fraction = used / total if total > 0 else 1.0
    if fraction < GREEN_BELOW:
        return "green", fraction
    return ("yellow" if fraction <= YELLOW_UP_TO else "red"), fraction
