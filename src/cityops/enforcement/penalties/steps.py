"""A step being taken on a penalty case (`Ctx`) and what several actions share: checking
the content of a penalty against the law and the item's benchmark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cityops.enforcement.documents import content as c
from cityops.enforcement.penalties import checks, paperwork
from cityops.enforcement.penalties.agency_rules import AgencyRules
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.penalties.service import (
    PenaltyEnv,
    check_team,
)
from cityops.enforcement.penalties.workflow import (
    Acting,
    Decision,
    Facts,
    IllegalTransition,
    Stage,
    Team,
    allowed_actions,
    plan,
)
from cityops.enforcement.registries import service as registries
from cityops.errors import FieldProblem, Invalid


def invalid(path: str, message: str, detail: str | None = None) -> Invalid:
    return Invalid(detail or f"{path}: {message}", errors=[FieldProblem(path, message)])


Handler = Callable[["Ctx"], None]


@dataclass
class Ctx:
    """One action being taken: the case, who, the input, and what the handler produced."""

    session: Session
    env: PenaltyEnv
    who: Acting
    case: PenaltyCase
    body: Any
    ar: AgencyRules
    facts: Facts
    decision: Decision | None = None
    officer_ids: list[int] = field(default_factory=list)
    document_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def plan(self, *, outcome: str | None = None, team: Team | None = None,
             collective: bool = False) -> Decision:  # fmt: skip
        self.decision = plan(self.facts, self.who, self.body.action, outcome=outcome,
                             team=team, collective=collective)  # fmt: skip
        return self.decision

    def team(self, officer_ids: list[int], *, minimum: int = 2) -> Team:
        self.officer_ids = list(dict.fromkeys(officer_ids))
        return check_team(self.session, self.case, self.officer_ids, self.env.today,
                          minimum=minimum)  # fmt: skip

    def issue(self, document: c.Document) -> None:
        self.document_id = paperwork.issue(self.session, self.env.storage, document,
                                           case=self.case, actor_id=self.who.id,
                                           now=self.env.now)  # fmt: skip


# -- the intended penalty and its review -------------------------------------------------------


@dataclass(frozen=True)
class Content:
    grade: str
    benchmark_id: int | None
    fine: int | None
    measures: list[str]
    base_amount: int | None
    confiscated_value: int | None
    other_measures: str
    departure_reason: str


def judge(ctx: Ctx, p: Content) -> tuple[checks.Penalty, dict[str, Any]]:
    """Check a penalty's content against the law and the item's benchmark: known measures,
    a fine with its amount, and a written reason for a fine outside the benchmark."""
    checks.check_measures(p.measures, p.fine)
    if not p.measures:
        raise invalid("measures", "name at least one penalty (warning, fine …)")
    case = ctx.case
    check = registries.check_fine(
        ctx.session, case.item_id, p.grade, p.fine or 0, party=case.party_kind,
        base_amount=p.base_amount, benchmark_id=p.benchmark_id,
    )  # fmt: skip
    if check.needs_reason and not p.departure_reason.strip():
        raise invalid("departure_reason", check.reason,
                      f"outside the benchmark: {check.reason}; give a written reason")  # fmt: skip
    penalty = checks.Penalty(
        case.party_kind, p.fine, tuple(p.measures), p.confiscated_value,
        departs_from_benchmark=check.needs_reason,
        major_public_interest=case.major_public_interest, complex=case.complex,
    )  # fmt: skip
    return penalty, {"within_benchmark": check.within, "benchmark_reason": check.reason}


def thresholds(ctx: Ctx) -> checks.Thresholds:
    kind = ctx.case.party_kind
    return checks.Thresholds(ctx.ar.review_fine(kind), ctx.ar.hearing_fine(kind))


def write_content(case: PenaltyCase, p: Content) -> None:
    case.grade, case.benchmark_id, case.fine = p.grade, p.benchmark_id, p.fine
    case.measures, case.base_amount = p.measures, p.base_amount
    case.confiscated_value, case.other_measures = p.confiscated_value, p.other_measures
    case.departure_reason = p.departure_reason


def refuse(ctx: Ctx, why: str) -> IllegalTransition:
    """A 409 for an action the case's content does not allow now, naming the stage."""
    return IllegalTransition(ctx.body.action, Stage(ctx.case.stage),
                             allowed_actions(ctx.facts, ctx.who), why)  # fmt: skip
