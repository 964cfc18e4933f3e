"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityops.errors import DomainError, FieldProblem

# An interface whose standard gives its own error format (Open311): the errors under its
# path prefix are rendered by it instead of as problem details.
ErrorRenderer = Callable[[Request, DomainError], Response]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://cityops.dev/problems/"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI prefixes locations with where the value came from; "body" adds nothing for a
    # client that sent one JSON document, query/path/header do (they name the parameter).
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def install(app: FastAPI, renderers: Mapping[str, ErrorRenderer] | None = None) -> None:
    """Register the handlers that turn exceptions into problem details, or into the error
    format of the standard served under a prefix of `renderers`."""
    by_prefix = dict(renderers or {})

    def renderer(request: Request) -> ErrorRenderer | None:
        path = request.url.path
        return next((r for prefix, r in by_prefix.items() if path.startswith(prefix)), None)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        own = renderer(request)
        if own is not None:
            return own(request, exc)
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            errors=[e.as_dict() for e in exc.errors],
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"path": _field_path(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        paths = ", ".join(sorted({e["path"] for e in errors})[:10])
        own = renderer(request)
        if own is not None:
            problems = [FieldProblem(e["path"], e["message"]) for e in errors]
            return own(request, DomainError(f"invalid fields: {paths}", errors=problems))
        return problem(422, "validation", "Invalid input", f"invalid fields: {paths}",
                       errors=errors)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        own = renderer(request)
        if own is not None:
            error = DomainError(str(exc.detail))
            error.status = exc.status_code
            return own(request, error)
        return problem(exc.status_code, f"http-{exc.status_code}", str(exc.detail),
                       str(exc.detail), errors=[])  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal", "Internal error", "an unexpected error occurred",
                       errors=[])  # fmt: skip
