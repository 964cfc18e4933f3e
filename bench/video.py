"""Video benchmark: a camera's detection to the grid worker's phone, and the built-in detector.

1. Detections → worker's phone. Starts real servers on a fresh database holding the demo
   district (no history), and through the API, as an administrator would, adds an API key
   for an AI box and CAMERAS cameras (100), one each in grids spread over the district (a
   grid worker is on duty in each; the camera's place decides the case's grid), each with
   one zone: the lower half of the image, labels person/table/umbrella, min_score 0.7, no
   dwell (the first qualifying detection signals), class E0502 占道经营, which the demo's
   automation rule `camera-street-vending` accepts, files and dispatches to the grid worker
   on duty when the score is at least 0.8. Every grid worker's phone connects over
   /api/v1/ws. Then RATE detections/s (200) for SECONDS s (30), open loop from 32 keep-alive
   connections, one detection a POST, spread over the cameras:
   - updates of live tracks (each at least 1 s after its last message) and ends of tracks;
   - new tracks that count for nothing: above the zone (`outside`), a low score (`low_score`)
     or a label the zone does not count (`label`);
   - new tracks that qualify at once (score 0.82-0.98) in a camera's zone, QUALIFYING (20 %)
     of all. A camera's first one opens a case, dispatched to the worker on duty; the
     cameras' first ones are spread evenly over the run. Later ones at a camera join that
     case (intake merges a signal within 30 m and 120 min of an open E0502 case; the zones'
     cool-down is 0, so every qualifying track goes to intake), and are noted on it.
   New tracks carry a 1280x720 JPEG snapshot, as the built-in detector sends them (off with
   --no-snapshots); the server stores it and, for a signal, attaches it to the case with the
   object's box (drawn when the picture is shown).
   For each new case (a `signalled` verdict naming a case id seen for the first time) it
   measures the time from the moment its detection was due (the camera's message exists
   then: if the server falls behind, the wait in the client counts, and the client's lag is
   printed) to the case's frame at the worker the case was dispatched to; missed (no frame
   there within 3 s of the end), wrong (a frame of a case at a worker it is not assigned
   to) and duplicate frames are counted as bench/latency.py does. Also every detection's
   POST (from when it was due to the answer), overall and by kind, and the servers',
   client's and whole machine's CPU (seconds a second: one busy core is 100 %) and the
   servers' memory.
   SQLite runs one server process; PostgreSQL two, on ports of their own, phones and posts
   spread over both (frames between them by LISTEN/NOTIFY), as bench/latency.py does.
2. The built-in detector (`cityops.video.detector`) at 720p: a synthetic 1280x720 video of
   400 frames at 25 fps (a textured street with sensor noise, a stall that appears and
   stays, a person-sized blob walking through) written with cv2.VideoWriter (MPEG-4 Part 2:
   this OpenCV cannot write H.264), then frames/s of decoding alone, of the detector over
   every frame with decoding, of `CameraWorker.process` on frames in memory, and the CPU
   time of one camera at the default 5 fps from that 25 fps file, so the cameras one core
   serves. OpenCV runs on one thread (cv2.setNumThreads(1)): a core's worth per camera.

A failed request, a rejected detection, a missed or wrong frame, a camera whose first
qualifying track opened no case or a case not dispatched to a worker makes it exit with 1
(and prints the last errors of the servers' logs).

Usage: python bench/video.py [--db sqlite|postgresql|both] [--rate 200] [--seconds 30]
       [--cameras 100] [--qualifying 0.2] [--no-snapshots] [--no-detector | --detector-only]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import orjson
from shapely.geometry.base import BaseGeometry
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.serverproc import ServerProcess  # noqa: E402

from ingest import read_response, rss_mib  # noqa: E402
from latency import Run, Workers, assignees, phone, worker_tokens  # noqa: E402
from readings import DEMO_PASSWORD, build_district, fresh_database, pct  # noqa: E402

SOURCE = "aibox"
CLASS = "E0502"  # 占道经营: the demo's rule sends a camera's case to the grid worker on duty
ZONE = {
    "code": "stall", "name": "人行道", "purpose": "禁止占道经营",
    "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
    "labels": ["person", "table", "umbrella"], "min_score": 0.7, "min_dwell_s": 0,
    "class_code": CLASS, "cooldown_s": 0,
}  # fmt: skip
MIN_SPACING_M = 30.0  # E0502 merges signals within 30 m
METRES_PER_DEGREE = 111_320.0
UPDATE_GAP_S = 1.0  # a track's messages at least this far apart (the detector's: 2 s)
JOIN_AFTER_S = 1.0  # qualifying tracks join a camera's case from this long after it opened
STRAGGLERS_S = 3.0
TARGET_P99_MS = 50.0
CONNECTIONS = 32
WIDTH, HEIGHT = 1280, 720
VIDEO_FRAMES, VIDEO_FPS = 400, 25


# -- the scene: the snapshot the detections carry, and the detector's video -------------


class Scene:
    """A synthetic street at 1280x720: textured road and façades, a stall from frame 50 on,
    a person-sized dark blob walking left to right in frames 100-349, sensor noise."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        texture = cv2.resize(rng.normal(0, 1, (HEIGHT // 4, WIDTH // 4, 3)).astype(np.float32),
                             (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)  # fmt: skip
        base = np.full((HEIGHT, WIDTH, 3), 150, np.float32)
        base[: HEIGHT * 2 // 5] = (190, 170, 150)
        base += texture * 18
        for x in range(0, WIDTH, 160):
            cv2.rectangle(base, (x + 20, 40), (x + 120, 200), (120, 110, 100), -1)
        self.base = np.clip(base, 0, 255).astype(np.uint8)
        self.noise = [rng.normal(0, 3, (HEIGHT, WIDTH, 3)).astype(np.int16) for _ in range(8)]

    def frame(self, i: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
        image = self.base.copy()
        if i >= 50:
            cv2.rectangle(image, (700, 470), (900, 560), (40, 70, 140), -1)
            cv2.ellipse(image, (800, 430), (130, 45), 0, 180, 360, (30, 30, 200), -1)
            cv2.line(image, (800, 430), (800, 470), (60, 60, 60), 6)  # the umbrella's pole
        if 100 <= i < 350:
            x = 100 + (i - 100) * 4
            cv2.ellipse(image, (x, 520), (22, 70), 0, 0, 360, (50, 45, 40), -1)
            cv2.circle(image, (x, 435), 18, (80, 100, 140), -1)
        noisy = image.astype(np.int16) + self.noise[i % len(self.noise)]
        return np.asarray(np.clip(noisy, 0, 255), dtype=np.uint8)


def snapshot_field(scene: Scene) -> bytes:
    """`,"snapshot_base64":"…"}`: spliced onto a body's closing brace at send time, so the
    bodies built before the clock do not each hold a copy."""
    from cityops.video.detector import jpeg_base64

    return b',"snapshot_base64":"' + jpeg_base64(scene.frame(200)).encode() + b'"}'


# -- the district and the cameras, set up through the API -------------------------------


@dataclass
class Setup:
    key: str
    cameras: list[str]  # codes
    worker_of: dict[str, int]  # camera code → the grid worker on duty where it stands
    rule: str
    tokens: dict[int, str]


def place_cameras(
    url: str, shapes: list[BaseGeometry], count: int, on_duty: set[str]
) -> list[tuple[str, float, float]]:
    """(grid, lon, lat) for `count` cameras, one each in grids spread evenly over those
    with a grid worker on duty, at a point inside the grid, all ≥ MIN_SPACING_M apart.
    `shapes` are the grids' in the order of their codes (`build_district`)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        codes = conn.scalars(text("SELECT code FROM regions WHERE level = 'grid' ORDER BY code"))
        grids = [(c, s) for c, s in zip(codes, shapes, strict=True) if c in on_duty]
    engine.dispose()
    if count > len(grids):
        raise SystemExit(f"--cameras: at most {len(grids)} (a grid each)")
    chosen = [grids[i * len(grids) // count] for i in range(count)]
    places = []
    for code, shape in chosen:
        point = shape.representative_point()
        places.append((code, float(point.x), float(point.y)))
    lon = np.array([p[1] for p in places])
    lat = np.array([p[2] for p in places])
    dx = (lon[:, None] - lon[None, :]) * METRES_PER_DEGREE * np.cos(np.radians(lat.mean()))
    dy = (lat[:, None] - lat[None, :]) * METRES_PER_DEGREE
    apart = np.hypot(dx, dy) + np.eye(len(places)) * 1e9
    if apart.min() < MIN_SPACING_M:
        raise RuntimeError(f"two cameras only {apart.min():.0f} m apart")
    return places


def _check(r: httpx.Response, expected: int = 201) -> Any:
    if r.status_code != expected:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} "
                           f"{r.text[:300]}")  # fmt: skip
    return r.json()


def set_up(base_url: str, workers: Workers, places: list[tuple[str, float, float]],
           min_score: float) -> Setup:  # fmt: skip
    """The API key, the cameras and their zones, as an administrator would add them; the
    automation rule that sends E0502 camera cases to the grid worker is the demo's (added
    the same way if it were missing)."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        login = {"username": "admin", "password": DEMO_PASSWORD}
        token = _check(http.post("/api/v1/auth/token", data=login), 200)["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        rules = _check(http.get("/api/v1/catalog/rules", headers=admin), 200)
        rule = next((r for r in rules if r["class_code"] == CLASS and r["active"]
                     and r["source_kind"] == "camera" and r["auto_dispatch"]
                     and r["dispatch_to"] == "grid_worker"), None)  # fmt: skip
        if rule is None:
            rule = _check(http.post("/api/v1/catalog/rules", headers=admin, json={
                "name": "bench-street-vending", "class_code": CLASS, "source_kind": "camera",
                "min_confidence": 0.8, "auto_accept": True, "auto_file": True,
                "auto_dispatch": True, "dispatch_to": "grid_worker",
            }))  # fmt: skip
            described = f"{rule['name']} (added by the bench: the demo had none)"
        else:
            described = f"{rule['name']} (the demo's)"
        if rule["min_confidence"] > min_score:
            raise SystemExit(f"the rule wants confidence ≥ {rule['min_confidence']}")
        described += (f": {CLASS} from cameras at confidence ≥ {rule['min_confidence']} → "
                      "accepted, filed, dispatched to the grid worker on duty")  # fmt: skip
        key = {"name": SOURCE, "sources": [SOURCE], "trusted": True}
        key = _check(http.post("/api/v1/auth/api-keys", headers=admin, json=key))
        cameras, worker_of = [], {}
        for i, (grid, lon, lat) in enumerate(places):
            code = f"CAM-{i + 1:03d}"
            camera = _check(http.post("/api/v1/cameras", headers=admin, json={
                "code": code, "name": f"{code}号摄像机", "lon": lon, "lat": lat,
                "direction_deg": 90, "image_width": WIDTH, "image_height": HEIGHT,
            }))  # fmt: skip
            if camera["grid_code"] != grid:
                raise RuntimeError(f"{code} placed in {grid} but located in {camera['grid_code']}")
            _check(http.put(f"/api/v1/cameras/{code}/zones/{ZONE['code']}", headers=admin,
                            json=ZONE))  # fmt: skip
            cameras.append(code)
            worker_of[code] = workers.of_grid[grid]
    return Setup(key["key"], cameras, worker_of, described, workers.tokens)


# -- the detections -----------------------------------------------------------------------


@dataclass
class Track:
    id: str
    camera: int
    kind: str  # qualifying, outside, low_score, label
    label: str
    score: float
    box: tuple[float, float, float, float]
    last: float  # when its latest message is due
    left: int  # updates before it ends


@dataclass
class Message:
    due: float  # seconds after the start
    camera: int
    kind: str  # open, join, update, end, outside, low_score, label
    body: bytes
    snapshot: bool
    sent: float = 0.0
    done: float = 0.0
    status: int = 0
    verdicts: list[dict[str, Any]] = field(default_factory=list)


class Schedule:
    """Every detection of the run, built before the clock starts (deterministic)."""

    def __init__(self, cameras: list[str], rate: int, seconds: float, qualifying: float,
                 snapshots: bool) -> None:  # fmt: skip
        self.cameras = cameras
        self.rng = random.Random(11)
        self.snapshots = snapshots
        self.start = datetime.now(UTC)
        self.tracks = 0
        total = int(rate * seconds)
        order = list(range(len(cameras)))
        self.rng.shuffle(order)
        # Each camera's first qualifying track, spread evenly over the run.
        openings = {int((n + 0.5) * total / len(order)): k for n, k in enumerate(order)}
        opened: list[tuple[float, int]] = []
        live: deque[Track] = deque()
        self.messages: list[Message] = []
        for i in range(total):
            due = i / rate
            r = self.rng.random()
            busy = [k for t, k in opened if due - t >= JOIN_AFTER_S]
            if i in openings:
                opened.append((due, openings[i]))
                message = self._new(i, due, openings[i], "qualifying", "open", live)
            elif r < qualifying and busy:
                message = self._new(i, due, self.rng.choice(busy), "qualifying", "join", live)
            elif r < qualifying + 0.1 or not live or live[0].last > due - UPDATE_GAP_S:
                kind = self.rng.choice(["outside", "outside", "low_score", "label"])
                message = self._new(i, due, self.rng.randrange(len(cameras)), kind, kind, live)
            else:
                track = live.popleft()
                if track.left <= 0:
                    message = self._message(i, due, track, "end", "end")
                else:
                    track.left -= 1
                    track.last = due
                    x1, y1, x2, y2 = track.box
                    dx = self.rng.uniform(-0.005, 0.005)
                    track.box = (max(0, x1 + dx), y1, min(1, x2 + dx), y2)
                    message = self._message(i, due, track, "update", "update")
                    live.append(track)
            self.messages.append(message)

    def _new(self, i: int, due: float, camera: int, kind: str, what: str,
             live: deque[Track]) -> Message:  # fmt: skip
        rng = self.rng
        self.tracks += 1
        w, h = rng.uniform(0.05, 0.15), rng.uniform(0.1, 0.3)
        x1 = rng.uniform(0.02, 0.98 - w)
        # The zone holds the box's foot (bottom centre): in the lower half, or above it.
        y2 = rng.uniform(0.15, 0.45) if kind == "outside" else rng.uniform(0.6, 0.98)
        label, score = rng.choice(["person", "table", "umbrella"]), rng.uniform(0.82, 0.98)
        if kind == "outside":
            label, score = rng.choice(["person", "car"]), rng.uniform(0.5, 0.95)
        elif kind == "low_score":
            score = rng.uniform(0.3, 0.65)
        elif kind == "label":
            label, score = rng.choice(["car", "bicycle"]), rng.uniform(0.8, 0.95)
        track = Track(f"{self.cameras[camera]}-t{self.tracks}", camera, kind, label, score,
                      (x1, max(0.0, y2 - h), x1 + w, y2), due, rng.randint(3, 10))  # fmt: skip
        live.append(track)
        return self._message(i, due, track, "new", what)

    def _message(self, i: int, due: float, track: Track, phase: str, kind: str) -> Message:
        x1, y1, x2, y2 = track.box
        score = track.score if phase == "new" else min(track.score, 0.69) if (
            track.kind == "low_score") else track.score  # fmt: skip
        body = orjson.dumps({
            "source": SOURCE, "detection_id": f"d{i}", "camera": self.cameras[track.camera],
            "time": (self.start + timedelta(seconds=due)).isoformat(), "label": track.label,
            "score": round(score, 3), "box": {"x1": x1, "y1": y1, "x2": x2, "y2": y2},
            "track_id": track.id, "phase": phase,
        })  # fmt: skip
        return Message(due, track.camera, kind, body, self.snapshots and phase == "new")


async def send_all(ports: list[int], key: str, messages: list[Message], snapshot: bytes) -> None:
    """Open loop: message i is handed to a free connection at start + due, whatever
    happened to the others."""
    head = (f"POST /api/v1/detections HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\n").encode()  # fmt: skip
    queue: asyncio.Queue[Message | None] = asyncio.Queue()

    async def sender(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (m := await queue.get()) is not None:
            body = m.body[:-1] + snapshot if m.snapshot else m.body
            m.sent = time.perf_counter()
            try:
                writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                m.status, answer, close = await read_answer(reader)
            except (OSError, asyncio.IncompleteReadError, IndexError):
                m.status, answer, close = -2, b"", True  # the connection dropped: failed
            m.done = time.perf_counter()
            if close or m.status >= 500:  # uvicorn closes it after an unhandled error
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if m.status == 200:
                (result,) = orjson.loads(answer)["results"]
                if result["status"] != "created":
                    m.status = -1  # rejected or a duplicate: counted as failed
                m.verdicts = result["verdicts"]
        writer.close()

    tasks = [asyncio.create_task(sender(ports[i % len(ports)])) for i in range(CONNECTIONS)]
    start = time.perf_counter() + 0.1
    for m in messages:
        delay = start + m.due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(m)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    for m in messages:
        m.due += start


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """The status and body of the next HTTP/1.1 response, and whether the server closes the
    connection after it (as uvicorn does after an unhandled error)."""
    status = int((await reader.readline()).split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return status, await reader.readexactly(length), close


async def warm_up(port: int, key: str, cameras: list[str]) -> None:
    """A car above each camera's zone (`outside`): the caches are loaded and the cameras'
    rows read once, as in steady operation."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    at = datetime.now(UTC).isoformat()
    for code in cameras:
        body = orjson.dumps({"source": SOURCE, "detection_id": f"warm-{code}", "camera": code,
                             "time": at, "label": "car", "score": 0.9,
                             "box": {"x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.2}})  # fmt: skip
        writer.write(f"POST /api/v1/detections HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)  # fmt: skip
        status, answer = await read_response(reader)
        if status != 200:
            raise RuntimeError(f"warm-up: {status} {answer[:300]!r}")
    writer.close()


# -- CPU ------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children (a server's workers)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(proc.name) == pid or int(stat[1]) == pid:
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])
    return (total - idle) / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


@dataclass
class Cpu:
    """CPU seconds a second over a stretch (one busy core is 100 %)."""

    servers: float = 0.0
    client: float = 0.0
    machine: float = 0.0  # every process, all cores together

    @staticmethod
    def now(pids: list[int]) -> tuple[float, float, float, float]:
        return (sum(cpu_seconds(p) for p in pids), time.process_time(), machine_busy()[0],
                time.perf_counter())  # fmt: skip

    @classmethod
    def since(cls, pids: list[int], before: tuple[float, float, float, float]) -> Cpu:
        after = cls.now(pids)
        seconds = after[3] - before[3]
        return cls(*((a - b) / seconds for a, b in zip(after[:3], before[:3], strict=True)))


# -- the run --------------------------------------------------------------------------------


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def judge(db: str, url: str, setup: Setup, messages: list[Message], run: Run,
          cpu: Cpu, memory: float) -> Outcome:  # fmt: skip
    """The figures of one run. Times run from the moment a detection was due (the camera's
    message exists then): a queue in the client counts against the server, as it would for
    a real source; the client's lag is printed."""
    out = Outcome()
    failed = [m for m in messages if m.status != 200]
    posts = [(m.done - m.due) * 1000 for m in messages if m.status == 200]
    lag = max((m.sent - m.due) * 1000 for m in messages)
    verdicts: Counter[str] = Counter(v["verdict"] for m in messages for v in m.verdicts)
    # Each case a signal named: the detection that named it first, and its camera.
    opener: dict[int, Message] = {}
    camera_cases: dict[int, set[int]] = {}
    for m in sorted(messages, key=lambda m: m.due):
        for v in m.verdicts:
            if v["verdict"] == "signalled" and v.get("case_id") is not None:
                opener.setdefault(v["case_id"], m)
                camera_cases.setdefault(m.camera, set()).add(v["case_id"])
    joined = verdicts["signalled"] + verdicts["attached"] - len(opener)
    dispatched_to = assignees(url, list(opener))
    arrivals: dict[tuple[int, int], float] = {}
    seen: Counter[tuple[int, int, int]] = Counter()
    wrong = 0
    for at_worker, case_id, frame_id, assignee, came in run.frames:
        seen[(at_worker, case_id, frame_id)] += 1
        wrong += assignee != at_worker
        arrivals.setdefault((at_worker, case_id), came)
    duplicates = sum(n - 1 for n in seen.values())
    latencies, missed, undispatched, elsewhere = [], 0, 0, 0
    for case_id, m in opener.items():
        worker = dispatched_to.get(case_id)
        if worker is None:
            undispatched += 1
            continue
        elsewhere += worker != setup.worker_of[setup.cameras[m.camera]]
        arrived = arrivals.get((worker, case_id))
        if arrived is None:
            missed += 1
        else:
            latencies.append((arrived - m.due) * 1000)
    by_first = sum(m.kind == "open" for m in opener.values())
    no_case = len(setup.cameras) - len(camera_cases)
    several = sum(len(cases) > 1 for cases in camera_cases.values())
    seconds = max(m.done for m in messages) - min(m.due for m in messages)

    heads = ["count", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    line = f"{'':<34}" + "".join(f"{h:>9}" for h in heads)
    out.lines += [f"\n[{db}]", line, "-" * len(line)]
    rows = (("detection → worker's frame", latencies), ("POST, every detection", posts))
    for name, values in rows:
        cells = [f"{pct(values, q):.1f}" for q in (50, 95, 99)] + [f"{max(values):.1f}"] if (
            values) else [""] * 4  # fmt: skip
        out.lines.append(f"{name:<34}" + "".join(f"{c:>9}" for c in [len(values), *cells]))
    kinds = Counter(m.kind for m in messages)
    by_kind: dict[str, list[float]] = {}
    for m in messages:
        if m.status == 200:
            by_kind.setdefault(m.kind, []).append((m.done - m.due) * 1000)
    out.lines += [
        f"  sent {len(messages):,} detections in {seconds:.1f} s ("
        f"{', '.join(f'{k} {n:,}' for k, n in kinds.most_common())}), "
        f"{sum(m.snapshot for m in messages):,} with a snapshot; failed {len(failed)}; the "
        f"client sent at most {lag:.1f} ms after a detection was due",
        f"  verdicts: {', '.join(f'{k} {n:,}' for k, n in verdicts.most_common())}",
        "  POST p50 / p99 by kind (ms): "
        + ", ".join(f"{k} {pct(v, 50):.1f} / {pct(v, 99):.1f}" for k, v in by_kind.items()),
        f"  cases: {len(opener)} new ({by_first} opened by a camera's first qualifying track), "
        f"{joined:,} qualifying tracks joined an open case; cameras with no case {no_case}, "
        f"with more than one {several}; not dispatched {undispatched}, dispatched elsewhere "
        f"than to the camera's grid's worker {elsewhere}",
        f"  frames at the phones {len(run.frames):,}: missed {missed}, wrong worker {wrong}, "
        f"duplicates {duplicates}",
        f"  CPU: servers {cpu.servers:.0%}, client {cpu.client:.0%}, everything else "
        f"(PostgreSQL, the kernel, other processes) {cpu.machine - cpu.servers - cpu.client:.0%}"
        f", whole machine {cpu.machine:.0%} of {os.cpu_count()} cores; server memory "
        f"{memory:.0f} MiB RSS; load average {os.getloadavg()[0]:.1f}",
    ]
    statuses = Counter(m.status for m in failed)
    if latencies:
        met = "met" if pct(latencies, 99) <= TARGET_P99_MS else "NOT met"
        out.lines.append(f"  target p99 ≤ {TARGET_P99_MS:.0f} ms from detection to frame: {met}")
    out.failures += [f"{n} detections: status {status}" + (" (connection dropped)" if (
        status == -2) else " (rejected or a duplicate)" if status == -1 else "")
        for status, n in statuses.items()]  # fmt: skip
    if missed or wrong:
        out.failures.append(f"{missed} frames missed, {wrong} at the wrong worker")
    if no_case or undispatched:
        out.failures.append(f"{no_case} cameras opened no case, {undispatched} cases were "
                            "not dispatched to a worker")  # fmt: skip
    return out


async def measure(db: str, url: str, servers: list[ServerProcess], setup: Setup,
                  schedule: Schedule, snapshot: bytes) -> Outcome:  # fmt: skip
    ports = [s.port for s in servers]
    run = [Run()]
    t0 = time.perf_counter()
    phones = [
        await phone(ports[i % len(ports)], worker, token, run)
        for i, (worker, token) in enumerate(sorted(setup.tokens.items()))
    ]
    print(f"[{db}] {len(phones)} grid workers' phones connected in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    await warm_up(ports[0], setup.key, setup.cameras)
    pids = [s.proc.pid for s in servers if s.proc]
    before = Cpu.now(pids)
    await send_all(ports, setup.key, schedule.messages, snapshot)
    cpu = Cpu.since(pids, before)
    await asyncio.sleep(STRAGGLERS_S)
    memory = sum(rss_mib(pid) for pid in pids)
    for ws in phones:
        await ws.close()
    return judge(db, url, setup, schedule.messages, run[0], cpu, memory)


def run_db(db: str, args: argparse.Namespace, snapshot: bytes) -> Outcome:
    processes = args.workers or (1 if db == "sqlite" else 2)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(db, tmp) as url:
        t0 = time.perf_counter()
        shapes = build_district(url)
        workers = worker_tokens(url)
        places = place_cameras(url, shapes, args.cameras, set(workers.of_grid))
        servers = [ServerProcess(url, Path(tmp)) for _ in range(processes)]
        try:
            for server in servers:
                server.start()
            setup = set_up(servers[0].url, workers, places, 0.82)
            print(f"[{db}] demo district ({len(shapes)} grids), {len(setup.cameras)} cameras and "
                  f"their zones ready in {time.perf_counter() - t0:.1f} s; {processes} server "
                  f"process(es), hub {'in process' if db == 'sqlite' else 'LISTEN/NOTIFY'}; "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
            print(f"[{db}] automation rule {setup.rule}")
            schedule = Schedule(setup.cameras, args.rate, args.seconds, args.qualifying,
                                not args.no_snapshots)  # fmt: skip
            outcome = asyncio.run(measure(db, url, servers, setup, schedule, snapshot))
        finally:
            for server in servers:
                server.stop()
        print("\n".join(outcome.lines))
        for failure in outcome.failures:
            print(f"  FAILED: {failure}")
        if outcome.failures:
            for server in servers:
                print(f"  the server's log ({server.log_path.name}), its errors:")
                print(server_errors(server.log_path))
    return outcome


def server_errors(path: Path, limit: int = 3) -> str:
    """The last `limit` tracebacks or error lines of a server's log, and how many there were."""
    lines = path.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines)
              if line.startswith("Traceback") or " ERROR " in line or "ERROR:" in line]  # fmt: skip
    shown = []
    for i in starts[-limit:]:
        end = next((j for j in range(i + 1, len(lines)) if j in starts), min(len(lines), i + 40))
        shown += lines[i:end][-25:]
    return "\n".join([f"    ({len(starts)} error entries)", *(f"    {x}" for x in shown)])


# -- the built-in detector --------------------------------------------------------------


@dataclass
class Speed:
    name: str
    frames: int
    wall: float
    cpu: float
    note: str = ""


@contextlib.contextmanager
def timed(speeds: list[Speed], name: str) -> Iterator[Speed]:
    speed = Speed(name, 0, 0.0, 0.0)
    t0, c0 = time.perf_counter(), time.process_time()
    yield speed
    speed.wall, speed.cpu = time.perf_counter() - t0, time.process_time() - c0
    speeds.append(speed)


def detector_speeds(scene: Scene, tmp: Path) -> list[Speed]:
    from cityops.video.detector import CameraWorker, DetectorConfig, FrameSource, SourceFrame

    path = tmp / "street.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), VIDEO_FPS,
                             (WIDTH, HEIGHT))  # fmt: skip
    if not writer.isOpened():
        raise RuntimeError("cv2.VideoWriter cannot write MPEG-4 here")
    for i in range(VIDEO_FRAMES):
        writer.write(scene.frame(i))
    writer.release()
    start = datetime.now(UTC)
    speeds: list[Speed] = []
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with timed(speeds, "decoding alone (FrameSource)") as s, FrameSource(
            path, max_fps=1000, max_width=WIDTH, max_height=HEIGHT, start_time=start
        ) as source:  # fmt: skip
            s.frames = sum(1 for _ in source.frames())
        # Every frame of the 25 fps file: max_fps at the file's rate keeps them all, and
        # keeps the background's history and the hold in seconds as the defaults mean them.
        for name, fps in (("every frame, decoding included", VIDEO_FPS),
                          ("default config (5 fps of the 25)", 5.0)):  # fmt: skip
            found: list[Any] = []
            worker = CameraWorker("CAM-B", path, found.extend, DetectorConfig(max_fps=fps),
                                  start_time=start)  # fmt: skip
            with timed(speeds, name) as s:
                worker.run()
            s.frames = worker.frames_processed
            labels = Counter(d.label for d in found if d.phase == "new")
            s.note = (f"{sum(labels.values())} tracks ({', '.join(labels)}), "
                      f"{len(found)} detections")  # fmt: skip
        # In memory: the default config, frames 0.2 s apart; only process() is timed.
        worker = CameraWorker("CAM-M", path, lambda _: None, DetectorConfig())
        memory = Speed("in memory (CameraWorker.process)", 0, 0.0, 0.0)
        for i in range(0, VIDEO_FRAMES, VIDEO_FPS // 5):
            frame = SourceFrame(i, start + timedelta(seconds=i / VIDEO_FPS), scene.frame(i))
            t0, c0 = time.perf_counter(), time.process_time()
            worker.process(frame)
            memory.wall += time.perf_counter() - t0
            memory.cpu += time.process_time() - c0
            memory.frames += 1
        speeds.append(memory)
    finally:
        cv2.setNumThreads(threads)
    return speeds


def report_detector(speeds: list[Speed]) -> None:
    from cityops.video.detector import HogPeople

    people = "HOG" if HogPeople.available() else "none (this OpenCV has no HOG)"
    print(f"\n[detector] {WIDTH}x{HEIGHT}, {VIDEO_FRAMES} frames at {VIDEO_FPS} fps "
          f"({VIDEO_FRAMES / VIDEO_FPS:.0f} s, MPEG-4 Part 2), OpenCV {cv2.__version__} on one "
          f"thread, people finder {people}")  # fmt: skip
    heads = ["frames", "seconds", "frames/s", "CPU s", "frames/CPU s"]
    line = f"{'':<36}" + "".join(f"{h:>13}" for h in heads)
    print(f"{line}\n{'-' * len(line)}")
    for s in speeds:
        cells = [f"{s.frames}", f"{s.wall:.2f}", f"{s.frames / s.wall:.0f}", f"{s.cpu:.2f}",
                 f"{s.frames / s.cpu:.0f}" if s.cpu else ""]  # fmt: skip
        print(f"{s.name:<36}" + "".join(f"{c:>13}" for c in cells))
    for s in speeds:
        if s.note:
            print(f"  {s.name}: {s.note}")
    default = next(s for s in speeds if s.name.startswith("default"))
    per_camera = default.cpu / (VIDEO_FRAMES / VIDEO_FPS)
    print(f"  one camera at the default 5 fps from a {VIDEO_FPS} fps stream: "
          f"{per_camera:.0%} of a core, so one core serves {1 / per_camera:.0f} cameras "
          f"(decoding this file is cheap: a real H.264 stream costs more)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=int, default=200, help="detections a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--qualifying", type=float, default=0.2,
                        help="share of detections that are new qualifying tracks")  # fmt: skip
    parser.add_argument("--no-snapshots", action="store_true",
                        help="new tracks carry no snapshot")  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=None,
        help="server processes (default: 1 on SQLite, 2 on PostgreSQL)",
    )  # fmt: skip
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--no-detector", action="store_true")
    parts.add_argument("--detector-only", action="store_true")
    args = parser.parse_args()
    if not 0 <= args.qualifying <= 0.9:
        parser.error("--qualifying is a share: 0 to 0.9")
    scene = Scene()
    failed = False
    if not args.detector_only:
        snapshot = snapshot_field(scene)
        print(f"snapshot: a {len(snapshot) * 3 // 4 // 1024} KiB JPEG "
              f"({'on every new track' if not args.no_snapshots else 'not sent'})")  # fmt: skip
        for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            failed |= bool(run_db(db, args, snapshot).failures)
    if not args.no_detector:
        with tempfile.TemporaryDirectory() as tmp:
            report_detector(detector_speeds(scene, Path(tmp)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
