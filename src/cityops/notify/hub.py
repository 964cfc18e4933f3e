"""The hub: frames published after a commit reach every connected client allowed to see them.

One interface, three transports (habit 8):
- `LocalHub`: one process (the SQLite deployment); frames go straight to its clients.
- `PostgresHub`: several processes on PostgreSQL; frames travel by LISTEN/NOTIFY.
- `NatsHub`: several processes, or machines, with a NATS server; frames travel on a subject.

Publishing is synchronous and safe from any thread (it runs in the thread that committed);
delivery to clients happens on the event loop the hub is attached to. A
transport that loses its connection tells its clients to reload once it is back: what
they missed meanwhile is in the database, not in the hub.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from cityops.cases.workflow import ADMIN, DEPARTMENT_HANDLER, Actor, CaseFacts, State
from cityops.config import Settings
from cityops.notify.service import Frame, reload_frame

log = logging.getLogger(__name__)

# Frames a slow client may have waiting before it is told to reload instead.
QUEUE_LIMIT = 5_000


class Subscription:
    """One connected client: the frames it may see, waiting for its sender."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(QUEUE_LIMIT)
        self.last_id = 0

    def offer(self, data: bytes, frame_id: int) -> None:
        self.last_id = max(self.last_id, frame_id)
        try:
            self.queue.put_nowait((frame_id, data))
        except asyncio.QueueFull:
            # Too far behind to catch up frame by frame: drop what waits, ask for a reload.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait((self.last_id, reload_frame(self.last_id)))

    async def next(self) -> tuple[int, bytes]:
        """The next frame for this client: its id and its JSON."""
        return await self.queue.get()


class LocalHub:
    """Delivers frames to this process's subscribers; the base of the other transports.

    Subscribers are indexed by who they are, so that a frame is checked only against the
    clients that could see it (its assignee, reporter, department, the scopes its region
    lies in, and admins), not against every phone connected.
    """

    name = "local"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._by_person: dict[int, set[Subscription]] = defaultdict(set)
        self._by_department: dict[int, set[Subscription]] = defaultdict(set)
        self._by_scope: dict[str, set[Subscription]] = defaultdict(set)
        self._admins: set[Subscription] = set()
        self._count = 0
        # A short-lived process (the sweep worker) publishes whether or not it has heard
        # yet that some process has clients: it writes little, and must not go unheard.
        self.always = False

    # -- the event loop side ----------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` from now on (the server's loop, at start-up)."""
        self._loop = loop

    def subscribe(self, actor: Actor) -> Subscription:
        """A new subscription for `actor`; call on the attached loop."""
        sub = Subscription(actor)
        for index, key in self._keys(actor):
            index[key].add(sub)
        if ADMIN in actor.roles:
            self._admins.add(sub)
        self._count += 1
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for index, key in self._keys(sub.actor):
            index[key].discard(sub)
            if not index[key]:
                del index[key]
        self._admins.discard(sub)
        self._count -= 1

    @property
    def subscribers(self) -> int:
        return self._count

    def _keys(self, actor: Actor) -> list[tuple[dict[Any, set[Subscription]], Any]]:
        keys: list[tuple[dict[Any, set[Subscription]], Any]] = []
        if actor.id is not None:
            keys.append((self._by_person, actor.id))
        if DEPARTMENT_HANDLER in actor.roles and actor.department_id is not None:
            keys.append((self._by_department, actor.department_id))
        if actor.scope_code:
            keys.append((self._by_scope, actor.scope_code))
        return keys

    def _fanout(self, frames: Iterable[Frame]) -> None:
        for frame in frames:
            facts = frame.facts
            candidates = set(self._admins)
            for person in (facts.assignee_id, facts.reporter_id):
                if person is not None:
                    candidates |= self._by_person.get(person, set())
            if facts.department_id is not None:
                candidates |= self._by_department.get(facts.department_id, set())
            region = facts.region_code
            for n in range(1, len(region) + 1):
                subs = self._by_scope.get(region[:n])
                if subs:
                    candidates |= subs
            for sub in candidates:
                if frame.visible_to(sub.actor):
                    sub.offer(frame.data, frame.id)

    def _reload_all(self) -> None:
        subs = set(self._admins).union(
            *self._by_person.values(), *self._by_department.values(), *self._by_scope.values()
        )
        for sub in subs:
            sub.offer(reload_frame(sub.last_id), sub.last_id)

    def deliver(self, frames: list[Frame]) -> None:
        """Hand `frames` to the local subscribers; from any thread."""
        if self._loop is not None and frames:
            self._loop.call_soon_threadsafe(self._fanout, frames)

    def deliver_reload(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._reload_all)

    # -- the publishing side ----------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Whether frames may have a reader: for one process, whether anyone is connected."""
        return self.always or self._count > 0

    def announce(self) -> None:
        """Tell the other processes that clients are connected here (one process: nothing)."""

    def publish(self, frames: list[Frame]) -> None:
        """Send `frames` to every process's subscribers; from any thread, after the commit."""
        self.deliver(frames)

    def prepare_send(self, session: Session, frames: list[Frame]) -> Callable[[], None]:
        """Do in the committing transaction what sending `frames` needs there; returns what
        to do once it has committed."""
        return functools.partial(self.publish, frames)

    def start(self) -> None:
        """Start the transport (connections, listener threads)."""

    def stop(self) -> None:
        """Stop the transport."""


# -- frames on the wire between processes -------------------------------------------------


def _wire(f: Frame) -> list[Any]:
    facts = f.facts
    return [f.id, f.case_id, f.data.decode(), facts.state.value, facts.region_code,
            facts.department_id, facts.assignee_id, facts.reporter_id,
            facts.needs_verification, facts.verified, facts.pending_request,
            facts.has_class]  # fmt: skip


def encode(frames: list[Frame], origin: str) -> bytes:
    return orjson.dumps({"origin": origin, "frames": [_wire(f) for f in frames]})


def decode(payload: bytes | str, origin: str) -> list[Frame]:
    """The frames of a message, or none when `origin` sent it (it delivered them itself)."""
    message = orjson.loads(payload)
    if message["origin"] == origin:
        return []
    frames = []
    for (frame_id, case_id, data, state, region, department, assignee, reporter,
         needs_verification, verified, pending, has_class) in message["frames"]:  # fmt: skip
        facts = CaseFacts(
            state=State(state), region_code=region, department_id=department,
            assignee_id=assignee, reporter_id=reporter, needs_verification=needs_verification,
            verified=verified, pending_request=pending, has_class=has_class,
        )  # fmt: skip
        frames.append(Frame(frame_id, case_id, facts, data.encode()))
    return frames


def chunks(frames: list[Frame], max_bytes: int, origin: str) -> Iterable[bytes]:
    """`frames` encoded in payloads of at most `max_bytes` each (a frame never splits).

    A frame's JSON travels as a string inside the payload's JSON, where its quotes are
    escaped, so each frame is measured as it is encoded.
    """
    wrapper = len(encode([], origin))
    batch: list[Frame] = []
    size = wrapper
    for frame in frames:
        cost = len(orjson.dumps(_wire(frame))) + 1  # and its comma
        if cost + wrapper > max_bytes:
            log.error("frame of case %d is %d bytes, over the transport's %d: not sent",
                      frame.case_id, cost, max_bytes)  # fmt: skip
            continue
        if batch and size + cost > max_bytes:
            yield encode(batch, origin)
            batch, size = [], wrapper
        batch.append(frame)
        size += cost
    if batch:
        yield encode(batch, origin)


class _Listener(threading.Thread):
    """A thread that keeps a transport's subscription alive, reconnecting with back-off."""

    def __init__(self, name: str, run_once: Callable[[threading.Event], None], hub: LocalHub):
        super().__init__(name=name, daemon=True)
        self._run_once = run_once
        self._hub = hub
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        delay = 0.5
        first = True
        while not self.stopping.is_set():
            try:
                if not first:
                    self._hub.deliver_reload()
                first = False
                self._run_once(self.ready)
                delay = 0.5
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("%s lost its connection; reconnecting in %.1f s", self.name, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)


class _SharedHub(LocalHub, abc.ABC):
    """A hub whose frames travel between processes.

    Building and sending frames costs a busy ingest process much of its time, so it is
    done only while some process has a client connected: each such process says so on
    the transport when its first client subscribes and every few seconds after. A client
    is sent `hello` only after that word is out, and loads its lists after `hello`, so a
    change committed before a process heard of it is in those lists.
    """

    PRESENCE_SECONDS = 15.0
    HEARTBEAT_SECONDS = 5.0

    def __init__(self) -> None:
        super().__init__()
        self._remote_until = 0.0
        self._announced = 0.0
        # This process's own frames go straight to its clients; what comes back to it
        # over the transport under this name is skipped.
        self.origin = uuid.uuid4().hex

    def publish(self, frames: list[Frame]) -> None:
        self.deliver(frames)
        self._send(frames)

    @abc.abstractmethod
    def _send(self, frames: list[Frame]) -> None:
        """Send `frames` to the other processes."""

    @property
    def listening(self) -> bool:
        return self.always or self._count > 0 or time.monotonic() < self._remote_until

    def _presence_seen(self) -> None:
        self._remote_until = time.monotonic() + self.PRESENCE_SECONDS

    def announce(self) -> None:
        self._announced = time.monotonic()
        self._send_presence()

    def heartbeat(self) -> None:
        """Announce again while clients are connected here; call every second or so."""
        if self._count > 0 and time.monotonic() - self._announced >= self.HEARTBEAT_SECONDS:
            self.announce()

    @abc.abstractmethod
    def _send_presence(self) -> None:
        """Tell the other processes that clients are connected here."""


class PostgresHub(_SharedHub):
    """Frames travel between processes by PostgreSQL's LISTEN/NOTIFY.

    A NOTIFY payload holds under 8,000 bytes: frames are sent in as many notifications as
    they need.
    """

    name = "postgres"
    CHANNEL = "cityops_frames"
    PRESENCE_CHANNEL = "cityops_presence"
    MAX_PAYLOAD = 7_600

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self._send_lock = threading.Lock()
        self._sender: Any = None
        self._listener = _Listener("cityops-pg-listen", self._listen, self)

    def start(self) -> None:
        self._listener.start()
        self._listener.ready.wait(10)

    def stop(self) -> None:
        self._listener.stopping.set()
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None

    def _send(self, frames: list[Frame]) -> None:
        payloads = chunks(frames, self.MAX_PAYLOAD, self.origin)
        self._notify([(self.CHANNEL, p.decode()) for p in payloads])

    def prepare_send(self, session: Session, frames: list[Frame]) -> Callable[[], None]:
        """NOTIFY in the committing transaction itself: PostgreSQL delivers it when, and
        only if, the transaction commits, and it costs no round trip of its own."""
        connection = session.connection()
        for payload in chunks(frames, self.MAX_PAYLOAD, self.origin):
            connection.exec_driver_sql("SELECT pg_notify(%s, %s)", (self.CHANNEL, payload.decode()))
        return functools.partial(self.deliver, frames)

    def _send_presence(self) -> None:
        self._notify([(self.PRESENCE_CHANNEL, "1")])

    def _notify(self, messages: list[tuple[str, str]]) -> None:
        import psycopg

        with self._send_lock:
            for attempt in range(2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = psycopg.connect(self.dsn, autocommit=True)
                    with self._sender.pipeline():
                        for channel, payload in messages:
                            self._sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))
                    return
                except psycopg.OperationalError:
                    self._sender = None
                    if attempt:
                        raise

    def _listen(self, ready: threading.Event) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {self.CHANNEL}")
            conn.execute(f"LISTEN {self.PRESENCE_CHANNEL}")
            ready.set()
            while not self._listener.stopping.is_set():
                for note in conn.notifies(timeout=1.0):
                    if note.channel == self.PRESENCE_CHANNEL:
                        self._presence_seen()
                    else:
                        self.deliver(decode(note.payload, self.origin))
                self.heartbeat()


class NatsHub(_SharedHub):
    """Frames travel on a NATS subject: several processes, or several machines.

    The NATS client runs on an event loop of its own in a thread, so that any thread,
    and a process with no server loop (the sweep worker), can publish.
    """

    name = "nats"
    MAX_PAYLOAD = 512 * 1024

    def __init__(self, url: str, subject: str) -> None:
        super().__init__()
        self.url = url
        self.subject = subject
        self._nats_loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._nats_loop.run_forever, name="cityops-nats", daemon=True
        )
        self._client: Any = None
        self._beat: Any = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._connect(), self._nats_loop).result(15)
        self._beat = asyncio.run_coroutine_threadsafe(self._heartbeats(), self._nats_loop)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._count > 0 and time.monotonic() - self._announced >= self.HEARTBEAT_SECONDS:
                self._announced = time.monotonic()
                await self._client.publish(f"{self.subject}.presence", b"1")

    async def _connect(self) -> None:
        import nats

        async def reconnected() -> None:
            self.deliver_reload()

        self._client = await nats.connect(
            self.url, reconnected_cb=reconnected, max_reconnect_attempts=-1,
            name="cityops",
        )  # fmt: skip
        await self._client.subscribe(self.subject, cb=self._received)
        await self._client.subscribe(f"{self.subject}.presence", cb=self._presence)

    async def _received(self, msg: Any) -> None:
        self.deliver(decode(msg.data, self.origin))

    async def _presence(self, _msg: Any) -> None:
        self._presence_seen()

    def _send_presence(self) -> None:
        if self._client is None:
            return
        publish = self._client.publish(f"{self.subject}.presence", b"1")
        asyncio.run_coroutine_threadsafe(publish, self._nats_loop).result(10)
        asyncio.run_coroutine_threadsafe(self._client.flush(), self._nats_loop).result(10)

    def _send(self, frames: list[Frame]) -> None:
        if self._client is None:
            raise RuntimeError("the NATS hub is not started")
        for payload in chunks(frames, self.MAX_PAYLOAD, self.origin):
            asyncio.run_coroutine_threadsafe(
                self._client.publish(self.subject, payload), self._nats_loop
            ).result(10)
        asyncio.run_coroutine_threadsafe(self._client.flush(), self._nats_loop).result(10)

    def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if self._client is not None:
            asyncio.run_coroutine_threadsafe(self._client.close(), self._nats_loop).result(10)
            self._client = None
        self._nats_loop.call_soon_threadsafe(self._nats_loop.stop)


def make_hub(settings: Settings) -> LocalHub:
    """The transport the settings ask for; `auto` is LISTEN/NOTIFY on PostgreSQL, else local."""
    choice = settings.hub
    if choice == "auto":
        choice = "postgres" if settings.database_url.startswith("postgresql") else "local"
    if choice == "postgres":
        url = make_url(settings.database_url).set(drivername="postgresql")
        return PostgresHub(url.render_as_string(hide_password=False))
    if choice == "nats":
        return NatsHub(settings.nats_url, settings.nats_subject)
    return LocalHub()
