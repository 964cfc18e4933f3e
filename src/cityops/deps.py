"""FastAPI dependencies shared by every context's routes, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from cityops.auth.service import Principal, principal_from_api_key, principal_from_token
from cityops.bootstrap import Context
from cityops.errors import Forbidden, Unauthorized
from cityops.kit.bus import UnitOfWork

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_context(request: Request) -> Context:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[Context, Depends(get_context)]


def get_uow(context: ContextDep) -> Iterator[UnitOfWork]:
    """A unit of work per request. The route commits; anything uncommitted is rolled back."""
    uow = context.unit_of_work()
    try:
        yield uow
    finally:
        uow.close()


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def get_principal(
    context: ContextDep,
    uow: UowDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, by bearer token or API key; 401 when neither is valid."""
    if token:
        return principal_from_token(uow.session, token, secret=context.settings.secret_key)
    if api_key:
        return principal_from_api_key(uow.session, api_key)
    raise Unauthorized("log in (bearer token) or send an X-API-Key")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> object:
    """A dependency that lets through only people holding one of `roles` (admins always)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.has_role(*roles, "admin"):
            return principal
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")

    return Depends(check)


def get_person(principal: PrincipalDep) -> Principal:
    """A person logged in with a token; machine keys are refused."""
    if principal.api_key_id is not None:
        raise Forbidden("this needs a person's login, not an API key")
    return principal


PersonDep = Annotated[Principal, Depends(get_person)]
AdminDep = Annotated[Principal, require_roles("admin")]


def get_now(context: ContextDep) -> datetime:
    return context.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]
