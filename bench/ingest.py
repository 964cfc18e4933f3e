"""Ingest benchmark: batch throughput and single-event latency over HTTP, SQLite and PostgreSQL.

Starts a real server (`cityops serve`) on a fresh database holding the demo district's
geography, catalog and staff, then:
  1. single events at a steady RATE events/s for SECONDS s (open loop: requests are sent on
     schedule whether or not earlier ones have returned), p50/p95/p99/max of the time from
     sending POST /api/v1/events to its response, which is sent only after the commit —
     on the demo district with the open cases of its day, as in steady operation;
  2. batch ingest: POST batches of BATCH events as fast as CLIENTS concurrent senders can
     (one per server process by default), events/s (these batches leave tens of thousands
     of open cases behind, far beyond a real day);
  3. the server's resident memory afterwards.

Usage: python bench/ingest.py [--db sqlite|postgresql|both] [--rate 500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from queue import Empty, Queue

import httpx
import orjson
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serverproc import ServerProcess  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "CITYOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)
CLASSES = ["E0102", "E0101", "E0103", "E0502", "E0501", "E0201", "P0101", "P0110"]


def prepare(url: str) -> tuple[str, list[tuple[float, float, float, float]]]:
    """Migrate, build the demo district without history, and make an API key."""
    from cityops.auth.service import create_api_key
    from cityops.bootstrap import build_context
    from cityops.config import Settings
    from cityops.demo.service import build_demo
    from cityops.migrate import upgrade
    from cityops.org.models import Region

    # The demo issues enforcement documents: their PDFs go to a folder of the run's own.
    blobs = Path(tempfile.mkdtemp(prefix="cityops-bench-blobs-"))
    settings = Settings(database_url=url, storage_dir=blobs)
    context = build_context(settings)
    upgrade(context.engine)
    build_demo(context, until=date(2026, 11, 24), seed=7, days=0)
    with Session(context.engine) as session:
        _, key = create_api_key(session, name="bench", sources=["bench"], trusted=True,
                                now=context.clock.now())  # fmt: skip
        session.commit()
        boxes = [
            (r.min_lon, r.min_lat, r.max_lon, r.max_lat)
            for r in session.scalars(select(Region).where(Region.level == "grid"))
        ]
    context.engine.dispose()
    return key, boxes  # type: ignore[return-value]


class Events:
    """Distinct events spread over the district's grids (no two merge)."""

    def __init__(self, boxes: list[tuple[float, float, float, float]]) -> None:
        self.boxes = boxes
        self.n = 0
        self.rng = random.Random(1)

    def next(self) -> dict[str, object]:
        self.n += 1
        x0, y0, x1, y1 = self.rng.choice(self.boxes)
        return {
            "source": "bench",
            "external_id": f"b{self.n}",
            "kind": "camera",
            "location": {"lon": self.rng.uniform(x0, x1), "lat": self.rng.uniform(y0, y1)},
            "occurred_at": "2026-11-24T01:00:00Z",
            "class_code": self.rng.choice(CLASSES),
            "description": "bench",
            "confidence": 0.5,
        }


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the workers of `serve --workers`)."""
    total_kib = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(proc.name) == pid or int(fields.get("PPid", "0").strip() or 0) == pid:
            total_kib += int(fields.get("VmRSS", "0 kB").split()[0])
    return total_kib / 1024


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of the next HTTP/1.1 response on a keep-alive connection."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def single_rate(
    ports: list[int], key: str, events: Events, rate: int, seconds: float, connections: int = 64
) -> tuple[list[float], int]:
    """Open loop: request i is due at start + i/rate whatever happened to the others.

    A light client of raw HTTP/1.1 on keep-alive connections, so that the client's own cost
    stays small beside the server's on a shared 2-core machine. Latency runs from the
    moment a request was due (not when a connection got free), so a queue inside the
    client counts against the server as it would for a real source.
    """
    total = int(rate * seconds)
    bodies = [orjson.dumps(events.next()) for _ in range(total)]
    head = (f"POST /api/v1/events HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\n").encode()  # fmt: skip
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def worker(port: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (job := await queue.get()) is not None:
            due, body = job
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status, _ = await read_response(reader)
            latencies.append((time.perf_counter() - due) * 1000)
            errors += status not in (200, 201)
        writer.close()

    workers = [asyncio.create_task(worker(ports[i % len(ports)])) for i in range(connections)]
    start = time.perf_counter() + 0.2
    for i, body in enumerate(bodies):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, body))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, errors


def send_batches(urls: list[str], key: str, bodies: list[bytes], warm: list[bytes]) -> float:
    """POST the batches from one connection per warm-up body, spread evenly over the
    servers (as a proxy would); seconds from first to last."""
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    queue: Queue[bytes] = Queue()
    for body in bodies:
        queue.put(body)

    def client(url: str, warm_body: bytes) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=300) as http:
            http.post("/api/v1/events", content=warm_body)
            barrier.wait()
            while True:
                try:
                    body = queue.get_nowait()
                except Empty:
                    return
                r = http.post("/api/v1/events", content=body)
                assert r.status_code == 200, r.text[:300]

    barrier = threading.Barrier(len(warm) + 1)
    threads = [threading.Thread(target=client, args=(urls[i % len(urls)], w))
               for i, w in enumerate(warm)]  # fmt: skip
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def run(
    db: str, rate: int, seconds: float, batch: int, batches: int, workers: int, clients: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            name = f"cityops_bench_{os.getpid()}"
            admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        t0 = time.perf_counter()
        key, boxes = prepare(url)
        print(f"[{db}] district ready in {time.perf_counter() - t0:.1f} s ({len(boxes)} grids), "
              f"{workers} server process(es)")  # fmt: skip
        # Separate processes on ports of their own, as behind a proxy: the workers of one
        # `serve --workers N` share a socket, and the kernel may hand every connection of
        # a short benchmark to the same one.
        servers = [ServerProcess(url, Path(tmp)) for _ in range(workers)]
        for server in servers:
            server.start()
        events = Events(boxes)
        ports = [server.port for server in servers]
        try:
            lat, failed = asyncio.run(single_rate(ports, key, events, rate, seconds))
            print(f"[{db}] single events at {rate}/s for {seconds:.0f} s ({len(lat)} sent, "
                  f"{failed} failed): "
                  f"p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, "
                  f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms")  # fmt: skip
            # The bodies are ready before the clock starts, as a source's data would be.
            bodies = [orjson.dumps([events.next() for _ in range(batch)])
                      for _ in range(batches + clients)]  # fmt: skip
            urls = [server.url for server in servers]
            elapsed = send_batches(urls, key, bodies[clients:], bodies[:clients])
            print(f"[{db}] batch ingest: {batches} × {batch} events in {elapsed:.2f} s = "
                  f"{batches * batch / elapsed:,.0f} events/s")  # fmt: skip
            memory = sum(rss_mib(server.proc.pid) for server in servers if server.proc)
            print(f"[{db}] server memory: {memory:.0f} MiB RSS")
            retried = sum(server.log_path.read_text(errors="replace").count("transaction retried")
                          for server in servers)  # fmt: skip
            print(f"[{db}] ingest transactions rolled back and retried (deadlock or race): "
                  f"{retried}")  # fmt: skip
            engine = create_engine(url)
            with Session(engine) as session:
                from cityops.ingest.models import SourceEvent

                stored = session.scalar(select(func.count()).select_from(SourceEvent)
                                        .where(SourceEvent.source == "bench"))  # fmt: skip
            engine.dispose()
            print(f"[{db}] events stored from the benchmark: {stored} (sent {events.n})")
        finally:
            for server in servers:
                server.stop()
            if db == "postgresql":
                admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes, each on its own port")  # fmt: skip
    parser.add_argument("--clients", type=int, default=None,
                        help="concurrent batch senders (default: one per process)")  # fmt: skip
    args = parser.parse_args()
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run(db, args.rate, args.seconds, args.batch, args.batches, args.workers,
            args.clients or args.workers)  # fmt: skip


if __name__ == "__main__":
    main()
