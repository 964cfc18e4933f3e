"""The public OGC API client OWSLib reads our /ogcapi as it reads any OGC API – Features
server, against a real server: landing page, API definition, conformance, collections,
items by limit and bbox, paging by the `next` links, and one feature. On the same migrated
database (its spatial index built by the migration), a vector tile by its URL template."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import mapbox_vector_tile
import pytest
from owslib.ogcapi.features import Features
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from tests.factories import migrated_district
from tests.onemap.test_ogcapi import TRIANGLE, make_layer, squares
from tests.serverproc import ServerProcess


@pytest.mark.slow
def test_owslib_reads_landing_collections_items_and_pages(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    migrated_district(url)
    engine = create_engine(url)
    with Session(engine) as session:
        rows = make_layer(session, "plan-2035", [*squares(25), ("1001", TRIANGLE, {})])
        ids = sorted(r.id for r in rows)
        if engine.dialect.name == "sqlite":  # filled by the migration's triggers
            indexed = session.scalar(text("SELECT count(*) FROM sx_onemap_features"))
            assert indexed == len(ids)
    engine.dispose()
    server = ServerProcess(url, tmp_path)
    server.start()
    try:
        api = Features(f"{server.url}/ogcapi")
        assert {link["rel"] for link in api.links} >= {"service-desc", "conformance", "data"}
        assert api.api()["openapi"].startswith("3.0")
        conforms = api.conformance()["conformsTo"]
        assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
        assert api.feature_collections() == ["plan-2035", "grids"]
        assert api.collection("plan-2035")["storageCrs"].endswith("/EPSG/0/4490")

        first = api.collection_items("plan-2035", limit=10)
        assert (first["numberMatched"], first["numberReturned"]) == (26, 10)
        seen = [f["id"] for f in first["features"]]
        page = first
        while True:
            nexts = [link["href"] for link in page["links"] if link["rel"] == "next"]
            if not nexts:
                break
            params = dict(parse_qsl(urlsplit(nexts[0]).query))
            page = api.collection_items("plan-2035", **params)
            seen += [f["id"] for f in page["features"]]
        assert seen == ids

        boxed = api.collection_items("plan-2035", bbox=[106.5699, 29.5599, 106.5726, 29.5601],
                                     limit=2)  # fmt: skip
        assert (boxed["numberMatched"], boxed["numberReturned"]) == (3, 2)
        grids = api.collection_items("grids", bbox=[106.5701, 29.5601, 106.5709, 29.5609])
        assert [f["id"] for f in grids["features"]] == ["500103001001001"]

        one = api.collection_item("plan-2035", str(ids[3]))
        assert (one["id"], one["properties"]["n"]) == (ids[3], 3)
        assert {link["rel"] for link in one["links"]} >= {"self", "collection"}

        tileset = httpx.get(f"{server.url}/ogcapi/collections/plan-2035/tiles/WebMercatorQuad")
        (item,) = [link for link in tileset.json()["links"] if link["rel"] == "item"]
        # The tile at zoom 16 holding the first squares (106.570–106.572°E, 29.560°N).
        tile = httpx.get(item["href"].format(tileMatrix=16, tileRow=27130, tileCol=52168))
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        found = mapbox_vector_tile.decode(tile.content)["plan-2035"]["features"]
        assert {f["id"] for f in found} <= set(ids) and len(found) >= 2
    finally:
        server.stop()
