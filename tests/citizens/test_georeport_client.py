"""The public Open311 client `georeport` reads our endpoint as it reads a city's, in JSON and
in XML, against a real server; a request goes in as the specification's form post."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from georeport import GeoReport
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside, migrated_district
from tests.serverproc import ServerProcess

from cityops.auth.service import create_api_key
from cityops.citizens.service import load_services


@pytest.mark.slow
def test_the_georeport_client_lists_reads_and_follows_requests(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    migrated_district(url)
    engine = create_engine(url)
    with Session(engine) as session:
        load_services(session, EPOCH)
        _, key = create_api_key(session, name="市民 app", sources=["open311"], trusted=False,
                                now=EPOCH)  # fmt: skip
        session.commit()
    engine.dispose()
    server = ServerProcess(url, tmp_path)
    server.start()
    try:
        root = f"{server.url}/open311/v2"
        lon, lat = inside(GRID_A)
        posted = httpx.post(f"{root}/requests.xml", data={
            "api_key": key, "service_code": "E0102", "lat": str(lat), "long": str(lon),
            "description": "路边垃圾堆", "attribute[amount]": "some",
        })  # fmt: skip
        assert posted.status_code == 201, posted.text
        for fmt in ("json", "xml"):
            client = GeoReport(root, output_format=fmt)
            services = client.get_service_list()
            assert [s["service_code"] for s in services] == ["E0102", "E0502"]
            definition = client.get_service_definition("E0102")
            attributes = definition["attributes"]
            # xmltodict gives a lone element as itself, JSON a list
            amount = attributes[0] if fmt == "json" else attributes["attribute"]
            assert amount["code"] == "amount"
            listed = client.get_service_requests(service_code="E0102", status="open")
            (request,) = listed if fmt == "json" else [listed]
            case_id = request["service_request_id"]
            assert request["service_name"] == "暴露垃圾"
            one = client.get_service_request(case_id)
            assert (one["service_request_id"], one["status"]) == (case_id, "open")
            assert float(one["lat"]) == pytest.approx(lat)
    finally:
        server.stop()
