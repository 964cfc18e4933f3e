"""The public entrance's request plumbing: who a request speaks for (a business by its
token, a supervisor by their login), idempotency keys, and the multipart forms the page
sends (text fields and photos) checked into schemas with 422s naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ValidationError

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases.service import Picture
from cityops.citizens import intake
from cityops.deps import ContextDep, require_roles
from cityops.enforcement.public import tokens
from cityops.errors import BadRequest, FieldProblem, Invalid, Unauthorized
from cityops.ingest.service import validation_problems
from cityops.kit.schemas import REQUEST_KEY_MAX_LENGTH, REQUEST_KEY_PATTERN

SupervisorDep = Annotated[Principal, require_roles("enforcement_supervisor")]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=REQUEST_KEY_MAX_LENGTH,
           pattern=REQUEST_KEY_PATTERN,
           description="A key of the sender's (e.g. a UUID): sent again, the request is "
           "answered with what the first one made"),
]  # fmt: skip
M = TypeVar("M", bound=BaseModel)


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def validated(model: type[M], fields: dict[str, Any]) -> M:
    """Form fields as `model`, or a 422 naming each bad field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        problems = [FieldProblem(p["path"], p["message"]) for p in validation_problems(exc)]
        raise Invalid("; ".join(f"{p.path}: {p.message}" for p in problems),
                      errors=problems) from None  # fmt: skip


async def read_form(request: Request, limit: int) -> tuple[dict[str, Any], list[Picture]]:
    """A multipart form's text fields (blank ones left out) and its `photos`, each read up
    to one byte over `limit` so that an oversized one is refused by its size."""
    photos = []
    async with request.form() as form:
        fields = {k: v for k in form if k != "photos"
                  for v in [form.get(k)] if isinstance(v, str) and v.strip() != ""}  # fmt: skip
        for n, upload in enumerate(form.getlist("photos")):
            if isinstance(upload, str):
                if upload:
                    raise BadRequest.at(f"photos.{n}", "a file")
                continue
            data = await upload.read(limit + 1)
            kind = intake.photo_type(data) or "application/octet-stream"
            photos.append(Picture(data, upload.filename or f"photo-{n}", kind))
    return fields, photos


def spend_check(context: Context, phone: str, code: str) -> None:
    """Count a try of the phone's code in a transaction of its own (committed whatever the
    answer, so that guessing runs out of tries); a wrong one is a 422 naming `code`."""
    secret = context.settings.secret_key
    right = context.in_transaction(lambda session: intake.check_phone_code(
        session, secret, phone, code, context.clock.now()))  # fmt: skip
    if not right:
        raise Invalid("code: wrong or expired; ask for a new one",
                      errors=[FieldProblem("code", "wrong or expired")])  # fmt: skip


def stream(context: Context, key: str, content_type: str) -> StreamingResponse:
    chunks: Iterator[bytes] = context.storage.open(key)
    return StreamingResponse(chunks, media_type=content_type,
                             headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip


business_token = APIKeyHeader(
    name="X-Business-Token", auto_error=False,
    description="The token `POST /api/v1/public/enforcement/business/token` gave",
)  # fmt: skip


async def get_business_claims(
    context: ContextDep, token: Annotated[str | None, Depends(business_token)]
) -> tokens.BusinessClaims:
    """The business the request speaks for; 401 without a valid, unexpired token."""
    if not token:
        raise Unauthorized("X-Business-Token: sign in with the credit code and the code sent "
                           "to the registered phone")  # fmt: skip
    return tokens.read(token, secret=context.settings.secret_key, now=context.clock.now())


BusinessDep = Annotated[tokens.BusinessClaims, Depends(get_business_claims)]
