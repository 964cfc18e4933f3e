"""`POST /api/v1/events`: one event or a batch, acknowledged only after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.deps import ContextDep, NowDep, PrincipalDep, UowDep
from cityops.errors import FieldProblem, Invalid, PayloadTooLarge
from cityops.ingest.schemas import BatchResult, EventResult
from cityops.ingest.service import ingest_events
from cityops.kit.bus import UnitOfWork

router = APIRouter(prefix="/events", tags=["ingest"])

MAX_BODY_BYTES = 32 * 1024 * 1024
# Two requests carrying the same new (source, external_id) race to insert it; the loser
# hits the unique constraint, rolls back, and on the retry finds the winner's result.
ATTEMPTS = 3

_EVENT_SCHEMA_REF = {"$ref": "#/components/schemas/EventIn"}


@router.post(
    "",
    summary="Report one event or a batch of events",
    response_model=EventResult | BatchResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [_EVENT_SCHEMA_REF, {"type": "array", "items": _EVENT_SCHEMA_REF}]
                    }
                }
            },
        }
    },
)
async def post_events(
    request: Request,
    response: Response,
    context: ContextDep,
    uow: UowDep,
    principal: PrincipalDep,
    now: NowDep,
) -> EventResult | BatchResult:
    """Report one event (an object) or many (an array); each repeat returns its first result."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(
            f"the body is not JSON: {exc}", errors=[FieldProblem("body", "not JSON")]
        ) from None
    single = isinstance(payload, dict)
    if not single and not isinstance(payload, list):
        raise Invalid("send an event object or an array of events",
                      errors=[FieldProblem("body", "object or array")])  # fmt: skip
    items = [payload] if single else payload
    results = await run_in_threadpool(_ingest, context, uow, principal, items, now)
    if single:
        result = results[0]
        if result.status == "rejected":
            raise Invalid("the event was refused", errors=[
                FieldProblem(e["path"], e["message"]) for e in result.errors])  # fmt: skip
        response.status_code = 201 if result.status == "created" and not result.duplicate else 200
        return result
    return BatchResult(
        accepted=sum(r.status != "rejected" and not r.duplicate for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        duplicates=sum(r.duplicate for r in results),
        results=results,
    )


def _ingest(
    context: Context, uow: UnitOfWork, principal: Principal, items: list[Any], now: datetime
) -> list[EventResult]:
    for attempt in range(ATTEMPTS):
        try:
            env = context.intake_env(uow.session, now)
            results = ingest_events(uow.session, env, principal, items,
                                    max_batch=context.settings.max_batch_size)  # fmt: skip
            uow.commit()
            return results
        except IntegrityError:
            uow.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
