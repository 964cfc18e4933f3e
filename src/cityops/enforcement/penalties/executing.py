"""The decision and what follows it: the lead's decision (with the benchmark, Art. 45 and
the first-violation exemption checked), service, payment with its late fee, filing a
simplified decision with the agency, publication."""

from __future__ import annotations

from datetime import date
from typing import Any

from cityops.enforcement.documents import content as c
from cityops.enforcement.penalties import checks, deadlines, paperwork, repository, rules
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.penalties.rules import Measure
from cityops.enforcement.penalties.schemas import Decide, RecordPayment, Serve
from cityops.enforcement.penalties.service import item_of, local_day, review_passed
from cityops.enforcement.penalties.steps import (
    Content,
    Ctx,
    invalid,
    judge,
    refuse,
    thresholds,
    write_content,
)
from cityops.enforcement.registries.models import GRADE_NAMES_ZH, BasisRole

# -- the decision ------------------------------------------------------------------------------


def decide(ctx: Ctx) -> None:
    """The lead's decision (Art. 57): a penalty within what the notice said (Art. 45), or
    no penalty — for a minor violation or a first one on the item's list (Art. 33), or
    because the facts do not hold."""
    body: Decide = ctx.body
    case, today = ctx.case, ctx.env.today
    if body.outcome == "penalty":
        content, judged = _penalty(ctx, body)
    else:
        content, judged = _no_penalty(ctx, body), {}
    ctx.plan(outcome=body.outcome)
    write_content(case, content)
    case.exempt = body.exempt if body.outcome == "no_penalty" else None
    case.exempt_reason = body.exempt_reason if case.exempt else ""
    case.decision_kind, case.decided_on, case.decided_by = body.outcome, today, ctx.who.id
    case.service_due = deadlines.service_due(ctx.env.calendar, today)
    publish = body.publish if body.publish is not None else body.outcome == "penalty"
    case.publication_required = publish
    case.publication_due = (
        deadlines.publication_due(ctx.env.calendar, today, ctx.ar.publication_working_days)
        if publish else None
    )  # fmt: skip
    number = paperwork.number(ctx.session, ctx.ar, "penalty_decision", today)
    ctx.issue(_decision_document(ctx, number, body))
    ctx.payload = {**judged, "number": number, "outcome": body.outcome, "exempt": case.exempt,
                   "collective": body.collective, "fine": case.fine,
                   "measures": list(case.measures),
                   "publication_due": case.publication_due.isoformat()
                   if case.publication_due else None}  # fmt: skip


def _sent(body: Decide, name: str) -> bool:
    return name in body.model_fields_set


def _penalty(ctx: Ctx, body: Decide) -> tuple[Content, dict[str, Any]]:
    case = ctx.case
    if body.exempt is not None:
        raise invalid("exempt", "an exemption is a decision of no_penalty")
    if case.grade is None and body.grade is None:
        raise invalid("grade", "give the grade of the penalty")
    content = Content(
        grade=body.grade.value if body.grade else str(case.grade),
        benchmark_id=body.benchmark_id if _sent(body, "benchmark_id") else case.benchmark_id,
        fine=body.fine if _sent(body, "fine") else case.fine,
        measures=list(dict.fromkeys(body.measures)) if body.measures is not None
        else list(case.measures),
        base_amount=body.base_amount if _sent(body, "base_amount") else case.base_amount,
        confiscated_value=body.confiscated_value if _sent(body, "confiscated_value")
        else case.confiscated_value,
        other_measures=body.other_measures if body.other_measures is not None
        else case.other_measures,
        departure_reason=body.departure_reason if body.departure_reason is not None
        else case.departure_reason,
    )  # fmt: skip
    if content.grade == "none":
        raise invalid("grade", "a penalty has a grade other than none; or decide no_penalty")
    penalty, judged = judge(ctx, content)
    _no_heavier(case, content)
    review = checks.review_reasons(penalty, thresholds(ctx),
                                   hearing_held=case.hearing_held_at is not None)  # fmt: skip
    if review and not review_passed(case):
        raise refuse(ctx, "this decision needs legal review first (" + "；".join(review) + "): "
                     "request_review")  # fmt: skip
    major = (
        case.complex
        or bool(set(content.measures) & rules.HEARING_MEASURES)
        or ((content.fine or 0) >= ctx.ar.review_fine(case.party_kind))
    )
    if major and not body.collective:
        raise invalid("collective", "a complex case or a major penalty is decided collectively "
                      "by the agency's leaders (行政处罚法第五十七条第二款)")  # fmt: skip
    return content, judged


def _no_heavier(case: PenaltyCase, content: Content) -> None:
    """Art. 45 para. 2: nothing heavier than the notice told the party."""
    if not case.notice:
        return
    told_fine = case.notice.get("fine") or 0
    if (content.fine or 0) > told_fine:
        raise invalid("fine", f"heavier than the {told_fine:,} CNY the party was told "
                      f"({rules.NO_HEAVIER_BASIS}): propose anew and notify again")  # fmt: skip
    extra = set(content.measures) - set(case.notice.get("measures") or [])
    if extra:
        raise invalid("measures", f"{', '.join(sorted(extra))} not in the notice "
                      f"({rules.NO_HEAVIER_BASIS})")  # fmt: skip


def _no_penalty(ctx: Ctx, body: Decide) -> Content:
    if body.exempt is None:
        if not body.note.strip():
            raise invalid("note", "say why no penalty (e.g. the facts do not hold)")
    else:
        if not body.exempt_reason.strip():
            raise invalid("exempt_reason", "give the reason for the exemption")
        needed = (("first_violation", "harm_slight", "corrected") if body.exempt ==
                  "first_violation" else ("corrected", "no_harm"))  # fmt: skip
        for name in needed:
            if not getattr(body, name):
                raise invalid(name, f"required for the {body.exempt} exemption "
                              f"({rules.MINOR_BASIS})")  # fmt: skip
        if body.exempt == "first_violation":
            _first_violation(ctx)
    return Content("none", None, None, [], None, None, "", "")


def _first_violation(ctx: Ctx) -> None:
    """Only items on the published first-violation list (首违不罚清单), and only a party
    not already punished for the item."""
    item = item_of(ctx.session, ctx.case)
    if not item.first_violation_exempt:
        raise invalid("exempt", f"{item.code} is not on the first-violation list")
    earlier = repository.earlier_cases(ctx.session, ctx.case)
    if earlier:
        first = earlier[0]
        day = first.decided_on.isoformat() if first.decided_on else ""
        raise invalid("exempt", f"not a first violation: case {first.number} was decided "
                      f"against the party for this item on {day}")  # fmt: skip


def _decision_document(ctx: Ctx, number: str, body: Decide) -> c.PenaltyDecision:
    case = ctx.case
    item = item_of(ctx.session, case)
    steps = repository.steps_of(ctx.session, case.id)
    statements = "；".join(
        s.payload.get("statement", "") or s.payload.get("record", "")
        for s in steps if s.kind in ("statement_received", "hearing_held")
    )  # fmt: skip
    grade = GRADE_NAMES_ZH.get(case.grade or "", "")
    if case.exempt:
        discretion = f"{case.exempt_reason}，依法不予行政处罚，并对当事人进行教育"
    else:
        discretion = "，".join(x for x in (grade, case.departure_reason) if x)
    return c.PenaltyDecision(
        number=number, issuer=paperwork.issuer(ctx.ar), party=paperwork.party(case),
        facts=case.facts, evidence=paperwork.evidence(steps),
        duty_basis=paperwork.basis(item, BasisRole.DUTY),
        penalty_basis=paperwork.basis(item, BasisRole.PENALTY), discretion=discretion,
        penalty=checks.penalty_text(case.fine, case.measures, case.other_measures),
        fine=case.fine, payment=ctx.ar.payment_method, payment_days=rules.PAYMENT.value,
        reconsideration=ctx.ar.reconsideration_body, court=ctx.ar.court, decided_on=ctx.env.today,
        statements=statements or (body.note if body.outcome == "no_penalty" else ""),
        late_fee_rate=rules.LATE_FEE.value / 100,
    )  # fmt: skip


# -- after the decision --------------------------------------------------------------------------


def serve(ctx: Ctx) -> None:
    body: Serve = ctx.body
    case, now = ctx.case, ctx.env.now
    served_at = body.served_at or now
    served_on = local_day(served_at)
    assert case.decided_on is not None
    if served_at > now or served_on < case.decided_on:
        raise invalid("served_at", "between the decision and now")
    if body.method in rules.SERVED_BY_OFFICERS:
        if not body.officer_ids:
            raise invalid("officer_ids", "name the officers who handed it over")
        ctx.team(body.officer_ids, minimum=1)
    ctx.plan()
    case.served_on, case.service_method = served_on, body.method.value
    if case.fine:
        case.payment_due = deadlines.payment_due(served_on)
    steps = repository.steps_of(ctx.session, case.id)
    decision = next((s for s in reversed(steps) if s.kind == "decided"), None)
    title = (
        f"行政处罚决定书（{decision.payload.get('number', '')}）" if decision else "行政处罚决定书"
    )
    number = paperwork.number(ctx.session, ctx.ar, "service_proof", ctx.env.today)
    ctx.issue(c.ServiceProof(
        number=number, issuer=paperwork.issuer(ctx.ar), documents=(title,),
        recipient=body.recipient or case.party_name, place=body.place or case.party_address,
        served_at=served_at, method=rules.SERVICE_METHOD_NAMES_ZH[body.method],
        servers=paperwork.officers(ctx.session, ctx.officer_ids), note=body.note,
    ))  # fmt: skip
    on_time = case.service_due is None or served_on <= case.service_due
    due = case.payment_due.isoformat() if case.payment_due else None
    ctx.payload = {"number": number, "method": body.method.value, "on_time": on_time,
                   "served_on": served_on.isoformat(), "payment_due": due}  # fmt: skip


def amount_due(case: PenaltyCase, on: date) -> tuple[deadlines.LateFee | None, int]:
    """The late fee as of `on` and what remains to pay, in fen."""
    if not case.fine or case.payment_due is None:
        return None, 0
    fee = deadlines.late_fee(case.fine, case.payment_due, on)
    total = case.fine * 100 + int(fee.amount * 100)
    return fee, max(0, total - case.paid_fen)


def record_payment(ctx: Ctx) -> None:
    body: RecordPayment = ctx.body
    case = ctx.case
    paid_on = body.paid_on or ctx.env.today
    if paid_on > ctx.env.today or (case.served_on and paid_on < case.served_on):
        raise invalid("paid_on", "between the service of the decision and today")
    fee, remaining = amount_due(case, paid_on)
    if fee is None:
        raise invalid("amount", "the decision imposes no fine")
    amount = int(body.amount * 100)
    in_full = amount >= remaining
    others = set(case.measures) - {Measure.FINE, Measure.WARNING, Measure.CRITICISM}
    ctx.plan(outcome="in_full" if in_full and not others else "part")
    case.paid_fen += amount
    case.late_fee_fen = int(fee.amount * 100)
    if in_full and not others:
        case.executed_on = paid_on
    ctx.payload = {"amount": str(body.amount), "paid_on": paid_on.isoformat(),
                   "days_late": fee.days_late, "late_fee": str(fee.amount),
                   "late_fee_capped": fee.capped, "remaining_fen": max(0, remaining - amount),
                   "basis": rules.LATE_FEE.basis}  # fmt: skip


def record_filing(ctx: Ctx) -> None:
    ctx.plan()
    ctx.case.recorded_on = ctx.env.today
    due = ctx.case.record_due
    ctx.payload = {"on_time": due is None or ctx.env.today <= due}


def publish(ctx: Ctx) -> None:
    case = ctx.case
    ctx.plan()
    case.published_on = ctx.env.today
    due = case.publication_due
    ctx.payload = {"on_time": due is None or ctx.env.today <= due,
                   "basis": rules.PUBLICATION_BASIS}  # fmt: skip


def record_execution(ctx: Ctx) -> None:
    ctx.plan()
    ctx.case.executed_on = ctx.env.today


def close(ctx: Ctx) -> None:
    ctx.plan()
    ctx.case.closed_on = ctx.env.today
