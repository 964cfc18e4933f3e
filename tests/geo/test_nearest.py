"""Nearest points within a radius: the vectorised search agrees with a brute-force one."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.geo.nearest import earlier_within, nearest_within

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# Points within about 1 km of a city centre, as events of one district are.
offsets = st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
centres = st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.0))  # China's extent


@settings(max_examples=60, deadline=None)
@given(
    centre=centres,
    targets=st.lists(offsets, max_size=40),
    queries=st.lists(offsets, min_size=1, max_size=20),
    radius=st.sampled_from([10.0, 50.0, 200.0]),
)
def test_the_nearest_target_within_the_radius_is_found(
    centre: tuple[float, float],
    targets: list[tuple[float, float]],
    queries: list[tuple[float, float]],
    radius: float,
) -> None:
    lon0, lat0 = centre
    t = np.array([(lon0 + dx, lat0 + dy) for dx, dy in targets]).reshape(-1, 2)
    q = np.array([(lon0 + dx, lat0 + dy) for dx, dy in queries])
    found = nearest_within(t[:, 0], t[:, 1], q[:, 0], q[:, 1], radius)
    for (qx, qy), hit in zip(q, found.tolist(), strict=True):
        distances = [haversine_m(qx, qy, tx, ty) for tx, ty in t]
        # The local plane is within 1 % of the great circle: only points at the very edge
        # of the radius may be judged either way.
        clearly_in = [i for i, d in enumerate(distances) if d <= radius * 0.99]
        if hit < 0:
            assert not clearly_in
        else:
            assert distances[hit] <= radius * 1.01
            assert distances[hit] <= min(distances) * 1.01 + 1e-6


def test_nothing_is_near_when_there_is_nothing_or_no_radius() -> None:
    some = np.array([106.57, 106.58])
    none = np.empty(0)
    assert nearest_within(none, none, some, some, 50.0).tolist() == [-1, -1]
    assert nearest_within(some, some, some, some, 0.0).tolist() == [-1, -1]
    assert nearest_within(some, some, none, none, 50.0).tolist() == []


def test_pairs_within_the_radius_are_each_listed_once_later_first() -> None:
    # Three points 30 m apart east to west at 29.56° N, and one far away.
    step = 30 / (111_320 * math.cos(math.radians(29.56)))
    lons = np.array([106.57, 106.57 + step, 106.57 + 2 * step, 106.60])
    lats = np.full(4, 29.56)
    later, earlier, metres = earlier_within(lons, lats, 40.0)
    pairs = sorted(zip(later.tolist(), earlier.tolist(), strict=True))
    assert pairs == [(1, 0), (2, 1)]
    assert np.allclose(metres, 30.0, atol=0.05)
    assert len(earlier_within(lons, lats, 70.0)[0]) == 3  # (2, 0) joins at 60 m
    assert len(earlier_within(lons[:1], lats[:1], 70.0)[0]) == 0
