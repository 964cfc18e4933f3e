"""Coordinate reference systems: whatever a district's files use, we store lon/lat.

CGCS2000 (EPSG:4490) and WGS 84 (EPSG:4326) agree to a few centimetres in China; we store
coordinates in that shared geographic frame and treat the two as the same. Projected data
(CGCS2000 Gauss–Krüger zones, Web Mercator, local grids with a defined CRS) is
reprojected on import.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

GEOGRAPHIC = {4326, 4490}
STORAGE_EPSG = 4490


@lru_cache(maxsize=32)
def _to_lonlat(source: str) -> Transformer | None:
    crs = CRS.from_user_input(source)
    epsg = crs.to_epsg()
    if epsg in GEOGRAPHIC:
        return None
    return Transformer.from_crs(crs, CRS.from_epsg(STORAGE_EPSG), always_xy=True)


def to_lonlat(geometry: BaseGeometry, source_crs: str | None) -> BaseGeometry:
    """`geometry` in lon/lat; a geometry without a CRS is taken to be lon/lat already."""
    if not source_crs:
        return geometry
    transformer = _to_lonlat(source_crs)
    if transformer is None:
        return geometry
    return shapely.transform(geometry, lambda xy: _apply(transformer, xy))


def to_lonlat_array(geometries: NDArray[np.object_], source_crs: str | None) -> NDArray[np.object_]:
    """Many geometries in lon/lat with one transformer call for all their coordinates (a
    layer of a million parcels reprojects in seconds, not minutes)."""
    if not source_crs:
        return geometries
    transformer = _to_lonlat(source_crs)
    if transformer is None:
        return geometries
    out: NDArray[np.object_] = shapely.transform(geometries, lambda xy: _apply(transformer, xy))
    return out


def _apply(transformer: Transformer, xy: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    out: NDArray[np.float64] = np.column_stack([x, y])
    return out
