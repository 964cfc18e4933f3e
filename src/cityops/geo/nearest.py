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
    """For each query point, the index of the nearest target within `radius_m`, or -1.

    Targets are bucketed in square cells one radius wide, so that a query needs only its
    own cell and the eight around it. Everything runs on whole arrays: sorting tens of
    thousands of targets by cell costs less than building a tree of them.
    """
    found = np.full(len(query_lons), -1, dtype=np.int64)
    if not len(target_lons) or not len(query_lons) or radius_m <= 0:
        return found
    ref_lat = float(np.mean(query_lats))
    kx = metres_per_deg_lon(ref_lat)
    tx, ty = target_lons * kx, target_lats * METRES_PER_DEG_LAT
    qx, qy = query_lons * kx, query_lats * METRES_PER_DEG_LAT
    tcx, tcy = np.floor(tx / radius_m).astype(np.int64), np.floor(ty / radius_m).astype(np.int64)
    qcx, qcy = np.floor(qx / radius_m).astype(np.int64), np.floor(qy / radius_m).astype(np.int64)
    # One integer per cell, ordered by column then row; the span covers every row in use
    # with room for the neighbours above and below.
    y0 = min(int(tcy.min()), int(qcy.min())) - 1
    span = max(int(tcy.max()), int(qcy.max())) - y0 + 2
    keys = (tcx * span) + (tcy - y0)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    pairs_q: list[IntArray] = []
    pairs_t: list[IntArray] = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            wanted = (qcx + dx) * span + (qcy + dy - y0)
            lo = np.searchsorted(sorted_keys, wanted, side="left")
            hi = np.searchsorted(sorted_keys, wanted, side="right")
            counts = hi - lo
            total = int(counts.sum())
            if not total:
                continue
            starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            pairs_q.append(np.repeat(np.arange(len(qx)), counts))
            pairs_t.append(order[starts + np.arange(total)])
    if not pairs_q:
        return found
    q, t = np.concatenate(pairs_q), np.concatenate(pairs_t)
    d2 = (tx[t] - qx[q]) ** 2 + (ty[t] - qy[q]) ** 2
    near = d2 <= radius_m * radius_m
    q, t, d2 = q[near], t[near], d2[near]
    # The nearest per query: sort by query, then distance, and keep each query's first.
    by = np.lexsort((d2, q))
    q, t = q[by], t[by]
    first = np.ones(len(q), dtype=bool)
    first[1:] = q[1:] != q[:-1]
    found[q[first]] = t[first]
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
