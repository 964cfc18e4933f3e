"""Vector tile benchmark: the tiles of a large layer at a city overview zoom and at street
zoom, served by our `/ogcapi` (a real server process), cold and from the cache.

    .venv/bin/python bench/tiles.py                         # 100,000 polygons, SQLite
    .venv/bin/python bench/tiles.py --db postgresql

The layer is the one `bench/features.py` makes: 100,000 jittered quadrilaterals over
0.1° × 0.1° of Chongqing (about 30 m apart), stored as a one-map layer's version. For each
zoom it asks every tile that covers the layer, at the URL the tileset's link template gives
(pinned to the version):

1. cold, one client: each tile once on a freshly started server (nothing cached), the time
   to encode it; p50/p99 and the tiles' size;
2. warm, one client: the same tiles again, from the in-process cache;
3. revalidated: the same with If-None-Match, answered 304 without encoding;
4. throughput, `--clients` clients: every tile once on a fresh server (cold tiles/s),
   then again (cached tiles/s).

Client and server share the machine; the figures are the server's times as the client
sees them, without decoding the tiles.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.features import EXTENT, NAME, POSTGRES_ADMIN, polygons, store  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402

WMQ = "WebMercatorQuad"
# A city overview of the 10-km layer (zoom 12 shows it whole, zoom 13 in a few tiles) and
# a street zoom (a tile about 600 m across).
ZOOMS = (12, 13, 16)
Address = tuple[int, int, int]  # zoom, row, column


def covering(z: int) -> list[Address]:
    """Every tile at zoom `z` that the layer's extent meets, as (z, row, col)."""
    n = 2**z

    def col(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def row(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    return [(z, r, c) for r in range(row(EXTENT[3]), row(EXTENT[1]) + 1)
            for c in range(col(EXTENT[0]), col(EXTENT[2]) + 1)]  # fmt: skip


def template(server: ServerProcess) -> str:
    """The tile URL template, as the tileset's `item` link gives it."""
    tileset = httpx.get(f"{server.url}/ogcapi/collections/{NAME}/tiles/{WMQ}", timeout=30)
    tileset.raise_for_status()
    (item,) = [ln for ln in tileset.json()["links"] if ln["rel"] == "item"]
    return str(item["href"])


def fetch(
    url: str, addresses: list[Address], clients: int, known: dict[Address, str] | None = None
) -> dict[str, Any]:
    """Each tile once, shared among `clients` threads (with If-None-Match where `known`
    gives the tile's ETag); times in ms, sizes, statuses and the ETags."""
    lock = threading.Lock()
    times: list[float] = []
    sizes: list[int] = []
    statuses: dict[int, int] = {}
    tags: dict[Address, str] = {}
    queue = list(addresses)

    def client() -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    z, r, c = queue.pop()
                href = url.format(tileMatrix=z, tileRow=r, tileCol=c)
                headers = {"If-None-Match": known[(z, r, c)]} if known else {}
                t = time.perf_counter()
                response = http.get(href, headers=headers)
                spent = (time.perf_counter() - t) * 1000
                with lock:
                    times.append(spent)
                    sizes.append(len(response.content))
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    tags[(z, r, c)] = response.headers.get("etag", "")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p / 100 * len(times)))] if times else 0.0

    return {"n": len(times), "p50": pct(50), "p99": pct(99), "max": times[-1] if times else 0,
            "tiles_per_s": len(times) / elapsed, "kib": sum(sizes) / max(1, len(sizes)) / 1024,
            "statuses": statuses, "tags": tags}  # fmt: skip


def line(label: str, f: dict[str, Any]) -> str:
    codes = ", ".join(f"{k}×{v}" for k, v in sorted(f["statuses"].items()))
    return (f"  {label:<22} {f['n']:>4} tiles  p50 {f['p50']:7.1f} ms  p99 {f['p99']:7.1f} ms"
            f"  {f['tiles_per_s']:8.1f} tiles/s  {f['kib']:7.1f} KiB  ({codes})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.db == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            db_name = f"cityops_bench_tiles_{os.getpid()}"
            admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db_name}"'))
            url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
        tiles = {z: covering(z) for z in ZOOMS}
        everything = [a for z in ZOOMS for a in tiles[z]]
        try:
            t0 = time.perf_counter()
            geoms, classes = polygons(args.features)
            store(url, geoms, classes)
            print(f"{args.features:,} polygons stored ({args.db}) in "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
            server = ServerProcess(url, tmp)
            server.start()
            try:
                href = template(server)
                print(f"tile URL template: {href}")
                for z in ZOOMS:
                    print(f"zoom {z}:")
                    cold = fetch(href, tiles[z], 1)
                    print(line("cold, 1 client", cold))
                    print(line("cached, 1 client", fetch(href, tiles[z], 1)))
                    print(line("304, 1 client", fetch(href, tiles[z], 1, cold["tags"])))
            finally:
                server.stop()
            server = ServerProcess(url, tmp)  # a new process: nothing cached
            server.start()
            try:
                href = template(server)
                print(f"all {len(everything)} tiles of zooms {ZOOMS}, {args.clients} clients:")
                print(line("cold", fetch(href, everything, args.clients)))
                print(line("cached", fetch(href, everything, args.clients)))
            finally:
                server.stop()
        finally:
            if args.db == "postgresql":
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
