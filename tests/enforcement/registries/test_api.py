"""`/api/v1/enforcement/…` through HTTP: reads for staff, officers' phones for admins and
supervisors only, the two checks, and 4xx naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.enforcement.conftest import JIEFANGBEI, QIXINGGANG, TODAY
from tests.factories import GRID_A

API = "/api/v1/enforcement"
pytestmark = pytest.mark.usefixtures("seeded")


def get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    r = client.get(API + path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_staff_read_laws_and_search_articles(client: TestClient, login: Any) -> None:
    h = login("dispatcher")
    assert client.get(f"{API}/laws").status_code == 401
    laws = get(client, h, "/laws", level="law")
    assert laws["total"] == 3
    penalty = next(x for x in laws["items"] if x["code"] == "administrative-penalty-law")
    assert penalty["level_name"] == "法律" and penalty["effective_on"] == "2021-07-15"
    assert get(client, h, "/laws", text="条例", on="2022-06-01")["items"][0]["version"] == "2022"
    assert get(client, h, "/laws", text="条例", on="2022-04-30")["total"] == 0
    detail = get(client, h, f"/laws/{penalty['id']}")
    article = next(a for a in detail["articles"] if a["number"] == 42)
    assert article["label"] == "第四十二条" and article["paragraph"] is None
    assert article["text"].startswith("行政处罚应当由具有行政执法资格的执法人员实施。")
    found = get(client, h, "/articles", text="消防法 疏散通道")
    assert [a["citation"] for a in found["items"]] == [
        "《中华人民共和国消防法》第十六条",
        "《中华人民共和国消防法》第二十八条",
        "《中华人民共和国消防法》第六十条",
    ]
    assert found["items"][0]["law"]["code"] == "fire-protection-law"
    bad = client.get(f"{API}/articles", params={"level": "decree"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "query.level"
    assert client.get(f"{API}/laws/99999", headers=h).status_code == 404


def test_items_with_benchmark_and_checklist(client: TestClient, login: Any) -> None:
    h = login("inspector")
    exempt = get(client, h, "/items", first_violation_exempt="true")
    assert [i["code"] for i in exempt["items"]] == ["XF-CF-002"]
    assert get(client, h, "/items", kind="inspection")["total"] == 3
    culture = get(client, h, "/items", agency_kind="public_security")
    assert [i["code"] for i in culture["items"]] == ["GA-CF-001", "WH-CF-002"]
    food = get(client, h, "/items/SP-CF-001")
    assert food["kind_name"] == "行政处罚" and len(food["benchmarks"]) == 6
    assert food["benchmarks"][3]["times_min"] == 10 and food["benchmarks"][3]["base_from"] == 10000
    assert [c["code"] for c in food["checklist"]] == ["SP-CF-001-01", "SP-CF-001-02"]
    assert client.get(f"{API}/items/NOPE", headers=h).status_code == 404


def test_the_fine_check(client: TestClient, login: Any) -> None:
    h = login("inspector")
    url = f"{API}/items/XF-CF-001/fine-check"
    body = {"grade": "ordinary", "fine": 35000, "party": "organisation"}
    ok = client.post(url, json=body, headers=h).json()
    assert ok["within"] and not ok["needs_reason"] and ok["allowed"][0]["maximum"] == 35000
    over = client.post(url, json=body | {"fine": "35000.5"}, headers=h).json()
    assert not over["within"] and over["needs_reason"] and "35,000" in over["reason"]
    for bad, path in (
        ({"fine": -1}, "fine"),
        ({"grade": "severe"}, "grade"),
        ({"color": "red"}, "color"),
    ):
        r = client.post(url, json=body | bad, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == path


def test_agencies_by_region_and_item(client: TestClient, login: Any) -> None:
    h = login("dispatcher")
    in_street = get(client, h, "/agencies", region=JIEFANGBEI, limit=50)
    codes = [a["code"] for a in in_street["items"]]
    assert "YZ-JFB-ZF" in codes and "YZ-XFJY" in codes and "YZ-QXG-ZF" not in codes
    holding = get(client, h, "/agencies", item="XF-CF-001")
    assert [a["code"] for a in holding["items"]] == ["YZ-JFB-ZF", "YZ-QXG-ZF", "YZ-XFJY"]
    team = get(client, h, "/agencies/YZ-JFB-ZF")
    assert team["regions"] == [JIEFANGBEI] and team["items"] == ["WH-CF-003", "XF-CF-001"]
    assert team["kind_name"] == "街道/乡镇综合行政执法"
    r = client.get(f"{API}/agencies", params={"region": "5001"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.region"


@pytest.mark.parametrize(
    ("username", "full"),
    [("dispatcher", False), ("inspector", False), ("supervisor", True), ("admin", True)],
)
def test_officers_phones_only_for_admins_and_supervisors(
    client: TestClient, login: Any, username: str, full: bool
) -> None:
    found = get(client, login(username), "/officers", agency="YZ-XFJY", valid_on=TODAY.isoformat())
    assert [o["name"] for o in found["items"]] == ["张伟", "李娜", "王强"]
    phone = found["items"][0]["phone"]
    assert phone == ("13800000101" if full else "138******01")
    one = get(client, login(username), f"/officers/{found['items'][0]['id']}")
    assert one["phone"] == phone and one["agency_name"] == "重庆市渝中区消防救援支队"


def test_officers_by_region(client: TestClient, login: Any) -> None:
    h = login("dispatcher")
    in_qxg = get(client, h, "/officers", region=QIXINGGANG, active="true", limit=100)
    names = {o["name"] for o in in_qxg["items"]}
    assert "赵磊" in names and "黄敏" not in names and "朱琳" not in names and "张伟" in names
    r = client.get(f"{API}/officers", params={"agency": "NOPE"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.agency"
    r = client.get(f"{API}/agencies", params={"item": "NOPE"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.item"


def test_the_officer_check(client: TestClient, login: Any) -> None:
    h = login("inspector")
    ids = {
        o["certificate_number"]: o["id"] for o in get(client, h, "/officers", limit=100)["items"]
    }
    url = f"{API}/officers/check"
    pair = [ids["500103-XF-0001"], ids["500103-XF-0002"]]
    ok = client.post(
        url, json={"officer_ids": pair, "region_code": GRID_A, "on": "2026-12-01"}, headers=h
    ).json()
    assert ok == {"ok": True, "problems": []}
    expired = [ids["500103-SJ-0001"], ids["500103-SJ-0003"]]
    r = client.post(
        url, json={"officer_ids": expired, "region_code": GRID_A, "on": "2026-12-01"}, headers=h
    ).json()
    assert not r["ok"]
    assert [(p["kind"], p["name"], p["blocking"]) for p in r["problems"]] == [
        ("expired", "杨帆", True),
        ("too_few", None, True),
    ]
    assert "第四十二条" in r["problems"][1]["basis"]
    for body, path in (
        ({"officer_ids": []}, "officer_ids"),
        ({"region_code": "x"}, "region_code"),
        ({"on": "tomorrow"}, "on"),
        ({"region_code": "500103999"}, "region_code"),
    ):
        full = {"officer_ids": pair, "region_code": GRID_A, "on": "2026-12-01"} | body
        r = client.post(url, json=full, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == path, r.text
