"""`/api/v1/ws` (WebSocket) and `/api/v1/stream` (Server-Sent Events): case, alarm and
detection changes, live.

Both speak the same frames (JSON objects with a `type`):
- `hello`: sent first, with who the server takes the client for;
- `case`: a case changed (its `id` is the cursor to resume from);
- `alarm`: an alarm of a device the client may see was raised, escalated, acknowledged or
  cleared (no `id`: it moves no cursor; after a reconnect, reload the alarms);
- `detection`: a camera the client may see sent a detection, judged in its zones (no `id`;
  only the centre's staff get them);
- `reload`: the client missed too much to be told case by case and should reload its lists.

A browser cannot set headers on a WebSocket or an EventSource, so besides the usual
`Authorization: Bearer` header the token may come as the first WebSocket message
(`{"type": "auth", "token": …}`) or, for Server-Sent Events, as `access_token` in the query.
Resuming: `last_event_id` in the auth message or the query, or the standard
`Last-Event-ID` header that EventSource sends by itself when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal, principal_from_token
from cityops.bootstrap import Context
from cityops.errors import Unauthorized
from cityops.notify.service import frames_since, reload_frame

router = APIRouter(tags=["delivery"])

# How often a connection checks that its login still holds (a lock-out or a password
# change ends it within this time).
RECHECK_SECONDS = 60.0
AUTH_TIMEOUT_SECONDS = 10.0


def _principal(context: Context, token: str) -> Principal:
    with context.read_sessions() as session:
        principal = principal_from_token(
            session, token, secret=context.settings.secret_key, now=context.clock.now()
        )
    if principal.api_key_id is not None:
        raise Unauthorized("a person's login is needed")
    return principal


def _missed(context: Context, principal: Principal, after_id: int) -> list[tuple[int, bytes]]:
    with context.read_sessions() as session:
        env = context.case_env(session, context.clock.now())
        frames, too_many = frames_since(session, env, principal.actor, after_id)
    if too_many:
        return [(after_id, reload_frame(after_id))]
    return [(f.id, f.data) for f in frames]


async def _frames(
    context: Context, token: str, principal: Principal, last_id: int | None
) -> AsyncIterator[tuple[int, bytes]]:
    """Hello, what was missed after `last_id`, then every frame as it comes; ends when the
    login no longer holds."""
    hub = context.hub
    # Subscribe before reading what was missed: a change committed in between comes twice
    # rather than never, and a frame applied twice changes nothing.
    sub = hub.subscribe(principal.actor)
    try:
        await run_in_threadpool(hub.announce)  # before hello: see the hub's docstring
        actor = principal.actor
        hello = {"type": "hello", "id": last_id or 0, "person_id": actor.id,
                 "name": actor.name, "roles": sorted(actor.roles),
                 "scope_code": actor.scope_code, "department_id": actor.department_id}  # fmt: skip
        yield last_id or 0, orjson.dumps(hello)
        if last_id is not None:
            for item in await run_in_threadpool(_missed, context, principal, last_id):
                yield item
        checked = time.monotonic()
        while True:
            wait = RECHECK_SECONDS - (time.monotonic() - checked)
            try:
                yield await asyncio.wait_for(sub.next(), timeout=max(wait, 0.1))
            except TimeoutError:
                await run_in_threadpool(_principal, context, token)  # raises when it lapsed
                checked = time.monotonic()
    finally:
        hub.unsubscribe(sub)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


@router.websocket("/ws")
async def websocket(websocket: WebSocket, last_event_id: int | None = None) -> None:
    """Case changes over a WebSocket: the primary channel of the apps."""
    context: Context = websocket.app.state.context
    await websocket.accept()
    token = _bearer(websocket.headers.get("authorization"))
    try:
        if token is None:
            first = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
            message: Any = orjson.loads(first)
            if not isinstance(message, dict) or message.get("type") != "auth":
                raise Unauthorized("the first message must be {type: auth, token}")
            token = str(message.get("token") or "")
            if message.get("last_event_id") is not None:
                last_event_id = int(message["last_event_id"])
        principal = await run_in_threadpool(_principal, context, token)
    except (Unauthorized, TimeoutError, ValueError, orjson.JSONDecodeError) as exc:
        detail = str(exc) if isinstance(exc, Unauthorized) else "authentication expected"
        await websocket.send_text(orjson.dumps({"type": "error", "detail": detail}).decode())
        await websocket.close(code=4401, reason="unauthorized")
        return
    except WebSocketDisconnect:
        return

    async def drain_incoming() -> None:
        # The client sends nothing after its auth; reading notices when it goes away.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    async def send_frames() -> None:
        async for _, data in _frames(context, token, principal, last_event_id):
            await websocket.send_text(data.decode())

    reader = asyncio.create_task(drain_incoming())
    sender = asyncio.create_task(send_frames())
    done, pending = await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:  # the client left, or the sender stopped: end the other too
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sender in done and isinstance(sender.exception(), Unauthorized):
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4401, reason="login no longer valid")


@router.get("/stream", summary="Case changes as Server-Sent Events")
async def stream(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    last_event_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    access_token: Annotated[
        str | None, Query(description="For EventSource, which cannot send headers")
    ] = None,
    last_event_id: int | None = None,
) -> EventSourceResponse:
    """The same frames as the WebSocket, for clients that cannot keep one open."""
    context: Context = request.app.state.context
    token = _bearer(authorization) or access_token
    if not token:
        raise Unauthorized("log in first")
    principal = await run_in_threadpool(_principal, context, token)
    if last_event_header and last_event_header.isdigit():
        last_event_id = int(last_event_header)

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for frame_id, data in _frames(context, token, principal, last_event_id):
                case = data.startswith(b'{"type":"case"')
                kind = "case" if case else orjson.loads(data)["type"]
                # A frame without a step id (an alarm's) sends no `id:` field: EventSource
                # would otherwise take 0 for the last id and resume from the start.
                event_id = str(frame_id) if frame_id else None
                yield ServerSentEvent(data=data.decode(), id=event_id, event=kind)
        except Unauthorized:
            return

    return EventSourceResponse(events(), ping=15)
