"""What every check shares: the evaluation's environment, a hit, and the few SQL expressions
that SQLite and PostgreSQL spell differently (local days, day arithmetic, JSON arrays)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    any_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from cityops.enforcement.registries.models import AgencyRegion, OfficerRegion
from cityops.enforcement.supervision.models import SubjectType
from cityops.enforcement.supervision.rules import Params
from cityops.worktime.service import WorkCalendar


@dataclass(frozen=True)
class Env:
    """What an evaluation runs against: the instant, the local day, the working calendar
    and the database's dialect."""

    now: datetime
    calendar: WorkCalendar
    dialect: str
    # What the checks of one evaluation share (the span of the acts' days).
    memo: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.calendar.zone).date()

    @property
    def zone_name(self) -> str:
        return self.calendar.zone.key

    @property
    def utc_offset_hours(self) -> float:
        offset = self.now.astimezone(self.calendar.zone).utcoffset() or timedelta(0)
        return offset.total_seconds() / 3600


@dataclass(frozen=True)
class Hit:
    """A subject found breaking a rule, with the facts (JSON) and the sentence that say so."""

    subject_type: SubjectType
    subject_id: int
    agency_id: int | None
    region_code: str | None
    business_id: int | None
    occurred_on: date | None
    evidence: dict[str, Any]
    message: str


Check = Callable[[Session, Any, Env], list[Hit]]


def typed(params: Any, model: type[Params]) -> Any:
    """The rule's parameters as the check's own model (the evaluator parsed them)."""
    if not isinstance(params, model):
        raise TypeError(f"expected {model.__name__}, got {type(params).__name__}")
    return params


# -- dialect-specific expressions -------------------------------------------------------------


def local_day(env: Env, instant: Any) -> ColumnElement[date]:
    """The local calendar day of a UTC timestamp column."""
    if env.dialect == "postgresql":
        return cast(func.timezone(env.zone_name, instant), Date)
    # SQLite keeps UTC text; the zone's offset (China keeps no daylight saving time).
    return type_coerce(func.date(instant, f"{env.utc_offset_hours:+g} hours"), Date)


def day_number(env: Env, day: Any) -> ColumnElement[int]:
    """A day as a whole number, for differences and window frames."""
    if env.dialect == "postgresql":
        return type_coerce(day - literal(date(2000, 1, 1), Date), Integer)
    return cast(func.julianday(day), Integer)


def days_between(env: Env, later: Any, earlier: Any) -> ColumnElement[int]:
    """Whole days from `earlier` to `later` (dates)."""
    return day_number(env, later) - day_number(env, earlier)


def add_days(env: Env, day: Any, days: int) -> ColumnElement[date]:
    """`day` + `days` (a date column plus a whole number the rule sets)."""
    if env.dialect == "postgresql":
        return type_coerce(day + literal(int(days)), Date)
    return type_coerce(func.date(day, f"{int(days):+d} days"), Date)


def json_ints(env: Env, column: Any, name: str) -> Any:
    """The elements of a JSON array of integers, as a table that may refer to the row
    before it (a lateral join on PostgreSQL; SQLite's table-valued functions always may)."""
    if env.dialect == "postgresql":
        elements = func.jsonb_array_elements_text(column).table_valued("value").lateral(name)
    else:
        elements = func.json_each(column).table_valued("value").alias(name)
    return elements


def json_value_int(elements: Any) -> ColumnElement[int]:
    return cast(elements.c.value, Integer)


def within(region: Any, code: Any) -> ColumnElement[bool]:
    """A region lies within `code` (a code covers itself and every code it prefixes)."""
    prefix: ColumnElement[str] = func.substr(region, 1, func.length(code))
    return and_(prefix == code)


@dataclass(frozen=True)
class Reach:
    """The joins that tell whether an officer may act in a region (`outside` is true when
    not): the regions on their certificate, or their agency's jurisdiction when it names
    none. Every join is to a small table on its key, so a database hashes it (PostgreSQL)
    or seeks it by primary key (SQLite)."""

    own_any: Any
    own: Any
    jurisdiction: Any

    @classmethod
    def make(cls) -> Reach:
        return cls(
            select(OfficerRegion.officer_id).distinct().subquery("own_any"),
            aliased(OfficerRegion, name="own_region"),
            aliased(AgencyRegion, name="jurisdiction"),
        )

    def join(self, query: Any, officer_id: Any, agency_id: Any, region: Any) -> Any:
        has_own = self.own_any.c.officer_id.is_not(None)
        return (
            query.outerjoin(self.own_any, self.own_any.c.officer_id == officer_id)
            .outerjoin(
                self.own,
                and_(self.own.officer_id == officer_id, within(region, self.own.region_code)),
            )
            .outerjoin(
                self.jurisdiction,
                and_(
                    ~has_own,
                    self.jurisdiction.agency_id == agency_id,
                    within(region, self.jurisdiction.region_code),
                ),
            )
        )

    @property
    def outside(self) -> ColumnElement[bool]:
        return case(
            (self.own_any.c.officer_id.is_not(None), self.own.officer_id.is_(None)),
            else_=self.jurisdiction.agency_id.is_(None),
        )


def maybe_late(
    env: Env, start: Any, done: Any, working_days: int, *, include_done: bool
) -> ColumnElement[bool]:
    """Whether a period of working days from `start` may have been missed: not done and
    more calendar days than that gone by, or done after that many calendar days. No
    period of N working days ends before N calendar days: the rows this lets through are
    the only ones `WorkingDue.late` needs to judge."""
    floor = add_days(env, start, working_days)
    not_done = and_(done.is_(None), floor < env.today)
    return or_(not_done, and_(done > floor)) if include_done else not_done


class WorkingDue:
    """The last day of a period of working days after a day (the day itself not counted),
    by the working calendar (holidays and make-up days), remembered per day."""

    def __init__(self, env: Env, working_days: int) -> None:
        self.env, self.days = env, working_days
        self.known: dict[date, date] = {}

    def due(self, start: date) -> date:
        found = self.known.get(start)
        if found is None:
            found, left = start, self.days
            while left > 0:
                found += timedelta(days=1)
                if self.env.calendar.is_workday(found):
                    left -= 1
            self.known[start] = found
        return found

    def late(self, start: Any, done: Any, *, include_done: bool) -> date | None:
        """The due day if the period was missed (not done by it, or done after it)."""
        begun, finished = ensure_date(start), ensure_date(done)
        if begun is None:
            return None
        due = self.due(begun)
        if finished is None:
            return due if due < self.env.today else None
        return due if include_done and finished > due else None


def ymd(day: date | None) -> str | None:
    return day.isoformat() if day else None


def cny(amount: int | float | None) -> str:
    return "—" if amount is None else f"{amount:,.0f}"


def ensure_date(value: Any) -> date | None:
    """A day read back from an expression (SQLite may hand back its text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# Ids per IN list on SQLite (well under its limit of bound parameters).
CHUNK = 5000


def among(env: Env, column: Any, ids: Sequence[int]) -> list[ColumnElement[bool]]:
    """Conditions that between them select the rows whose `column` is one of `ids`, each
    for one query: a single array parameter on PostgreSQL, IN lists on SQLite."""
    wanted = sorted(set(ids))
    if env.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return [column == any_(literal(wanted, ARRAY(Integer)))]
    return [column.in_(wanted[i : i + CHUNK]) for i in range(0, len(wanted), CHUNK)]


def pairs(rows: Iterable[Any]) -> dict[Any, Any]:
    """A two-column result as a dict of the first column to the second."""
    return {row[0]: row[1] for row in rows}
