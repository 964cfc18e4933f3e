"""Which check runs a rule of each kind."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityops.enforcement.supervision.checks import (
    deadlines,
    inspections,
    officers,
    penalties,
    staffing,
)
from cityops.enforcement.supervision.checks.common import Check, Env, Hit
from cityops.enforcement.supervision.models import RuleKind


def overdue_stage(session: Session, params: Any, env: Env) -> list[Hit]:
    """Penalty cases past a stage's due date, and inspections past their re-inspection's."""
    return deadlines.overdue_cases(session, params, env) + inspections.overdue_reinspections(
        session, params, env
    )


CHECKS: dict[RuleKind, Check] = {
    RuleKind.OVERDUE_STAGE: overdue_stage,
    RuleKind.FINE_OUTSIDE_BENCHMARK: penalties.fine_outside_benchmark,
    RuleKind.OFFICER_CERTIFICATE: officers.officer_certificate,
    RuleKind.TOO_FEW_OFFICERS: staffing.too_few_officers,
    RuleKind.REPEATED_INSPECTION: inspections.repeated_inspection,
    RuleKind.DECISION_NOT_PUBLISHED: deadlines.decision_not_published,
    RuleKind.INSPECTION_WITHOUT_PLAN: inspections.inspection_without_plan,
    RuleKind.MISSING_LEGAL_REVIEW: penalties.missing_legal_review,
    RuleKind.CLOSED_WITHOUT_SERVICE: penalties.closed_without_service,
    RuleKind.PENALTY_ON_EXEMPT_ITEM: penalties.penalty_on_exempt_item,
}
