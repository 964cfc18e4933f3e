"""Who calls the SensorThings service: a bearer token or an API key, as everywhere, or
HTTP Basic with a person's username and password, which is what STA clients send."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from cityops import problems
from cityops.auth.service import Principal, actor_of, authenticate
from cityops.bootstrap import Context
from cityops.deps import ContextDep, api_key_scheme, get_principal
from cityops.errors import Forbidden, Unauthorized
from cityops.org.models import Person

# A Basic client sends its password with every request; checking it (argon2) each time
# would cost tens of milliseconds a request, so a login is remembered this long.
BASIC_TTL_SECONDS = 30.0
CHALLENGE = 'Basic realm="cityops SensorThings", Bearer'


class BasicLogins:
    """Principals of recent Basic logins, keyed by a hash of the credentials under a key
    of this process's own (never the password itself)."""

    def __init__(self, ttl: float = BASIC_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, username: str, password: str) -> bytes:
        message = f"{username}\x00{password}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, username: str, password: str) -> Principal | None:
        entry = self._entries.get(self._digest(username, password))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def put(self, username: str, password: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # people are few; anything more is noise
                self._entries.clear()
            self._entries[self._digest(username, password)] = (
                principal,
                time.monotonic() + self.ttl,
            )


def _logins(request: Request) -> BasicLogins:
    # One per application (its state lives as long as the app), so that two apps in one
    # process, on two databases, never share a login.
    logins: BasicLogins | None = getattr(request.app.state, "sta_basic_logins", None)
    if logins is None:
        logins = request.app.state.sta_basic_logins = BasicLogins()
    return logins


def _basic_login(context: Context, username: str, password: str) -> Principal:
    # A read-only session: checking a password here is not a log-in to record.
    with context.read_sessions() as session:
        account = authenticate(session, username, password, now=context.clock.now())
        person = session.get(Person, account.person_id)
        assert person is not None  # authenticate checked it
        principal = Principal(actor=actor_of(person))
        session.rollback()
    return principal


def _credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed Basic credentials") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise Unauthorized("malformed Basic credentials")
    return username, password


async def sta_principal(
    request: Request,
    context: ContextDep,
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, by HTTP Basic, bearer token or X-API-Key; 401 when none is valid."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        username, password = _credentials(value.strip())
        logins = _logins(request)
        principal = logins.get(username, password)
        if principal is None:
            principal = await run_in_threadpool(_basic_login, context, username, password)
            logins.put(username, password, principal)
        return principal
    token = value.strip() if scheme.lower() == "bearer" else None
    return await get_principal(context, token, api_key)


StaPrincipal = Annotated[Principal, Depends(sta_principal)]


def require_admin(principal: Principal) -> None:
    """Things, Sensors, ObservedProperties, Datastreams and Locations are the registry."""
    if not principal.has_role("admin"):
        raise Forbidden("changing the sensor registry needs the admin role")


def require_observer(principal: Principal) -> None:
    """Observations come from machines (an API key) or from an administrator."""
    if principal.api_key_id is None and not principal.has_role("admin"):
        raise Forbidden("posting observations needs an API key or the admin role")


class StaRoute(APIRoute):
    """Routes whose 401 also offers Basic authentication, which STA clients speak."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized as exc:
                response = problems.problem(
                    exc.status, exc.code, exc.title, exc.detail, errors=[], **exc.extra
                )
                response.headers["WWW-Authenticate"] = CHALLENGE
                return response

        return route
