"""Planning-conflict overlay benchmark: the engine against geopandas.overlay.

    .venv/bin/python bench/conflicts.py                      # 200,000 parcels a plan
    .venv/bin/python bench/conflicts.py --parcels 1000000
    .venv/bin/python bench/conflicts.py --parcels 1000000 --no-peer --stream
    .venv/bin/python bench/conflicts.py --boundary           # outside an urban boundary

Generates three plans of the same ground around Chongqing (≈106.55°E, 29.55°N) as
segmentized Voronoi cells of about one hectare each, with a land-use class per cell drawn
from a weighted list. The plans share a base of seeds but each moves every seed by a few
metres and redraws a share of them, so their boundaries differ (and thin slivers appear along
edges that nearly agree), and each keeps the base's class for most cells. Layers are given to
the engine in CGCS2000 lon/lat (EPSG:4490), as plans arrive.

Runs, in one process: the engine on plans 1 and 2 (one and two threads), then
`geopandas.overlay(how="intersection")` on the same two layers with the same class-pair
filter, checks that both find the same conflict area (engine's kept + dropped slivers against
the peer's pieces, both measured with the engine's own area function and projection, within
1e-6 relative), compares that area function with pyproj's geodesic area on the engine's
patches, and runs the engine on all three plans (three pairs). Prints time, peak memory (RSS)
of each step, parcels/s and the ratio against geopandas.

`--stream` adds the runs that hand each chunk to a callback and keep only the totals
(`keep=False`), with their peak memory above the inputs against the runs that keep every
patch. `--boundary` adds an urban development boundary (a few large polygons, one with a
hole) and times urban construction outside it (A−B, an outside rule) against
`geopandas.overlay(how="difference")`.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityops.onemap.conflicts import (  # noqa: E402
    ConflictReport,
    Layer,
    ellipsoidal_area,
    find_conflicts,
    geodesic_area,
    reproject,
)

ZONE = 4545  # CGCS2000 3° Gauss-Krüger, CM 108°E: where the cells are drawn
CENTRE = (106.55, 29.55)
PARCEL_M2 = 10_000  # mean cell: about a hectare
SEGMENT_M = 20.0  # segmentize: digitised boundaries have many vertices

# First-level classes of the 2023 guide with rough shares of a city's outskirts.
CLASSES = {"01": 20, "02": 5, "03": 22, "04": 4, "05": 2, "06": 2, "07": 14, "08": 4, "09": 4,
           "10": 5, "11": 2, "12": 6, "13": 1, "14": 3, "16": 1, "17": 3, "23": 2}  # fmt: skip
BUILT = {"06", "07", "08", "09", "10", "11", "12", "13", "16"}
URBAN = {"07", "08", "09", "10", "11"}
ECOLOGICAL = {"03", "04", "05"}
BOUNDARY = "line:urban_boundary"
# (share of seeds moved by a few metres, jitter σ in m, share redrawn, share of classes kept)
PLANS = [(0.0, 0.0, 0.0, 1.0), (1.0, 2.0, 0.25, 0.8), (1.0, 3.0, 0.35, 0.7)]


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str = "overlap"


def rule_for(a: str, b: str) -> Rule | None:
    for built, other in ((a, b), (b, a)):
        if built in BUILT and other == "01":
            return Rule("construction on farmland")
        if built in BUILT and other in ECOLOGICAL:
            return Rule("construction on ecological land")
    return None


def outside_rule_for(a: str, b: str) -> Rule | None:
    return Rule("urban outside the boundary", "outside") if a in URBAN and b == BOUNDARY else None


def make_plans(n: int, seed: int = 20261126) -> list[Layer]:
    rng = np.random.default_rng(seed)
    side = math.sqrt(n * PARCEL_M2)
    to_zone = Transformer.from_crs(4490, ZONE, always_xy=True)
    to_lonlat = Transformer.from_crs(ZONE, 4490, always_xy=True)
    cx, cy = to_zone.transform(*CENTRE)
    frame = shapely.box(0, 0, side, side)
    codes = np.array(list(CLASSES))
    weights = np.array(list(CLASSES.values()), dtype=float)
    base = rng.uniform(0, side, (n, 2))
    base_class = rng.choice(codes, size=n, p=weights / weights.sum())
    layers = []
    for k, (moved, sigma, redrawn, kept) in enumerate(PLANS):
        seeds = base + rng.normal(0, sigma, base.shape) * (rng.random((n, 1)) < moved)
        fresh = rng.random(n) < redrawn
        seeds[fresh] = rng.uniform(0, side, (int(fresh.sum()), 2))
        seeds = np.clip(seeds, 0, side)
        classes = np.where(
            rng.random(n) < kept, base_class, rng.choice(codes, size=n, p=weights / weights.sum())
        )
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
        )
        cells = shapely.clip_by_rect(cells, 0, 0, side, side)
        cells = shapely.segmentize(cells, SEGMENT_M)
        cells = shapely.transform(cells, lambda xy: xy + np.array([cx - side / 2, cy - side / 2]))
        geoms = reproject(cells, to_lonlat)
        ids = np.arange(n, dtype=np.int64) + (k + 1) * 10_000_000
        layers.append(Layer(f"plan{k + 1}", geoms, classes, ids))
    return layers


def make_boundary(n: int, seed: int = 20261127) -> Layer:
    """Five town areas covering about half the ground, one with a park cut out of it,
    digitised every 20 m (a few thousand vertices each)."""
    rng = np.random.default_rng(seed)
    side = math.sqrt(n * PARCEL_M2)
    to_zone = Transformer.from_crs(4490, ZONE, always_xy=True)
    cx, cy = to_zone.transform(*CENTRE)
    towns = shapely.union_all(
        shapely.buffer(shapely.points(rng.uniform(0.15, 0.85, (5, 2)) * side), 0.12 * side)
    )
    park = shapely.buffer(shapely.centroid(shapely.get_parts(towns)[0]), 0.05 * side)
    shapes = shapely.get_parts(shapely.difference(towns, park))
    shapes = shapely.segmentize(shapely.clip_by_rect(shapes, 0, 0, side, side), SEGMENT_M)
    shapes = shapely.transform(shapes, lambda xy: xy + np.array([cx - side / 2, cy - side / 2]))
    geoms = reproject(shapes, Transformer.from_crs(ZONE, 4490, always_xy=True))
    return Layer("boundary", geoms, np.full(len(geoms), BOUNDARY), np.arange(len(geoms)))


def rss_mib(field: str = "VmRSS") -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Linux resets the peak RSS (VmHWM) when 5 is written to clear_refs."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def release() -> None:
    """Hand freed heap memory back to the system, so that a step's peak over what the
    process holds before it is that step's own (glibc keeps freed memory otherwise)."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measured(label: str, fn: Callable[[], Any], parcels: int) -> tuple[Any, float]:
    release()
    before = rss_mib()
    reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = rss_mib("VmHWM")
    # CPU time (all threads) beside the wall clock: on a shared machine the wall clock
    # also counts other people's work.
    print(
        f"{label:<46}{dt:7.1f} s (CPU {cpu:6.1f} s) {parcels / dt:>8,.0f} parcels/s  "
        f"peak RSS {peak:>6,.0f} MiB ({peak - before:>+6,.0f} over the inputs)"
    )
    return out, dt


def engine(
    layers: list[Layer],
    threads: int,
    chunk: int,
    checkpoint: bool,
    rules: Callable[[str, str], Rule | None] = rule_for,
    **kwargs: Any,
) -> ConflictReport:
    run = dict(threads=threads, features_per_chunk=chunk, **kwargs)
    if not checkpoint:
        return find_conflicts(layers, rules, **run)
    with tempfile.TemporaryDirectory() as tmp:
        return find_conflicts(layers, rules, checkpoint_dir=Path(tmp), **run)


def streamed(layers: list[Layer], chunk: int, checkpoint: bool) -> ConflictReport:
    """Every chunk handed over and let go, as a caller writing patches to a database does."""
    seen = [0]

    def take(part: ConflictReport) -> None:
        seen[0] += len(part)

    report = engine(layers, 2, chunk, checkpoint, on_chunk=take, keep=False)
    assert seen[0] == report.count and len(report) == 0
    return report


def peer(a: Layer, b: Layer, how: str = "intersection") -> Any:
    """geopandas.overlay as a user would call it, then the same class-pair filter."""
    import geopandas as gpd

    left = gpd.GeoDataFrame({"class_a": a.classes, "id_a": a.ids}, geometry=a.geometries, crs=4490)
    right = gpd.GeoDataFrame({"class_b": b.classes, "id_b": b.ids}, geometry=b.geometries, crs=4490)
    if how == "difference":
        # Only urban land is judged: the same filter, before the overlay this time.
        return gpd.overlay(left[left["class_a"].isin(URBAN)], right, how="difference")
    out = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    conflict = [
        rule_for(x, y) is not None for x, y in zip(out["class_a"], out["class_b"], strict=True)
    ]
    return out[np.array(conflict, dtype=bool)]


def check(label: str, ours: float, out: Any, projection: str) -> None:
    """The peer's pieces measured with the engine's own area function and projection."""
    t = time.perf_counter()
    parts = shapely.get_parts(np.asarray(out.geometry.values, dtype=object))
    theirs = math.fsum(ellipsoidal_area(parts, projection).tolist())
    rel = abs(ours - theirs) / theirs
    print(f"  {len(parts):,} {label} pieces from geopandas, measured in "
          f"{time.perf_counter() - t:.1f} s (not timed)")  # fmt: skip
    print(f"  {label} area: engine {ours:,.1f} m² (kept + slivers), geopandas {theirs:,.1f} m², "
          f"relative difference {rel:.1e} {'OK' if rel <= 1e-6 else 'MISMATCH'}")  # fmt: skip


def area_methods(report: ConflictReport) -> None:
    """The engine's equal-area projection against pyproj's geodesic polygon area."""
    geodesic = geodesic_area(report.geometry)
    diff = np.abs(report.area_m2 - geodesic)
    rel = diff / geodesic
    large = report.area_m2 >= 1000
    total = abs(report.total_area_m2 - math.fsum(geodesic.tolist())) / report.total_area_m2
    print(f"  area method, equal-area projection against geodesic on {len(report):,} patches: "
          f"total {total:.1e} relative; a patch's median {np.median(rel):.1e}, "
          f"max {rel[large].max():.1e} (of those ≥ 1000 m²) relative, max {diff.max():.1e} m²"
          )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=200_000, help="parcels per plan")
    ap.add_argument(
        "--chunk", type=int, default=20_000, help="features per chunk, all layers counted"
    )
    ap.add_argument(
        "--no-peer", action="store_true", help="skip geopandas (slow, memory-hungry at 1M)"
    )
    ap.add_argument(
        "--checkpoint", action="store_true", help="write chunks to a temporary directory"
    )
    ap.add_argument("--stream", action="store_true", help="add the keep=False runs")
    ap.add_argument("--boundary", action="store_true", help="add urban land outside a boundary")
    args = ap.parse_args()
    n = args.parcels

    t0 = time.perf_counter()
    plans = make_plans(n)
    vertices = sum(int(shapely.get_num_coordinates(p.geometries).sum()) for p in plans)
    print(f"3 plans × {n:,} parcels ({vertices / 3 / n:.0f} vertices each, "
          f"{math.sqrt(n * PARCEL_M2) / 1000:.1f} km square) made in "
          f"{time.perf_counter() - t0:.1f} s; "
          f"RSS {rss_mib():,.0f} MiB")  # fmt: skip

    two = plans[:2]
    one_thread, t1 = measured(
        "engine, plans 1×2, 1 thread", lambda: engine(two, 1, args.chunk, args.checkpoint), n
    )
    report, t2 = measured(
        "engine, plans 1×2, 2 threads", lambda: engine(two, 2, args.chunk, args.checkpoint), n
    )
    assert report.total_area_m2 == one_thread.total_area_m2
    ours = report.total_area_m2 + report.dropped_area_m2
    projection = report.working_crs
    print(f"  {len(report):,} conflict patches, {report.total_area_m2 / 1e6:,.3f} km²; "
          f"slivers dropped: "
          f"{report.dropped_by_area:,} by area, {report.dropped_by_width:,} by width "
          f"({report.dropped_area_m2:,.1f} m²); {report.chunks} chunks; "
          f"repaired {len(report.repaired)}")  # fmt: skip
    area_methods(report)
    # Nothing of the engine's stays alive during the peer's run: a million more objects
    # would lengthen its garbage collections.
    del one_thread, report

    if args.stream:
        light, _ = measured(
            "engine, plans 1×2, 2 threads, streamed",
            lambda: streamed(two, args.chunk, args.checkpoint),
            n,
        )
        assert light.total_area_m2 + light.dropped_area_m2 == ours
        del light

    if not args.no_peer:
        out, tp = measured("geopandas.overlay, plans 1×2", lambda: peer(*two), n)
        check("conflicting", ours, out, projection)
        print(f"  engine faster than geopandas.overlay: {tp / t1:.1f}× (1 thread), "
              f"{tp / t2:.1f}× (2 threads); the engine's time includes GRS80 areas and "
              "sliver tests, the peer's does not")  # fmt: skip
        del out

    three, _ = measured(
        "engine, plans 1×2, 1×3, 2×3, 2 threads",
        lambda: engine(plans, 2, args.chunk, args.checkpoint),
        n,
    )
    print(f"  {len(three):,} conflict patches, {three.total_area_m2 / 1e6:,.3f} km²")
    count, total = three.count, three.total_area_m2
    del three
    if args.stream:
        light, _ = measured(
            "engine, plans 1×2, 1×3, 2×3, 2 threads, streamed",
            lambda: streamed(plans, args.chunk, args.checkpoint),
            n,
        )
        assert (light.count, light.total_area_m2) == (count, total)
        del light

    if args.boundary:
        lines = make_boundary(n)
        plan = plans[0]
        print(f"boundary: {len(lines.geometries)} polygons, "
              f"{int(shapely.get_num_coordinates(lines.geometries).sum()):,} vertices")  # fmt: skip
        del plans, two
        outside, to = measured(
            "engine, plan 1 outside the boundary, 2 threads",
            lambda: engine([plan, lines], 2, args.chunk, args.checkpoint, outside_rule_for),
            n,
        )
        print(f"  {len(outside):,} patches outside, {outside.total_area_m2 / 1e6:,.3f} km²; "
              f"slivers dropped: {outside.dropped_by_area:,} by area, "
              f"{outside.dropped_by_width:,} by width")  # fmt: skip
        ours = outside.total_area_m2 + outside.dropped_area_m2
        projection = outside.working_crs
        del outside
        if not args.no_peer:
            out, tp = measured(
                "geopandas.overlay difference, plan 1",
                lambda: peer(plan, lines, "difference"),
                n,
            )
            check("outside", ours, out, projection)
            print(f"  engine faster than geopandas.overlay: {tp / to:.1f}× (2 threads)")


if __name__ == "__main__":
    main()
