"""Random plans (双随机) through the API: created once under an idempotency key, drawn
reproducibly from the directory and the roster with conflicts left out, approved by the
agency's lead only, published without officers' names; refusals name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import CAFE, officer_id
from tests.enforcement.inspections.conftest import API, ok

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections import plans

PLAN = {
    "kind": "random",
    "title": "2026年12月消防安全双随机抽查",
    "region_code": "500103",
    "planned_from": "2026-12-01",
    "planned_until": "2026-12-15",
    "item_codes": ["XF-JC-001"],
    "target_count": 40,
}


def test_a_random_plan_is_drawn_reproducibly_and_published(
    api: TestClient, login: Any, session: Session
) -> None:
    fire, lead = login("fire_officer"), login("fire_lead")
    cafe = session.scalar(select(Business).where(Business.name == CAFE))
    assert cafe is not None
    zhang = officer_id(session, "500103-XF-0001")
    ok(
        api.post(
            f"{API}/businesses/{cafe.id}/conflicts",
            headers=lead,
            json={"officer_id": zhang, "reason": "其配偶为该网吧股东"},
        ),
        201,
    )

    key = {"Idempotency-Key": "plan-2026-12-fire"}
    made = ok(api.post(f"{API}/plans", json=PLAN, headers=fire | key), 201)
    again = ok(api.post(f"{API}/plans", json=PLAN, headers=fire | key), 200)
    assert again["id"] == made["id"] and made["state"] == "draft"
    assert made["number"].startswith("YZ-XFJY-JC-2026-")
    plan_id = made["id"]

    drawn = ok(api.post(f"{API}/plans/{plan_id}/draw", json={"seed": 20261201}, headers=fire))
    record = drawn["draw"]
    assert drawn["seed"] == 20261201 and record["candidates"] == 40
    assert len(drawn["inspections"]) == 40 and record["shortfalls"] == []
    assert len(record["candidates_digest"]) == 64
    # The fire team's roster: 张伟, 李娜, 王强 (valid through the period) and their head.
    assert record["roster"] == 4
    by_business = {t["business_id"]: t["officer_ids"] for t in record["targets"]}
    assert zhang not in by_business[cafe.id] and len(by_business[cafe.id]) == 2
    assert any(zhang in officers for officers in by_business.values())
    r = api.post(f"{API}/plans/{plan_id}/draw", json={"seed": 1}, headers=fire)
    assert r.status_code == 409

    # Anyone may re-run it: the same seed over the same directory draws the same.
    check = ok(
        api.get(f"{API}/plans/{plan_id}/draw/check", headers=login("enforcement_supervisor"))
    )
    assert check["same"] and check["same_directory"] and check["same_roster"]
    twin = ok(api.post(f"{API}/plans", json=PLAN | {"title": "复核"}, headers=fire), 201)
    twin = ok(api.post(f"{API}/plans/{twin['id']}/draw", json={"seed": 20261201}, headers=fire))
    assert twin["draw"]["targets"] == record["targets"]
    # A business added since: another directory, which the check says.
    session.add(
        Business(
            credit_code="91500103MA5U00003N",
            name="新开业网咖",
            type_code="internet-cafe",
            region_code="500103010",
        )
    )
    session.commit()
    check = ok(api.get(f"{API}/plans/{plan_id}/draw/check", headers=fire))
    assert not check["same_directory"] and check["rerun"]["candidates"] == 41

    ok(api.post(f"{API}/plans/{plan_id}/submit", headers=fire))
    assert api.post(f"{API}/plans/{plan_id}/approve", headers=fire).status_code == 403
    assert api.post(f"{API}/plans/{plan_id}/approve", headers=login("jfb_lead")).status_code == 403
    assert ok(api.post(f"{API}/plans/{plan_id}/approve", headers=lead))["approved_at"]
    published = ok(api.post(f"{API}/plans/{plan_id}/publish", headers=fire))
    assert published["published_at"] is not None
    public = ok(api.get(f"{API}/plans/{plan_id}/public", headers=fire))
    assert public["seed"] == 20261201 and len(public["targets"]) == 40
    assert public["candidates_digest"] == record["candidates_digest"]
    assert "张伟" not in str(public) and "officer" not in str(public)
    assert plans.draw_types(session, plans.get_plan(session, plan_id)) == [
        "entertainment",
        "hotel",
        "internet-cafe",
        "restaurant",
        "small-shop",
    ]


def test_plans_are_seen_within_the_agency(api: TestClient, login: Any) -> None:
    fire = login("fire_officer")
    plan = ok(api.post(f"{API}/plans", json=PLAN, headers=fire), 201)
    assert api.get(f"{API}/plans/{plan['id']}", headers=login("jfb_officer")).status_code == 404
    assert ok(api.get(f"{API}/plans", headers=login("jfb_officer")))["total"] == 0
    assert ok(api.get(f"{API}/plans", headers=login("enforcement_supervisor")))["total"] == 1
    assert ok(api.get(f"{API}/plans/{plan['id']}", headers=login("admin")))["id"] == plan["id"]
    assert api.get(f"{API}/plans").status_code == 401
    assert api.get(f"{API}/plans", headers=login("dispatcher")).status_code == 403
    assert api.post(f"{API}/plans", json=PLAN, headers=login("admin")).status_code == 403
    r = api.post(f"{API}/plans/{plan['id']}/submit", headers=fire)
    assert r.status_code == 409 and "draw" in r.json()["detail"]


def test_bad_plans_are_refused_naming_the_field(api: TestClient, login: Any) -> None:
    fire = login("fire_officer")
    for change, path in [
        ({"item_codes": ["XF-JC-001", "NOPE"]}, "item_codes.1"),
        ({"item_codes": ["SP-JC-001"]}, "item_codes.0"),  # market regulation's item
        ({"planned_until": "2026-11-30"}, "planned_until"),
        ({"region_code": "5001"}, "region_code"),
        ({"region_code": "500199"}, "region_code"),
        ({"type_codes": ["casino"]}, "type_codes.0"),
        ({"officers_per_target": 1}, "officers_per_target"),
        ({"target_count": 0}, "target_count"),
        ({"colour": "red"}, "colour"),
    ]:
        r = api.post(f"{API}/plans", json=PLAN | change, headers=fire)
        assert r.status_code == 422, (change, r.text)
        assert [e["path"] for e in r.json()["errors"]] == [path], change


def test_a_drawn_visit_is_scheduled_within_the_plan(api: TestClient, login: Any) -> None:
    fire = login("fire_officer")
    plan = ok(api.post(f"{API}/plans", json=PLAN | {"target_count": 3}, headers=fire), 201)
    plan = ok(api.post(f"{API}/plans/{plan['id']}/draw", json={}, headers=fire))
    assert plan["seed"] is not None and len(plan["inspections"]) == 3
    visit = plan["inspections"][0]["id"]
    when = {"scheduled_at": datetime(2026, 12, 20, 2, tzinfo=UTC).isoformat()}
    r = api.put(f"{API}/inspections/{visit}/schedule", json=when, headers=fire)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "scheduled_at"
    when = {"scheduled_at": datetime(2026, 12, 3, 2, tzinfo=UTC).isoformat(), "place": "前台"}
    detail = ok(api.put(f"{API}/inspections/{visit}/schedule", json=when, headers=fire))
    assert detail["place"] == "前台" and detail["plan_kind"] == "random"
    assert [a["role"] for a in detail["agencies"]] == ["initiator"]
    assert len(detail["agencies"][0]["officers"]) == 2
    assert [p["code"] for p in detail["checklist"]] == [
        "XF-JC-001-01",
        "XF-JC-001-02",
        "XF-JC-001-03",
    ]
    # Not approved yet: nobody starts it.
    officer = next(o for o in detail["agencies"][0]["officers"])
    assert officer["officer_id"]
    cancelled = ok(
        api.post(f"{API}/inspections/{visit}/cancel", json={"reason": "已停业"}, headers=fire)
    )
    assert cancelled["state"] == "cancelled"
