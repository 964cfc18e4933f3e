"""Opening a penalty case: proposed for filing under the general procedure, decided on the
spot under the simplified one (Art. 51), or proposed from a failed inspection finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents import content as c
from cityops.enforcement.inspections import service as inspections
from cityops.enforcement.inspections.models import Finding, FindingOutcome, Inspection
from cityops.enforcement.penalties import checks, deadlines, paperwork, repository
from cityops.enforcement.penalties.agency_rules import agency_rules
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.penalties.rules import LAW, PAYMENT, ServiceMethod
from cityops.enforcement.penalties.schemas import CaseOpen, OnTheSpot, PartyIn
from cityops.enforcement.penalties.service import (
    LOCAL_ZONE,
    PenaltyEnv,
    acting_person,
    audit,
    check_team,
    record_step,
    stage_due,
)
from cityops.enforcement.penalties.workflow import (
    DECIDED_ON_SPOT,
    LEAD,
    OFFICER,
    OPENED,
    STEP_KINDS,
    Acting,
    Action,
    Procedure,
    opened,
)
from cityops.enforcement.registries import repository as registry
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.credentials import covers
from cityops.enforcement.registries.models import Agency, BasisRole, Item, ItemKind
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound
from cityops.org.models import Region
from cityops.worktime.models import CalendarOverride
from cityops.worktime.service import WorkCalendar

FINDING = "inspection_finding"


def _invalid(path: str, message: str, detail: str | None = None) -> Invalid:
    return Invalid(detail or f"{path}: {message}", errors=[FieldProblem(path, message)])


@dataclass(frozen=True)
class Parties:
    """Who the case is against and where."""

    business_id: int | None
    kind: str
    name: str
    identifier: str
    representative: str
    address: str
    phone: str
    region_code: str


def _agency(session: Session, who: Acting, code: str | None) -> Agency:
    if code is not None:
        agency = registry.agency_by_code(session, code)
        if agency is None:
            raise _invalid("agency_code", "no such agency")
    elif len(who.agency_ids) == 1:
        agency = session.get(Agency, next(iter(who.agency_ids)))
        assert agency is not None
    else:
        many = "several agencies" if who.agency_ids else "no agency"
        raise _invalid("agency_code", f"you act for {many}: name the agency")
    if not (who.roles & {OFFICER, LEAD}) or agency.id not in who.agency_ids:
        raise Forbidden(f"only officers of {agency.name} open its penalty cases")
    if not agency.active:
        raise _invalid("agency_code", "the agency is not active")
    return agency


def _item(session: Session, agency: Agency, code: str) -> Item:
    item = registry.item_by_code(session, code)
    if item is None:
        raise _invalid("item_code", "no such enforcement item")
    if item.kind != ItemKind.PENALTY or not item.active:
        raise _invalid("item_code", "not an active penalty item")
    if not registries.may_enforce(session, agency.id, item.id):
        raise _invalid("item_code", f"{agency.name} does not hold this item")
    return item


def _parties(
    session: Session, agency: Agency, business_id: int | None, party: PartyIn | None,
    region_code: str | None,
) -> Parties:  # fmt: skip
    if business_id is not None:
        business = session.get(Business, business_id)
        if business is None:
            raise _invalid("business_id", "no such business")
        found = Parties(
            business.id, business.party_kind, business.name, business.credit_code,
            business.representative, business.address, business.phone,
            region_code or business.region_code,
        )  # fmt: skip
    elif party is not None:
        if not region_code:
            raise _invalid("region_code", "give the region of a party without a business")
        found = Parties(None, party.kind, party.name, party.identifier, party.representative,
                        party.address, party.phone, region_code)  # fmt: skip
    else:
        raise _invalid("party", "name the party, or the business")
    if session.get(Region, found.region_code) is None:
        raise _invalid("region_code", "no such region")
    if not covers([r.region_code for r in agency.regions], found.region_code):
        raise _invalid("region_code", f"outside the jurisdiction of {agency.name}")
    return found


def _check_dates(violation_on: date, discovered_on: date, today: date) -> None:
    if violation_on > today:
        raise _invalid("violation_on", "in the future")
    if discovered_on < violation_on:
        raise _invalid("discovered_on", "before the violation")
    if discovered_on > today:
        raise _invalid("discovered_on", "in the future")


def check_limitation(case: PenaltyCase) -> deadlines.Limitation:
    """Art. 36: refuse a violation discovered after the limitation period."""
    limit = deadlines.limitation(
        case.violation_on, ended_on=case.violation_ended_on, serious=case.serious_harm
    )
    if not limit.allows(case.discovered_on):
        raise _invalid(
            "discovered_on",
            f"discovered after {limit.last_day.isoformat()}: {limit.years} years from "
            f"{limit.counted_from.isoformat()} have passed ({limit.basis})",
            f"the violation is time-barred: no penalty after {limit.years} years ({limit.basis})",
        )
    return limit


def _new_case(p: Parties, agency: Agency, item: Item, who: Acting, now: datetime,
              **columns: object) -> PenaltyCase:  # fmt: skip
    return PenaltyCase(
        agency_id=agency.id, item_id=item.id, business_id=p.business_id, party_kind=p.kind,
        party_name=p.name, party_identifier=p.identifier, party_representative=p.representative,
        party_address=p.address, party_phone=p.phone, region_code=p.region_code,
        created_by=who.id, created_at=now, updated_at=now, stage_started_on=now.astimezone(
            LOCAL_ZONE).date(), **columns,
    )  # fmt: skip


def open_case(session: Session, env: PenaltyEnv, who: Acting, body: CaseOpen,
              *, origin: tuple[str, int] | None = None,
              photos: list[str] | None = None) -> PenaltyCase:  # fmt: skip
    """Propose a case for filing (立案申请): it waits for the lead's approval."""
    agency = _agency(session, who, body.agency_code)
    item = _item(session, agency, body.item_code)
    parties = _parties(session, agency, body.business_id, body.party, body.region_code)
    discovered = body.discovered_on or env.today
    _check_dates(body.violation_on, discovered, env.today)
    if body.violation_ended_on is not None and body.violation_ended_on < body.violation_on:
        raise _invalid("violation_ended_on", "before the violation began")
    facts = opened(Procedure.GENERAL, agency.id, parties.region_code)
    case = _new_case(
        parties, agency, item, who, env.now, procedure=Procedure.GENERAL.value,
        stage=facts.stage.value, source=body.source, origin_kind=origin[0] if origin else None,
        origin_id=origin[1] if origin else None, title=body.title or item.name, facts=body.facts,
        place=body.place, officer_ids=list(dict.fromkeys(body.officer_ids)),
        violation_on=body.violation_on, violation_ended_on=body.violation_ended_on,
        serious_harm=body.serious_harm, discovered_on=discovered, measures=[],
    )  # fmt: skip
    limit = check_limitation(case)
    session.add(case)
    session.flush()
    if case.officer_ids:
        check_team(session, case, case.officer_ids, env.today)
    ar = agency_rules(session, agency.id)
    case.stage_due = stage_due(case, ar, env.calendar)
    payload: dict[str, object] = {"limitation_last_day": limit.last_day.isoformat()}
    if photos:
        payload["photos"] = photos
    record_step(session, case, who, OPENED, from_stage=None, at=env.now,
                officer_ids=case.officer_ids, note=body.facts, payload=payload)  # fmt: skip
    audit(session, who, "open", case, env.now)
    return case


def open_on_the_spot(session: Session, env: PenaltyEnv, who: Acting,
                     body: OnTheSpot) -> PenaltyCase:  # fmt: skip
    """A decision made on the spot (简易程序, Art. 51): a warning or a small fine, two
    certified officers, the decision form handed over at once; filed with the agency
    within its working days (备案)."""
    agency = _agency(session, who, body.agency_code)
    item = _item(session, agency, body.item_code)
    parties = _parties(session, agency, body.business_id, body.party, body.region_code)
    _check_dates(body.violation_on, env.today, env.today)
    measures = list(dict.fromkeys(m.value for m in body.measures))
    checks.check_measures(measures, body.fine)
    checks.check_simplified(parties.kind, body.fine, measures)
    fine_check = registries.check_fine(
        session, item.id, body.grade, body.fine or 0, party=parties.kind,
        benchmark_id=body.benchmark_id,
    )  # fmt: skip
    if fine_check.needs_reason and not body.departure_reason.strip():
        raise _invalid("departure_reason", fine_check.reason, f"outside the benchmark: "
                       f"{fine_check.reason}; give a written reason")  # fmt: skip
    ar = agency_rules(session, agency.id)
    today = env.today
    facts = opened(Procedure.SIMPLIFIED, agency.id, parties.region_code,
                   needs_execution=bool(body.fine))  # fmt: skip
    case = _new_case(
        parties, agency, item, who, env.now, procedure=Procedure.SIMPLIFIED.value,
        stage=facts.stage.value, source="patrol", title=item.name, facts=body.facts,
        place=body.place, officer_ids=list(dict.fromkeys(body.officer_ids)),
        violation_on=body.violation_on, discovered_on=today, grade=body.grade.value,
        benchmark_id=body.benchmark_id, fine=body.fine, measures=measures,
        departure_reason=body.departure_reason, decision_kind="penalty", decided_on=today,
        decided_by=who.id, served_on=today, service_method=ServiceMethod.IN_PERSON.value,
        payment_due=deadlines.payment_due(today) if body.fine else None,
        record_due=deadlines.record_due(env.calendar, today, ar.record_working_days),
    )  # fmt: skip
    check_team(session, case, case.officer_ids, today)
    session.add(case)
    session.flush()
    case.number = paperwork.number(session, ar, "simplified_decision", today)
    case.stage_due = stage_due(case, ar, env.calendar)
    document = c.PenaltyDecision(
        number=case.number, issuer=paperwork.issuer(ar), party=paperwork.party(case),
        facts=body.facts, evidence=("现场检查", "当事人陈述"),
        duty_basis=paperwork.basis(item, BasisRole.DUTY),
        penalty_basis=paperwork.basis(item, BasisRole.PENALTY),
        discretion=f"{fine_check.grade}；{body.departure_reason}".rstrip("；"),
        penalty=checks.penalty_text(body.fine, measures), fine=body.fine,
        payment=ar.payment_method, payment_days=PAYMENT.value,
        reconsideration=ar.reconsideration_body, court=ar.court, decided_on=today,
    )  # fmt: skip
    document_id = paperwork.issue(session, env.storage, document, case=case, actor_id=who.id,
                                  now=env.now)  # fmt: skip
    team = case.officer_ids
    record_step(session, case, who, DECIDED_ON_SPOT, from_stage=None, at=env.now,
                officer_ids=team, note=body.facts, document_id=document_id,
                payload={"basis": f"{LAW}第五十一条", "fine_check": fine_check.reason})  # fmt: skip
    record_step(session, case, who, STEP_KINDS[Action.SERVE], from_stage=case.stage,
                at=env.now, officer_ids=team, document_id=document_id,
                payload={"method": ServiceMethod.IN_PERSON.value, "on_time": True,
                         "recipient": body.recipient or case.party_name})  # fmt: skip
    audit(session, who, "decide_on_the_spot", case, env.now)
    return case


def workdays(session: Session) -> WorkCalendar:
    """The working-day calendar with the district's overrides (only its days are used, so
    the working hours are immaterial)."""
    overrides = {o.day: o.is_workday for o in session.scalars(select(CalendarOverride))}
    return WorkCalendar([(time(9), time(17))], LOCAL_ZONE, overrides)


def open_from_finding(session: Session, *, finding_id: int, actor_id: int,
                      now: datetime) -> PenaltyCase:  # fmt: skip
    """The penalty case a failed inspection finding leads to (source `inspection`): the
    party is the inspected business, the item the finding's, the handlers the finding
    agency's officers on the visit. Idempotent: a second call returns the same case."""
    existing = repository.case_by_origin(session, FINDING, finding_id)
    if existing is not None:
        return existing
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound(f"no inspection finding {finding_id}")
    if finding.outcome != FindingOutcome.FAIL:
        raise _invalid("finding_id", "only a failed finding leads to a penalty case")
    inspection = session.get(Inspection, finding.inspection_id)
    assert inspection is not None
    who = acting_person(session, actor_id)
    agency = session.get(Agency, finding.agency_id)
    item = session.get(Item, finding.item_id)
    assert agency is not None and item is not None
    seen = inspection.started_at or finding.recorded_at
    on = seen.astimezone(LOCAL_ZONE).date()
    officers = [o.officer_id for o in inspection.officers if o.agency_id == finding.agency_id]
    body = CaseOpen(
        item_code=item.code, agency_code=agency.code, business_id=inspection.business_id,
        source="inspection", region_code=inspection.region_code, facts=finding.note,
        place=inspection.place, violation_on=on, discovered_on=on, officer_ids=officers,
    )  # fmt: skip
    env = PenaltyEnv(workdays(session), None, now)
    case = open_case(session, env, who, body, origin=(FINDING, finding_id),
                     photos=[str(p) for p in finding.photos])  # fmt: skip
    inspections.mark_penalty_case(session, finding_id, case.id)
    return case
