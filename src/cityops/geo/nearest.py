"""Nearest points within a radius in metres, for many points at once.

Points are given in longitude and latitude and compared on a local plane: an
equirectangular projection about the queries' mean latitude. Across one city (a degree of
latitude or less either way) its distances differ from the great circle by under 1 %,
far less than a GPS fix's error at the radii this is for (metres to a few hundred metres),
and the work runs in GEOS over whole arrays instead of in Python point by point.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON_EQUATOR = 111_320.0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def metres_per_deg_lon(lat: float) -> float:
    """How many metres a degree of longitude spans at `lat` (never less than 5 % of the
    equator's, so that the polar regions stay finite)."""
    return METRES_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), 0.05)


def _plane(lons: FloatArray, lats: FloatArray, ref_lat: float) -> npt.NDArray[np.object_]:
    x = lons * metres_per_deg_lon(ref_lat)
    y = lats * METRES_PER_DEG_LAT
    return shapely.points(x, y)  # type: ignore[return-value]


def nearest_within(
    target_lons: FloatArray,
    target_lats: FloatArray,
    query_lons: FloatArray,
    query_lats: FloatArray,
    radius_m: float,
) -> IntArray:
    """For each query point, the index of the nearest target within `radius_m`, or -1."""
    found = np.full(len(query_lons), -1, dtype=np.int64)
    if not len(target_lons) or not len(query_lons) or radius_m <= 0:
        return found
    ref_lat = float(np.mean(query_lats))
    tree = shapely.STRtree(_plane(target_lons, target_lats, ref_lat))
    query_idx, target_idx = tree.query_nearest(
        _plane(query_lons, query_lats, ref_lat), max_distance=radius_m, all_matches=False
    )
    found[query_idx] = target_idx
    return found


def earlier_within(
    lons: FloatArray, lats: FloatArray, radius_m: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every pair of points no farther apart than `radius_m`, as (later, earlier, metres).

    `later` > `earlier` in the order the points were given; each pair appears once.
    """
    empty = np.empty(0, dtype=np.int64)
    if len(lons) < 2 or radius_m <= 0:
        return empty, empty, np.empty(0, dtype=np.float64)
    points = _plane(lons, lats, float(np.mean(lats)))
    later, earlier = shapely.STRtree(points).query(points, predicate="dwithin", distance=radius_m)
    keep = earlier < later
    later, earlier = later[keep], earlier[keep]
    return later, earlier, shapely.distance(points[later], points[earlier])
