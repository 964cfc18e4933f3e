"""Taking an action on a penalty case: the workflow decides whether it may happen, the
action's handler (listed in HANDLERS) checks its input, writes what it changes and issues
its document, and a step and an audit entry record it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.enforcement.penalties import executing, handling
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.penalties.schemas import (
    ActionBody,
)
from cityops.enforcement.penalties.service import (
    PenaltyEnv,
    audit,
    facts_of,
    get_visible,
    record_step,
    rules_for,
    stage_due,
)
from cityops.enforcement.penalties.steps import Ctx, Handler
from cityops.enforcement.penalties.workflow import (
    Acting,
    Action,
    check,
)

A = Action
# Each action's handler, in procedure order (habit 6: one place to look).
HANDLERS: dict[Action, Handler] = {
    A.APPROVE_FILING: handling.approve_filing,
    A.REFUSE_FILING: handling.with_reason,
    A.COLLECT_EVIDENCE: handling.collect_evidence,
    A.RECORD_INQUIRY: handling.record_inquiry,
    A.INSPECT_SITE: handling.inspect_site,
    A.ORDER_CORRECTION: handling.order_correction,
    A.PROPOSE: handling.propose,
    A.REQUEST_REVIEW: handling.plain,
    A.PASS_REVIEW: handling.pass_review,
    A.RETURN_REVIEW: handling.with_reason,
    A.SERVE_NOTICE: handling.serve_notice,
    A.RECORD_STATEMENT: handling.record_statement,
    A.REQUEST_HEARING: handling.request_hearing,
    A.NOTIFY_HEARING: handling.notify_hearing,
    A.HOLD_HEARING: handling.hold_hearing,
    A.LAPSE: handling.plain,
    A.REOPEN_INVESTIGATION: handling.with_reason,
    A.EXTEND: handling.extend,
    A.DECIDE: executing.decide,
    A.SERVE: executing.serve,
    A.RECORD_PAYMENT: executing.record_payment,
    A.RECORD_EXECUTION: executing.record_execution,
    A.RECORD_FILING: executing.record_filing,
    A.PUBLISH: executing.publish,
    A.CLOSE: executing.close,
    A.TERMINATE: handling.with_reason,
}


def act(session: Session, env: PenaltyEnv, who: Acting, case_id: int,
        body: ActionBody) -> PenaltyCase:  # fmt: skip
    """Take `body.action` on the case as `who`: 409 naming the stage and the allowed
    actions when the procedure does not allow it now, 403 for the wrong role or agency, 422
    naming the field for bad input."""
    case = get_visible(session, who, case_id)
    facts = facts_of(session, case, env.today)
    # Stage, role and guard first, so that a step out of order is a 409 whatever its input.
    check(facts, who, body.action)
    ctx = Ctx(session, env, who, case, body, rules_for(session, case), facts)
    before = {"stage": case.stage, "fine": case.fine}
    HANDLERS[Action(body.action)](ctx)
    assert ctx.decision is not None, f"{body.action} handler did not plan"
    from_stage = case.stage
    case.stage = ctx.decision.to_stage.value
    if case.stage != from_stage:
        case.stage_started_on = env.today
    case.stage_due = stage_due(case, ctx.ar, env.calendar)
    case.updated_at = env.now
    note = getattr(body, "note", "")
    record_step(session, case, who, ctx.decision.step_kind, from_stage=from_stage, at=env.now,
                officer_ids=ctx.officer_ids, note=note, document_id=ctx.document_id,
                payload=ctx.payload)  # fmt: skip
    audit(session, who, body.action, case, env.now, before)
    return case
