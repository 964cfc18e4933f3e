"""Latency benchmark: from a camera's ingest call to the frame on the right worker's phone.

Starts real servers on a fresh database holding the demo district (640 grids, a grid
worker on duty in each), connects every grid worker over WebSocket (/api/v1/ws), then
posts trusted street-vending detections at a steady RATE (open loop) for SECONDS s each
at 100, 500 and 1,000 events/s. The automatic path accepts, files and dispatches each new
case to the worker on duty in its grid, and the hub pushes it after the commit.

For every detection that opened a case and was dispatched, it measures the time from
sending the POST to the frame arriving at the worker it was dispatched to, and counts
- missed: dispatched, and no frame reached that worker within 3 s of the end;
- wrong: a frame of a case at a worker it was not dispatched to;
- duplicates: the same frame twice at the same worker.

SQLite runs one server process; PostgreSQL two, on ports of their own as behind a proxy,
with frames between them by LISTEN/NOTIFY (the workers are spread over both, and so are
the posts, so most frames cross from one process to the other).

Usage: python bench/latency.py [--db sqlite|postgresql|both] [--rates 100,500,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.serverproc import ServerProcess  # noqa: E402

from ingest import POSTGRES_ADMIN, pct, prepare, read_response, rss_mib  # noqa: E402

# The demo catalog's rules dispatch these camera detections to the grid worker on duty.
CLASSES = ["E0502", "E0501"]


@dataclass
class Workers:
    """The grid workers on duty, their tokens, and which grid each covers."""

    tokens: dict[int, str]
    of_grid: dict[str, int]


def worker_tokens(url: str) -> Workers:
    from cityops.auth.models import Account
    from cityops.auth.service import issue_token
    from cityops.config import Settings
    from cityops.org.models import DutyAssignment

    engine = create_engine(url)
    settings = Settings(database_url=url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        of_grid = dict(
            session.execute(
                select(DutyAssignment.grid_code, DutyAssignment.person_id).where(
                    DutyAssignment.role == "grid_worker"
                )
            ).all()
        )
        tokens = {
            account.person_id: issue_token(
                account, secret=settings.secret_key, ttl=timedelta(hours=2), now=now
            )
            for account in session.scalars(
                select(Account).where(Account.person_id.in_(set(of_grid.values())))
            )
        }
    engine.dispose()
    return Workers(tokens, of_grid)


@dataclass
class Run:
    """What one rate's run sent and what the phones received."""

    sent: dict[int, float] = field(default_factory=dict)  # case id → when its POST was sent
    merged: int = 0
    failed: int = 0
    frames: list[tuple[int, int, int, int | None, float]] = field(default_factory=list)
    # (worker, case id, frame id, assignee in the frame, when it arrived)


async def phone(port: int, worker: int, token: str, run: list[Run]) -> ClientConnection:
    """A worker's phone: connects, logs in, and records every frame into the current run."""
    ws = await connect(f"ws://127.0.0.1:{port}/api/v1/ws", max_queue=None)
    await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
    hello = orjson.loads(await ws.recv())
    assert hello["type"] == "hello", hello

    async def listen() -> None:
        async for message in ws:
            arrived = time.perf_counter()
            frame = orjson.loads(message)
            if frame["type"] == "case":
                case = frame["case"]
                run[0].frames.append((worker, case["id"], frame["id"], case["assignee_id"],
                                      arrived))  # fmt: skip

    asyncio.get_running_loop().create_task(listen())
    return ws


async def post_at_rate(
    ports: list[int], key: str, boxes: list[tuple[float, float, float, float]],
    rate: int, seconds: float, run: Run, connections: int = 32,
) -> None:  # fmt: skip
    """Open loop: detection i is sent at start + i/rate; the response tells its case."""
    rng = random.Random(rate)
    total = int(rate * seconds)
    head = (f"POST /api/v1/events HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\n").encode()  # fmt: skip
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def sender(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (event := await queue.get()) is not None:
            sent = time.perf_counter()
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(event) + event)
            status, body = await read_response(reader)
            result = orjson.loads(body)
            if status not in (200, 201):
                run.failed += 1
            elif result["status"] == "merged":
                run.merged += 1
            else:
                run.sent[result["case_id"]] = sent
        writer.close()

    tasks = [asyncio.create_task(sender(ports[i % len(ports)])) for i in range(connections)]
    occurred = datetime.now(UTC).isoformat()
    start = time.perf_counter() + 0.1
    for i in range(total):
        x0, y0, x1, y1 = rng.choice(boxes)
        body = orjson.dumps({
            "source": "bench", "external_id": uuid.uuid4().hex, "kind": "camera",
            "location": {"lon": rng.uniform(x0, x1), "lat": rng.uniform(y0, y1)},
            "occurred_at": occurred, "class_code": CLASSES[i % 2], "confidence": 0.95,
            "description": "视频识别：占道经营",
        })  # fmt: skip
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(body)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)


def report(db: str, rate: int, run: Run, dispatched_to: dict[int, int]) -> None:
    arrivals: dict[tuple[int, int], float] = {}
    wrong = 0
    seen: Counter[tuple[int, int, int]] = Counter()
    for worker, case_id, frame_id, assignee, arrived in run.frames:
        seen[(worker, case_id, frame_id)] += 1
        if assignee != worker:
            wrong += 1
        arrivals.setdefault((worker, case_id), arrived)
    duplicates = sum(n - 1 for n in seen.values())
    latencies, missed = [], 0
    for case_id, sent in run.sent.items():
        worker = dispatched_to.get(case_id)
        if worker is None:
            continue  # not dispatched to a worker (no one on duty there)
        arrived = arrivals.get((worker, case_id))
        if arrived is None:
            missed += 1
        else:
            latencies.append((arrived - sent) * 1000)
    if not latencies:
        print(f"[{db}] {rate}/s: nothing was delivered ({missed} missed)")
        return
    print(f"[{db}] {rate:>5}/s: {len(run.sent)} cases dispatched ({run.merged} merged, "
          f"{run.failed} failed); POST → worker's frame p50 {pct(latencies, 50):.1f} ms, "
          f"p95 {pct(latencies, 95):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms; missed {missed}, wrong worker {wrong}, "
          f"duplicates {duplicates}")  # fmt: skip


def assignees(url: str, case_ids: list[int]) -> dict[int, int]:
    from cityops.cases.models import Case

    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(Case.id, Case.assignee_id).where(
                Case.id.in_(case_ids), Case.assignee_id.is_not(None)
            )
        ).all()
    engine.dispose()
    return {int(case_id): int(assignee) for case_id, assignee in rows}


async def measure(
    db: str, url: str, servers: list[ServerProcess], key: str,
    boxes: list[tuple[float, float, float, float]], rates: list[int], seconds: float,
) -> None:  # fmt: skip
    workers = worker_tokens(url)
    ports = [s.port for s in servers]
    current = [Run()]
    t0 = time.perf_counter()
    phones = [
        await phone(ports[i % len(ports)], worker, token, current)
        for i, (worker, token) in enumerate(sorted(workers.tokens.items()))
    ]
    print(f"[{db}] {len(phones)} workers connected in {time.perf_counter() - t0:.1f} s")
    for rate in rates:
        run = current[0] = Run()
        await post_at_rate(ports, key, boxes, rate, seconds, run)
        await asyncio.sleep(3.0)  # stragglers
        report(db, rate, run, assignees(url, list(run.sent)))
    memory = sum(rss_mib(s.proc.pid) for s in servers if s.proc)
    print(f"[{db}] server memory with {len(phones)} connections: {memory:.0f} MiB RSS")
    for ws in phones:
        await ws.close()


def run_db(db: str, rates: list[int], seconds: float, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        name = f"cityops_latency_{os.getpid()}"
        if db == "sqlite":
            url = f"sqlite:///{tmp}/latency.db"
        else:
            admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        key, boxes = prepare(url)
        servers = [ServerProcess(url, Path(tmp)) for _ in range(workers)]
        for server in servers:
            server.start()
        print(f"[{db}] {workers} server process(es), hub: "
              f"{'in process' if db == 'sqlite' else 'LISTEN/NOTIFY'}")  # fmt: skip
        try:
            asyncio.run(measure(db, url, servers, key, boxes, rates, seconds))
        finally:
            for server in servers:
                server.stop()
            if db == "postgresql":
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rates", default="100,500,1000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--workers", type=int, default=None,
        help="server processes (default: 1 on SQLite, 2 on PostgreSQL)",
    )  # fmt: skip
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run_db(db, rates, args.seconds, args.workers or (1 if db == "sqlite" else 2))


if __name__ == "__main__":
    main()
