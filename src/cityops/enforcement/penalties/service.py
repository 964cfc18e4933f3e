"""Penalty case use cases: open a case (general, on the spot, from an inspection finding),
take an action on it, read it.

Services take the session first and keyword arguments after; they flush, never commit. Every
write records a step of the case and an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.workflow import Actor
from cityops.enforcement.penalties import deadlines, repository
from cityops.enforcement.penalties.agency_rules import AgencyRules, agency_rules
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.penalties.rules import Measure
from cityops.enforcement.penalties.workflow import (
    BEFORE_DECISION,
    INVESTIGATIVE,
    STEP_KINDS,
    Acting,
    Facts,
    Procedure,
    Stage,
    Team,
    can_see,
)
from cityops.enforcement.registries import repository as registry
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import Item
from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.kit.storage import BlobStorage
from cityops.org.models import Person
from cityops.worktime.service import WorkCalendar

# Dates of a case are the local dates of the agency; China keeps one zone.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
INVESTIGATIVE_KINDS = frozenset(STEP_KINDS[a] for a in INVESTIGATIVE)
# Measures the decision document itself carries out (nothing left to execute).
SELF_EXECUTING = frozenset({Measure.WARNING, Measure.CRITICISM})


@dataclass
class PenaltyEnv:
    """What penalty use cases read besides the rows: the working-day calendar, the store
    documents go to, and the time."""

    calendar: WorkCalendar
    storage: BlobStorage | None
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(LOCAL_ZONE).date()


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


# -- who acts ---------------------------------------------------------------------------------


def acting(session: Session, actor: Actor) -> Acting:
    """The person as the penalty procedure sees them: roles, agencies, region scope."""
    if actor.id is None:
        raise Invalid("a person must act on a penalty case")
    agencies = repository.acting_agencies(session, actor.id, actor.department_id)
    return Acting(actor.id, actor.name, actor.roles, frozenset(agencies), actor.scope_code)


def acting_person(session: Session, person_id: int) -> Acting:
    person = session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound(f"no active person {person_id}")
    actor = Actor(
        id=person.id, name=person.name, roles=frozenset(person.roles or ()),
        scope_code=person.scope_code, department_id=person.department_id,
    )  # fmt: skip
    return acting(session, actor)


def audit(session: Session, who: Acting, action: str, case: PenaltyCase, now: datetime,
          before: dict[str, Any] | None = None) -> None:  # fmt: skip
    actor = Actor(id=who.id, name=who.name, roles=who.roles, scope_code=who.scope_code)
    after = {"stage": case.stage, "number": case.number, "fine": case.fine}
    record_audit(session, Principal(actor=actor), f"penalty_case.{action}", "penalty_case",
                 case.id, now=now, before=before, after=after)  # fmt: skip


# -- facts ------------------------------------------------------------------------------------


def review_passed(case: PenaltyCase) -> bool:
    """A review passed since the last proposal and after the last hearing."""
    if case.reviewed_at is None:
        return False
    return case.hearing_held_at is None or case.reviewed_at >= case.hearing_held_at


def needs_execution(case: PenaltyCase) -> bool:
    """Whether the decision leaves something to carry out: a fine, or a measure beyond
    what handing over the decision does."""
    if case.decision_kind != "penalty":
        return False
    return bool(case.fine) or bool(set(case.measures) - SELF_EXECUTING)


def facts_of(session: Session, case: PenaltyCase, today: date) -> Facts:
    investigated = bool(
        session.scalar(
            select(
                exists().where(
                    PenaltyStep.case_id == case.id, PenaltyStep.kind.in_(INVESTIGATIVE_KINDS)
                )
            )
        )
    )
    hearing_over = case.hearing_request_due is not None and today > case.hearing_request_due
    statement_over = case.statement_due is not None and today > case.statement_due
    return Facts(
        stage=Stage(case.stage),
        procedure=Procedure(case.procedure),
        agency_id=case.agency_id,
        region_code=case.region_code,
        investigated=investigated,
        review_required=case.legal_review_required,
        review_passed=review_passed(case),
        notice_served=case.notified_on is not None,
        hearing_right=case.hearing_right,
        hearing_period_over=hearing_over,
        notice_period_over=statement_over and (not case.hearing_right or hearing_over),
        hearing_notified=case.hearing_on is not None,
        needs_execution=needs_execution(case),
        decided=case.decided_on is not None,
        served=case.served_on is not None,
        extensions=case.extensions,
        published=case.published_on is not None,
        recorded=case.recorded_on is not None,
    )


def stage_due(case: PenaltyCase, ar: AgencyRules, calendar: WorkCalendar) -> date | None:
    """The deadline of the stage the case is in: filing (the agency's working days from
    discovery), the decision (Art. 60, as extended), service (Art. 61), payment (Art. 67)."""
    stage = Stage(case.stage)
    if stage is Stage.FILING:
        return deadlines.filing_due(calendar, case.discovered_on, ar.filing_working_days)
    if stage in BEFORE_DECISION:
        return case.extended_until or case.decision_due
    if stage is Stage.DECIDED:
        return case.service_due
    if stage is Stage.EXECUTING:
        return case.payment_due
    return None


def get_visible(session: Session, who: Acting, case_id: int) -> PenaltyCase:
    """The case if `who` may see it; NotFound otherwise (existence is not disclosed)."""
    case = session.get(PenaltyCase, case_id)
    if case is None or not can_see(who, _scope_facts(case)):
        raise NotFound(f"penalty case {case_id} not found")
    return case


def _scope_facts(case: PenaltyCase) -> Facts:
    return Facts(Stage(case.stage), Procedure(case.procedure), case.agency_id, case.region_code)


# -- steps ------------------------------------------------------------------------------------


def record_step(
    session: Session,
    case: PenaltyCase,
    who: Acting | None,
    kind: str,
    *,
    from_stage: str | None,
    at: datetime,
    officer_ids: list[int] | None = None,
    note: str = "",
    document_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> PenaltyStep:
    """Append a step to the case's record."""
    step = PenaltyStep(
        case_id=case.id, seq=repository.next_seq(session, case.id), kind=kind,
        from_stage=from_stage, to_stage=case.stage, at=at, actor_id=who.id if who else None,
        actor_name=who.name if who else "", officer_ids=list(officer_ids or []), note=note,
        document_id=document_id, payload=payload or {},
    )  # fmt: skip
    session.add(step)
    session.flush()
    return step


def check_team(
    session: Session, case: PenaltyCase, officer_ids: list[int], on: date, *, minimum: int = 2
) -> Team:
    """The officers may act together for the case's agency in its region on the day: valid
    certificates, their regions, enough of them (a 422 naming each officer otherwise)."""
    check = registries.check_officers(session, officer_ids, case.region_code, on, minimum=minimum)
    check.raise_if_blocked()
    officers = {o.id: o for o in registry.officers_by_id(session, officer_ids)}
    for i, officer_id in enumerate(officer_ids):
        officer = officers[officer_id]
        if officer.agency_id != case.agency_id:
            message = (
                f"{officer.name} ({officer.certificate_number}) acts for {officer.agency.name}"
            )
            raise Invalid(
                f"{message}, not for this case's agency",
                errors=[FieldProblem(f"officer_ids.{i}", f"{message}, not for this agency")],
            )
    return Team(qualified=len(set(officer_ids)))


def item_of(session: Session, case: PenaltyCase) -> Item:
    item = session.get(Item, case.item_id)
    if item is None:
        raise NotFound(f"no enforcement item {case.item_id}")
    return item


def rules_for(session: Session, case: PenaltyCase) -> AgencyRules:
    return agency_rules(session, case.agency_id)
