"""Open311 GeoReport v2: every endpoint in JSON and XML, with and without the suffix; form
posts exactly as the specification gives them; errors in its own format and status."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from tests.factories import GRID_A, GRID_B, inside

ROOT = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.text
    return ET.fromstring(response.content)


def submit(client: TestClient, key: str, grid: str = GRID_A, **fields: Any) -> Any:
    lon, lat = inside(grid)
    body = {"api_key": key, "service_code": "E0102", "lat": lat, "long": lon,
            "description": "小区门口堆了很多垃圾", **fields}  # fmt: skip
    return client.post(f"{ROOT}/requests.json", data=body, headers=FORM)


@pytest.mark.usefixtures("open311_key")
def test_discovery_names_this_endpoint_in_both_formats(client: TestClient) -> None:
    body = client.get(f"{ROOT}/discovery.json").json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get(f"{ROOT}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json",
    ]  # fmt: skip
    # no suffix: JSON, or XML when the client asks for it
    assert client.get(f"{ROOT}/discovery").json() == body
    assert xml(client.get(f"{ROOT}/discovery", headers={"Accept": "text/xml"})).tag == "discovery"


@pytest.mark.usefixtures("open311_key")
def test_services_and_a_definition_with_its_attributes(client: TestClient) -> None:
    services = {s["service_code"]: s for s in client.get(f"{ROOT}/services.json").json()}
    assert set(services) == {"E0102", "E0502"}
    garbage = services["E0102"]
    assert (garbage["service_name"], garbage["group"], garbage["metadata"], garbage["type"]) == (
        "暴露垃圾", "市容环境", True, "realtime",
    )  # fmt: skip
    assert "垃圾" in garbage["keywords"].split(",")
    assert services["E0502"]["metadata"] is False
    root = xml(client.get(f"{ROOT}/services.xml"))
    assert [s.findtext("service_code") for s in root.iterfind("service")] == list(services)
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]

    definition = client.get(f"{ROOT}/services/E0102.json").json()
    (amount,) = definition["attributes"]
    assert (amount["code"], amount["datatype"], amount["required"], amount["variable"]) == (
        "amount", "singlevaluelist", False, True,
    )  # fmt: skip
    assert [v["key"] for v in amount["values"]] == ["little", "some", "lots"]
    root = xml(client.get(f"{ROOT}/services/E0102.xml"))
    assert root.tag == "service_definition"
    assert [v.findtext("name") for v in root.iterfind("attributes/attribute/values/value")] == [
        "少量（一袋以内）", "较多（一车以内）", "大量",
    ]  # fmt: skip


@pytest.mark.usefixtures("open311_key")
def test_unknown_things_are_404_in_the_specification_s_error_format(client: TestClient) -> None:
    r = client.get(f"{ROOT}/services/X9999.json")
    assert r.status_code == 404
    assert r.json() == [{"code": 404, "description": "no service 'X9999'"}]
    r = client.get(f"{ROOT}/requests/123456.xml")
    assert r.status_code == 404
    root = xml(r)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert client.get(f"{ROOT}/tokens/nope.json").status_code == 404
    r = client.get(f"{ROOT}/services.json", params={"jurisdiction_id": "110101"})
    assert r.status_code == 404
    assert "jurisdiction_id" in r.json()[0]["description"]


def test_a_form_post_becomes_a_case_the_resident_can_follow(
    client: TestClient, open311_key: str
) -> None:
    r = submit(client, open311_key, **{"attribute[amount]": "lots", "phone": "13800138000",
                                       "email": "li@example.com", "first_name": "李"})  # fmt: skip
    assert r.status_code == 201, r.text
    (answer,) = r.json()
    case_id = answer["service_request_id"]
    assert case_id is not None and answer["token"]
    # the token leads to the same request
    (by_token,) = client.get(f"{ROOT}/tokens/{answer['token']}.json").json()
    assert by_token == {"service_request_id": case_id, "token": answer["token"]}
    (seen,) = client.get(f"{ROOT}/requests/{case_id}.json").json()
    assert (seen["service_request_id"], seen["service_code"], seen["status"]) == (
        case_id, "E0102", "open",
    )  # fmt: skip
    assert seen["status_notes"] == "已收到您的诉求，等待受理。"
    assert "小区门口堆了很多垃圾" in seen["description"]
    assert seen["requested_datetime"].endswith("+08:00")
    # nobody's contact details are published
    assert "13800138000" not in r.text + str(seen) and "li@example.com" not in str(seen)
    root = xml(client.get(f"{ROOT}/requests/{case_id}.xml"))
    assert root.findtext("request/service_request_id") == case_id
    assert root.findtext("request/status") == "open"


def test_the_same_problem_reported_twice_is_followed_as_one_case(
    client: TestClient, open311_key: str
) -> None:
    (first,) = submit(client, open311_key).json()
    (second,) = submit(client, open311_key, description="门口垃圾还没人管").json()
    assert second["service_request_id"] == first["service_request_id"]
    assert second["token"] != first["token"]


def test_a_post_resent_under_its_idempotency_key_is_answered_with_the_first(
    client: TestClient, open311_key: str
) -> None:
    lon, lat = inside(GRID_B)
    body = {"api_key": open311_key, "service_code": "E0502", "lat": lat, "long": lon}
    headers = {**FORM, "Idempotency-Key": "app-42"}
    r1 = client.post(f"{ROOT}/requests.json", data=body, headers=headers)
    r2 = client.post(f"{ROOT}/requests.json", data=body, headers=headers)
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json()[0]["token"] == r2.json()[0]["token"]
    assert r2.json()[0]["service_notice"] == "此诉求已收到，无需重复提交。"


@pytest.mark.parametrize(
    ("fields", "status", "names"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "not-a-key"}, 403, "api_key"),
        ({"service_code": "X9999"}, 400, "service_code"),
        ({"lat": None, "long": None, "address_string": "解放碑步行街"}, 400, "lat"),
        ({"lat": "north"}, 400, "lat"),
        ({"attribute[amount]": "tons"}, 400, "attribute[amount]"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
        ({"description": "垃圾" * 2001}, 400, "description"),
        ({"media_url": "not a url"}, 400, "media_url"),
        ({"email": "nobody"}, 400, "email"),
    ],
)
def test_bad_posts_are_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, open311_key: str, fields: dict[str, Any], status: int, names: str
) -> None:
    lon, lat = inside(GRID_A)
    body = {"api_key": open311_key, "service_code": "E0102", "lat": lat, "long": lon,
            "description": "垃圾", **fields}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post(f"{ROOT}/requests.xml", data=body, headers=FORM)
    assert r.status_code == status, r.text
    root = xml(r)
    assert {e.findtext("code") for e in root.iterfind("error")} == {str(status)}
    assert any(names in (e.findtext("description") or "") for e in root.iterfind("error"))
    assert client.get(f"{ROOT}/requests.json").json() == []


def test_markup_in_a_description_stays_text(client: TestClient, open311_key: str) -> None:
    (answer,) = submit(client, open311_key, description="<script>alert(1)</script>垃圾").json()
    r = client.get(f"{ROOT}/requests/{answer['service_request_id']}.xml")
    assert b"<script>" not in r.content and b"&lt;script&gt;" in r.content
    assert "<script>alert(1)</script>" in xml(r).findtext("request/description", "")


def test_requests_are_found_by_id_service_status_and_dates(
    client: TestClient, open311_key: str
) -> None:
    (garbage,) = submit(client, open311_key).json()
    lon, lat = inside(GRID_B)
    (stall,) = client.post(f"{ROOT}/requests.json", headers=FORM, data={
        "api_key": open311_key, "service_code": "E0502", "lat": lat, "long": lon,
        "description": "人行道上摆摊，联系电话 13912345678",
    }).json()  # fmt: skip

    def ids(**params: Any) -> list[str]:
        r = client.get(f"{ROOT}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    everything = ids()
    assert everything == [stall["service_request_id"], garbage["service_request_id"]]
    assert ids(service_code="E0102") == [garbage["service_request_id"]]
    assert ids(status="open") == everything and ids(status="closed") == []
    both = f"{garbage['service_request_id']},{stall['service_request_id']}"
    assert ids(service_request_id=both) == both.split(",")
    assert ids(start_date="2026-11-24T00:00:00+08:00", end_date="2026-11-24T23:59:59+08:00") == (
        everything
    )
    assert ids(start_date="2026-11-25T00:00:00Z") == []
    # a resident's phone number in a description is masked for the public
    (seen,) = client.get(f"{ROOT}/requests/{stall['service_request_id']}.json").json()
    assert "139******78" in seen["description"] and "13912345678" not in seen["description"]
    root = xml(client.get(f"{ROOT}/requests.xml"))
    assert [r.findtext("service_request_id") for r in root.iterfind("request")] == everything


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-11-24T00:00:00Z"}, "start_date"),
        ({"start_date": "2026-11-24T00:00:00"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"service_code": "X9999"}, "service_code"),
        ({"service_request_id": "1,abc"}, "service_request_id"),
    ],
)
@pytest.mark.usefixtures("open311_key")
def test_bad_queries_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    r = client.get(f"{ROOT}/requests.json", params=params)
    assert r.status_code == 400, r.text
    assert any(field in e["description"] for e in r.json())


def test_the_centre_sees_who_reported_in_full_only_where_it_calls_residents_back(
    client: TestClient, login: Any, open311_key: str
) -> None:
    contact = {"phone": "13800138000", "email": "liming@example.com", "first_name": "李明"}
    (answer,) = submit(client, open311_key, description="垃圾堆，我电话13800138000",
                       **contact).json()  # fmt: skip
    case_id = answer["service_request_id"]

    def seen(username: str) -> Any:
        r = client.get(f"/api/v1/citizens/requests?case_id={case_id}", headers=login(username))
        assert r.status_code == 200, r.text
        (request,) = r.json()
        return request

    full = seen("call_taker")
    assert full["contact"] == {"first_name": "李明", "last_name": None,
                               "email": "liming@example.com", "phone": "13800138000",
                               "masked": False}  # fmt: skip
    assert "13800138000" in full["description"]
    masked = seen("dispatcher")
    assert masked["contact"] == {"first_name": "李*", "last_name": None,
                                 "email": "l*****@example.com", "phone": "138****8000",
                                 "masked": True}  # fmt: skip
    assert "13800138000" not in masked["description"]
    # someone who may not see the case is told nothing of it
    r = client.get(f"/api/v1/citizens/requests?case_id={case_id}", headers=login("handler"))
    assert r.status_code == 404


def test_a_request_that_says_what_an_open_request_nearby_says_follows_its_case(
    client: TestClient, open311_key: str
) -> None:
    lon, lat = inside(GRID_A)
    (first,) = submit(client, open311_key, description="门口垃圾堆了好几天没人清理").json()
    # 100 m north: beyond the class's merge radius (50 m), but the same problem in other words
    r = submit(client, open311_key, lat=str(lat + 0.0009), long=str(lon),
               description="门口的垃圾好几天没人收了，很臭")  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()[0]["service_request_id"] == first["service_request_id"]
    other = submit(client, open311_key, lat=str(lat + 0.0009), long=str(lon),
                   service_code="E0502", description="人行道上有人摆摊卖水果")  # fmt: skip
    assert other.json()[0]["service_request_id"] != first["service_request_id"]
