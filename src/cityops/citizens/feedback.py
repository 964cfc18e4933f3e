"""What comes back from residents after their request: the ticket they follow it by, their
own rating at the end, and the call-taker's call-back (回访). A resident who is not
satisfied, by either way, sends the case back to the call-taker (重新办理).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.models import Case, CaseAttachment
from cityops.cases.schemas import ActionRequest
from cityops.cases.service import CaseEnv, act, facts_of, get_visible
from cityops.cases.workflow import Action, Actor, State, can_see
from cityops.citizens import repository
from cityops.citizens.intake import normalise_ticket
from cityops.citizens.models import CitizenCallback, CitizenRequest, CitizenService
from cityops.citizens.schemas import CallbackIn, RatingIn
from cityops.citizens.service import STATE_NOTES, sees_contacts
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from cityops.kit.privacy import mask_personal

RATED_STATES = frozenset({State.CLOSED, State.EVALUATED})
# Who reopens a case for a resident's own rating: no person of the centre.
RESIDENT_RATING = Actor.system("resident-dissatisfied")


@dataclass(frozen=True)
class Ticket:
    """A request as its resident follows it."""

    request: CitizenRequest
    case: Case
    service: CitizenService | None
    progress: list[tuple[datetime, str]]
    answer: str | None

    @property
    def closed(self) -> bool:
        return State(self.case.state) in RATED_STATES

    @property
    def can_rate(self) -> bool:
        """At the end, once; again if the case was reopened and closed again since."""
        if not self.closed:
            return False
        rated_at = self.request.rated_at
        closed_at = self.case.closed_at
        return rated_at is None or (closed_at is not None and closed_at > rated_at)


def find_ticket(session: Session, ticket: str) -> CitizenRequest:
    row = repository.request_by_token(session, normalise_ticket(ticket))
    if row is None or row.case_id is None:
        raise NotFound(f"no request with the ticket {ticket!r}")
    return row


def read_ticket(session: Session, ticket: str) -> Ticket:
    row = find_ticket(session, ticket)
    case = session.get(Case, row.case_id)
    assert case is not None
    service = session.get(CitizenService, row.service_code) if row.service_code else None
    progress: list[tuple[datetime, str]] = []
    answer = None
    if row.joined:
        progress.append((row.requested_at, "您反映的问题此前已有人反映，已并入同一诉求一并办理。"))
    for step in repository.state_steps(session, case.id):
        if step.action == Action.NOTE.value:
            if step.data.get("public"):
                progress.append((step.at, mask_personal(step.note)))
            continue
        if row.joined and step.at < row.requested_at:
            continue  # what happened before this resident reported is not their story
        if step.action == Action.CLOSE.value and step.note:
            answer = mask_personal(step.note)
        if step.action == Action.REOPEN.value:
            progress.append((step.at, "因诉求人不满意，已重新办理。"))
            answer = None
            continue
        if step.from_state == step.to_state:
            continue  # signing for, urging, requests: the centre's own business
        text = STATE_NOTES[State(step.to_state)]
        if not progress or progress[-1][1] != text:
            progress.append((step.at, text))
    return Ticket(row, case, service, progress, answer)


def rate(session: Session, env: CaseEnv, ticket: str, sent: RatingIn) -> Ticket:
    """The resident's own rating at the end; "dissatisfied" reopens the case."""
    found = read_ticket(session, ticket)
    row = found.request
    if not found.closed:
        raise Conflict("rating: the request is not closed yet; rate it when it is",
                       errors=[FieldProblem("rating", "not closed yet")])  # fmt: skip
    if not found.can_rate:
        raise Conflict("rating: already rated", errors=[FieldProblem("rating", "already rated")])
    row.rating, row.rating_comment, row.rated_at = sent.rating, sent.comment, env.now
    if sent.rating == "dissatisfied":
        note = f"市民评价不满意（工单 {row.token}）：{sent.comment}".rstrip("：")
        act(session, env, RESIDENT_RATING, found.case.id,
            ActionRequest(action=Action.REOPEN.value, note=note[:2000]))  # fmt: skip
    record_audit(session, None, "citizen.rate", "citizen_request", row.id, now=env.now,
                 after={"rating": sent.rating})  # fmt: skip
    session.flush()
    return read_ticket(session, ticket)


def ticket_photo(session: Session, ticket: str, n: int) -> CaseAttachment:
    row = find_ticket(session, ticket)
    if not 0 <= n < len(row.photo_ids):
        raise NotFound(f"no photo {n}")
    found = repository.attachments(session, [row.photo_ids[n]])
    if not found:
        raise NotFound(f"no photo {n}")
    return found[0]


# -- call-backs ------------------------------------------------------------------------


def record_callback(
    session: Session, env: CaseEnv, actor: Actor, request_id: int, sent: CallbackIn
) -> CitizenCallback:
    """A call-taker's call back to the resident after the case closed; "dissatisfied"
    reopens the case."""
    if not sees_contacts(actor):
        raise Forbidden("call-backs are made by call-takers and shift leaders")
    row = session.get(CitizenRequest, request_id)
    if row is None or row.case_id is None:
        raise NotFound(f"no request {request_id}")
    case = get_visible(session, actor, row.case_id)
    if sent.rating is not None and not sent.reached:
        raise Invalid("rating: only a resident who was reached rates",
                      errors=[FieldProblem("rating", "the resident was not reached")])  # fmt: skip
    if sent.reached and sent.rating is None:
        raise Invalid("rating: how satisfied is the resident?",
                      errors=[FieldProblem("rating", "required when reached")])  # fmt: skip
    if State(case.state) not in RATED_STATES:
        raise Conflict(f"case {case.id} is {case.state}: call back when it is closed")
    reopened = sent.rating == "dissatisfied"
    if reopened:
        note = f"回访不满意（{row.token}）：{sent.note}".rstrip("：")
        act(session, env, actor, case.id, ActionRequest(action=Action.REOPEN.value,
                                                        note=note[:2000]))  # fmt: skip
    callback = CitizenCallback(
        request_id=row.id, case_id=case.id, person_id=actor.id, person_name=actor.name,
        at=env.now, reached=sent.reached, rating=sent.rating, note=sent.note,
        reopened=reopened,
    )  # fmt: skip
    session.add(callback)
    session.flush()
    record_audit(session, Principal(actor=actor), "citizen.callback", "citizen_request",
                 row.id, now=env.now, after={"reached": sent.reached, "rating": sent.rating,
                                             "callback_id": callback.id})  # fmt: skip
    return callback


def callbacks_due(
    session: Session, actor: Actor, *, limit: int = 200
) -> list[tuple[CitizenRequest, Case]]:
    """Closed requests of cases `actor` may see whose residents wait for a call-back."""
    if not sees_contacts(actor):
        raise Forbidden("call-backs are made by call-takers and shift leaders")
    return [(r, c) for r, c in repository.callbacks_due(session, limit=limit * 4)
            if can_see(actor, facts_of(c))][:limit]  # fmt: skip
