"""What anyone may look up, through HTTP and without an account: published penalty decisions
(a citizen masked as 张** and never found by their name or ID number; an organisation in
full) and published inspection plans with their draw and each business's result."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.public.conftest import API
from tests.enforcement.public.scenario import (
    CAFE,
    CITIZEN_ID,
    CITIZEN_NAME,
    OTHER_CAFE,
    PLAN_TITLE,
    Story,
)

from cityops.enforcement.registries.models import Agency

PUBLIC = f"{API}/public/enforcement"


def find(client: TestClient, what: str, **params: Any) -> Any:
    r = client.get(f"{PUBLIC}/{what}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def agency(session: Session, code: str) -> int:
    return int(session.scalar(select(Agency.id).where(Agency.code == code)))


def test_published_decisions_name_organisations_and_mask_citizens(
    client: TestClient, story: Story
) -> None:
    found = find(client, "decisions")
    assert found["total"] == 2  # the third decision is not published
    by_id = {d["id"]: d for d in found["items"]}
    cafe, citizen = by_id[story.cafe_case_id], by_id[story.citizen_case_id]
    assert cafe["party_name"] == "渝中区极速网咖" and cafe["party_identifier"] == CAFE
    assert cafe["number"] == story.decision_number
    assert cafe["agency_name"] == "重庆市渝中区消防救援支队"
    assert cafe["penalty"] == "罚款人民币5,000元" and cafe["decided_on"] == "2026-11-01"
    assert "《中华人民共和国消防法》第二十八条" in cafe["basis"]
    assert citizen["party_name"] == "张**" and citizen["party_identifier"] is None
    assert CITIZEN_NAME not in str(citizen) and CITIZEN_ID not in str(citizen)
    assert "137******00" in citizen["facts"] and "13700000000" not in citizen["facts"]


def test_decisions_are_searched_by_organisation_agency_and_day(
    client: TestClient, session: Session, story: Story
) -> None:
    assert [d["id"] for d in find(client, "decisions", q="极速")["items"]] == [story.cafe_case_id]
    assert find(client, "decisions", q=CAFE[-6:])["total"] == 1
    # Nobody learns who a masked citizen is by searching for them.
    assert find(client, "decisions", q=CITIZEN_NAME)["total"] == 0
    assert find(client, "decisions", q=CITIZEN_ID)["total"] == 0
    assert find(client, "decisions", q=OTHER_CAFE)["total"] == 0  # not published
    fire, market = agency(session, "YZ-XFJY"), agency(session, "YZ-SCJG")
    assert find(client, "decisions", agency_id=fire)["total"] == 2
    assert find(client, "decisions", agency_id=market)["total"] == 0
    assert find(client, "decisions", since="2026-11-01", until="2026-11-01")["total"] == 2
    assert find(client, "decisions", since="2026-11-02")["total"] == 0
    bad = client.get(f"{PUBLIC}/decisions", params={"since": "2026-12-01", "until": "2026-11-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "since"
    bad = client.get(f"{PUBLIC}/decisions", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "query.since"


@pytest.mark.usefixtures("story")
def test_published_plans_show_the_draw_and_each_result(client: TestClient) -> None:
    (plan,) = find(client, "plans")["items"]
    assert plan["title"] == PLAN_TITLE and plan["kind_name"] == "双随机抽查"
    assert (plan["seed"], plan["candidates"], plan["drawn"]) == (20261116, 12, 2)
    assert plan["agency_name"] == "渝中区解放碑街道综合行政执法大队"
    results = {r["credit_code"]: r for r in plan["results"]}
    assert results[CAFE]["result"] == "rectification" and results[CAFE]["result_name"] == "责令整改"
    assert results[OTHER_CAFE]["result"] == "compliant"
    assert results[OTHER_CAFE]["inspected_on"] == "2026-11-21"
    assert plan["counts"] == {"rectification": 1, "compliant": 1}
    assert "对互联网上网服务营业场所经营单位在规定的营业时间以外营业的处罚" in plan["items"]


@pytest.mark.usefixtures("story")
def test_plans_are_searched_by_business_agency_and_period(
    client: TestClient, session: Session
) -> None:
    assert find(client, "plans", q="星际电竞")["total"] == 1
    assert find(client, "plans", q=OTHER_CAFE)["total"] == 1
    assert find(client, "plans", q="火锅")["total"] == 0
    assert find(client, "plans", agency_id=agency(session, "YZ-XFJY"))["total"] == 1  # invited
    assert find(client, "plans", agency_id=agency(session, "YZ-SCJG"))["total"] == 0
    assert find(client, "plans", since="2026-12-01", until="2026-12-31")["total"] == 1
    assert find(client, "plans", since="2027-01-01")["total"] == 0
