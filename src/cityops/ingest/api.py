"""`POST /api/v1/events`: one event or a batch, acknowledged only after the commit."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from cityops.deps import ContextDep, PrincipalDep
from cityops.errors import FieldProblem, Invalid, PayloadTooLarge
from cityops.ingest.schemas import BatchResult, EventResult
from cityops.ingest.service import check_request

router = APIRouter(prefix="/events", tags=["ingest"])

MAX_BODY_BYTES = 32 * 1024 * 1024

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
    context: ContextDep,
    principal: PrincipalDep,
) -> Response:
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
    check_request(principal, items, max_batch=context.settings.max_batch_size)
    results = await context.committer.submit(principal, items)
    if single:
        result = results[0]
        if result.status == "rejected":
            raise Invalid("the event was refused", errors=[
                FieldProblem(e["path"], e["message"]) for e in result.errors])  # fmt: skip
        status = 201 if result.status == "created" and not result.duplicate else 200
        return _json(result, status)
    batch = BatchResult(
        accepted=sum(r.status != "rejected" and not r.duplicate for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        duplicates=sum(r.duplicate for r in results),
        results=results,
    )
    return _json(batch, 200)


def _json(model: EventResult | BatchResult, status: int) -> Response:
    # The results were built by our own code: serialize them straight to JSON rather than
    # validating 10,000 of them again against the response model (the documented schema).
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")
