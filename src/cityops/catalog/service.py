"""Catalog use cases: the seed, lookups, admin edits, and the in-memory snapshot intake reads."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.catalog import repository
from cityops.catalog.models import (
    FAMILY_PREFIX,
    AutomationRule,
    CaseClass,
    Family,
    MajorClass,
    Stage,
    StageLimit,
)
from cityops.catalog.schemas import (
    AutomationRuleCreate,
    CaseClassCreate,
    CaseClassUpdate,
    StageLimitSet,
)
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.org.models import Department, DepartmentKind

SEED_DIR = Path(__file__).parent / "seed"
_CODE = re.compile(r"^[PE]\d{4}$")


def normalize_code(text: str, path: str = "class_code") -> str:
    """'e0102', ' E0102 ' → 'E0102'; Invalid naming `path` otherwise."""
    code = text.strip().upper()
    if not _CODE.match(code):
        raise Invalid(
            f"{text!r} is not a class code",
            errors=[FieldProblem(path, "P or E followed by 4 digits, e.g. E0102")],
        )
    return code


def class_code(family: Family | str, major_code: str, sub_code: str) -> str:
    return f"{FAMILY_PREFIX[Family(family)]}{major_code}{sub_code}"


# -- the snapshot intake reads ---------------------------------------------------------------


@dataclass(frozen=True)
class ClassInfo:
    """What intake and deadlines need of a class, detached from any session."""

    code: str
    family: str
    name: str
    limit_value: float
    limit_unit: str
    urgency: str
    department_code: str | None
    merge_radius_m: float
    merge_window_minutes: int


@dataclass(frozen=True)
class LimitInfo:
    value: float
    unit: str


@dataclass(frozen=True)
class RuleInfo:
    name: str
    class_code: str | None
    source_kind: str | None
    source: str | None
    min_confidence: float
    auto_accept: bool
    auto_file: bool
    auto_dispatch: bool
    dispatch_to: str


@dataclass(frozen=True)
class CatalogSnapshot:
    """Every active class, stage limit and rule, loaded in one go and shared read-only.

    Intake runs tens of thousands of events a second; it must not query per event.
    """

    classes: dict[str, ClassInfo]
    limits: dict[tuple[str, str | None], LimitInfo]
    rules: tuple[RuleInfo, ...]
    department_ids: dict[str, int] = field(default_factory=dict)
    # The street office of each street (by street code): grid workers' cases count to it.
    street_offices: dict[str, int] = field(default_factory=dict)

    def stage_limit(self, stage: Stage | str, class_code: str | None) -> LimitInfo | None:
        """The class's own limit for `stage`, else the default one."""
        name = Stage(stage).value
        return self.limits.get((name, class_code)) or self.limits.get((name, None))


def load_snapshot(session: Session) -> CatalogSnapshot:
    classes = {
        c.code: ClassInfo(c.code, c.family, c.name, c.limit_value, c.limit_unit, c.urgency,
                          c.department_code, c.merge_radius_m, c.merge_window_minutes)
        for c in repository.classes(session, active=True)
    }  # fmt: skip
    limits = {
        (row.stage, row.class_code): LimitInfo(row.value, row.unit)
        for row in repository.stage_limits(session)
    }
    rules = tuple(
        RuleInfo(r.name, r.class_code, r.source_kind, r.source, r.min_confidence, r.auto_accept,
                 r.auto_file, r.auto_dispatch, r.dispatch_to)
        for r in repository.rules(session, active_only=True)
    )  # fmt: skip
    departments: dict[str, int] = {}
    street_offices: dict[str, int] = {}
    for code, dept_id, kind, region in session.execute(
        select(Department.code, Department.id, Department.kind, Department.region_code).where(
            Department.active
        )
    ).all():
        departments[code] = dept_id
        if kind == DepartmentKind.STREET_OFFICE.value and region:
            street_offices[region] = dept_id
    return CatalogSnapshot(classes, limits, rules, departments, street_offices)


def _specificity(rule: RuleInfo) -> int:
    # class + source > class + kind > class > source > kind > any
    score = 4 if rule.class_code else 0
    if rule.source:
        score += 2
    elif rule.source_kind:
        score += 1
    return score


def match_rule(
    rules: tuple[RuleInfo, ...] | list[RuleInfo],
    class_code: str | None,
    source_kind: str,
    source: str,
    confidence: float | None,
) -> RuleInfo | None:
    """The most specific active rule matching the signal; ties go to the earliest rule.

    A rule with a minimum confidence never matches a signal that states none.
    """
    best: RuleInfo | None = None
    best_score = -1
    for rule in rules:
        if rule.class_code is not None and rule.class_code != class_code:
            continue
        if rule.source_kind is not None and rule.source_kind != source_kind:
            continue
        if rule.source is not None and rule.source != source:
            continue
        if rule.min_confidence > 0 and (confidence is None or confidence < rule.min_confidence):
            continue
        score = _specificity(rule)
        if score > best_score:
            best, best_score = rule, score
    return best


# -- the seed ---------------------------------------------------------------------------------


@dataclass
class SeedResult:
    departments: int = 0
    majors: int = 0
    classes: int = 0
    stage_limits: int = 0
    rules: int = 0


def _rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_seed(session: Session) -> SeedResult:
    """Insert the standard departments, classes, stage limits and rules that are missing.

    Existing rows are left as they are, so an admin's edits survive a second seed.
    """
    result = SeedResult()
    have = set(session.scalars(select(Department.code)))
    for row in _rows("departments.csv"):
        if row["code"] not in have:
            session.add(Department(code=row["code"], name=row["name"], kind=row["kind"],
                                   active=True))  # fmt: skip
            result.departments += 1
    session.flush()
    have_majors = {(m.family, m.code) for m in repository.majors(session)}
    have_classes = set(session.scalars(select(CaseClass.code)))
    for row in _rows("classes.csv"):
        key = (row["family"], row["major_code"])
        if key not in have_majors:
            session.add(MajorClass(family=key[0], code=key[1], name=row["major_name"]))
            have_majors.add(key)
            result.majors += 1
        code = class_code(row["family"], row["major_code"], row["sub_code"])
        if code in have_classes:
            continue
        session.add(CaseClass(
            code=code, family=row["family"], major_code=row["major_code"],
            sub_code=row["sub_code"], name=row["name"],
            filing_condition=row["filing_condition"], closing_condition=row["closing_condition"],
            limit_value=float(row["limit_value"]), limit_unit=row["limit_unit"],
            urgency=row["urgency"], department_code=row["department_code"] or None,
            merge_radius_m=float(row["merge_radius_m"]),
            merge_window_minutes=int(row["merge_window_minutes"]), active=True,
        ))  # fmt: skip
        have_classes.add(code)
        result.classes += 1
    session.flush()
    for row in _rows("stage_limits.csv"):
        if repository.stage_limit_row(session, row["stage"], None) is None:
            session.add(StageLimit(stage=row["stage"], class_code=None,
                                   value=float(row["value"]), unit=row["unit"]))  # fmt: skip
            result.stage_limits += 1
    have_rules = {r.name for r in repository.rules(session)}
    for row in _rows("automation_rules.csv"):
        if row["name"] in have_rules:
            continue
        session.add(AutomationRule(
            name=row["name"], class_code=row["class_code"] or None,
            source_kind=row["source_kind"] or None, source=row["source"] or None,
            min_confidence=float(row["min_confidence"]), auto_accept=row["auto_accept"] == "1",
            auto_file=row["auto_file"] == "1", auto_dispatch=row["auto_dispatch"] == "1",
            dispatch_to=row["dispatch_to"], active=True,
        ))  # fmt: skip
        result.rules += 1
    session.flush()
    return result


# -- admin use cases ----------------------------------------------------------------------


def get_class(session: Session, code: str) -> CaseClass:
    row = session.get(CaseClass, normalize_code(code, "code"))
    if row is None:
        raise NotFound(f"no case class {code}")
    return row


def _check_department(session: Session, code: str | None, path: str = "department_code") -> None:
    if (
        code is not None
        and session.scalar(select(Department.id).where(Department.code == code)) is None
    ):
        raise Invalid(
            f"unknown department {code}", errors=[FieldProblem(path, "no such department")]
        )


def create_class(session: Session, data: CaseClassCreate) -> CaseClass:
    """A new subclass; its major class is created when `major_name` names a new one."""
    code = class_code(data.family, data.major_code, data.sub_code)
    if session.get(CaseClass, code) is not None:
        raise Conflict(f"class {code} exists")
    _check_department(session, data.department_code)
    if repository.major(session, data.family.value, data.major_code) is None:
        if not data.major_name:
            raise Invalid(f"major class {data.major_code} does not exist", errors=[
                FieldProblem("major_name", "name the new major class")])  # fmt: skip
        session.add(
            MajorClass(family=data.family.value, code=data.major_code, name=data.major_name)
        )
    row = CaseClass(code=code, active=True, **data.model_dump(exclude={"major_name"}, mode="json"))
    session.add(row)
    session.flush()
    return row


def update_class(session: Session, code: str, data: CaseClassUpdate) -> CaseClass:
    row = get_class(session, code)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    if "department_code" in changes:
        _check_department(session, changes["department_code"])
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    return row


def set_stage_limit(session: Session, data: StageLimitSet) -> StageLimit:
    class_ref = None
    if data.class_code is not None:
        class_ref = get_class(session, data.class_code).code
    row = repository.stage_limit_row(session, data.stage.value, class_ref)
    if row is None:
        row = StageLimit(stage=data.stage.value, class_code=class_ref, value=data.value,
                         unit=data.unit.value)  # fmt: skip
        session.add(row)
    else:
        row.value, row.unit = data.value, data.unit.value
    session.flush()
    return row


def create_rule(session: Session, data: AutomationRuleCreate) -> AutomationRule:
    if data.class_code is not None:
        data = data.model_copy(update={"class_code": get_class(session, data.class_code).code})
    if session.scalar(select(AutomationRule.id).where(AutomationRule.name == data.name)):
        raise Conflict(f"a rule named {data.name!r} exists")
    row = AutomationRule(**data.model_dump(mode="json"))
    session.add(row)
    session.flush()
    return row
