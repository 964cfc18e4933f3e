"""The actions before the decision: filing, investigation, the intended penalty and its
legal review, the advance notice, the party's statement, the hearing, extensions."""

from __future__ import annotations

from cityops.enforcement.documents import content as c
from cityops.enforcement.penalties import checks, deadlines, paperwork, repository, rules
from cityops.enforcement.penalties.opening import check_limitation
from cityops.enforcement.penalties.schemas import (
    ApproveFiling,
    CollectEvidence,
    Extend,
    HoldHearing,
    InspectSite,
    NotifyHearing,
    OrderCorrection,
    Propose,
    RecordInquiry,
    RecordStatement,
)
from cityops.enforcement.penalties.service import (
    INVESTIGATIVE_KINDS,
    item_of,
    local_day,
)
from cityops.enforcement.penalties.steps import (
    Content,
    Ctx,
    invalid,
    judge,
    thresholds,
    write_content,
)
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import BasisRole

# -- filing -----------------------------------------------------------------------------------


def approve_filing(ctx: Ctx) -> None:
    body: ApproveFiling = ctx.body
    case, today = ctx.case, ctx.env.today
    limit = check_limitation(case)
    team = ctx.team(body.officer_ids or case.officer_ids)
    ctx.plan(team=team)
    case.officer_ids = ctx.officer_ids
    case.number = paperwork.number(ctx.session, ctx.ar, "filing_approval", today)
    case.filed_on, case.decision_due = today, deadlines.decision_due(today)
    opened = repository.steps_of(ctx.session, case.id)[0]
    item = item_of(ctx.session, case)
    ctx.issue(c.FilingApproval(
        number=case.number, issuer=paperwork.issuer(ctx.ar), party=paperwork.party(case),
        case_title=case.title, source=paperwork.SOURCE_NAMES_ZH.get(case.source, case.source),
        facts=case.facts, basis=paperwork.basis(item),
        officers=paperwork.officers(ctx.session, case.officer_ids),
        proposed_on=local_day(case.created_at), proposer_opinion=opened.note or "建议立案",
        approver=ctx.who.name, approver_opinion=body.note or "同意立案", approved_on=today,
    ))  # fmt: skip
    ctx.payload = {"number": case.number, "decision_due": case.decision_due.isoformat(),
                   "limitation_last_day": limit.last_day.isoformat()}  # fmt: skip


def with_reason(ctx: Ctx) -> None:
    if not ctx.body.note.strip():
        raise invalid("note", "give the reason")
    ctx.plan()


def plain(ctx: Ctx) -> None:
    """An action with nothing to check beyond the procedure (request_review, lapse)."""
    ctx.plan()


# -- investigation ----------------------------------------------------------------------------


def collect_evidence(ctx: Ctx) -> None:
    body: CollectEvidence = ctx.body
    ctx.plan(team=ctx.team(body.officer_ids))
    ctx.payload = {"items": body.items}


def record_inquiry(ctx: Ctx) -> None:
    body: RecordInquiry = ctx.body
    ctx.plan(team=ctx.team(body.officer_ids))
    ctx.payload = {"person": body.person, "record": body.record}


def inspect_site(ctx: Ctx) -> None:
    body: InspectSite = ctx.body
    case, now = ctx.case, ctx.env.now
    started, ended = body.started_at or now, body.ended_at or now
    if ended < started or ended > now:
        raise invalid("ended_at", "after the start and not in the future")
    ctx.plan(team=ctx.team(body.officer_ids))
    number = paperwork.number(ctx.session, ctx.ar, "on_site_record", ctx.env.today)
    ctx.issue(c.OnSiteRecord(
        number=number, issuer=paperwork.issuer(ctx.ar), party=paperwork.party(case),
        place=body.place or case.place, started_at=started, ended_at=ended,
        officers=paperwork.officers(ctx.session, ctx.officer_ids), present=body.present,
        record=body.record, findings=tuple(body.findings),
    ))  # fmt: skip
    ctx.payload = {"number": number, "place": body.place or case.place,
                   "findings": body.findings}  # fmt: skip


def order_correction(ctx: Ctx) -> None:
    body: OrderCorrection = ctx.body
    today = ctx.env.today
    if body.deadline < today:
        raise invalid("deadline", "in the past")
    ctx.plan(team=ctx.team(body.officer_ids))
    number = paperwork.number(ctx.session, ctx.ar, "order_to_correct", today)
    ctx.issue(c.OrderToCorrect(
        number=number, issuer=paperwork.issuer(ctx.ar), party=paperwork.party(ctx.case),
        facts=ctx.case.facts, basis=paperwork.basis(item_of(ctx.session, ctx.case),
                                                    BasisRole.DUTY),
        requirement=body.requirement, deadline=body.deadline, issued_on=today,
    ))  # fmt: skip
    ctx.payload = {"number": number, "deadline": body.deadline.isoformat()}


def propose(ctx: Ctx) -> None:
    body: Propose = ctx.body
    case = ctx.case
    if body.grade.value == "none":
        raise invalid("grade", "propose a penalty; for none, decide no_penalty")
    content = Content(
        body.grade.value, body.benchmark_id, body.fine, list(dict.fromkeys(body.measures)),
        body.base_amount, body.confiscated_value, body.other_measures, body.departure_reason,
    )  # fmt: skip
    case.major_public_interest, case.complex = body.major_public_interest, body.complex
    penalty, judged = judge(ctx, content)
    review = checks.review_reasons(penalty, thresholds(ctx))
    hearing = checks.hearing_reasons(penalty, thresholds(ctx))
    ctx.plan(outcome="review" if review else "notify")
    write_content(case, content)
    if body.facts is not None:
        case.facts = body.facts
    case.legal_review_required, case.legal_review_why = bool(review), "；".join(review)
    case.hearing_right = bool(hearing)
    # A new proposal is reviewed and notified afresh.
    case.reviewed_at = case.notified_on = case.statement_due = case.hearing_request_due = None
    case.notice, case.hearing_requested, case.hearing_on, case.hearing_held_at = (
        None, False, None, None)  # fmt: skip
    ctx.payload = {**judged, "review_reasons": review, "hearing_reasons": hearing,
                   "fine": content.fine, "measures": content.measures}  # fmt: skip


def pass_review(ctx: Ctx) -> None:
    ctx.plan()
    ctx.case.reviewed_at = ctx.env.now
    ctx.payload = {"reasons": ctx.case.legal_review_why}


# -- the advance notice, the statement and the hearing ----------------------------------------


def serve_notice(ctx: Ctx) -> None:
    case, today, cal = ctx.case, ctx.env.today, ctx.env.calendar
    ctx.plan()
    number = paperwork.number(ctx.session, ctx.ar, "advance_notice", today)
    case.notified_on = today
    case.statement_due = deadlines.statement_due(cal, today, ctx.ar.statement_days)
    case.hearing_request_due = deadlines.hearing_request_due(cal, today) if case.hearing_right \
        else None  # fmt: skip
    case.notice = {"number": number, "on": today.isoformat(), "fine": case.fine,
                   "measures": list(case.measures)}  # fmt: skip
    item = item_of(ctx.session, case)
    steps = repository.steps_of(ctx.session, case.id)
    ctx.issue(c.AdvanceNotice(
        number=number, issuer=paperwork.issuer(ctx.ar), party=paperwork.party(case),
        facts=case.facts, evidence=paperwork.evidence(steps), basis=paperwork.basis(item),
        intended_penalty=checks.penalty_text(case.fine, case.measures, case.other_measures),
        statement_days=ctx.ar.statement_days,
        hearing_days=rules.HEARING_REQUEST.value if case.hearing_right else None,
        issued_on=today,
    ))  # fmt: skip
    ctx.payload = {"number": number, "method": ctx.body.method.value,
                   "statement_due": case.statement_due.isoformat(),
                   "hearing_request_due": case.hearing_request_due.isoformat()
                   if case.hearing_request_due else None}  # fmt: skip


def record_statement(ctx: Ctx) -> None:
    body: RecordStatement = ctx.body
    ctx.plan(outcome="waive_hearing" if body.waive_hearing else "stated")
    ctx.payload = {"statement": body.statement, "waive_hearing": body.waive_hearing}


def request_hearing(ctx: Ctx) -> None:
    ctx.plan()
    ctx.case.hearing_requested = True
    ctx.payload = {"requested_on": ctx.env.today.isoformat()}


def investigators(ctx: Ctx) -> set[int]:
    """The officers who investigated the case: its handlers and every investigative act's."""
    found = set(ctx.case.officer_ids)
    for step in repository.steps_of(ctx.session, ctx.case.id):
        if step.kind in INVESTIGATIVE_KINDS:
            found |= set(step.officer_ids)
    return found


def notify_hearing(ctx: Ctx) -> None:
    body: NotifyHearing = ctx.body
    earliest = deadlines.earliest_hearing(ctx.env.calendar, ctx.env.today)
    if body.hearing_on < earliest:
        basis = rules.HEARING_NOTICE.basis
        raise invalid("hearing_on", f"notified today, the hearing is held on "
                      f"{earliest.isoformat()} at the earliest ({basis})")  # fmt: skip
    host = registries.get_officer(ctx.session, body.host_officer_id)
    if host.agency_id != ctx.case.agency_id:
        raise invalid("host_officer_id", "not an officer of the case's agency")
    if host.id in investigators(ctx):
        raise invalid("host_officer_id", f"{host.name} investigated the case: a hearing is "
                      f"held by someone who did not (行政处罚法第六十四条第四项)")  # fmt: skip
    ctx.plan()
    ctx.case.hearing_on = body.hearing_on
    ctx.payload = {"hearing_on": body.hearing_on.isoformat(), "place": body.place,
                   "host_officer_id": host.id, "host": host.name}  # fmt: skip


def hold_hearing(ctx: Ctx) -> None:
    body: HoldHearing = ctx.body
    case = ctx.case
    if case.hearing_on is not None and ctx.env.today < case.hearing_on:
        raise invalid("held", f"the hearing is set for {case.hearing_on.isoformat()}")
    ctx.plan(outcome="held" if body.held else "abandoned")
    ctx.payload = {"held": body.held, "record": body.record}
    if body.held:
        # Art. 58 item 2: a decision after a hearing goes through legal review.
        case.hearing_held_at = ctx.env.now
        reason = "直接关系当事人重大权益，经过听证程序（第五十八条第一款第二项）"
        reasons = [r for r in case.legal_review_why.split("；") if r]
        case.legal_review_required = True
        case.legal_review_why = "；".join([*reasons, reason] if reason not in reasons else reasons)


def extend(ctx: Ctx) -> None:
    body: Extend = ctx.body
    case = ctx.case
    ctx.plan(collective=body.collective)
    case.extensions += 1
    assert case.filed_on is not None
    case.extended_until = deadlines.decision_due(case.filed_on, case.extensions,
                                                 ctx.ar.extension_days)  # fmt: skip
    ctx.payload = {"until": case.extended_until.isoformat(), "collective": body.collective,
                   "extension": case.extensions}  # fmt: skip
