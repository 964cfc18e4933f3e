"""Every query on catalog tables."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityops.catalog.models import AutomationRule, CaseClass, MajorClass, StageLimit


def classes(
    session: Session,
    *,
    family: str | None = None,
    major_code: str | None = None,
    active: bool | None = None,
    text: str | None = None,
) -> list[CaseClass]:
    query = select(CaseClass).order_by(CaseClass.family, CaseClass.code)
    if family:
        query = query.where(CaseClass.family == family)
    if major_code:
        query = query.where(CaseClass.major_code == major_code)
    if active is not None:
        query = query.where(CaseClass.active.is_(active))
    if text:
        pattern = f"%{text}%"
        query = query.where(or_(CaseClass.name.ilike(pattern), CaseClass.code.ilike(pattern)))
    return list(session.scalars(query))


def major(session: Session, family: str, code: str) -> MajorClass | None:
    return session.scalar(
        select(MajorClass).where(MajorClass.family == family, MajorClass.code == code)
    )


def majors(session: Session) -> list[MajorClass]:
    return list(session.scalars(select(MajorClass).order_by(MajorClass.family, MajorClass.code)))


def stage_limits(session: Session) -> list[StageLimit]:
    return list(session.scalars(select(StageLimit).order_by(StageLimit.stage, StageLimit.id)))


def stage_limit_row(session: Session, stage: str, class_code: str | None) -> StageLimit | None:
    query = select(StageLimit).where(StageLimit.stage == stage)
    query = query.where(
        StageLimit.class_code.is_(None)
        if class_code is None
        else StageLimit.class_code == class_code
    )
    return session.scalar(query)


def rules(session: Session, *, active_only: bool = False) -> list[AutomationRule]:
    query = select(AutomationRule).order_by(AutomationRule.id)
    if active_only:
        query = query.where(AutomationRule.active.is_(True))
    return list(session.scalars(query))
