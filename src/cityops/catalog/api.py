"""`/api/v1/catalog`: case classes, stage limits and automation rules; admins edit them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityops.auth.service import record_audit
from cityops.catalog import repository, service
from cityops.catalog.models import Family
from cityops.catalog.schemas import (
    AutomationRuleCreate,
    AutomationRuleRead,
    CaseClassCreate,
    CaseClassRead,
    CaseClassUpdate,
    MajorClassRead,
    StageLimitRead,
    StageLimitSet,
)
from cityops.deps import AdminDep, ContextDep, NowDep, PersonDep, UowDep

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/classes", summary="Case classes (部件/事件 › 大类 › 小类)")
def list_classes(
    uow: UowDep,
    _caller: PersonDep,
    family: Family | None = None,
    major_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    active: bool | None = None,
    text: str | None = None,
) -> list[CaseClassRead]:
    """The catalog, filtered by family, major class, status or text in the name or code."""
    rows = repository.classes(uow.session, family=family.value if family else None,
                              major_code=major_code, active=active, text=text)  # fmt: skip
    return [CaseClassRead.model_validate(r) for r in rows]


@router.get("/majors", summary="Major classes")
def list_majors(uow: UowDep, _caller: PersonDep) -> list[MajorClassRead]:
    """Major classes of both families."""
    return [MajorClassRead.model_validate(m) for m in repository.majors(uow.session)]


@router.get("/classes/{code}", summary="One case class")
def get_class(code: str, uow: UowDep, _caller: PersonDep) -> CaseClassRead:
    """A class by its code, e.g. E0102."""
    return CaseClassRead.model_validate(service.get_class(uow.session, code))


@router.post("/classes", status_code=201, summary="Add a case class")
def create_class(
    body: CaseClassCreate, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> CaseClassRead:
    """A new subclass (and its major class if `major_name` is given)."""
    row = service.create_class(uow.session, body)
    record_audit(uow.session, admin, "class.create", "case_class", row.code, now=now,
                 after=body.model_dump(mode="json"))  # fmt: skip
    uow.commit()
    context.catalog.invalidate()
    return CaseClassRead.model_validate(row)


@router.patch("/classes/{code}", summary="Edit a case class")
def update_class(
    code: str,
    body: CaseClassUpdate,
    context: ContextDep,
    uow: UowDep,
    admin: AdminDep,
    now: NowDep,
) -> CaseClassRead:
    """Change limits, conditions, owner or status; deactivate with `active: false`."""
    before = CaseClassRead.model_validate(service.get_class(uow.session, code)).model_dump()
    row = service.update_class(uow.session, code, body)
    record_audit(uow.session, admin, "class.update", "case_class", row.code, now=now,
                 before=before, after=CaseClassRead.model_validate(row).model_dump())  # fmt: skip
    uow.commit()
    context.catalog.invalidate()
    return CaseClassRead.model_validate(row)


@router.get("/stage-limits", summary="Stage time limits")
def list_stage_limits(uow: UowDep, _caller: PersonDep) -> list[StageLimitRead]:
    """Default limits of accept, verify, file, dispatch, check, close, and per-class ones."""
    return [StageLimitRead.model_validate(r) for r in repository.stage_limits(uow.session)]


@router.put("/stage-limits", summary="Set a stage time limit")
def set_stage_limit(
    body: StageLimitSet, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> StageLimitRead:
    """The default limit of a stage, or a class's own when `class_code` is given."""
    row = service.set_stage_limit(uow.session, body)
    record_audit(uow.session, admin, "stage_limit.set", "stage_limit", row.id, now=now,
                 after=body.model_dump(mode="json"))  # fmt: skip
    uow.commit()
    context.catalog.invalidate()
    return StageLimitRead.model_validate(row)


@router.get("/rules", summary="Automation rules (智能立案/智能派遣)")
def list_rules(uow: UowDep, _caller: PersonDep) -> list[AutomationRuleRead]:
    """Every rule; the most specific active one that matches a signal applies."""
    return [AutomationRuleRead.model_validate(r) for r in repository.rules(uow.session)]


@router.post("/rules", status_code=201, summary="Add an automation rule")
def create_rule(
    body: AutomationRuleCreate, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> AutomationRuleRead:
    """A rule that lets matching signals be accepted, filed and dispatched by the system."""
    row = service.create_rule(uow.session, body)
    record_audit(uow.session, admin, "rule.create", "automation_rule", row.id, now=now,
                 after=body.model_dump(mode="json"))  # fmt: skip
    uow.commit()
    context.catalog.invalidate()
    return AutomationRuleRead.model_validate(row)
