"""`/api/v1/enforcement/businesses` through HTTP: search within a region and below, the
detail with licences and the agencies that inspect the business, conflicts recorded by an
enforcement lead; who may read it at all."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import CAFE, officer_id
from tests.enforcement.conftest import JIEFANGBEI, QIXINGGANG

API = "/api/v1/enforcement/businesses"


def get(api: TestClient, h: dict[str, str], path: str = "", **params: Any) -> Any:
    r = api.get(API + path, params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_search_by_words_type_and_region(api: TestClient, login: Any) -> None:
    h = login("jfb_officer")
    assert get(api, h)["total"] == 40
    assert get(api, h, region="500103")["total"] == 40  # the district: its streets below
    in_jfb = get(api, h, region=JIEFANGBEI, limit=100)
    assert in_jfb["total"] == 22 and {b["region_code"] for b in in_jfb["items"]} == {JIEFANGBEI}
    cafes = get(api, h, type="internet-cafe")
    assert cafes["total"] == 5 and {b["type_name"] for b in cafes["items"]} == {
        "网吧（互联网上网服务营业场所）"
    }
    assert [b["name"] for b in get(api, h, text="极速 民权路")["items"]] == [CAFE]
    found = get(api, h, text="网吧", region=QIXINGGANG)["items"]
    assert [b["name"] for b in found] == ["渝中区七星网吧"]
    code = get(api, h, text="极速网咖")["items"][0]["credit_code"]
    assert get(api, h, credit_code=code.lower())["total"] == 1
    assert get(api, h, region="500103001")["total"] == 0  # another street
    r = api.get(API, params={"region": "50"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.region"
    types = get(api, h, "/types")
    assert [t["code"] for t in types] == [
        "entertainment",
        "hotel",
        "internet-cafe",
        "restaurant",
        "small-shop",
    ]


def test_the_detail_names_who_inspects_it(api: TestClient, login: Any) -> None:
    h = login("market_officer")
    cafe = get(api, h, text="极速网咖")["items"][0]
    detail = get(api, h, f"/{cafe['id']}")
    assert {x["kind"] for x in detail["licences"]} == {
        "公众聚集场所投入使用、营业前消防安全检查合格证",
        "营业执照",
        "网络文化经营许可证",
        "食品经营许可证",
    }
    assert {a["code"]: a["items"] for a in detail["agencies"]}["YZ-SCJG"] == [
        "SP-CF-001",
        "SP-JC-001",
    ]
    assert [a["code"] for a in detail["agencies"]] == [
        "YZ-GA",
        "YZ-JFB-ZF",
        "YZ-SCJG",
        "YZ-WHZF",
        "YZ-XFJY",
    ]
    assert detail["phone"] == "13923000001" and detail["conflicts"] == []
    assert api.get(f"{API}/999999", headers=h).status_code == 404


def test_conflicts_are_recorded_by_a_lead(api: TestClient, login: Any, session: Session) -> None:
    star = get(api, login("jfb_officer"), text="星际电竞")["items"][0]
    detail = get(api, login("jfb_officer"), f"/{star['id']}")
    assert [(c["officer_name"], c["certificate_number"]) for c in detail["conflicts"]] == [
        ("黄敏", "500103-WH-0002")
    ]
    cafe = get(api, login("jfb_officer"), text="极速网咖")["items"][0]
    wang = officer_id(session, "500103-XF-0003")
    body = {"officer_id": wang, "reason": "其亲属经营"}
    url = f"{API}/{cafe['id']}/conflicts"
    assert api.post(url, json=body, headers=login("jfb_officer")).status_code == 403
    # 王强 is a fire officer: the street team's head does not answer for him.
    assert api.post(url, json=body, headers=login("jfb_lead")).status_code == 403
    r = api.post(url, json=body, headers=login("fire_lead"))
    assert r.status_code == 201 and r.json()["reason"] == "其亲属经营"
    assert r.json()["officer_name"] == "王强"
    r = api.post(url, json={"officer_id": 99999, "reason": "x"}, headers=login("fire_lead"))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "officer_id"
    r = api.post(url, json={"officer_id": wang, "reason": ""}, headers=login("fire_lead"))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "reason"


def test_only_enforcement_staff_and_supervisors_read_it(api: TestClient, login: Any) -> None:
    assert api.get(API).status_code == 401
    assert api.get(API, headers=login("dispatcher")).status_code == 403
    assert api.get(API, headers=login("enforcement_supervisor")).status_code == 200
    assert api.get(API, headers=login("supervisor")).status_code == 200
