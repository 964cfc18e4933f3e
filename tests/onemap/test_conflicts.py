"""The conflict overlay on hand-made layers near Chongqing whose answer is known exactly.

Shapes are drawn in metres in the CGCS2000 Gauss-Krüger zone of CM 108°E (EPSG:4545), then
put into lon/lat (EPSG:4490) as plans arrive; expected areas come from pyproj's Geod
directly on the expected shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, box

from cityops.onemap import conflicts
from cityops.onemap.conflicts import (
    OUTSIDE,
    ConflictReport,
    Layer,
    RepairedFeature,
    Tolerances,
    _ExactSum,
    ellipsoidal_area,
    equal_area_crs,
    find_conflicts,
    geodesic_area,
)
from cityops.onemap.landuse import CompatibilityMatrix

GK = 4545  # CGCS2000 3° Gauss-Krüger, CM 108°E
TO_LONLAT = Transformer.from_crs(GK, 4490, always_xy=True)
TO_GK = Transformer.from_crs(4490, GK, always_xy=True)
# An origin near Yuzhong, Chongqing (≈106.55°E, 29.55°N), in zone metres.
X0, Y0 = TO_GK.transform(106.55, 29.55)
GEOD = Geod(ellps="GRS80")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str = "overlap"


FARMLAND, FOREST, HOUSING, INDUSTRY, HOMESTEAD = "0101", "0301", "0701", "1001", "0703"
BOUNDARY = "line:urban_boundary"
BUILT = {HOUSING, INDUSTRY}
PROTECTED = {FARMLAND: Rule("construction on farmland"), FOREST: Rule("construction in forest")}
OUTSIDE_BOUNDARY = Rule("urban outside the boundary", OUTSIDE)


def rule_for(a: str, b: str) -> Rule | None:
    """A tiny compatibility matrix: building on protected land, whichever plan builds, and
    urban building outside the urban development boundary (that way round only)."""
    if a in BUILT and b in PROTECTED:
        return PROTECTED[b]
    if b in BUILT and a in PROTECTED:
        return PROTECTED[a]
    if a in BUILT and b == BOUNDARY:
        return OUTSIDE_BOUNDARY
    return None


def local(geom: Any) -> Any:
    """A shape drawn in metres from the origin, moved into the zone."""
    return shapely.transform(geom, lambda xy: xy + np.array([X0, Y0]))


def lonlat(geom: Any) -> Any:
    return shapely.transform(local(geom), lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))


def geod_area(geom: Any) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0])


def layer(name: str, shapes: list[Any], classes: list[str], *, epsg: int = 4490) -> Layer:
    geoms = [lonlat(s) if epsg == 4490 else local(s) for s in shapes]
    ids = np.array([f"{name}-{i}" for i in range(len(shapes))], dtype=object)
    return Layer(name, np.array(geoms, dtype=object), np.array(classes), ids, epsg=epsg)


def run(*layers: Layer, **kwargs: Any) -> ConflictReport:
    return find_conflicts(list(layers), rule_for, **kwargs)


def test_nested_polygon_is_the_patch() -> None:
    land = layer("land", [box(0, 0, 400, 400)], [FARMLAND])
    urban = layer("urban", [box(100, 100, 200, 250)], [HOUSING])
    report = run(land, urban)
    assert len(report) == 1
    patch = next(report.patches())
    assert patch.area_m2 == pytest.approx(geod_area(lonlat(box(100, 100, 200, 250))), rel=1e-9)
    assert patch.area_m2 == pytest.approx(15_000, rel=1e-3)  # zone scale ≈ 1.0003 here
    assert (patch.layer_a, patch.id_a, patch.class_a) == ("land", "land-0", FARMLAND)
    assert (patch.layer_b, patch.id_b, patch.class_b) == ("urban", "urban-0", HOUSING)
    assert patch.rule == "construction on farmland"
    assert shapely.equals_exact(
        shapely.normalize(patch.geometry), shapely.normalize(lonlat(box(100, 100, 200, 250))), 1e-12
    )
    assert (report.count, report.total_area_m2) == (1, patch.area_m2)
    assert report.working_crs.startswith("+proj=aea") and "+ellps=GRS80" in report.working_crs


def test_compatible_classes_are_not_conflicts() -> None:
    report = run(
        layer("a", [box(0, 0, 100, 100)], [HOUSING]), layer("b", [box(0, 0, 50, 50)], [INDUSTRY])
    )
    assert len(report) == 0
    assert report.total_area_m2 == 0


def test_touching_edges_give_no_area_and_no_sliver() -> None:
    land = layer("land", [box(0, 0, 100, 100)], [FARMLAND])
    urban = layer("urban", [box(100, 0, 200, 100), box(0, 100, 100, 200)], [HOUSING, HOUSING])
    report = run(land, urban)
    assert len(report) == 0
    assert (report.dropped_by_area, report.dropped_by_width) == (0, 0)


def test_slivers_below_tolerance_are_dropped_and_counted() -> None:
    land = layer("land", [box(0, 0, 100, 100)], [FARMLAND])
    urban = layer(
        "urban",
        [
            box(99.8, 0, 200, 100),  # a 0.2 m strip, 20 m²: too thin
            box(-0.5, 99.5, 0.5, 200),  # a 0.5 m × 0.5 m corner: too small
            box(50, 100, 60, 200),  # touching: nothing at all
            box(-50, -50, 10, 10),  # a real 10 m × 10 m patch
        ],
        [HOUSING] * 4,
    )
    report = run(land, urban)
    assert list(report.id_b) == ["urban-3"]
    assert (report.dropped_by_area, report.dropped_by_width) == (1, 1)
    assert report.dropped_area_m2 == pytest.approx(20.25, rel=1e-3)
    # Thresholds are configurable: a 0.1 m minimum width keeps the strip.
    looser = run(land, urban, tolerances=Tolerances(min_area_m2=0.1, min_width_m=0.1))
    assert sorted(looser.id_b) == ["urban-0", "urban-1", "urban-3"]
    assert (looser.dropped_by_area, looser.dropped_by_width) == (0, 0)


def test_multipolygon_with_hole_is_split_into_patches() -> None:
    courtyard = Polygon(
        [(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (80, 20), (80, 80), (20, 80)]]
    )
    estate = MultiPolygon([courtyard, box(200, 0, 260, 50)])
    urban = layer("urban", [estate], [INDUSTRY])
    forest = layer("forest", [box(-10, -10, 300, 300)], [FOREST])
    report = run(urban, forest)
    assert len(report) == 2  # one ledger patch per polygon
    assert report.total_area_m2 == pytest.approx(geod_area(lonlat(estate)), rel=1e-9)
    assert report.total_area_m2 == pytest.approx(100 * 100 - 60 * 60 + 60 * 50, rel=1e-3)
    assert set(report.rule) == {"construction in forest"}
    assert set(report.class_a) == {INDUSTRY}


def test_bow_tie_is_repaired_and_reported() -> None:
    bow_tie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    assert not bow_tie.is_valid
    land = layer("land", [bow_tie, box(300, 0, 400, 100)], [FARMLAND, FARMLAND])
    urban = layer("urban", [box(-10, -10, 500, 200)], [HOUSING])
    report = run(land, urban)
    assert report.repaired == [RepairedFeature("land", "land-0")]
    triangles = MultiPolygon(
        [Polygon([(0, 0), (50, 50), (0, 100)]), Polygon([(100, 0), (50, 50), (100, 100)])]
    )
    expected = geod_area(lonlat(triangles)) + geod_area(lonlat(box(300, 0, 400, 100)))
    assert report.total_area_m2 == pytest.approx(expected, rel=1e-9)
    assert len(report) == 3


def test_layers_in_different_crs_give_the_same_result() -> None:
    shapes = [box(0, 0, 120, 80), box(150, 0, 300, 90)]
    land = layer("land", [box(-20, -20, 200, 200)], [FARMLAND])
    in_lonlat = run(land, layer("urban", shapes, [HOUSING, INDUSTRY]))
    in_zone = run(land, layer("urban", shapes, [HOUSING, INDUSTRY], epsg=GK))
    assert len(in_zone) == len(in_lonlat) == 2
    assert in_zone.total_area_m2 == pytest.approx(in_lonlat.total_area_m2, rel=1e-9)
    assert np.allclose(in_zone.area_m2, in_lonlat.area_m2, rtol=1e-9)


def test_ellipsoidal_area_matches_pyproj_geod() -> None:
    patch = lonlat(
        Polygon([(0, 0), (250, 10), (240, 180), (-20, 150)], [[(50, 50), (100, 50), (80, 90)]])
    )
    reversed_patch = shapely.reverse(patch)  # orientation must not matter
    estate = lonlat(MultiPolygon([box(0, 0, 100, 100), box(300, 0, 400, 50)]))
    shapes = np.array([patch, reversed_patch, estate, None, Polygon()], dtype=object)
    expected = [geod_area(patch), geod_area(patch), geod_area(estate), 0, 0]
    # The geodesic sum's own rounding is ~2e-5 m² whatever the size: 5e-10 here.
    assert ellipsoidal_area(shapes) == pytest.approx(expected, rel=1e-9)
    assert geodesic_area(shapes) == pytest.approx(expected, rel=1e-12)
    # Another equal-area projection gives the same areas, but for how straight edges bend:
    # one fitted to a fifth of China bends these 250 m edges by 3e-9 of the area.
    wide = equal_area_crs(100, 20, 115, 40)
    assert ellipsoidal_area(shapes, wide) == pytest.approx(expected, rel=1e-8)


def test_equal_area_projection_fits_the_extent() -> None:
    assert equal_area_crs(106, 29, 107, 30) == (
        "+proj=aea +lat_0=29.500000 +lon_0=106.500000 +lat_1=29.166667 +lat_2=29.833333"
        " +ellps=GRS80"
    )
    # Across the equator Albers' cone degenerates: Lambert azimuthal, equal-area too.
    near_equator = equal_area_crs(103, -1, 104, 1)
    assert near_equator.startswith("+proj=laea")
    square = shapely.box(103.5, -0.001, 103.501, 0.001)
    ours = ellipsoidal_area(np.array([square], dtype=object), near_equator)
    assert ours == pytest.approx([geod_area(square)], rel=1e-9)


def test_the_exact_sum_is_fsum_to_the_bit() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([
        rng.uniform(0, 1e6, 5000), rng.uniform(-1, 1, 5000) * 10.0 ** rng.integers(-300, 300, 5000),
        [5e-324, -5e-324, 1e308, 0.1, 0.2, 0.3],
    ])  # fmt: skip
    total = _ExactSum()
    for batch in np.array_split(rng.permutation(values), 7):
        total.add(batch)
    assert total.value == math.fsum(values.tolist())
    assert _ExactSum().value == 0.0


def _grids() -> tuple[Layer, Layer, Layer]:
    """Three plans of 100 parcels each whose boundaries differ by tens of metres."""

    def plan(name: str, dx: float, dy: float, size: float, classes: list[str]) -> Layer:
        shapes = [box(dx + i * size, dy + j * size, dx + (i + 1) * size, dy + (j + 1) * size)
                  for i in range(10) for j in range(10)]  # fmt: skip
        return layer(name, shapes, [classes[(i * 7) % len(classes)] for i in range(len(shapes))])

    return (
        plan("land", 0, 0, 100, [FARMLAND, FOREST, HOUSING]),
        plan("urban", 37, 23, 95, [HOUSING, INDUSTRY, FARMLAND]),
        plan("eco", -11, 41, 105, [FOREST, INDUSTRY]),
    )


def _plain_overlay_area(layers: tuple[Layer, ...]) -> float:
    """The reference: every pair of features of every pair of layers, one by one."""
    total = 0.0
    for i, a in enumerate(layers):
        for b in layers[i + 1 :]:
            for ga, ca in zip(a.geometries, a.classes, strict=True):
                for gb, cb in zip(b.geometries, b.classes, strict=True):
                    if rule_for(str(ca), str(cb)) is None:
                        continue
                    piece = ga.intersection(gb)
                    for part in getattr(piece, "geoms", [piece]):
                        if isinstance(part, Polygon) and part.area > 0:
                            total += geod_area(part)
    return total


def test_chunked_equals_unchunked_and_the_plain_overlay() -> None:
    layers = _grids()
    none = Tolerances(0, 0)
    whole = run(*layers, tolerances=none, features_per_chunk=10**9)
    chunked = run(*layers, tolerances=none, features_per_chunk=7)
    assert whole.chunks == 1
    assert chunked.chunks >= 40
    assert len(chunked) == len(whole) > 100
    assert chunked.total_area_m2 == pytest.approx(whole.total_area_m2, rel=1e-12)
    assert whole.total_area_m2 == pytest.approx(_plain_overlay_area(layers), rel=1e-6)
    # Every pair of layers is compared.
    assert set(zip(whole.layer_a, whole.layer_b, strict=True)) == {
        ("land", "urban"), ("land", "eco"), ("urban", "eco")
    }  # fmt: skip
    # With the default tolerances too, and with two threads.
    a = run(*layers, features_per_chunk=10**9)
    b = run(*layers, features_per_chunk=7, threads=2)
    assert (len(a), a.dropped_by_area, a.dropped_by_width) == (
        len(b),
        b.dropped_by_area,
        b.dropped_by_width,
    )
    assert b.total_area_m2 == pytest.approx(a.total_area_m2, rel=1e-12)


class Stop(Exception):
    pass


def test_resume_after_interruption(tmp_path: Path) -> None:
    layers = _grids()
    reference = run(*layers, features_per_chunk=7)
    seen: list[tuple[int, int]] = []

    def stop_after_five(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 5:
            raise Stop

    with pytest.raises(Stop):
        run(*layers, features_per_chunk=7, checkpoint_dir=tmp_path, progress=stop_after_five)
    total = seen[-1][1]
    assert len(list(tmp_path.glob("chunk-*.npz"))) == 5
    seen.clear()
    resumed = run(
        *layers,
        features_per_chunk=7,
        checkpoint_dir=tmp_path,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [d for d, _ in seen] == list(range(6, total + 1))  # finished chunks are skipped
    assert resumed.total_area_m2 == reference.total_area_m2
    assert len(resumed) == len(reference)
    assert (resumed.dropped_by_area, resumed.dropped_by_width) == (
        reference.dropped_by_area,
        reference.dropped_by_width,
    )
    assert resumed.dropped_area_m2 == reference.dropped_area_m2
    assert list(resumed.id_a) == list(reference.id_a)
    assert all(shapely.equals_exact(resumed.geometry, reference.geometry, 0))
    # Another job's checkpoint is refused rather than mixed in.
    with pytest.raises(ValueError, match="another job"):
        run(*layers, features_per_chunk=7, checkpoint_dir=tmp_path, tolerances=Tolerances(5, 1))


def test_needs_two_layers_with_distinct_names() -> None:
    land = layer("land", [box(0, 0, 1, 1)], [FARMLAND])
    with pytest.raises(ValueError, match="two layers"):
        run(land)
    with pytest.raises(ValueError, match="differ"):
        run(land, land)


# --- streaming -------------------------------------------------------------------------------


def _same(a: ConflictReport, b: ConflictReport) -> None:
    assert len(a) == len(b)
    assert list(a.id_a) == list(b.id_a) and list(a.id_b) == list(b.id_b)
    assert list(a.rule) == list(b.rule) and list(a.class_b) == list(b.class_b)
    assert a.area_m2.tolist() == b.area_m2.tolist()
    assert all(shapely.equals_exact(a.geometry, b.geometry, 0))


def test_chunks_are_streamed_in_order_and_add_up_to_the_report() -> None:
    layers = _grids()
    whole = run(*layers, features_per_chunk=7)
    stream: list[ConflictReport] = []
    kept = run(*layers, features_per_chunk=7, on_chunk=stream.append)
    _same(kept, whole)
    assert len(stream) == whole.chunks
    assert all(r.chunks == 1 and r.repaired == [] and r.count == len(r) for r in stream)
    assert sum(r.count for r in stream) == whole.count == len(whole)
    assert sum(r.dropped_by_width for r in stream) == whole.dropped_by_width
    # In ascending cell order: concatenated, the stream is the report, patch for patch.
    joined = np.concatenate([r.geometry for r in stream])
    assert all(shapely.equals_exact(joined, whole.geometry, 0))
    assert math.fsum(a for r in stream for a in r.area_m2.tolist()) == whole.total_area_m2
    # Two threads deliver the same stream.
    threaded: list[ConflictReport] = []
    run(*layers, features_per_chunk=7, on_chunk=threaded.append, threads=2)
    assert [len(r) for r in threaded] == [len(r) for r in stream]
    assert [r.area_m2.tolist() for r in threaded] == [r.area_m2.tolist() for r in stream]


def test_without_keep_only_the_totals_are_returned() -> None:
    layers = _grids()
    whole = run(*layers, features_per_chunk=7)
    seen: list[int] = []
    light = run(*layers, features_per_chunk=7, keep=False, on_chunk=lambda r: seen.append(len(r)))
    assert len(light) == 0 and len(light.geometry) == len(light.id_b) == 0
    assert (light.count, light.chunks) == (whole.count, whole.chunks)
    assert light.total_area_m2 == whole.total_area_m2  # to the bit
    assert (light.dropped_by_area, light.dropped_by_width, light.dropped_area_m2) == (
        whole.dropped_by_area, whole.dropped_by_width, whole.dropped_area_m2
    )  # fmt: skip
    assert sum(seen) == whole.count
    alone = run(*layers, features_per_chunk=7, keep=False)
    assert (alone.count, alone.total_area_m2) == (whole.count, whole.total_area_m2)


def test_a_resumed_run_streams_the_same_chunks_reading_each_in_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = _grids()
    reference: list[ConflictReport] = []
    run(*layers, features_per_chunk=7, on_chunk=reference.append)

    def stop_after_five(done: int, _total: int) -> None:
        if done == 5:
            raise Stop

    with pytest.raises(Stop):
        run(*layers, features_per_chunk=7, checkpoint_dir=tmp_path, progress=stop_after_five)
    events: list[str] = []
    load = conflicts._Checkpoint.load

    def spy(self: Any, cell: int) -> Any:
        events.append(f"load {cell}")
        return load(self, cell)

    monkeypatch.setattr(conflicts._Checkpoint, "load", spy)
    resumed: list[ConflictReport] = []

    def hand_over(r: ConflictReport) -> None:
        events.append("chunk")
        resumed.append(r)

    report = run(
        *layers, features_per_chunk=7, checkpoint_dir=tmp_path, on_chunk=hand_over, keep=False
    )
    assert len(resumed) == len(reference) == report.chunks
    for a, b in zip(resumed, reference, strict=True):
        _same(a, b)
    # Each finished chunk is read just before it is handed over, not all at the start.
    assert events[:10] == [e for cell in range(5) for e in (f"load {cell}", "chunk")]
    assert "load 5" not in events


# --- outside the urban development boundary ------------------------------------------------

# A parcel whose west half lies outside: the boundary's edge runs through two of its
# vertices, so the outside part is exactly the half box, vertex for vertex.
HALF_OUT = Polygon([(0, 0), (50, 0), (100, 0), (100, 100), (50, 100), (0, 100)])
EAST = Polygon([(50, -100), (50, 0), (50, 100), (50, 200), (400, 200), (400, -100)])


def urban(name: str, shapes: list[Any], classes: list[str]) -> Layer:
    return layer(name, shapes, classes)


def boundary(name: str, shapes: list[Any]) -> Layer:
    return layer(name, shapes, [BOUNDARY] * len(shapes))


def outside_area(report: ConflictReport) -> float:
    return math.fsum(a for a, r in zip(report.area_m2, report.rule, strict=True)
                     if r == OUTSIDE_BOUNDARY.name)  # fmt: skip


def test_the_part_outside_the_boundary_is_the_patch() -> None:
    plan = urban("plan", [HALF_OUT], [HOUSING])
    report = run(plan, boundary("ubl", [EAST]))
    (patch,) = report.patches()
    expected = lonlat(box(0, 0, 50, 100))
    assert patch.area_m2 == pytest.approx(geod_area(expected), rel=1e-9)
    # Half the parcel's area: the zone's scale changes by 2e-7 between the two halves.
    assert patch.area_m2 == pytest.approx(geod_area(lonlat(HALF_OUT)) / 2, rel=1e-6)
    assert shapely.equals_exact(shapely.normalize(patch.geometry), shapely.normalize(expected), 0)
    assert (patch.layer_a, patch.id_a, patch.class_a) == ("plan", "plan-0", HOUSING)
    assert (patch.layer_b, patch.id_b, patch.class_b) == ("ubl", None, BOUNDARY)
    assert patch.rule == OUTSIDE_BOUNDARY.name
    # The boundary given first is the same question: rule_for is asked both ways round.
    first = run(boundary("ubl", [EAST]), plan)
    assert (first.layer_a[0], first.layer_b[0], first.total_area_m2) == (
        "plan", "ubl", report.total_area_m2
    )  # fmt: skip


def test_inside_covered_and_rural_parcels_give_nothing() -> None:
    plan = urban(
        "plan",
        [
            box(100, 0, 200, 100),  # inside
            box(-200, 0, -100, 100),  # a rural homestead outside: allowed
            box(350, 100, 450, 150),  # across the two boundary polygons' shared edge
            box(600, 0, 700, 100),  # inside the second polygon
        ],
        [HOUSING, HOMESTEAD, INDUSTRY, HOUSING],
    )
    lines = boundary("ubl", [EAST, box(400, -100, 800, 300)])
    report = run(plan, lines)
    assert len(report) == 0 and report.count == 0
    assert (report.dropped_by_area, report.dropped_by_width) == (0, 0)


def test_a_hole_in_the_boundary_is_outside() -> None:
    with_hole = Polygon(
        [(-500, -500), (500, -500), (500, 500), (-500, 500)],
        # A protected valley, say; with the parcel's vertices, so that edges coincide.
        [[(0, 0), (0, 100), (50, 100), (100, 100), (100, 0), (50, 0)]],
    )
    across = Polygon([(50, 0), (100, 0), (150, 0), (150, 100), (100, 100), (50, 100)])
    plan = urban("plan", [across, box(-300, -300, -200, -200)], [INDUSTRY] * 2)
    report = run(plan, boundary("ubl", [with_hole]))
    (patch,) = report.patches()
    assert patch.id_a == "plan-0"
    assert patch.area_m2 == pytest.approx(geod_area(lonlat(box(50, 0, 100, 100))), rel=1e-9)


def test_a_parcel_far_from_any_boundary_is_outside_whole() -> None:
    estate = MultiPolygon([box(-900, 0, -800, 100), box(-700, 0, -650, 50)])
    report = run(urban("plan", [estate], [HOUSING]), boundary("ubl", [EAST]))
    assert len(report) == 2  # one ledger patch per polygon
    assert report.total_area_m2 == pytest.approx(geod_area(lonlat(estate)), rel=1e-9)
    assert set(report.id_b) == {None}


def test_outside_slivers_are_dropped_and_counted() -> None:
    # 0.2 m outside along a 100 m edge: a digitising difference, not a conflict.
    plan = urban("plan", [box(49.8, 0, 150, 100), box(-100, 0, 0, 100)], [HOUSING] * 2)
    report = run(plan, boundary("ubl", [EAST]))
    assert list(report.id_a) == ["plan-1"]
    assert (report.dropped_by_area, report.dropped_by_width) == (0, 1)
    assert report.dropped_area_m2 == pytest.approx(20, rel=1e-3)


def test_only_the_target_classes_make_the_inside() -> None:
    # Forest outside the ecological zones of a zoning layer: the other zone is no shelter.
    def zoning(a: str, b: str) -> Rule | None:
        return Rule("forest outside the eco zone", OUTSIDE) if (a, b) == (FOREST, "eco") else None

    forest = layer("forest", [box(0, 0, 100, 100), box(300, 0, 400, 100)], [FOREST] * 2)
    zones = layer("zones", [box(-50, -50, 200, 200), box(250, -50, 500, 200)], ["eco", "farm"])
    report = find_conflicts([forest, zones], zoning)
    assert list(report.id_a) == ["forest-1"]
    assert list(report.class_b) == ["eco"]
    assert report.total_area_m2 == pytest.approx(geod_area(lonlat(box(300, 0, 400, 100))))


def _ring_of_parcels() -> tuple[Layer, Layer, Layer]:
    """Parcels on a 2 km square, some across a boundary with a hole and two polygons, and
    a farmland plan under them: outside and overlap rules in one run."""
    shapes = [box(x, y, x + 90, y + 90) for x in range(0, 2000, 130) for y in range(0, 2000, 170)]
    classes = [(HOUSING, INDUSTRY, HOMESTEAD)[i % 3] for i in range(len(shapes))]
    holed = Polygon([(300, 300), (1100, 300), (1100, 1500), (300, 1500)],
                    [[(600, 600), (800, 600), (800, 900), (600, 900)]])  # fmt: skip
    lines = boundary("ubl", [holed, box(1100, 200, 1700, 1000)])
    land = layer("land", [box(-10, -10, 1000, 2010)], [FARMLAND])
    return urban("plan", shapes, classes), lines, land


def _plain_outside_area(plan: Layer, lines: Layer) -> float:
    inside = shapely.union_all(lines.geometries)
    total = 0.0
    for geom, cls in zip(plan.geometries, plan.classes, strict=True):
        if cls in BUILT:
            for part in getattr(geom.difference(inside), "geoms", [geom.difference(inside)]):
                total += geod_area(part)
    return total


def test_outside_patches_do_not_depend_on_chunks_or_resuming(tmp_path: Path) -> None:
    plan, lines, land = _ring_of_parcels()
    whole = run(plan, lines, land, features_per_chunk=10**9, tolerances=Tolerances(0, 0))
    assert whole.chunks == 1
    assert outside_area(whole) == pytest.approx(_plain_outside_area(plan, lines), rel=1e-9)
    assert set(whole.rule) == {OUTSIDE_BOUNDARY.name, "construction on farmland"}
    chunked = run(plan, lines, land, features_per_chunk=5, tolerances=Tolerances(0, 0))
    assert chunked.chunks >= 40
    assert len(chunked) == len(whole)
    # Not to the bit: each chunk clips the boundary to its own parcels, and where a clipped
    # edge crosses a parcel the crossing is rounded a little differently.
    assert chunked.total_area_m2 == pytest.approx(whole.total_area_m2, rel=1e-12)
    # Resumed after a stop, and with two threads: the same patches in the same order.
    reference = run(plan, lines, land, features_per_chunk=5)

    def stop_after_nine(done: int, _total: int) -> None:
        if done == 9:
            raise Stop

    with pytest.raises(Stop):
        run(plan, lines, land, features_per_chunk=5, checkpoint_dir=tmp_path,
            progress=stop_after_nine, threads=2)  # fmt: skip
    assert len(list(tmp_path.glob("chunk-*.npz"))) == 9
    resumed = run(plan, lines, land, features_per_chunk=5, checkpoint_dir=tmp_path, threads=2)
    _same(resumed, reference)
    assert resumed.total_area_m2 == reference.total_area_m2


def test_the_shipped_rules_judge_urban_land_outside_the_boundary() -> None:
    matrix = CompatibilityMatrix.from_csv()
    plan = urban(
        "plan",
        [HALF_OUT, box(-300, 0, -200, 100), box(-300, 200, -200, 300), box(-500, 0, -400, 100)],
        ["070102", "0703", "0901", "1202"],  # town housing, homestead, shops, a highway
    )
    report = find_conflicts([plan, boundary("ubl", [EAST])], matrix.rule_for)
    assert dict(zip(report.id_a, report.rule, strict=True)) == {
        "plan-0": "urban-housing-outside-boundary",
        "plan-2": "urban-construction-outside-boundary",
    }
