"""Domain errors. Services raise these; one handler in app.py maps them to problem details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: where it is (a JSON path such as `items.3.location.lon`) and why."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class DomainError(Exception):
    """A failure the caller can understand and act on; carries its HTTP status."""

    status = 400
    code = "invalid"
    title = "Invalid request"

    def __init__(self, detail: str, *, errors: list[FieldProblem] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class BadRequest(DomainError):
    """A request that cannot be taken as sent (a query option, a path, a body), answered 400
    where a standard says so (SensorThings) rather than our usual 422."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    @classmethod
    def at(cls, path: str, message: str, detail: str | None = None) -> BadRequest:
        """About one place (`$filter`, `result`, `Datastreams.0.Sensor`...)."""
        return cls(detail or f"{path}: {message}", errors=[FieldProblem(path, message)])


class MethodNotAllowed(DomainError):
    status = 405
    code = "method-not-allowed"
    title = "Method not allowed"


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule (unknown code, out of range...)."""

    status = 422
    code = "invalid"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "too-large"
    title = "Payload too large"


class TooManyRequests(DomainError):
    """Asked again too soon or too often (429); `retry_after` says when it may ask again."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class Unavailable(DomainError):
    """Something the request needs outside the system (a gateway) failed (503)."""

    status = 503
    code = "unavailable"
    title = "Service unavailable"


@dataclass(frozen=True)
class ImportProblem:
    """A bad row of an import file, named by file, row number and field."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message}"


class ImportFailed(Invalid):
    """An import found bad rows; it wrote nothing (imports are all-or-nothing)."""

    code = "import-failed"
    title = "Import failed"

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the import; nothing was written",
            errors=[FieldProblem(f"{p.file}:{p.row}:{p.field}", p.message) for p in problems],
        )

    def __str__(self) -> str:
        lines = [self.detail, *(str(p) for p in self.problems[:20])]
        if len(self.problems) > 20:
            lines.append(f"... and {len(self.problems) - 20} more")
        return "\n".join(lines)
