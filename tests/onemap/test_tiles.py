"""OGC API – Tiles at /ogcapi: the tile matrix set, tilesets of the layers, the grids and the
conflict patches, vector tiles decoded (features, where a known polygon lands, properties),
empty tiles, errors, logins, ETag/304 and caching; the conflicts collection; and the spatial
index that bbox queries and tiles go through."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from tests.factories import EPOCH
from tests.onemap.test_ogcapi import TRIANGLE, make_layer, ok, refused, squares

from cityops.onemap import features, tiles
from cityops.onemap.models import Conflict, ConflictRun, LayerFeature
from cityops.onemap.tiles import TileAddress, TileCache

ROOT = "/ogcapi"
MVT = "application/vnd.mapbox-vector-tile"
WMQ = "WebMercatorQuad"
SQUARE = shapely.box(106.570, 29.560, 106.5705, 29.5605)  # the first of `squares`


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (row, column) of the WebMercatorQuad tile at zoom `z` holding the point."""
    n = 2**z
    y = (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2 * n
    return int(y), int((lon + 180) / 360 * n)


def on_grid(lon: float, lat: float, z: int, row: int, col: int) -> tuple[float, float]:
    """Where the point lies on the tile's 4096 grid (y down)."""
    n = 2**z
    x = ((lon + 180) / 360 * n - col) * 4096
    y = ((1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2 * n
         - row) * 4096  # fmt: skip
    return x, y


def decode(data: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})  # type: ignore[no-any-return]


def tile_url(collection: str, z: int, row: int, col: int) -> str:
    return f"{ROOT}/collections/{collection}/tiles/{WMQ}/{z}/{row}/{col}"


@pytest.fixture
def plan(session: Session, district: Any) -> list[LayerFeature]:
    """A plan layer of 25 squares and a triangle, in its second version."""
    assert district.people
    return make_layer(session, "plan-2035", [*squares(25), ("1001", TRIANGLE, {})], versions=2)


# -- commands, checked as the MVT specification (2.1, section 4.3) words them --------------


def rings_of(commands: list[int]) -> list[list[tuple[int, int]]]:
    """A polygon feature's rings from its geometry commands, checking each command's
    shape: MoveTo 1, LineTo n ≥ 1 with no zero-length step, ClosePath."""
    rings: list[list[tuple[int, int]]] = []
    x = y = i = 0
    while i < len(commands):
        assert commands[i] == 9, "a ring starts with MoveTo(1)"
        dx, dy = (commands[i + 1] >> 1) ^ -(commands[i + 1] & 1), \
                 (commands[i + 2] >> 1) ^ -(commands[i + 2] & 1)  # fmt: skip
        x, y = x + dx, y + dy
        ring = [(x, y)]
        assert commands[i + 3] & 7 == 2
        count = commands[i + 3] >> 3
        assert count >= 2
        i += 4
        for _ in range(count):
            dx = (commands[i] >> 1) ^ -(commands[i] & 1)
            dy = (commands[i + 1] >> 1) ^ -(commands[i + 1] & 1)
            assert (dx, dy) != (0, 0)
            x, y = x + dx, y + dy
            ring.append((x, y))
            i += 2
        assert commands[i] == 15, "a ring ends with ClosePath"
        i += 1
        rings.append(ring)
    return rings


def signed_area(ring: list[tuple[int, int]]) -> float:
    closed = [*ring, ring[0]]
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(closed)) / 2


def raw_features(data: bytes) -> list[Any]:
    message = tiles.vector_tile_pb2.tile()
    message.ParseFromString(data)
    (layer,) = message.layers
    assert (layer.version, layer.extent) == (2, 4096)
    return list(layer.features)


# -- rendering, without a database ---------------------------------------------------------


def test_a_known_polygon_lands_where_web_mercator_puts_it() -> None:
    row, col = tile_of(106.5702, 29.5602, 16)
    address = TileAddress(16, row, col)
    data = tiles.render("plan", address, [7], [shapely.to_wkb(SQUARE)], ["class_code"], [["0101"]])
    (feature,) = decode(data)["plan"]["features"]
    assert feature["id"] == 7 and feature["properties"] == {"class_code": "0101"}
    assert feature["geometry"]["type"] == "Polygon"
    got = sorted(map(tuple, feature["geometry"]["coordinates"][0][:-1]))
    corners = [(106.570, 29.560), (106.5705, 29.560), (106.5705, 29.5605), (106.570, 29.5605)]
    want = sorted((round(x), round(y)) for x, y in (on_grid(*c, 16, row, col) for c in corners))
    assert got == want
    # Exterior rings have a positive area on the y-down grid (MVT 4.3.4.4).
    (ring,) = rings_of(list(raw_features(data)[0].geometry))
    assert signed_area(ring) > 0


def test_holes_parts_lines_points_and_the_clip_buffer() -> None:
    address = TileAddress(12, *tile_of(106.55, 29.55, 12))
    box = address.lon_lat_box()
    w, h = box.maxx - box.minx, box.maxy - box.miny
    cx, cy = box.minx + w / 2, box.miny + h / 2
    ring = shapely.box(cx - w / 4, cy - h / 4, cx + w / 4, cy + h / 4)
    holed = ring.difference(shapely.box(cx - w / 8, cy - h / 8, cx + w / 8, cy + h / 8))
    two = shapely.MultiPolygon(
        [
            shapely.box(box.minx + w / 20, cy, box.minx + w / 10, cy + h / 20),
            shapely.box(cx + w / 3, cy, cx + w / 2.5, cy + h / 20),
        ]
    )
    wide = shapely.box(box.minx - w, cy, box.maxx + w, cy + h / 10)  # beyond the tile both ways
    line = shapely.LineString([(cx, box.miny + h / 10), (cx + w / 5, box.miny + h / 10)])
    points = shapely.MultiPoint([(cx, cy), (cx + w / 10, cy + h / 10)])
    geoms: list[BaseGeometry] = [holed, two, wide, line, points]
    data = tiles.render("t", address, [1, 2, 3, 4, 5], geoms, ["n", "ok", "name"],
                        [[1, 2, 3, 4, 5], [True, False, None, True, True],
                         ["a", "b", "c", "d", None]])  # fmt: skip
    decoded = {f["id"]: f for f in decode(data)["t"]["features"]}
    kinds = {i: f["geometry"]["type"] for i, f in decoded.items()}
    assert kinds == {1: "Polygon", 2: "MultiPolygon", 3: "Polygon", 4: "LineString",
                     5: "MultiPoint"}  # fmt: skip
    assert len(decoded[1]["geometry"]["coordinates"]) == 2  # the exterior and its hole
    assert decoded[3]["properties"] == {"n": 3, "name": "c"}  # None is left out
    assert decoded[5]["properties"] == {"n": 5, "ok": True}
    xs = [x for x, _ in decoded[3]["geometry"]["coordinates"][0]]
    assert (min(xs), max(xs)) == (-64, 4096 + 64)  # clipped to the buffer
    raw = {f.id: f for f in raw_features(data)}
    outer, hole = rings_of(list(raw[1].geometry))
    assert signed_area(outer) > 0 > signed_area(hole)
    assert [f.type for f in raw.values()] == [3, 3, 3, 2, 1]


def test_random_outlines_encode_as_the_specification_asks() -> None:
    """Jagged polygons of every size, some beyond the tile: each ring well formed, with no
    zero-length step, exteriors positive, and where decoded near where it was."""
    rng = np.random.default_rng(3)
    address = TileAddress(14, *tile_of(106.55, 29.55, 14))
    box = address.lon_lat_box()
    size = box.maxx - box.minx
    geoms = []
    for k in range(300):
        cx = rng.uniform(box.minx - size / 10, box.maxx + size / 10)
        cy = rng.uniform(box.miny - size / 10, box.maxy + size / 10)
        radius = size * 10 ** rng.uniform(-4, -0.5)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 12 + k % 30))
        radii = radius * rng.uniform(0.3, 1.0, angles.size)
        geoms.append(shapely.make_valid(shapely.Polygon(np.column_stack(
            [cx + radii * np.cos(angles), cy + radii * np.sin(angles)]))))  # fmt: skip
    data = tiles.render("r", address, list(range(300)), geoms, [], [])
    found = raw_features(data)
    assert 100 < len(found) <= 300
    for feature in found:
        assert feature.type == 3
        rings = rings_of(list(feature.geometry))
        assert signed_area(rings[0]) > 0
        for ring in rings:
            assert all(-64 <= x <= 4160 and -64 <= y <= 4160 for x, y in ring)


def test_specks_are_left_out_below_the_detail_zoom_only() -> None:
    row, col = tile_of(106.5702, 29.5602, 10)
    wkb = shapely.to_wkb(SQUARE)  # 0.0005°: about 6 units of a zoom-10 tile
    assert tiles.render("p", TileAddress(10, row, col), [1], [wkb], [], []) == b""
    row, col = tile_of(106.5702, 29.5602, 15)
    assert decode(tiles.render("p", TileAddress(15, row, col), [1], [wkb], [], []))["p"]


def test_the_cache_drops_the_least_recently_used_beyond_its_size() -> None:
    cache = TileCache(max_bytes=10)
    for key in ("a", "b", "c"):
        cache.put(key, tiles.Tile(b"1234", f'"{key}"'))
    assert cache.get("a") is None and len(cache) == 2 and cache.size == 8
    assert cache.get("b") is not None  # b is now the most recent: c goes next
    cache.put("d", tiles.Tile(b"1234", '"d"'))
    assert cache.get("c") is None and cache.get("b") is not None
    cache.put("huge", tiles.Tile(b"x" * 11, '"huge"'))  # larger than the cache: not kept
    assert cache.get("huge") is None


# -- the API ------------------------------------------------------------------------------


def test_conformance_landing_and_the_tile_matrix_set(client: TestClient) -> None:
    classes = ok(client.get(f"{ROOT}/conformance"))["conformsTo"]
    for part in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{part}" in classes
    landing = ok(client.get(ROOT))
    (schemes,) = [ln for ln in landing["links"] if ln["rel"].endswith("/tiling-schemes")]
    listed = ok(client.get(schemes["href"]))["tileMatrixSets"]
    assert [t["id"] for t in listed] == [WMQ]
    tms = ok(client.get(f"{ROOT}/tileMatrixSets/{WMQ}"))
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert [m["id"] for m in tms["tileMatrices"]] == [str(z) for z in range(25)]
    zero, twelve = tms["tileMatrices"][0], tms["tileMatrices"][12]
    assert zero["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert zero["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])
    assert (twelve["matrixWidth"], twelve["tileWidth"]) == (4096, 256)
    refused(client.get(f"{ROOT}/tileMatrixSets/WorldCRS84Quad"), 404, "WorldCRS84Quad")


@pytest.mark.usefixtures("plan")
def test_tilesets_of_a_layer_with_the_tile_template(client: TestClient) -> None:
    coll = ok(client.get(f"{ROOT}/collections/plan-2035"))
    (vector,) = [ln for ln in coll["links"] if ln["rel"].endswith("/tilesets-vector")]
    page = client.get(f"{ROOT}/collections/plan-2035", params={"f": "html"})
    assert f'href="{vector["href"]}"' in page.text
    listed = ok(client.get(vector["href"]))
    (summary,) = listed["tilesets"]
    assert (summary["dataType"], summary["tileMatrixSetURI"]) == (
        "vector", "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")  # fmt: skip
    (own,) = [ln["href"] for ln in summary["links"] if ln["rel"] == "self"]
    tileset = ok(client.get(own))
    assert any(ln["rel"].endswith("/tiling-scheme") for ln in tileset["links"])
    (item,) = [ln for ln in tileset["links"] if ln["rel"] == "item"]
    assert item["templated"] is True and item["type"] == MVT
    assert item["href"] == (f"http://testserver{ROOT}/collections/plan-2035/tiles/{WMQ}"
                            "/{tileMatrix}/{tileRow}/{tileCol}?v=2")  # fmt: skip
    (layer,) = tileset["layers"]
    assert layer["id"] == "plan-2035"
    assert layer["propertiesSchema"]["properties"] == {
        "id": {"type": "integer"}, "fid": {"type": "integer"},
        "class_code": {"type": "string"}, "source_class": {"type": "string"}}  # fmt: skip
    assert tileset["boundingBox"]["lowerLeft"] == pytest.approx([106.57, 29.56])
    grids = ok(client.get(f"{ROOT}/collections/grids/tiles/{WMQ}"))
    (item,) = [ln for ln in grids["links"] if ln["rel"] == "item"]
    assert item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}")  # grids change: no v
    api = ok(client.get(f"{ROOT}/api"), "application/vnd.oai.openapi+json;version=3.0")
    path = "/collections/plan-2035/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
    assert MVT in api["paths"][path]["get"]["responses"]["200"]["content"]


def test_a_layer_tile_holds_the_current_version_with_its_properties(
    client: TestClient, plan: list[LayerFeature]
) -> None:
    row, col = tile_of(106.5702, 29.5602, 16)
    response = client.get(tile_url("plan-2035", 16, row, col))
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    found = decode(response.content)["plan-2035"]["features"]
    by_fid = {f["properties"]["fid"]: f for f in found}
    first = plan[0]
    assert by_fid[1]["id"] == first.id  # the current version's feature, not the first's
    assert by_fid[1]["properties"] == {"id": first.id, "fid": 1, "class_code": "0101",
                                       "source_class": "0101"}  # fmt: skip
    assert {f["id"] for f in found} <= {f.id for f in plan}
    corner = on_grid(106.570, 29.5605, 16, row, col)
    assert [round(corner[0]), round(corner[1])] in by_fid[1]["geometry"]["coordinates"][0]


@pytest.mark.usefixtures("plan")
def test_empty_tiles_are_204_and_specks_wait_for_zoom(client: TestClient) -> None:
    far = client.get(tile_url("plan-2035", 16, *tile_of(116.4, 39.9, 16)))
    assert far.status_code == 204 and far.content == b"" and far.headers["etag"]
    # At zoom 10 the squares (50 m) are specks, left out; the triangle (1 km) stays.
    overview = client.get(tile_url("plan-2035", 10, *tile_of(106.5702, 29.5602, 10)))
    found = decode(overview.content)["plan-2035"]["features"]
    assert [f["properties"]["class_code"] for f in found] == ["1001"]
    assert client.get(tile_url("plan-2035", 5, *tile_of(106.5702, 29.5602, 5))).status_code == 204


@pytest.mark.usefixtures("plan")
def test_bad_tile_addresses_in_the_standards_form(client: TestClient, login: Any) -> None:
    for path, status, named in (
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/25/0/0", 404, "25"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/abc/0/0", 404, "abc"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/8/0", 404, "tileRow"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/0/-1", 404, "tileCol"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/x/0", 400, "tileRow"),
        (f"{ROOT}/collections/plan-2035/tiles/WorldCRS84Quad/3/0/0", 404, "WorldCRS84Quad"),
        (f"{ROOT}/collections/nowhere/tiles/{WMQ}/3/0/0", 404, "nowhere"),
        (f"{ROOT}/collections/nowhere/tiles", 404, "nowhere"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/0/0?v=9", 404, "version 9"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/0/0?v=two", 400, "v"),
        (f"{ROOT}/collections/grids/tiles/{WMQ}/3/0/0?v=1", 400, "v"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/0/0?f=png", 400, "f"),
        (f"{ROOT}/collections/plan-2035/tiles/{WMQ}/3/0/0?colour=red", 400, "colour"),
    ):
        refused(client.get(path), status, named)
    # Cases have items but no tiles; staff collections ask for a login first.
    refused(
        client.get(f"{ROOT}/collections/cases/tiles", headers=login("dispatcher")), 404, "tiles"
    )
    assert (
        refused(client.get(f"{ROOT}/collections/cases/tiles"), 401, "cases") == "NotAuthenticated"
    )


def test_layer_tiles_are_cached_for_good_when_pinned_to_a_version(
    client: TestClient, plan: list[LayerFeature]
) -> None:
    row, col = tile_of(106.5702, 29.5602, 16)
    pinned = client.get(tile_url("plan-2035", 16, row, col), params={"v": 2})
    tag = pinned.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    current = client.get(tile_url("plan-2035", 16, row, col))
    assert current.headers["cache-control"] == "public, no-cache"
    assert current.headers["etag"] == tag and current.content == pinned.content
    again = client.get(tile_url("plan-2035", 16, row, col), params={"v": 2},
                       headers={"If-None-Match": f'"other", W/{tag}'})  # fmt: skip
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert len(client.app.state.ogcapi_tile_cache) == 1  # type: ignore[attr-defined]
    # The first version is kept and may be asked for: its own features and its own tag.
    old = client.get(tile_url("plan-2035", 16, row, col), params={"v": 1})
    assert old.headers["etag"] != tag
    old_ids = {f["id"] for f in decode(old.content)["plan-2035"]["features"]}
    assert old_ids.isdisjoint(f.id for f in plan)


@pytest.mark.usefixtures("plan")
def test_grid_tiles_carry_code_and_name_with_an_etag_of_their_bytes(client: TestClient) -> None:
    row, col = tile_of(106.571, 29.561, 15)
    response = client.get(tile_url("grids", 15, row, col))
    found = decode(response.content)["grids"]["features"]
    assert {f["properties"]["code"] for f in found} == {
        "500103001001001", "500103001001002", "500103001002001", "500103002001001"}  # fmt: skip
    assert set(found[0]["properties"]) == {"code", "name"}
    assert response.headers["cache-control"] == "public, no-cache"
    tag = response.headers["etag"]
    same = client.get(tile_url("grids", 15, row, col), headers={"If-None-Match": tag})
    assert same.status_code == 304


# -- conflicts ------------------------------------------------------------------------------


def _run(session: Session, state: str, patches: list[tuple[str, BaseGeometry]]) -> ConflictRun:
    run = ConflictRun(layers=[{"name": "plan-2035", "version": 2}], state=state, min_area_m2=1.0,
                      min_width_m=0.5, rules=["farmland"], started_at=EPOCH,
                      finished_at=EPOCH + timedelta(minutes=1))  # fmt: skip
    session.add(run)
    session.flush()
    for k, (rule, geom) in enumerate(patches):
        x0, y0, x1, y1 = geom.bounds
        point = geom.representative_point()
        session.add(Conflict(
            run_id=run.id, rule=rule, layer_a="plan-2035", feature_a=k + 1, class_a="0101",
            layer_b="urban-boundary", feature_b=None if k else 9, class_b="城镇开发边界",
            difference="a_builds", area_m2=1000.0 + k, geometry=shapely.to_wkb(geom),
            min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1, lon=point.x, lat=point.y,
            street_code="500103001",
            state="open" if k else "case_opened", case_id=None if k else 42,
        ))  # fmt: skip
    session.flush()
    return run


@pytest.fixture
def runs(session: Session, district: Any) -> ConflictRun:
    """An older finished run, the latest finished one (two patches), and a later one still
    running; the collection serves the latest finished one's."""
    assert district.people
    _run(session, "finished", [("old", shapely.box(106.571, 29.561, 106.5712, 29.5612))])
    latest = _run(session, "finished", [
        ("farmland-in-urban", shapely.box(106.5701, 29.5601, 106.5703, 29.5603)),
        ("outside-boundary", shapely.box(106.5751, 29.5601, 106.5753, 29.5603)),
    ])  # fmt: skip
    _run(session, "running", [("new", shapely.box(106.572, 29.561, 106.5722, 29.5612))])
    session.commit()
    return latest


def test_conflicts_are_for_staff_and_come_from_the_latest_finished_run(
    client: TestClient, login: Any, runs: ConflictRun
) -> None:
    items = f"{ROOT}/collections/conflicts/items"
    assert refused(client.get(items), 401, "conflicts") == "NotAuthenticated"
    assert "conflicts" not in {
        c["id"] for c in ok(client.get(f"{ROOT}/collections"))["collections"]
    }
    staff = login("street_dispatcher")  # any logged-in staff, whatever their scope
    listed = ok(client.get(f"{ROOT}/collections", headers=staff))["collections"]
    assert "conflicts" in {c["id"] for c in listed}
    page = ok(client.get(items, headers=staff), "application/geo+json")
    assert [f["properties"]["rule"] for f in page["features"]] == [
        "farmland-in-urban", "outside-boundary"]  # fmt: skip
    first = page["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"] == {
        "run_id": runs.id, "rule": "farmland-in-urban", "layer_a": "plan-2035", "feature_a": 1,
        "class_a": "0101", "layer_b": "urban-boundary", "feature_b": 9, "class_b": "城镇开发边界",
        "difference": "a_builds", "area_m2": 1000.0, "street_code": "500103001",
        "state": "case_opened", "case_id": 42, "resolution": None,
    }  # fmt: skip
    opened = ok(client.get(items, params={"state": "open"}, headers=staff))
    assert [f["properties"]["rule"] for f in opened["features"]] == ["outside-boundary"]
    boxed = ok(client.get(items, params={"bbox": "106.575,29.56,106.576,29.561"}, headers=staff))
    assert [f["properties"]["rule"] for f in boxed["features"]] == ["outside-boundary"]
    queryables = ok(client.get(f"{ROOT}/collections/conflicts/queryables", headers=staff),
                    "application/schema+json")["properties"]  # fmt: skip
    assert set(queryables) == {"rule", "class_a", "class_b", "layer_a", "layer_b",
                               "street_code", "state", "difference"}  # fmt: skip
    refused(client.get(items, params={"case_id": "42"}, headers=staff), 400, "case_id")


def test_conflict_tiles_need_a_login_and_carry_the_patch(
    client: TestClient, login: Any, runs: ConflictRun
) -> None:
    row, col = tile_of(106.5702, 29.5602, 15)
    url = tile_url("conflicts", 15, row, col)
    assert refused(client.get(url), 401, "conflicts") == "NotAuthenticated"
    response = client.get(url, headers=login("dispatcher"))
    assert response.headers["cache-control"] == "private, no-cache"
    found = decode(response.content)["conflicts"]["features"]
    assert sorted(f["properties"]["rule"] for f in found) == ["farmland-in-urban",
                                                              "outside-boundary"]  # fmt: skip
    patch = next(f for f in found if f["properties"]["rule"] == "farmland-in-urban")
    assert patch["properties"] == {
        "id": patch["id"], "rule": "farmland-in-urban", "layer_a": "plan-2035",
        "class_a": "0101", "layer_b": "urban-boundary", "class_b": "城镇开发边界",
        "difference": "a_builds", "area_m2": 1000.0, "state": "case_opened",
    }  # fmt: skip
    assert runs.id


# -- the spatial index --------------------------------------------------------------------


def test_the_spatial_index_follows_the_rows_and_answers_box_queries(
    session: Session, plan: list[LayerFeature]
) -> None:
    dialect = session.get_bind().dialect.name
    coll = features.collection(session, "plan-2035", None)
    box = features.BBox(106.5699, 29.5599, 106.5726, 29.5601)
    query = features.ItemQuery(limit=100, bbox=box)
    assert [f["properties"]["fid"] for f in features.items(session, coll, None, query).features
            ] == [1, 2, 3]  # fmt: skip
    if dialect == "postgresql":
        # The box test as written must be the GiST index's expression, or the planner could
        # never use it: with no other way than a full scan, it takes the index.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        (overlap,) = [c for c in features.located(session, coll, None, box) if "&&" in str(c)]
        statement = select(func.count()).select_from(LayerFeature).where(overlap)
        sql = str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        plan_text = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {sql}")))
        assert "sx_onemap_features" in plan_text
        return
    if not features._has_rtree(session, "sx_onemap_features"):
        for statement in features.spatial_index_statements("onemap_features", "sqlite"):
            session.execute(text(statement))
    first = plan[0]

    def indexed(fid: int) -> Any:
        box_of = text("SELECT min_lon, max_lon, min_lat, max_lat FROM sx_onemap_features "
                      "WHERE id = :id")  # fmt: skip
        return session.execute(box_of, {"id": fid}).first()

    assert indexed(first.id) == pytest.approx((106.570, 106.5705, 29.560, 29.5605), abs=1e-5)
    first.min_lon, first.max_lon = 106.600, 106.6005
    session.flush()
    assert indexed(first.id)[:2] == pytest.approx((106.600, 106.6005), abs=1e-5)
    moved = features.items(session, coll, None, query)
    assert [f["properties"]["fid"] for f in moved.features] == [2, 3]
    session.delete(first)
    session.flush()
    assert indexed(first.id) is None
    plan_rows = session.execute(text(
        "EXPLAIN QUERY PLAN " + str(
            select(LayerFeature.id).where(*features.located(session, coll, None, box))
            .compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    )).all()  # fmt: skip
    assert any("INTEGER PRIMARY KEY" in r[3] for r in plan_rows)
