"""An in-memory index of grid polygons: which grid holds a point, for many points at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


class GridIndex:
    """Grids in an STRtree. Immutable once built: readers share it across threads, and a
    change of grids builds a new index that replaces the old one whole.

    A point on the shared border of two grids belongs to the one whose code sorts first,
    so the answer never depends on the order the grids were loaded in.
    """

    def __init__(self, grids: Sequence[tuple[str, BaseGeometry]]) -> None:
        ordered = sorted(grids, key=lambda g: g[0])
        self.codes = [code for code, _ in ordered]
        self.geometries = np.array([geom for _, geom in ordered], dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lon: float, lat: float) -> str | None:
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """The code of the grid holding each point (covers: borders count), or None."""
        if not len(lons):
            return []
        if not self.codes:
            return [None] * len(lons)
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, grid_idx = self.tree.query(points, predicate="intersects")
        # Grids are indexed in code order, so the smallest index is the smallest code.
        best = np.full(len(lons), len(self.codes), dtype=np.int64)
        np.minimum.at(best, point_idx, grid_idx)
        return [self.codes[i] if i < len(self.codes) else None for i in best.tolist()]
