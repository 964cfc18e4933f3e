"""What is read of a penalty case: the list row, the detail with its steps, deadlines (with
their traffic lights) and documents, and a published decision as the public sees it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.penalties import checks, deadlines, paperwork, repository, rules
from cityops.enforcement.penalties.agency_rules import AgencyRules, agency_rules
from cityops.enforcement.penalties.executing import amount_due
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.penalties.schemas import (
    CaseDetail,
    CaseFilter,
    CaseRead,
    DeadlineRead,
    DocumentRead,
    PublicDecisionRead,
    StepRead,
)
from cityops.enforcement.penalties.service import PenaltyEnv, facts_of, item_of
from cityops.enforcement.penalties.workflow import (
    ENFORCEMENT_ROLES,
    READ_ALL_ROLES,
    REVIEWER,
    STAGE_NAMES_ZH,
    TERMINAL,
    Acting,
    Stage,
    allowed_actions,
)
from cityops.enforcement.registries import repository as registry
from cityops.enforcement.registries.models import Agency, Item
from cityops.errors import FieldProblem, Forbidden, Invalid
from cityops.kit.pagination import PageParams, paginate
from cityops.worktime.service import WorkCalendar

DOCUMENT_URL = "/api/v1/enforcement/documents/{id}.pdf"


def to_reads(session: Session, cases: Sequence[PenaltyCase], today: date) -> list[CaseRead]:
    """List rows with the agency's and item's names and the stage's light."""
    agencies = {i: session.get(Agency, i) for i in {c.agency_id for c in cases}}
    items = {i: session.get(Item, i) for i in {c.item_id for c in cases}}
    return [_read(c, agencies[c.agency_id], items[c.item_id], today) for c in cases]


def _read(case: PenaltyCase, agency: Agency | None, item: Item | None,
          today: date) -> CaseRead:  # fmt: skip
    read = CaseRead.model_validate(case)
    light = None
    running = Stage(case.stage) not in TERMINAL and case.stage_due is not None
    if running and case.stage_due is not None:
        light, _ = deadlines.light(case.stage_started_on, case.stage_due, today)
    return read.model_copy(update={
        "agency_name": agency.name if agency else "",
        "item_code": item.code if item else "",
        "stage_name": STAGE_NAMES_ZH.get(case.stage, case.stage),
        "light": light,
        "overdue": bool(running and case.stage_due is not None and today > case.stage_due),
    })  # fmt: skip


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(deadlines.CENT)


def detail(session: Session, env: PenaltyEnv, who: Acting, case: PenaltyCase) -> CaseDetail:
    """The case with its steps, its deadlines, its documents and what `who` may do now."""
    today = env.today
    base = to_reads(session, [case], today)[0]
    steps = repository.steps_of(session, case.id)
    ar = agency_rules(session, case.agency_id)
    fee, remaining = amount_due(case, today if case.executed_on is None else case.executed_on)
    late: Decimal | None = fee.amount if fee else None
    if case.executed_on is not None and case.late_fee_fen is not None:
        late = yuan(case.late_fee_fen)
    return CaseDetail(
        **base.model_dump(),
        party_representative=case.party_representative, party_address=case.party_address,
        party_phone=case.party_phone, facts=case.facts, place=case.place,
        officer_ids=list(case.officer_ids), violation_ended_on=case.violation_ended_on,
        serious_harm=case.serious_harm, base_amount=case.base_amount,
        confiscated_value=case.confiscated_value, notified_on=case.notified_on,
        hearing_on=case.hearing_on, decision_kind=case.decision_kind,
        service_method=case.service_method, payment_due=case.payment_due,
        paid=yuan(case.paid_fen), late_fee=late, amount_due=yuan(remaining) if fee else None,
        publication_required=case.publication_required, publication_due=case.publication_due,
        record_due=case.record_due, recorded_on=case.recorded_on,
        allowed_actions=allowed_actions(facts_of(session, case, today), who),
        deadlines=deadline_reads(case, ar, env.calendar, today),
        documents=document_reads(session, steps),
        steps=[StepRead.model_validate(s) for s in steps],
    )  # fmt: skip


def _deadline(name: str, label: str, rule: rules.Rule | str, start: date | None,
              due: date | None, done: date | None, today: date,
              running: bool = True) -> DeadlineRead | None:  # fmt: skip
    """A period from `start` to `due`: done on `done`, or still `running` (with its light),
    or neither (a period of the party's that ended otherwise)."""
    if start is None or due is None:
        return None
    basis, unit = (rule.basis, rule.unit) if isinstance(rule, rules.Rule) else (rule, "years")
    light, used = deadlines.light(start, due, today) if done is None and running else (None, None)
    return DeadlineRead(
        name=name, label=label, basis=basis, unit=unit, starts_on=start, due=due, done_on=done,
        on_time=None if done is None else done <= due, light=light, used=used,
    )  # fmt: skip


def deadline_reads(case: PenaltyCase, ar: AgencyRules, calendar: WorkCalendar,
                   today: date) -> list[DeadlineRead]:  # fmt: skip
    """Every period of the case from the law's (or the agency's) numbers."""
    limit = deadlines.limitation(case.violation_on, ended_on=case.violation_ended_on,
                                 serious=case.serious_harm)  # fmt: skip
    general = case.procedure == "general"
    filing = deadlines.filing_due(calendar, case.discovered_on, ar.filing_working_days)
    decided, notified = case.decided_on, case.stage == Stage.NOTIFIED
    found = [
        _deadline("limitation", "追责时效（发现期限）", limit.basis, limit.counted_from,
                  limit.last_day, case.discovered_on, today),
        _deadline("filing", "立案期限", rules.FILING, case.discovered_on, filing,
                  case.filed_on, today, running=case.stage == Stage.FILING) if general else None,
        _deadline("decision", "办案期限（作出决定）", rules.DECISION, case.filed_on,
                  case.extended_until or case.decision_due, decided, today,
                  running=case.stage not in TERMINAL),
        _deadline("statement", "陈述申辩期限", rules.STATEMENT, case.notified_on,
                  case.statement_due, None, today, running=notified),
        _deadline("hearing_request", "听证申请期限", rules.HEARING_REQUEST, case.notified_on,
                  case.hearing_request_due, None, today, running=notified),
        _deadline("service", "送达期限", rules.SERVICE, decided, case.service_due,
                  case.served_on, today) if general else None,
        _deadline("payment", "缴款期限", rules.PAYMENT, case.served_on, case.payment_due,
                  case.executed_on, today),
        _deadline("publication", "公示期限", rules.PUBLICATION, decided, case.publication_due,
                  case.published_on, today),
        _deadline("record", "简易程序备案期限", rules.SIMPLIFIED_RECORD, decided,
                  case.record_due, case.recorded_on, today),
    ]  # fmt: skip
    return [d for d in found if d is not None]


def document_reads(session: Session, steps: Sequence[PenaltyStep]) -> list[DocumentRead]:
    """The documents the case's steps produced, in order."""
    reads: list[DocumentRead] = []
    for step in steps:
        if step.document_id is None or step.document_id in {r.id for r in reads}:
            continue
        row = session.get(IssuedDocument, step.document_id)
        if row is None:
            continue
        url = DOCUMENT_URL.format(id=row.id)
        reads.append(DocumentRead(id=row.id, kind=row.kind, title=row.title, number=row.number,
                                  step_kind=step.kind, url=url))  # fmt: skip
    return reads


def public_read(session: Session, case: PenaltyCase) -> PublicDecisionRead:
    """A published decision as the public sees it (Art. 48): a citizen's name masked, their
    ID number and every contact left out."""
    assert case.decided_on is not None
    agency = session.get(Agency, case.agency_id)
    item = item_of(session, case)
    citizen = case.party_kind == "citizen"
    return PublicDecisionRead(
        number=_decision_number(session, case), agency=agency.name if agency else "",
        party_name=checks.mask_name(case.party_name) if citizen else case.party_name,
        party_identifier="" if citizen else case.party_identifier, title=case.title,
        facts=case.facts, basis=list(paperwork.basis(item)),
        penalty=checks.penalty_text(case.fine, case.measures, case.other_measures),
        decided_on=case.decided_on, published_on=case.published_on,
    )  # fmt: skip


def _decision_number(session: Session, case: PenaltyCase) -> str:
    for step in reversed(repository.steps_of(session, case.id)):
        if step.kind in ("decided", "decided_on_spot") and step.document_id is not None:
            row = session.get(IssuedDocument, step.document_id)
            if row is not None:
                return row.number
    return case.number or ""


def list_scope(who: Acting) -> tuple[frozenset[int] | None, str | None]:
    """The agencies whose cases `who` reads (None: all) and, for a legal reviewer, the
    region whose cases they also read; 403 without a role that reads cases."""
    if who.roles & READ_ALL_ROLES:
        return None, None
    if not who.roles & ENFORCEMENT_ROLES:
        raise Forbidden("this needs an enforcement role (officer, lead, legal reviewer)")
    region = who.scope_code if REVIEWER in who.roles else None
    return who.agency_ids, region


def list_cases(
    session: Session, env: PenaltyEnv, who: Acting, filters: CaseFilter, page: PageParams
) -> tuple[list[CaseRead], int]:
    """The cases `who` may see, newest first, filtered."""
    agency_ids, region = list_scope(who)
    agency_id = None
    if filters.agency_code:
        agency = registry.agency_by_code(session, filters.agency_code)
        if agency is None:
            problem = FieldProblem("query.agency", "no such agency")
            raise Invalid(f"no agency {filters.agency_code!r}", errors=[problem])
        agency_id = agency.id
    query = repository.cases_query(
        agency_ids=agency_ids, region_prefix=region, stages=filters.stage, agency_id=agency_id,
        procedure=filters.procedure, business_id=filters.business_id,
        overdue_on=env.today if filters.overdue else None, text=filters.text,
    )  # fmt: skip
    if filters.overdue is False:
        late = select(repository.overdue_query(env.today).subquery().c.case_id)
        query = query.where(PenaltyCase.id.not_in(late))
    rows, total = paginate(session, query, page)
    return to_reads(session, rows, env.today), total


def published(
    session: Session, text: str | None, page: PageParams
) -> tuple[list[PublicDecisionRead], int]:
    """Published decisions as the public sees them, latest first."""
    rows, total = paginate(session, repository.published_query(text), page)
    return [public_read(session, r) for r in rows], total
