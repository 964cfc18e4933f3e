"""Ingest: check who may send what, validate each item, and hand the good ones to intake."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cityops.auth.service import Principal
from cityops.cases.intake import IntakeEnv, Signal, intake
from cityops.cases.workflow import FIELD_ROLES
from cityops.errors import FieldProblem, Forbidden, Invalid, PayloadTooLarge
from cityops.ingest.schemas import STAFF_KINDS, EventIn, EventResult, SourceKind

# A device clock a few minutes fast is common; an event from the future beyond this is a bug.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# What people in the centre may report as, besides their own field role.
CENTRE_KINDS = frozenset({SourceKind.HOTLINE, SourceKind.CITIZEN, SourceKind.REFERRAL,
                          SourceKind.OTHER})  # fmt: skip


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    """A validation error as per-item problems: the field's dotted path and the message."""
    return [
        {"path": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors()
    ]


def _authorize(
    principal: Principal, event: EventIn, now: datetime
) -> tuple[str, list[dict[str, str]]]:
    """The source name the event is recorded under, or the problems that refuse it."""
    problems: list[dict[str, str]] = []
    if event.occurred_at > now + MAX_CLOCK_SKEW:
        problems.append({"path": "occurred_at", "message": "is in the future"})
    if principal.api_key_id is not None:
        if event.source is None:
            problems.append({"path": "source", "message": "required with an API key"})
        elif event.source not in principal.sources:
            message = f"this API key may not post as {event.source!r}"
            problems.append({"path": "source", "message": message})
        if event.kind in STAFF_KINDS:
            problems.append({"path": "kind", "message": "staff reports need a person's login"})
        if event.self_handled:
            problems.append({"path": "self_handled", "message": "only staff fix on the spot"})
        return event.source or "", problems
    roles = principal.actor.roles
    may = {SourceKind(r) for r in roles & FIELD_ROLES}
    if roles & {"call_taker", "shift_leader", "dispatcher", "admin"}:
        may |= CENTRE_KINDS
    if event.kind not in may:
        allowed = ", ".join(sorted(k.value for k in may)) or "none"
        problems.append({"path": "kind", "message": f"you may report as: {allowed}"})
    if event.self_handled and event.kind not in STAFF_KINDS:
        problems.append({"path": "self_handled", "message": "only staff fix on the spot"})
    source = event.source or f"person-{principal.actor.id}"
    return source, problems


def check_request(principal: Principal, items: list[Any], *, max_batch: int) -> None:
    """Refuse a whole request: empty, too large, or from a role that does not report."""
    if not items:
        raise Invalid("the batch is empty", errors=[FieldProblem("events", "empty")])
    if len(items) > max_batch:
        raise PayloadTooLarge(
            f"{len(items)} events in one batch; at most {max_batch}",
            errors=[FieldProblem("events", f"at most {max_batch} items")],
        )
    if principal.api_key_id is None and not principal.actor.roles & (
        FIELD_ROLES | {"call_taker", "shift_leader", "dispatcher", "admin"}
    ):
        raise Forbidden("your role does not report events")


def prepare(
    principal: Principal, items: list[Any], now: datetime, *, first_index: int = 0
) -> tuple[list[Signal], dict[int, EventResult]]:
    """Validate and authorize each item: the signals for intake and the rejected results.

    Indexes start at `first_index`, so that several requests can share one intake.
    """
    rejected: dict[int, EventResult] = {}
    signals: list[Signal] = []
    actor = principal.actor
    is_person = principal.api_key_id is None
    for offset, raw in enumerate(items):
        index = first_index + offset
        try:
            event = EventIn.model_validate(raw)
        except ValidationError as exc:
            rejected[index] = EventResult(
                index=index, status="rejected", errors=validation_problems(exc)
            )
            continue
        source, problems = _authorize(principal, event, now)
        if problems:
            rejected[index] = EventResult(index=index, status="rejected", errors=problems)
            continue
        signals.append(
            Signal(
                index=index,
                event=event,
                source=source,
                reporter_id=actor.id if is_person else None,
                reporter_name=actor.name,
                reporter_role=_reporter_role(principal, event),
            )
        )
    return signals, rejected


def ingest_events(
    session: Session,
    env: IntakeEnv,
    principal: Principal,
    items: list[Any],
    *,
    max_batch: int,
) -> list[EventResult]:
    """Validate and take in a batch; every item gets a result, in the order sent.

    An invalid item is rejected with its problems and nothing of it is written; the
    valid ones are written in the caller's transaction.
    """
    check_request(principal, items, max_batch=max_batch)
    signals, rejected = prepare(principal, items, env.now)
    taken = intake(session, env, signals) if signals else []
    merged = {r.index: r for r in taken} | rejected
    return [merged[i] for i in range(len(items))]


def _reporter_role(principal: Principal, event: EventIn) -> str:
    if principal.api_key_id is not None:
        return "source"
    if event.kind.value in principal.actor.roles:
        return event.kind.value
    return sorted(principal.actor.roles)[0]
