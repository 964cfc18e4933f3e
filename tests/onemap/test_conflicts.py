"""The conflict overlay on hand-made layers near Chongqing whose answer is known exactly.

Shapes are drawn in metres in the CGCS2000 Gauss-Krüger zone of CM 108°E (EPSG:4545), then
put into lon/lat (EPSG:4490) as plans arrive; expected areas come from pyproj's Geod
directly on the expected shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, box

from cityops.onemap.conflicts import (
    ConflictReport,
    Layer,
    RepairedFeature,
    Tolerances,
    ellipsoidal_area,
    find_conflicts,
    gauss_kruger_epsg,
)

GK = 4545  # CGCS2000 3° Gauss-Krüger, CM 108°E
TO_LONLAT = Transformer.from_crs(GK, 4490, always_xy=True)
TO_GK = Transformer.from_crs(4490, GK, always_xy=True)
# An origin near Yuzhong, Chongqing (≈106.55°E, 29.55°N), in zone metres.
X0, Y0 = TO_GK.transform(106.55, 29.55)
GEOD = Geod(ellps="GRS80")


@dataclass(frozen=True)
class Rule:
    name: str


FARMLAND, FOREST, HOUSING, INDUSTRY = "0101", "0301", "0701", "1001"
BUILT = {HOUSING, INDUSTRY}
PROTECTED = {FARMLAND: Rule("construction on farmland"), FOREST: Rule("construction in forest")}


def rule_for(a: str, b: str) -> Rule | None:
    """A tiny compatibility matrix: building on protected land, whichever plan builds."""
    if a in BUILT and b in PROTECTED:
        return PROTECTED[b]
    if b in BUILT and a in PROTECTED:
        return PROTECTED[a]
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
    assert report.working_epsg == GK


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


def test_zone_from_longitude_and_axis_order() -> None:
    assert gauss_kruger_epsg(106.55) == 4545  # CM 108°E
    assert gauss_kruger_epsg(105.0) == 4544  # CM 105°E
    assert gauss_kruger_epsg(110.0) == 4546  # CM 111°E
    # A point on the central meridian has easting 500 km whatever the CRS's axis order says.
    x, y = TO_GK.transform(108.0, 29.5)
    assert x == pytest.approx(500_000, abs=1e-6)
    assert 3_260_000 < y < 3_270_000


def test_ellipsoidal_area_matches_pyproj_geod() -> None:
    patch = lonlat(
        Polygon([(0, 0), (250, 10), (240, 180), (-20, 150)], [[(50, 50), (100, 50), (80, 90)]])
    )
    reversed_patch = shapely.reverse(patch)  # orientation must not matter
    expected = abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(patch))[0])
    ours = ellipsoidal_area(np.array([patch, reversed_patch], dtype=object))
    assert ours == pytest.approx([expected, expected], rel=1e-12)


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
