"""Readings benchmark: sensor readings in over HTTP and MQTT, and a reading's way to a case.

Starts one real server (`cityops serve`, its MQTT consumer enabled) on a fresh database
holding the demo district (no history), and registers DEVICES gas sensors through the API,
spread over the district's 640 grids, owned by the sanitation department (HW), all watched
by one threshold rule (warning 25, major 50, clear 20 %LEL; a P0101 case at major). Then:
  1. HTTP batches: POST /api/v1/readings, BATCH readings a body, from CLIENTS concurrent
     keep-alive connections (bodies built before the clock starts), every device once a
     round with rising times; readings/s durably stored (the answer comes after the
     commit), p50/p95/p99 per POST;
  2. MQTT: readings published with paho at QoS 1, one reading a message, then PER_MESSAGE
     readings a message; readings/s from the first publish until the last reading is
     committed (polled in the database every 20 ms);
  3. reading → case: a reading over the major threshold for a device with no alarm (a
     device of its own each time), SAMPLES times by a single POST and SAMPLES times by
     MQTT, one after the other; the time from sending it until the case's frame reaches
     the sanitation department's handler, logged in over the WebSocket as the console is.
The server's CPU (seconds per second: one busy core is 100 %) and memory follow each run.
A failed request, a rejected or lost reading, a dead letter or a missed frame makes it
exit with status 1.

Usage: python bench/readings.py [--db sqlite|postgresql|both] [--devices 2000]
       [--profile DIR]   (py-spy, if installed: the server's stacks during each run)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import shapely
from paho.mqtt.enums import CallbackAPIVersion
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, create_engine, text
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.serverproc import ServerProcess, free_port  # noqa: E402

from ingest import POSTGRES_ADMIN, read_response  # noqa: E402

DEMO_PASSWORD = "cityops-demo"
PROPERTY = "ch4"
# The rule of tests/sensing/conftest.py: a septic tank's combustible gas, in %LEL.
RULE = {
    "name": "化粪池可燃气体超限", "kind": "threshold", "device_type": "septic-gas",
    "property": PROPERTY, "direction": "above", "clear_at": 20,
    "levels": [{"severity": "warning", "raise": 25}, {"severity": "major", "raise": 50}],
    "case_class_code": "P0101", "case_severity": "major",
}  # fmt: skip
ALARM_VALUE = 62.0  # past the major level at once: the alarm opens a case
# P0101 merges reports within 10 m: devices further apart each open a case of their own.
MIN_SPACING_M = 30.0
METRES_PER_DEGREE = 111_320.0
# Normal values stay under the clear level, so the throughput runs raise no alarm. Each
# device's last reading of a run carries the run's marker instead: once every datastream's
# latest value is the marker, the run's last readings are committed.
NORMAL_MAX = 15.0
MARKERS = {"http": 15.25, "mqtt-1": 16.25, "mqtt-n": 17.25}
FRAME_TIMEOUT_S = 5.0
# Once everything is published, how long the count of stored readings may stand still
# before the run gives up on the rest.
STALL_S = 30.0
# paho numbers a client's unacknowledged messages up to 65,535 and refuses one whose
# number is still taken: the publisher stays at most this far ahead of the broker.
WINDOW = 10_000
DEVICE_IN_CASE = re.compile(r"（(S-\d+)）")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile, interpolated between the values measured (never beyond them)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# -- the database, the broker, the district --------------------------------------------


@contextlib.contextmanager
def fresh_database(db: str, tmp: str) -> Iterator[str]:
    """An empty database for the run, dropped afterwards (PostgreSQL)."""
    if db == "sqlite":
        yield f"sqlite:///{tmp}/readings.db"
        return
    name = f"cityops_readings_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def broker(address: str, tmp: str) -> Iterator[tuple[str, int]]:
    """HOST:PORT of a running broker, or `private`: a Mosquitto of our own on a free port.

    Mosquitto's defaults keep 1,000 messages queued for a client (beyond the 10,000 the
    consumer takes in flight) and drop the rest, QoS 1 or not: a consumer that falls
    further behind a fast publisher loses readings, and the count at the end says so. A
    production broker is set up to hold a backlog; so is the private one.
    """
    if address != "private":
        host, _, port = address.rpartition(":")
        yield host, int(port)
        return
    port = free_port()
    conf, log_path = Path(tmp) / "mosquitto.conf", Path(tmp) / "mosquitto.log"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 10000000\n")  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {log_path.read_text()[-500:]}")
            time.sleep(0.05)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)


def build_district(url: str) -> list[BaseGeometry]:
    """Migrate and build the demo district without history; the grids' shapes."""
    from cityops.bootstrap import build_context
    from cityops.config import Settings
    from cityops.demo.service import build_demo
    from cityops.migrate import upgrade

    # The demo issues enforcement documents: their PDFs go to a folder of the run's own.
    blobs = Path(tempfile.mkdtemp(prefix="cityops-bench-blobs-"))
    context = build_context(Settings(database_url=url, storage_dir=blobs))
    upgrade(context.engine)
    build_demo(context, until=date(2026, 11, 24), seed=7, days=0)
    with context.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT geometry FROM regions WHERE level = 'grid' ORDER BY code")
        ).all()
    context.engine.dispose()
    return [shapely.from_wkb(bytes(wkb)) for (wkb,) in rows]


def place_devices(grids: list[BaseGeometry], count: int) -> list[tuple[float, float]]:
    """`count` places inside the grids, dealt round-robin, each at least MIN_SPACING_M from
    the others of its grid (no two alarms merge into one case); a full grid passes."""
    rng = random.Random(3)
    placed: list[list[tuple[float, float]]] = [[] for _ in grids]
    places: list[tuple[float, float]] = []
    spacing = MIN_SPACING_M / METRES_PER_DEGREE
    turn = 0
    while len(places) < count:
        if turn > len(grids) * (count // len(grids) + 3):
            raise RuntimeError(f"room for {len(places)} devices only")
        grid, taken = grids[turn % len(grids)], placed[turn % len(grids)]
        turn += 1
        x0, y0, x1, y1 = grid.bounds
        for _ in range(200):
            lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            apart = all(abs(lon - a) > spacing or abs(lat - b) > spacing for a, b in taken)
            if apart and grid.contains(shapely.Point(lon, lat)):
                taken.append((lon, lat))
                places.append((lon, lat))
                break
    return places


# -- setting up through the API, as an administrator would -----------------------------


@dataclass
class Fleet:
    """The sensors' codes, the key they send with, the logins the runs use."""

    codes: list[str]
    key: str
    handler_token: str
    admin_headers: dict[str, str]
    registered_s: float


async def _login(http: httpx.AsyncClient, username: str) -> str:
    r = await http.post("/api/v1/auth/token",
                        data={"username": username, "password": DEMO_PASSWORD})  # fmt: skip
    r.raise_for_status()
    return str(r.json()["access_token"])


async def _create(http: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any) -> Any:
    r = await http.post(path, headers=headers, json=body)
    if r.status_code != 201:
        raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
    return r.json()


async def setup_fleet(base_url: str, places: list[tuple[float, float]]) -> Fleet:
    """The automation setting, an API key, the property, type and rule, then the devices
    from four connections at once (as an import script would)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        admin = {"Authorization": f"Bearer {await _login(http, 'admin')}"}
        handler_token = await _login(http, "handler")
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {handler_token}"})
        department_id = me.json()["department_id"]
        # A sensor's P0101 case is accepted, filed and sent to the owner with no one between.
        await _create(http, "/api/v1/catalog/rules", admin, {
            "name": "sensor-parts", "class_code": "P0101", "source_kind": "sensor",
            "min_confidence": 0.0, "auto_accept": True, "auto_file": True,
            "auto_dispatch": True, "dispatch_to": "department",
        })  # fmt: skip
        created = await _create(http, "/api/v1/auth/api-keys", admin,
                                {"name": "iot", "sources": ["iot"], "trusted": True})  # fmt: skip
        await _create(http, "/api/v1/observed-properties", admin,
                      {"code": PROPERTY, "name": "可燃气体浓度"})  # fmt: skip
        await _create(http, "/api/v1/device-types", admin, {
            "code": "septic-gas", "name": "化粪池可燃气体监测仪", "report_interval_s": 60,
            "properties": [{"property": PROPERTY, "unit_symbol": "%LEL", "min_value": 0,
                            "max_value": 100}],
        })  # fmt: skip
        await _create(http, "/api/v1/alarm-rules", admin, RULE)
        codes = [f"S-{i:05d}" for i in range(len(places))]
        todo = list(zip(codes, places, strict=True))
        t0 = time.perf_counter()

        async def register() -> None:
            while todo:
                code, (lon, lat) = todo.pop()
                await _create(http, "/api/v1/devices", admin, {
                    "code": code, "name": f"{code}号化粪池", "device_type": "septic-gas",
                    "lon": lon, "lat": lat, "department_id": department_id,
                })  # fmt: skip

        await asyncio.gather(*(register() for _ in range(4)))
        registered_s = time.perf_counter() - t0
    return Fleet(codes, created["key"], handler_token, admin, registered_s)


# -- the server, and what a run measured -----------------------------------------------


@dataclass
class Server:
    """The server process, and what the runs read of it and of its database."""

    proc: ServerProcess
    engine: Engine

    @property
    def pid(self) -> int:
        assert self.proc.proc is not None
        return self.proc.proc.pid

    def memory_mib(self) -> tuple[float, float]:
        """Resident memory now, and its peak."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def count(self, sql: str, **params: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())

    def marked(self, marker: float) -> int:
        """How many datastreams have `marker` as their latest value."""
        return self.count("SELECT count(*) FROM datastreams WHERE last_value = :m", m=marker)

    def readings(self) -> int:
        return self.count("SELECT count(*) FROM readings")


@dataclass
class Figures:
    """One run's results: a line of the table."""

    name: str
    readings: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu: float = 0.0  # the server's CPU seconds per second of the run
    rss_mib: float = 0.0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.readings / self.seconds if self.seconds else 0.0


def py_spy() -> str:
    """py-spy from the virtualenv (pip install py-spy) or the PATH."""
    found = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}"
                         f"{os.environ.get('PATH', '')}")  # fmt: skip
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


@contextlib.contextmanager
def measuring(server: Server, figures: Figures, profile: Path | None) -> Iterator[None]:
    """Time the block into `figures`, with the server's CPU; under py-spy if asked."""
    spy = None
    if profile is not None:
        out = profile / f"{re.sub(r'[^a-z0-9]+', '-', figures.name.lower()).strip('-')}.txt"
        spy = subprocess.Popen(
            [py_spy(), "record", "--pid", str(server.pid), "--rate",
             "250", "--format", "raw", "--threads", "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)  # attached before the clock starts
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    try:
        yield
    finally:
        figures.seconds = time.perf_counter() - t0
        figures.cpu = (server.cpu_seconds() - cpu0) / figures.seconds
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
            spy.wait(30)


# -- HTTP -------------------------------------------------------------------------------


class Rounds:
    """Reading times: round r of every device is at `base + r` seconds, so each run's
    readings are newer than the last run's (none is late, none a repeat)."""

    def __init__(self) -> None:
        # Far enough back that the last round is still not in the future.
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
        self.next = 0

    def take(self, count: int) -> list[str]:
        """The ISO 8601 times of the next `count` rounds."""
        times = [(self.base + timedelta(seconds=self.next + i)).isoformat() for i in range(count)]
        self.next += count
        return times


def normal_value(rng: random.Random) -> float:
    return round(rng.uniform(1.0, NORMAL_MAX - 0.1), 1)


async def _post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str, body: bytes
) -> tuple[int, bytes]:
    head = (f"POST /api/v1/readings HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    writer.write(head.encode() + body)
    return await read_response(reader)


def _check_answer(status: int, answer: bytes, sent: int, failures: list[str]) -> None:
    if status != 200:
        failures.append(f"POST /readings: {status} {answer[:200]!r}")
        return
    got = orjson.loads(answer)
    if got["accepted"] != sent:
        bad = [r for r in got["results"] if r["status"] != "created"][:3]
        failures.append(f"{sent - got['accepted']} of {sent} readings not created: {bad}")


async def warm_up(port: int, fleet: Fleet, rounds: Rounds) -> None:
    """A first reading of every device: the registry is loaded and each device's rule
    state exists, as in steady operation."""
    (t,) = rounds.take(1)
    rng = random.Random(4)
    body = orjson.dumps([{"device": c, "property": PROPERTY, "time": t, "value": normal_value(rng)}
                         for c in fleet.codes])  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failures: list[str] = []
    _check_answer(*await _post(reader, writer, fleet.key, body), len(fleet.codes), failures)
    writer.close()
    if failures:
        raise RuntimeError(f"warm-up failed: {failures}")


async def http_batches(
    server: Server, fleet: Fleet, rounds: Rounds, args: argparse.Namespace
) -> Figures:
    """Client c sends the readings of the devices d with d % CLIENTS == c, round after
    round, BATCH to a body: each device's times rise within and across its client's
    bodies, whatever order the clients' requests commit in."""
    figures = Figures("HTTP batches")
    codes, clients, batch = fleet.codes, args.clients, args.batch
    rng = random.Random(5)
    times = rounds.take(max(1, args.http_readings // len(codes)))
    streams: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for r, t in enumerate(times):
        for d, code in enumerate(codes):
            value = MARKERS["http"] if r == len(times) - 1 else normal_value(rng)
            streams[d % clients].append(
                {"device": code, "property": PROPERTY, "time": t, "value": value}
            )
    bodies = [[(orjson.dumps(s[i : i + batch]), len(s[i : i + batch]))
               for i in range(0, len(s), batch)] for s in streams]  # fmt: skip
    figures.readings = sum(len(s) for s in streams)
    start = asyncio.Event()

    async def client(mine: list[tuple[bytes, int]]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.proc.port)
        await start.wait()
        for body, sent in mine:
            t0 = time.perf_counter()
            status, answer = await _post(reader, writer, fleet.key, body)
            figures.latencies_ms.append((time.perf_counter() - t0) * 1000)
            _check_answer(status, answer, sent, figures.failures)
        writer.close()

    tasks = [asyncio.create_task(client(b)) for b in bodies]
    await asyncio.sleep(0.2)  # connected before the clock starts
    with measuring(server, figures, args.profile):
        start.set()
        await asyncio.gather(*tasks)
    if (marked := server.marked(MARKERS["http"])) != len(codes):
        figures.failures.append(f"{len(codes) - marked} devices miss their last reading")
    figures.note = f"{sum(map(len, bodies))} POSTs of {batch:,} from {clients} connections"
    return figures


# -- MQTT -------------------------------------------------------------------------------


class Publisher:
    """A paho client publishing at QoS 1, as a device gateway would."""

    def __init__(self, tag: str, prefix: str, host: str, port: int) -> None:
        self.prefix = prefix
        self.acked = 0
        self._acks = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{tag}")
        # paho's default of 20 unacknowledged messages is near its best (16-17k messages/s
        # here with no consumer); above a few hundred it slows down, each acknowledgement
        # costing more the more are in flight (about 6,000/s at 1,000).
        self.client.max_inflight_messages_set(100)
        self.client.on_publish = self._on_publish
        self.client.connect(host, port)
        self.client.loop_start()

    def topic(self, code: str) -> str:
        return f"{self.prefix}/{code}/{PROPERTY}"

    def _on_publish(self, *_args: Any) -> None:
        with self._acks:
            self.acked += 1
            self._acks.notify_all()

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")

    def publish_all(self, messages: list[tuple[str, bytes]], timeout: float = 300) -> float:
        """Publish, at most WINDOW ahead of the broker's acknowledgements, and wait for
        the last acknowledgement; seconds taken."""
        t0 = time.perf_counter()
        first = self.acked
        for i, (topic, payload) in enumerate(messages):
            with self._acks:
                ahead = lambda i=i: i - (self.acked - first) < WINDOW  # noqa: E731
                if not self._acks.wait_for(ahead, timeout):
                    raise RuntimeError("the broker stopped acknowledging")
            self.publish(topic, payload)
        with self._acks:
            if not self._acks.wait_for(lambda: self.acked - first >= len(messages), timeout):
                raise RuntimeError(f"the broker acknowledged {self.acked - first} of "
                                   f"{len(messages)} messages")  # fmt: skip
        return time.perf_counter() - t0

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def mqtt_messages(
    fleet: Fleet, publisher: Publisher, rounds: Rounds, total: int, per_message: int, marker: float
) -> tuple[list[tuple[str, bytes]], int]:
    """Every device's readings of the next rounds, `per_message` to a message, devices
    taking turns as a fleet reporting on a schedule does; the readings' count."""
    rng = random.Random(per_message)
    codes = fleet.codes
    count = max(per_message, total // len(codes) // per_message * per_message)
    times = rounds.take(count)
    messages = []
    for start in range(0, count, per_message):
        for code in codes:
            readings = [
                {"time": t, "value": marker if start + i == count - 1 else normal_value(rng)}
                for i, t in enumerate(times[start : start + per_message])
            ]
            payload = orjson.dumps(readings[0] if per_message == 1 else readings)
            messages.append((publisher.topic(code), payload))
    return messages, count * len(codes)


def mqtt_run(
    server: Server, fleet: Fleet, publisher: Publisher, rounds: Rounds, total: int,
    per_message: int, profile: Path | None,
) -> Figures:  # fmt: skip
    """Publish from a thread while polling, every 20 ms, for every device's last reading;
    the rate runs from the first publish to the moment the last reading was seen stored."""
    run = "mqtt-1" if per_message == 1 else "mqtt-n"
    figures = Figures(f"MQTT, {per_message} a message")
    messages, figures.readings = mqtt_messages(
        fleet, publisher, rounds, total, per_message, MARKERS[run]
    )
    before = server.readings()
    published: list[float] = []

    def publish() -> None:
        with contextlib.suppress(RuntimeError):
            published.append(publisher.publish_all(messages))

    thread = threading.Thread(target=publish)
    with measuring(server, figures, profile):
        thread.start()
        stored, moved = before, time.perf_counter()
        checked = moved
        while server.marked(MARKERS[run]) < len(fleet.codes):
            time.sleep(0.02)
            # All published, and nothing more stored for a while: the rest are lost.
            if not thread.is_alive() and time.perf_counter() - checked > 1.0:
                checked = time.perf_counter()
                if (now_stored := server.readings()) != stored:
                    stored, moved = now_stored, checked
                elif checked - moved > STALL_S:
                    break
    thread.join()
    stored = server.readings() - before
    if not published:
        figures.failures.append("publishing failed")
    if stored != figures.readings:
        figures.failures.append(f"{figures.readings - stored:,} of {figures.readings:,} "
                                "readings not stored")  # fmt: skip
    if published:
        took = published[0]
        figures.note = (f"{len(messages):,} messages, all acknowledged by the broker in "
                        f"{took:.2f} s ({len(messages) / took:,.0f}/s)")  # fmt: skip
    return figures


def wait_until_consuming(
    server: Server, fleet: Fleet, publisher: Publisher, rounds: Rounds
) -> None:
    """The consumer subscribes a moment after the server answers, and until it has the
    broker keeps nothing for it: a probe reading until one is stored."""
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        (t,) = rounds.take(1)
        before = server.readings()
        publisher.publish(publisher.topic(fleet.codes[-1]), orjson.dumps({"time": t, "value": 1}))
        for _ in range(50):
            if server.readings() > before:
                return
            time.sleep(0.02)
    raise RuntimeError("the server's MQTT consumer stores nothing")


# -- reading → case → the handler's console --------------------------------------------


class Console:
    """The sanitation department's handler on the WebSocket: when the first frame of
    each device's case arrived (its description names the device)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Event] = {}

    async def open(self, port: int, token: str) -> Callable[[], Awaitable[None]]:
        ws = await connect(f"ws://127.0.0.1:{port}/api/v1/ws", max_queue=None)
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        hello = orjson.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"the WebSocket refused the handler: {hello}")

        async def listen() -> None:
            async for message in ws:
                arrived = time.perf_counter()
                frame = orjson.loads(message)
                if frame.get("type") != "case":
                    continue
                found = DEVICE_IN_CASE.search(frame["case"].get("description") or "")
                if found and found[1] not in self.arrived:
                    self.arrived[found[1]] = arrived
                    if (event := self.waiting.get(found[1])) is not None:
                        event.set()

        task = asyncio.create_task(listen())

        async def close() -> None:
            task.cancel()
            await ws.close()

        return close

    async def wait(self, code: str) -> float | None:
        """When the frame of `code`'s case arrived, or None if not within FRAME_TIMEOUT_S."""
        if code not in self.arrived:
            event = self.waiting[code] = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), FRAME_TIMEOUT_S)
        return self.arrived.get(code)


async def case_latency(
    server: Server, console: Console, rounds: Rounds, codes: list[str],
    send: Callable[[str, str], Awaitable[None]], figures: Figures, profile: Path | None,
) -> Figures:  # fmt: skip
    """One alarm reading at a time, each of a device of its own, 10-30 ms apart."""
    (t,) = rounds.take(1)
    rng = random.Random(len(codes))
    figures.readings = len(codes)
    with measuring(server, figures, profile):
        for code in codes:
            sent = time.perf_counter()
            await send(code, t)
            arrived = await console.wait(code)
            if arrived is None:
                figures.failures.append(f"no frame of {code}'s case within {FRAME_TIMEOUT_S} s")
            else:
                figures.latencies_ms.append((arrived - sent) * 1000)
            await asyncio.sleep(rng.uniform(0.01, 0.03))
    return figures


async def latency_runs(
    server: Server, fleet: Fleet, publisher: Publisher, rounds: Rounds, args: argparse.Namespace
) -> list[Figures]:
    console = Console()
    close = await console.open(server.proc.port, fleet.handler_token)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.proc.port)
    by_http, by_mqtt = Figures("reading → case, HTTP"), Figures("reading → case, MQTT")

    async def post(code: str, t: str) -> None:
        body = orjson.dumps([{"device": code, "property": PROPERTY, "time": t,
                              "value": ALARM_VALUE}])  # fmt: skip
        _check_answer(*await _post(reader, writer, fleet.key, body), 1, by_http.failures)

    async def publish(code: str, t: str) -> None:
        publisher.publish(publisher.topic(code), orjson.dumps({"time": t, "value": ALARM_VALUE}))

    n = args.samples
    try:
        await case_latency(server, console, rounds, fleet.codes[:n], post, by_http, args.profile)
        await case_latency(server, console, rounds, fleet.codes[n : 2 * n], publish, by_mqtt,
                           args.profile)  # fmt: skip
    finally:
        writer.close()
        await close()
    return [by_http, by_mqtt]


# -- the run ----------------------------------------------------------------------------


def report(db: str, runs: list[Figures]) -> None:
    heads = ["readings", "seconds", "readings/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
             "CPU", "RSS MiB"]  # fmt: skip
    line = f"{'':<24}" + "".join(f"{h:>11}" for h in heads)
    print(f"\n[{db}]\n{line}\n{'-' * len(line)}")
    for f in runs:
        lat = f.latencies_ms
        spread = [pct(lat, 50), pct(lat, 95), pct(lat, 99), max(lat)] if lat else []
        cells = [f"{f.readings:,}", f"{f.seconds:.2f}", f"{f.rate:,.0f}",
                 *(f"{v:.1f}" for v in spread), *([""] * (4 - len(spread))),
                 f"{f.cpu:.0%}", f"{f.rss_mib:.0f}"]  # fmt: skip
        print(f"{f.name:<24}" + "".join(f"{c:>11}" for c in cells))
    for f in runs:
        if f.note:
            print(f"  {f.name}: {f.note}")
        for failure in f.failures[:5]:
            print(f"  FAILED {f.name}: {failure}")


def run_db(db: str, args: argparse.Namespace) -> list[Figures]:
    started = time.perf_counter()
    tag = f"{os.getpid()}-{int(time.time())}"
    prefix = f"bench/{tag}/readings"  # a topic and a client id no one else uses
    runs: list[Figures] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(db, tmp) as url,
        broker(args.broker, tmp) as (mqtt_host, mqtt_port),
    ):
        t0 = time.perf_counter()
        grids = build_district(url)
        places = place_devices(grids, args.devices)
        print(f"[{db}] demo district built in {time.perf_counter() - t0:.1f} s "
              f"({len(grids)} grids); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        proc = ServerProcess(url, Path(tmp), extra_env={
            "CITYOPS_MQTT_ENABLED": "1", "CITYOPS_MQTT_HOST": mqtt_host,
            "CITYOPS_MQTT_PORT": str(mqtt_port),
            "CITYOPS_MQTT_TOPIC": f"{prefix}/{{device}}/{{property}}",
            "CITYOPS_MQTT_CLIENT_ID": f"cityops-bench-{tag}",
            # The broker forgets the session (and whatever it kept for it) soon after.
            "CITYOPS_MQTT_SESSION_EXPIRY_S": "60",
        })  # fmt: skip
        proc.start()
        server = Server(proc, create_engine(url))
        publisher: Publisher | None = None
        if args.profile is not None:
            args.profile = Path(args.profile) / db
            args.profile.mkdir(parents=True, exist_ok=True)

        def measured(figures: Figures) -> None:
            figures.rss_mib = server.memory_mib()[0]
            runs.append(figures)
            print(f"[{db}] {figures.name}: {figures.readings:,} readings in "
                  f"{figures.seconds:.2f} s, {figures.rate:,.0f}/s"
                  f"{' FAILED' if figures.failures else ''}")  # fmt: skip

        try:
            fleet = asyncio.run(setup_fleet(proc.url, places))
            print(f"[{db}] {len(fleet.codes):,} devices registered over the API in "
                  f"{fleet.registered_s:.1f} s ({len(fleet.codes) / fleet.registered_s:,.0f}/s); "
                  f"server pid {server.pid}")  # fmt: skip
            rounds = Rounds()
            asyncio.run(warm_up(proc.port, fleet, rounds))
            measured(asyncio.run(http_batches(server, fleet, rounds, args)))
            publisher = Publisher(tag, prefix, mqtt_host, mqtt_port)
            wait_until_consuming(server, fleet, publisher, rounds)
            measured(mqtt_run(server, fleet, publisher, rounds, args.mqtt_readings, 1,
                              args.profile))  # fmt: skip
            measured(mqtt_run(server, fleet, publisher, rounds, args.mqtt_batch_readings,
                              args.per_message, args.profile))  # fmt: skip
            for figures in asyncio.run(latency_runs(server, fleet, publisher, rounds, args)):
                measured(figures)
            letters = httpx.get(f"{proc.url}/api/v1/dead-letters", headers=fleet.admin_headers,
                                params={"limit": 1}).json()["total"]  # fmt: skip
            if letters:
                runs[-1].failures.append(f"{letters} dead letters")
            rss, peak = server.memory_mib()
            report(db, runs)
            print(f"  server memory at the end {rss:.0f} MiB (peak {peak:.0f}); dead letters "
                  f"{letters}; load average {os.getloadavg()[0]:.1f}; "
                  f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip
        finally:
            if publisher is not None:
                publisher.close()
            proc.stop()
            server.engine.dispose()
            if args.profile is not None:
                args.profile = args.profile.parent
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--http-readings", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=5000, help="readings a POST")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP connections")
    parser.add_argument("--mqtt-readings", type=int, default=100_000,
                        help="readings published one a message")  # fmt: skip
    parser.add_argument("--mqtt-batch-readings", type=int, default=200_000,
                        help="readings published PER_MESSAGE a message")  # fmt: skip
    parser.add_argument("--per-message", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200, help="alarms sent by each path")
    parser.add_argument("--broker", default="private",
                        help="HOST:PORT of an MQTT broker, or `private` (the default): a "
                        "Mosquitto of our own that holds a lagging consumer's backlog")  # fmt: skip
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="record the server's stacks in each run with py-spy")  # fmt: skip
    args = parser.parse_args()
    if args.profile is not None:
        py_spy()
    if args.devices < 2 * args.samples:
        parser.error("--devices must be at least twice --samples: an alarm a device")
    failed = False
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        failed |= any(f.failures for f in run_db(db, args))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
