"""Every read of the supervision tables: rules, flags by filter, a flag's steps, the weekly
counts behind the trend chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cityops.enforcement.registries.models import Agency
from cityops.enforcement.supervision.checks.common import Env, local_day, pairs
from cityops.enforcement.supervision.models import Flag, FlagStep, SupervisionRule
from cityops.enforcement.supervision.workflow import TERMINAL


def rules(session: Session) -> list[SupervisionRule]:
    return list(session.scalars(select(SupervisionRule).order_by(SupervisionRule.id)))


def rule_by_code(session: Session, code: str) -> SupervisionRule | None:
    return session.scalar(select(SupervisionRule).where(SupervisionRule.code == code))


@dataclass(frozen=True)
class FlagFilter:
    rule_code: str | None = None
    agency_id: int | None = None
    state: str | None = None
    cleared: bool | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    raised_from: datetime | None = None  # inclusive
    raised_before: datetime | None = None  # exclusive


def day_start(day: date, env: Env) -> datetime:
    """The instant a local day begins, in UTC."""
    return datetime.combine(day, time(0), tzinfo=env.calendar.zone).astimezone(UTC)


def flags_query(f: FlagFilter) -> Select[Any]:
    """Flags matching the filter, the newest first."""
    query = select(Flag)
    if f.rule_code is not None:
        query = query.join(SupervisionRule, SupervisionRule.id == Flag.rule_id).where(
            SupervisionRule.code == f.rule_code
        )
    if f.agency_id is not None:
        query = query.where(Flag.agency_id == f.agency_id)
    if f.state is not None:
        query = query.where(Flag.state == f.state)
    if f.cleared is not None:
        query = query.where(
            Flag.cleared_at.is_not(None) if f.cleared else Flag.cleared_at.is_(None)
        )
    if f.subject_type is not None:
        query = query.where(Flag.subject_type == f.subject_type)
    if f.subject_id is not None:
        query = query.where(Flag.subject_id == f.subject_id)
    if f.raised_from is not None:
        query = query.where(Flag.raised_at >= f.raised_from)
    if f.raised_before is not None:
        query = query.where(Flag.raised_at < f.raised_before)
    return query.order_by(Flag.raised_at.desc(), Flag.id.desc())


def rules_by_id(session: Session, ids: Sequence[int]) -> dict[int, SupervisionRule]:
    if not ids:
        return {}
    found = session.scalars(select(SupervisionRule).where(SupervisionRule.id.in_(set(ids))))
    return {r.id: r for r in found}


def agency_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return pairs(session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted))))


def steps(session: Session, flag_id: int) -> list[FlagStep]:
    query = select(FlagStep).where(FlagStep.flag_id == flag_id).order_by(FlagStep.at, FlagStep.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class DayCount:
    rule_id: int
    agency_id: int | None
    day: date
    count: int


def counts_by_day(
    session: Session, env: Env, *, column: str, since: date, until: date, agency_id: int | None
) -> list[DayCount]:
    """Flags per rule, agency and local day of `column` (raised_at or closed_at) between
    `since` and `until` (inclusive), counted by the database."""
    instant = getattr(Flag, column)
    day = local_day(env, instant)
    query = (
        select(Flag.rule_id, Flag.agency_id, day.label("day"), func.count())
        .where(
            instant >= day_start(since, env), instant < day_start(until + timedelta(days=1), env)
        )
        .group_by(Flag.rule_id, Flag.agency_id, day)
    )
    if agency_id is not None:
        query = query.where(Flag.agency_id == agency_id)
    found = []
    for rule_id, agency, found_day, count in session.execute(query):
        day_value = found_day if isinstance(found_day, date) else date.fromisoformat(str(found_day))
        found.append(DayCount(rule_id, agency, day_value, int(count)))
    return found


def open_by_agency(session: Session, agency_id: int | None) -> dict[int | None, int]:
    """Flags whose case has not ended, per agency."""
    query = (
        select(Flag.agency_id, func.count())
        .where(Flag.state.not_in([s.value for s in TERMINAL]))
        .group_by(Flag.agency_id)
    )
    if agency_id is not None:
        query = query.where(Flag.agency_id == agency_id)
    return {agency: int(count) for agency, count in session.execute(query)}
