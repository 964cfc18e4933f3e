"""FastAPI dependencies shared by every context's routes, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal, principal_from_token
from cityops.bootstrap import Context
from cityops.errors import Forbidden, Unauthorized
from cityops.kit.bus import UnitOfWork

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_context(request: Request) -> Context:
    # Async, like every dependency that does no I/O: a sync one costs a thread hop.
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[Context, Depends(get_context)]


def get_uow(request: Request, context: ContextDep) -> Iterator[UnitOfWork]:
    """A unit of work per request. The route commits; anything uncommitted is rolled back.

    GET requests only read, and so never wait for the database's writer."""
    uow = context.unit_of_work(read_only=request.method in ("GET", "HEAD"))
    try:
        yield uow
    finally:
        uow.close()


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


async def get_principal(
    context: ContextDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, by bearer token or API key; 401 when neither is valid.

    Looked up in a session of its own that ends at once, so that no transaction (on
    SQLite: no write lock) is held while the request waits for other work.
    """
    if not token and not api_key:
        raise Unauthorized("log in (bearer token) or send an X-API-Key")
    if api_key and not token:
        cached = context.api_keys.cached(api_key)
        if cached is not None:
            return cached
        return await run_in_threadpool(context.api_keys.get, context.read_sessions, api_key)
    return await run_in_threadpool(_from_token, context, token or "")


def _from_token(context: Context, token: str) -> Principal:
    with context.read_sessions() as session:
        return principal_from_token(
            session, token, secret=context.settings.secret_key, now=context.clock.now()
        )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> object:
    """A dependency that lets through only people holding one of `roles` (admins always)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.has_role(*roles, "admin"):
            return principal
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")

    return Depends(check)


async def get_person(principal: PrincipalDep) -> Principal:
    """A person logged in with a token; machine keys are refused."""
    if principal.api_key_id is not None:
        raise Forbidden("this needs a person's login, not an API key")
    return principal


PersonDep = Annotated[Principal, Depends(get_person)]
AdminDep = Annotated[Principal, require_roles("admin")]


async def get_now(context: ContextDep) -> datetime:
    return context.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]
