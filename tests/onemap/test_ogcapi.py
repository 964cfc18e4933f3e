"""OGC API – Features at /ogcapi: landing page, conformance, collections, items (bbox, limit,
paging, properties, datetime, CRS), single features, errors, staff-only collections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session
from tests.factories import DISTRICT, EPOCH, GRID_A, GRID_B, inside

from cityops.cases.models import Case
from cityops.onemap.models import Layer, LayerFeature, LayerVersion
from cityops.video.models import Camera

ROOT = "/ogcapi"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
# A triangle whose bounding box meets the box (106.608, 29.608, 106.612, 29.612) while the
# triangle itself stays on the far side of its hypotenuse: only the exact test leaves it out.
TRIANGLE = shapely.Polygon([(106.600, 29.600), (106.610, 29.600), (106.600, 29.610)])


def make_layer(
    session: Session,
    name: str,
    features: list[tuple[str, BaseGeometry, dict[str, Any]]],
    *,
    versions: int = 1,
) -> list[LayerFeature]:
    """A layer whose current version (the last of `versions`) holds `features`; each
    earlier version holds the same features too, so only the current one must be served."""
    layer = Layer(name=name, title=f"图层 {name}", kind="plan", class_field="DLBM",
                  class_scheme="2023", description="测试用地规划", current_version=versions,
                  created_at=EPOCH, updated_at=EPOCH)  # fmt: skip
    session.add(layer)
    session.flush()
    rows: list[LayerFeature] = []
    bounds = shapely.GeometryCollection([g for _, g, _ in features]).bounds
    for number in range(1, versions + 1):
        version = LayerVersion(
            layer_id=layer.id, version=number, source=f"{name}.gpkg", source_format="GPKG",
            source_crs="EPSG:4490", fields=[{"name": "DLBM", "type": "str"}],
            min_lon=bounds[0], min_lat=bounds[1], max_lon=bounds[2], max_lat=bounds[3],
            feature_count=len(features), area_m2=1.0, imported_at=EPOCH,
        )  # fmt: skip
        session.add(version)
        session.flush()
        rows = []
        for fid, (code, geom, props) in enumerate(features, start=1):
            x0, y0, x1, y1 = geom.bounds
            row = LayerFeature(
                version_id=version.id, fid=fid, class_code=code, source_class=code,
                properties=props, geometry=shapely.to_wkb(geom), min_lon=x0, min_lat=y0,
                max_lon=x1, max_lat=y1, area_m2=100.0,
            )  # fmt: skip
            session.add(row)
            rows.append(row)
        session.flush()
    session.commit()
    return rows


def squares(n: int) -> list[tuple[str, BaseGeometry, dict[str, Any]]]:
    """`n` squares of 0.0005° in a row eastwards from (106.570, 29.560), alternately
    classed 0101 (耕地) and 0701 (城镇住宅用地)."""
    return [
        ("0101" if i % 2 == 0 else "0701",
         shapely.box(106.570 + i * 0.001, 29.560, 106.5705 + i * 0.001, 29.5605),
         {"DLMC": "水田" if i % 2 == 0 else "住宅", "n": i})
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def plan(session: Session, district: Any) -> list[LayerFeature]:
    """A plan layer of 25 squares and the triangle, in its second version (in the test
    district, whose staff some tests log in as)."""
    assert district.people
    return make_layer(session, "plan-2035", [*squares(25), ("1001", TRIANGLE, {})], versions=2)


def ok(response: Any, media: str = "json") -> Any:
    assert response.status_code == 200, response.text
    assert media in response.headers["content-type"]
    return response.json()


def refused(response: Any, status: int, names: str) -> str:
    """An OGC API exception with `status`, its description naming `names`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "description"}
    assert names in body["description"]
    return str(body["code"])


def links(doc: dict[str, Any], rel: str) -> list[dict[str, str]]:
    return [link for link in doc["links"] if link["rel"] == rel]


def href(doc: dict[str, Any], rel: str, media: str = "json") -> str:
    (link,) = [link for link in links(doc, rel) if media in link["type"]]
    return link["href"].removeprefix("http://testserver")


# -- landing, conformance, API definition -------------------------------------------------


def test_the_landing_page_is_json_by_default_and_html_on_request(client: TestClient) -> None:
    doc = ok(client.get(ROOT))
    assert ok(client.get(f"{ROOT}/")) == doc  # OWSLib asks with a trailing slash
    (desc,) = links(doc, "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert href(doc, "conformance") == f"{ROOT}/conformance"
    assert href(doc, "data") == f"{ROOT}/collections"
    page = client.get(ROOT, params={"f": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text and "要素服务" in page.text
    browser = client.get(ROOT, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")


@pytest.mark.usefixtures("plan")
def test_conformance_and_the_openapi_document(client: TestClient) -> None:
    classes = ok(client.get(f"{ROOT}/conformance"))["conformsTo"]
    for part in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    api = ok(client.get(f"{ROOT}/api"), "application/vnd.oai.openapi+json;version=3.0")
    assert api["openapi"].startswith("3.0")
    items = api["paths"]["/collections/plan-2035/items"]["get"]["parameters"]
    names = {p["name"] for p in items}
    assert {"bbox", "bbox-crs", "limit", "offset", "crs", "class_code"} <= names
    assert "datetime" not in names  # a layer has no time property
    assert "/collections/cases/items" not in api["paths"]  # staff only


# -- collections --------------------------------------------------------------------------


@pytest.mark.usefixtures("plan")
def test_collections_for_the_public_and_for_staff(client: TestClient, login: Any) -> None:
    doc = ok(client.get(f"{ROOT}/collections"))
    by_id = {c["id"]: c for c in doc["collections"]}
    assert set(by_id) == {"plan-2035", "grids"}
    layer = by_id["plan-2035"]
    assert layer["itemType"] == "feature"
    assert layer["storageCrs"] == EPSG_4490
    assert {CRS84, EPSG_4490} <= set(layer["crs"])
    assert layer["extent"]["spatial"]["bbox"][0] == pytest.approx([106.57, 29.56, 106.61, 29.61])
    assert layer["extent"]["spatial"]["crs"] == CRS84
    grids = by_id["grids"]["extent"]["spatial"]["bbox"][0]
    assert grids == pytest.approx([106.570, 29.560, 106.578, 29.562])
    staff = ok(client.get(f"{ROOT}/collections", headers=login("dispatcher")))
    assert {"cases", "devices", "cameras"} <= {c["id"] for c in staff["collections"]}
    one = ok(client.get(f"{ROOT}/collections/plan-2035"))
    assert one["id"] == "plan-2035" and href(one, "items") == f"{ROOT}/collections/plan-2035/items"
    html = client.get(f"{ROOT}/collections/plan-2035", params={"f": "html"})
    assert "图层 plan-2035" in html.text and "class_code" in html.text


def test_an_unknown_collection_is_404_in_the_standards_form(client: TestClient) -> None:
    code = refused(client.get(f"{ROOT}/collections/nowhere"), 404, "nowhere")
    assert code == "NotFound"
    refused(client.get(f"{ROOT}/collections/nowhere/items"), 404, "nowhere")


# -- items --------------------------------------------------------------------------------


def test_items_page_with_next_and_prev_links(client: TestClient, plan: Any) -> None:
    first = ok(client.get(f"{ROOT}/collections/plan-2035/items"), "application/geo+json")
    assert first["type"] == "FeatureCollection"
    assert (first["numberMatched"], first["numberReturned"]) == (26, 10)
    assert first["timeStamp"].endswith("Z")
    assert not links(first, "prev")
    seen = [f["id"] for f in first["features"]]
    page = first
    while links(page, "next"):
        page = ok(client.get(href(page, "next")), "application/geo+json")
        seen += [f["id"] for f in page["features"]]
    assert seen == sorted(f.id for f in plan)  # the current version's, each once, in order
    assert page["numberReturned"] == 6
    back = ok(client.get(href(page, "prev")))
    assert [f["id"] for f in back["features"]] == seen[10:20]
    feature = first["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"] == {"DLMC": "水田", "n": 0, "fid": 1, "class_code": "0101",
                                     "source_class": "0101", "area_m2": 100.0}  # fmt: skip


@pytest.mark.usefixtures("plan")
def test_limit_is_checked_and_clamped_at_10000(client: TestClient) -> None:
    items = f"{ROOT}/collections/plan-2035/items"
    assert ok(client.get(items, params={"limit": 3}))["numberReturned"] == 3
    big = ok(client.get(items, params={"limit": 20000}))
    assert big["numberReturned"] == 26
    assert "limit=10000" in href(big, "self")
    for bad in ("0", "-1", "ten"):
        assert refused(client.get(items, params={"limit": bad}), 400, "limit") == (
            "InvalidParameterValue"
        )
    refused(client.get(items, params={"offset": "-5"}), 400, "offset")


@pytest.mark.usefixtures("plan")
def test_bbox_uses_the_exact_geometry(client: TestClient) -> None:
    items = f"{ROOT}/collections/plan-2035/items"
    # The first three squares (106.570–106.5725), and not the fourth.
    three = ok(client.get(items, params={"bbox": "106.5699,29.5599,106.5726,29.5601"}))
    assert [f["properties"]["n"] for f in three["features"]] == [0, 1, 2]
    assert three["numberMatched"] == 3
    # Boxes meet, the triangle does not: it is neither counted nor served.
    corner = "106.608,29.608,106.612,29.612"
    assert ok(client.get(items, params={"bbox": corner}))["numberMatched"] == 0
    inside_it = ok(client.get(items, params={"bbox": "106.601,29.601,106.602,29.602"}))
    assert [f["properties"]["class_code"] for f in inside_it["features"]] == ["1001"]
    # The same box in EPSG:4490's own axis order (latitude first).
    swapped = ok(client.get(items, params={"bbox": "29.5599,106.5699,29.5601,106.5726",
                                           "bbox-crs": EPSG_4490}))  # fmt: skip
    assert swapped["features"] == three["features"]
    # Paging within a bbox keeps the box.
    page = ok(client.get(items, params={"bbox": "106.56,29.55,106.62,29.57", "limit": 20}))
    assert page["numberMatched"] == 25
    assert "bbox=" in href(page, "next")
    for bad in ("1,2,3", "a,b,c,d", "106.6,29.6,106.5,29.5,1", "0,95,1,96"):
        refused(client.get(items, params={"bbox": bad}), 400, "bbox")
    refused(client.get(items, params={"bbox": corner, "bbox-crs": "EPSG:3857"}), 400, "bbox-crs")


@pytest.mark.usefixtures("plan")
def test_property_filters_and_unknown_parameters(client: TestClient) -> None:
    items = f"{ROOT}/collections/plan-2035/items"
    farmland = ok(client.get(items, params={"class_code": "0101", "limit": 100}))
    assert farmland["numberMatched"] == 13
    assert {f["properties"]["class_code"] for f in farmland["features"]} == {"0101"}
    assert ok(client.get(items, params={"fid": "2"}))["features"][0]["properties"]["n"] == 1
    refused(client.get(items, params={"fid": "two"}), 400, "fid")
    refused(client.get(items, params={"colour": "red"}), 400, "colour")
    refused(client.get(items, params={"f": "xml"}), 400, "f")
    refused(client.get(f"{ROOT}/collections", params={"bbox": "1,2,3,4"}), 400, "bbox")
    grids = ok(client.get(f"{ROOT}/collections/grids/items", params={"parent_code": GRID_A[:12]}))
    assert sorted(f["id"] for f in grids["features"]) == [GRID_A, "500103001001002"]


@pytest.mark.usefixtures("plan")
def test_datetime_on_a_layer_without_time_is_refused(client: TestClient) -> None:
    response = client.get(f"{ROOT}/collections/plan-2035/items", params={"datetime": "2026-11-24"})
    refused(response, 400, "datetime")


@pytest.mark.usefixtures("plan")
def test_crs_of_the_response(client: TestClient) -> None:
    items = f"{ROOT}/collections/plan-2035/items"
    lonlat = client.get(items, params={"limit": 1})
    assert lonlat.headers["content-crs"] == f"<{CRS84}>"
    latlon = client.get(items, params={"limit": 1, "crs": EPSG_4490})
    assert latlon.headers["content-crs"] == f"<{EPSG_4490}>"
    x, y = lonlat.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert latlon.json()["features"][0]["geometry"]["coordinates"][0][0] == [y, x]
    refused(client.get(items, params={"crs": "EPSG:3857"}), 400, "crs")


def test_one_feature_with_its_links(client: TestClient, plan: Any) -> None:
    fid = plan[3].id
    url = f"{ROOT}/collections/plan-2035/items/{fid}"
    feature = ok(client.get(url), "application/geo+json")
    assert (feature["id"], feature["properties"]["n"]) == (fid, 3)
    assert href(feature, "self").startswith(url)
    assert href(feature, "collection") == f"{ROOT}/collections/plan-2035"
    html = client.get(url, params={"f": "html"})
    assert "/static/vendor/leaflet/leaflet.js" in html.text and "DLMC" in html.text
    assert refused(client.get(f"{ROOT}/collections/plan-2035/items/99999999"), 404, "99999999") == (
        "NotFound"
    )
    refused(client.get(f"{ROOT}/collections/plan-2035/items/abc"), 404, "abc")
    # A feature of the layer's previous version is not one of the collection's items.
    refused(client.get(f"{ROOT}/collections/plan-2035/items/{fid - 26}"), 404, str(fid - 26))


@pytest.mark.usefixtures("plan")
def test_the_items_page_in_html_has_a_map(client: TestClient) -> None:
    page = client.get(f"{ROOT}/collections/plan-2035/items", params={"f": "html", "limit": 5})
    assert page.status_code == 200
    assert 'id="map-data"' in page.text and "下一页" in page.text
    assert "共匹配 26 个" in page.text


# -- staff collections --------------------------------------------------------------------


def _case(session: Session, grid: str, state: str, hours: int) -> Case:
    lon, lat = inside(grid)
    at = EPOCH - timedelta(hours=hours)
    case = Case(class_code="E0102", family="event", urgency="normal", state=state, lon=lon,
                lat=lat, grid_code=grid, region_code=grid, source_kind="hotline",
                source="hotline", created_at=at, reported_at=at, stage_started_at=at,
                updated_at=at)  # fmt: skip
    session.add(case)
    session.flush()
    return case


def test_staff_collections_need_a_login_and_respect_scope(
    client: TestClient, session: Session, login: Any
) -> None:
    a = _case(session, GRID_A, "handling", 1)
    b = _case(session, GRID_B, "filed", 30)
    session.add(Camera(code="CAM-1", name="解放碑", lon=106.571, lat=29.561, grid_code=GRID_A,
                       stream_url="rtsp://user:secret@nvr/1", created_at=EPOCH,
                       updated_at=EPOCH))  # fmt: skip
    session.commit()
    for cid in ("cases", "devices", "cameras"):
        response = client.get(f"{ROOT}/collections/{cid}/items")
        assert refused(response, 401, cid) == "NotAuthenticated"
        assert response.headers["www-authenticate"] == "Bearer"
        refused(client.get(f"{ROOT}/collections/{cid}"), 401, cid)
    items = f"{ROOT}/collections/cases/items"
    everything = ok(client.get(items, headers=login("dispatcher")))
    assert sorted(f["id"] for f in everything["features"]) == [a.id, b.id]
    street_b = ok(client.get(items, headers=login("street_dispatcher")))
    assert [f["id"] for f in street_b["features"]] == [b.id]
    handling = ok(client.get(items, params={"state": "handling"}, headers=login("dispatcher")))
    assert [f["id"] for f in handling["features"]] == [a.id]
    point = everything["features"][0]["geometry"]
    assert point["type"] == "Point"
    camera = ok(client.get(f"{ROOT}/collections/cameras/items", headers=login("admin")))
    assert camera["features"][0]["properties"]["code"] == "CAM-1"
    assert "stream_url" not in camera["features"][0]["properties"]
    case_doc = ok(client.get(f"{ROOT}/collections/cases", headers=login("dispatcher")))
    assert case_doc["extent"]["temporal"]["interval"][0][1] == "2026-11-24T00:00:00Z"
    assert DISTRICT  # the district fixture built the staff


def test_datetime_filters_cases_by_their_report_time(
    client: TestClient, session: Session, login: Any
) -> None:
    recent = _case(session, GRID_A, "handling", 1)  # 2026-11-24T00:00Z
    older = _case(session, GRID_A, "filed", 30)  # 2026-11-22T19:00Z
    session.commit()
    items, dp = f"{ROOT}/collections/cases/items", login("dispatcher")

    def ids(value: str) -> list[int]:
        return sorted(f["id"] for f in ok(client.get(items, params={"datetime": value},
                                                     headers=dp))["features"])  # fmt: skip

    assert ids("2026-11-24") == [recent.id]
    assert ids("2026-11-24T00:00:00Z") == [recent.id]
    assert ids("../2026-11-23T00:00:00Z") == [older.id]
    assert ids("2026-11-22T00:00:00Z/..") == sorted([recent.id, older.id])
    assert ids("2026-11-22/2026-11-23") == [older.id]
    for bad in ("yesterday", "../..", "2026-11-24/2026-11-01"):
        refused(client.get(items, params={"datetime": bad}, headers=dp), 400, "datetime")


def test_a_layer_named_like_a_built_in_collection_is_served_as_layer_name(
    client: TestClient, session: Session
) -> None:
    make_layer(session, "conflicts", squares(2))
    public = ok(client.get(f"{ROOT}/collections"))["collections"]
    assert "layer-conflicts" in {c["id"] for c in public}
    page = ok(client.get(f"{ROOT}/collections/layer-conflicts/items"), "application/geo+json")
    assert page["numberMatched"] == 2
    refused(client.get(f"{ROOT}/collections/conflicts/items"), 401, "conflicts")  # staff's
