"""OGC API – Features benchmark: pages of 1,000 features by bbox from a large layer, served
by our `/ogcapi` and by pygeoapi on the same features, in the same run.

    .venv/bin/python bench/features.py                       # 100,000 polygons, SQLite
    .venv/bin/python bench/features.py --db postgresql --seconds 20
    .venv/bin/python bench/features.py --explain --no-pygeoapi  # and the bbox query's plan

Generates a layer of quadrilaterals (a jittered lattice over 0.1° × 0.1° of Chongqing),
stores it as a one-map layer in a fresh database and writes the same features to a
GeoJSON file. Then, for each server in turn (a real process each, uvicorn both), clients
ask random boxes that hold about 2,000 features, each for its first page of 1,000 and the
page its `next` link gives, for `--seconds`; it prints requests, items/second and p50/p95
per page, and the ratio of ours to pygeoapi's (the target is ≥ 3×).

pygeoapi runs from a virtual environment of its own (`--pygeoapi-venv`, made with pip on
first use): its wheel installs a top-level `tests` package that would shadow ours in the
project's environment. It reads the GeoJSON file through its GeoJSON provider: the only
one of its feature providers that runs here (its SQLite/GeoPackage provider needs
SpatiaLite, its PostgreSQL provider PostGIS, its OGR provider GDAL's Python bindings, none
installed). That provider
loads and filters the whole file on every request, so the ratio says how far a database
behind the API is ahead of a file, not how far pygeoapi on PostGIS would be. Without
pygeoapi installed, ours is measured alone.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import shapely
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.serverproc import ServerProcess, free_port  # noqa: E402

from cityops.migrate import upgrade  # noqa: E402
from cityops.onemap.models import Layer, LayerFeature, LayerVersion  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "CITYOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)
EXTENT = (106.50, 29.50, 106.60, 29.60)
CLASSES = ["0101", "0102", "0301", "0701", "0702", "0801", "1001", "1207"]
NAME = "bench-plan"
PAGE = 1000


def polygons(n: int, seed: int = 7) -> tuple[np.ndarray[Any, Any], list[str]]:
    """`n` quadrilaterals on a lattice over EXTENT, corners jittered, with classes."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    step_x = (EXTENT[2] - EXTENT[0]) / side
    step_y = (EXTENT[3] - EXTENT[1]) / side
    i = np.arange(n)
    x0 = EXTENT[0] + (i % side) * step_x
    y0 = EXTENT[1] + (i // side) * step_y
    jitter = rng.uniform(0.05, 0.25, size=(n, 4, 2))
    rings = np.stack([
        np.column_stack([x0 + jitter[:, 0, 0] * step_x, y0 + jitter[:, 0, 1] * step_y]),
        np.column_stack([x0 + (1 - jitter[:, 1, 0]) * step_x, y0 + jitter[:, 1, 1] * step_y]),
        np.column_stack([x0 + (1 - jitter[:, 2, 0]) * step_x,
                         y0 + (1 - jitter[:, 2, 1]) * step_y]),
        np.column_stack([x0 + jitter[:, 3, 0] * step_x, y0 + (1 - jitter[:, 3, 1]) * step_y]),
    ], axis=1)  # fmt: skip
    geoms = shapely.polygons(rings)
    classes = [CLASSES[k] for k in rng.integers(0, len(CLASSES), size=n)]
    return geoms, classes


def store(url: str, geoms: np.ndarray[Any, Any], classes: list[str]) -> None:
    """The features as a one-map layer's current version, inserted in bulk."""
    engine = create_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    bounds = shapely.bounds(geoms)
    wkbs = shapely.to_wkb(geoms)
    with Session(engine) as session:
        layer = Layer(name=NAME, title="基准规划图层", kind="plan", class_field="DLBM",
                      class_scheme="2023", current_version=1, created_at=now,
                      updated_at=now)  # fmt: skip
        session.add(layer)
        session.flush()
        total = shapely.total_bounds(geoms)
        version = LayerVersion(
            layer_id=layer.id, version=1, source="generated", source_format="none",
            source_crs="EPSG:4490", fields=[], min_lon=total[0], min_lat=total[1],
            max_lon=total[2], max_lat=total[3], feature_count=len(geoms), area_m2=0.0,
            imported_at=now,
        )  # fmt: skip
        session.add(version)
        session.flush()
        chunk = 10_000
        for start in range(0, len(geoms), chunk):
            rows = [
                {"version_id": version.id, "fid": k + 1, "class_code": classes[k],
                 "source_class": classes[k], "properties": {"DLMC": f"地类{classes[k]}"},
                 "geometry": wkbs[k], "min_lon": bounds[k, 0], "min_lat": bounds[k, 1],
                 "max_lon": bounds[k, 2], "max_lat": bounds[k, 3], "area_m2": 0.0}
                for k in range(start, min(start + chunk, len(geoms)))
            ]  # fmt: skip
            session.execute(insert(LayerFeature), rows)
        session.commit()
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE onemap_features"))
            session.commit()
    engine.dispose()


def explain(url: str, features: int) -> None:
    """The plan of one page's count by bbox, as the database runs it: through the spatial
    index (SQLite's R*Tree, PostgreSQL's GiST index on the box)."""
    from cityops.onemap import features as api

    engine = create_engine(url)
    with Session(engine) as session:
        coll = api.collection(session, NAME, None)
        box = api.BBox(*(float(v) for v in boxes(1, features)[0]))
        count = select(func.count()).select_from(LayerFeature)
        query = count.where(*api.located(session, coll, None, box))
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        sqlite = engine.dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
        print(f"plan of a page's count in the box {box}:")
        for row in session.execute(text(prefix + sql)):
            print(f"    {row[-1]}")
    engine.dispose()


def write_geojson(path: Path, geoms: np.ndarray[Any, Any], classes: list[str]) -> None:
    texts = shapely.to_geojson(geoms)
    with path.open("wb") as f:
        f.write(b'{"type":"FeatureCollection","features":[')
        for k, geometry in enumerate(texts):
            if k:
                f.write(b",")
            f.write(orjson.dumps({
                "type": "Feature", "id": k + 1, "geometry": orjson.Fragment(geometry),
                "properties": {"fid": k + 1, "class_code": classes[k],
                               "DLMC": f"地类{classes[k]}"},
            }))  # fmt: skip
        f.write(b"]}")


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: 'OSM'}}
logging:
  level: ERROR
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: https://example.org
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x,
            postalcode: x, country: x, phone: x, fax: x, email: x@example.org, url: x,
            hours: x, instructions: x, role: pointOfContact}}
resources:
  {name}:
    type: collection
    title: bench
    description: bench
    keywords: [bench]
    extents:
      spatial: {{bbox: [106.5, 29.5, 106.6, 29.6],
                crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: fid
"""


class Pygeoapi:
    """pygeoapi's Starlette app under uvicorn, on the GeoJSON file."""

    def __init__(self, venv: Path, workdir: Path, data: Path) -> None:
        self.venv = venv
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "pygeoapi.yml"
        self.config.write_text(PYGEOAPI_CONFIG.format(port=self.port, name=NAME, data=data))
        self.openapi = workdir / "pygeoapi-openapi.yml"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYGEOAPI_CONFIG": str(self.config),
               "PYGEOAPI_OPENAPI": str(self.openapi)}  # fmt: skip
        bin_dir = self.venv / "bin"
        subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(self.config),
                        "--output-file", str(self.openapi)], env=env, check=True,
                       capture_output=True)  # fmt: skip
        log = (self.workdir / "pygeoapi.log").open("ab")
        self.proc = subprocess.Popen(
            [str(bin_dir / "python"), "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--port",
             str(self.port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/conformance?f=json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("pygeoapi did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def boxes(n: int, features: int, seed: int = 11) -> list[tuple[float, ...]]:
    """Random square boxes inside EXTENT, each holding about 2 × PAGE features."""
    side = (EXTENT[2] - EXTENT[0]) * np.sqrt(2.2 * PAGE / features)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = rng.uniform(EXTENT[0], EXTENT[2] - side)
        y = rng.uniform(EXTENT[1], EXTENT[3] - side)
        out.append((round(x, 6), round(y, 6), round(x + side, 6), round(y + side, 6)))
    return out


def measure(items_url: str, seconds: float, clients: int, features: int) -> dict[str, float]:
    """Clients ask boxes (page 1, then its `next`) until `seconds` have passed."""
    asked = boxes(10_000, features)
    lock = threading.Lock()
    times: list[float] = []
    counts = {"items": 0, "requests": 0, "errors": 0}
    stop_at = time.perf_counter() + seconds

    def client(k: int) -> None:
        with httpx.Client(timeout=120) as http:
            n = k
            while time.perf_counter() < stop_at:
                bbox = ",".join(map(str, asked[n % len(asked)]))
                n += clients
                url: str | None = f"{items_url}?bbox={bbox}&limit={PAGE}&f=json"
                for _ in range(2):
                    if url is None or time.perf_counter() >= stop_at:
                        break
                    t = time.perf_counter()
                    r = http.get(url, headers={"Accept": "application/geo+json"})
                    spent = time.perf_counter() - t
                    if r.status_code != 200:
                        with lock:
                            counts["errors"] += 1
                        break
                    body = r.json()
                    nexts = [ln["href"] for ln in body["links"] if ln["rel"] == "next"]
                    with lock:
                        times.append(spent)
                        counts["items"] += len(body["features"])
                        counts["requests"] += 1
                    url = nexts[0] if nexts else None

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p / 100 * len(times)))] * 1000 if times else 0.0

    return {"items_per_s": counts["items"] / elapsed, "requests": counts["requests"],
            "errors": counts["errors"], "p50_ms": pct(50), "p95_ms": pct(95),
            "elapsed": elapsed}  # fmt: skip


def report(name: str, figures: dict[str, float]) -> None:
    print(f"{name:>9}: {figures['requests']:.0f} pages in {figures['elapsed']:.1f} s "
          f"({figures['errors']:.0f} errors): {figures['items_per_s']:,.0f} items/s; "
          f"page p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")  # fmt: skip


PYGEOAPI_PINS = ["pygeoapi==0.21.0", "starlette==1.10.0", "uvicorn==0.54.0"]


def pygeoapi_venv(venv: Path) -> bool:
    """A virtual environment with pygeoapi, made with pip if there is none; False if
    pygeoapi cannot be installed."""
    if (venv / "bin" / "pygeoapi").exists():
        return True
    print(f"installing {' '.join(PYGEOAPI_PINS)} into {venv} ...")
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
    if made.returncode == 0:
        made = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PYGEOAPI_PINS],
                              capture_output=True)  # fmt: skip
    if made.returncode != 0:
        print(made.stderr.decode(errors="replace")[-2000:])
    return made.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-pygeoapi", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the bbox query's plan")
    parser.add_argument(
        "--pygeoapi-venv",
        type=Path,
        default=Path.home() / ".cache" / "cityops-bench" / "pygeoapi-venv",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.db == "sqlite":
            run(args, f"sqlite:///{tmp}/bench.db", tmp)
            return
        db_name = f"cityops_bench_features_{os.getpid()}"
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        try:
            run(args, POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{db_name}", tmp)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    """Store the layer at `url`, then measure ours and pygeoapi's."""
    t0 = time.perf_counter()
    geoms, classes = polygons(args.features)
    store(url, geoms, classes)
    if args.explain:
        explain(url, args.features)
    data = tmp / "features.geojson"
    write_geojson(data, geoms, classes)
    print(f"{args.features:,} polygons stored ({args.db}) and written as GeoJSON "
          f"({data.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s; "
          f"{args.clients} clients, pages of {PAGE} by bbox (about {2.2 * PAGE:.0f} "
          f"features a box), {args.seconds:.0f} s each")  # fmt: skip
    ours: dict[str, float] | None = None
    theirs: dict[str, float] | None = None
    server = ServerProcess(url, tmp)
    server.start()
    try:
        items = f"{server.url}/ogcapi/collections/{NAME}/items"
        measure(items, 2, 1, args.features)  # warm up
        ours = measure(items, args.seconds, args.clients, args.features)
        report("cityops", ours)
    finally:
        server.stop()
    if args.no_pygeoapi or not pygeoapi_venv(args.pygeoapi_venv):
        print("pygeoapi not installed (or --no-pygeoapi): ours measured alone")
    else:
        peer = Pygeoapi(args.pygeoapi_venv, tmp, data)
        peer.start()
        try:
            items = f"{peer.url}/collections/{NAME}/items"
            theirs = measure(items, args.seconds, args.clients, args.features)
            report("pygeoapi", theirs)
        finally:
            peer.stop()
    if ours and theirs and theirs["items_per_s"] > 0:
        ratio = ours["items_per_s"] / theirs["items_per_s"]
        print(f"ratio: {ratio:.1f}× pygeoapi's items/s (target ≥ 3×)")


if __name__ == "__main__":
    main()
