"""What a joint inspection refuses, and how: 401 without a login, 403 for who may not act,
409 out of turn, 422 naming the field — and resends under an idempotency key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import agency_id, officer_id
from tests.enforcement.inspections.conftest import API, VISIT, Café, ok
from tests.fakes import JPEG


def paths(r: Any) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["path"] for e in r.json()["errors"]]


def test_creating_a_joint_inspection(
    api: TestClient, login: Any, cafe: Café, session: Session
) -> None:
    h = login("jfb_officer")
    o = cafe.officers
    body = {
        "business_id": cafe.business_id,
        "scheduled_at": VISIT.isoformat(),
        "officer_ids": [o["500103-JFB-0001"], o["500103-JFB-0002"]],
    }
    key = {"Idempotency-Key": "6f1c7a9e-joint"}
    first = ok(api.post(f"{API}/plans/joint", json=body, headers=h | key), 201)
    again = ok(api.post(f"{API}/plans/joint", json=body, headers=h | key), 200)
    assert again["id"] == first["id"] and len(again["inspections"]) == 1
    # Without agency_ids, every agency the café's type proposes is invited, police too.
    detail = ok(api.get(f"{API}/inspections/{first['inspections'][0]['id']}", headers=h))
    assert sorted(a["code"] for a in detail["agencies"]) == [
        "YZ-GA",
        "YZ-JFB-ZF",
        "YZ-SCJG",
        "YZ-WHZF",
        "YZ-XFJY",
    ]
    assert api.post(f"{API}/plans/joint", json=body).status_code == 401
    assert api.post(f"{API}/plans/joint", json=body, headers=login("dispatcher")).status_code == 403
    urban = agency_id(session, "YZ-CGZF")  # city management: none of the café's items
    for change, expected in [
        ({"agency_ids": [cafe.ids["YZ-XFJY"], urban]}, ["agency_ids.1"]),
        ({"agency_ids": [cafe.ids["YZ-JFB-ZF"]]}, ["agency_ids.0"]),
        ({"officer_ids": [o["500103-JFB-0001"]]}, ["officer_ids"]),
        ({"officer_ids": [o["500103-JFB-0001"], o["500103-XF-0001"]]}, ["officer_ids.1"]),
        ({"scheduled_at": (VISIT - timedelta(days=3)).isoformat()}, ["scheduled_at"]),
        ({"business_id": 999999}, ["business_id"]),
    ]:
        assert paths(api.post(f"{API}/plans/joint", json=body | change, headers=h)) == expected


def test_answering_an_invitation(api: TestClient, login: Any, cafe: Café, session: Session) -> None:
    o, ids, visit = cafe.officers, cafe.ids, cafe.inspection_id
    market = f"{API}/inspections/{visit}/agencies/{ids['YZ-SCJG']}"
    mh = login("market_officer")
    # 杨帆's certificate expired on 2026-11-15.
    r = api.post(
        f"{market}/accept",
        headers=mh,
        json={"officer_ids": [o["500103-SJ-0001"], o["500103-SJ-0003"]]},
    )
    assert paths(r) == ["officer_ids.1", "officer_ids"]
    assert "expired" in r.json()["errors"][0]["message"]
    assert paths(api.post(f"{market}/decline", json={"reason": ""}, headers=mh)) == ["reason"]
    # Only the invited agency's own staff answer for it.
    r = api.post(f"{market}/decline", json={"reason": "x"}, headers=login("fire_officer"))
    assert r.status_code == 403
    police = f"{API}/inspections/{visit}/agencies/{ids['YZ-GA']}/accept"
    r = api.post(
        police,
        json={"officer_ids": [o["500103-GA-0001"], o["500103-GA-0001"]]},
        headers=login("police_officer"),
    )
    assert r.status_code == 404  # not invited
    # An officer recorded as conflicting with the café (回避) may not be named.
    wang = o["500103-XF-0003"]
    ok(
        api.post(
            f"{API}/businesses/{cafe.business_id}/conflicts",
            headers=login("fire_lead"),
            json={"officer_id": wang, "reason": "曾在该网吧任职"},
        ),
        201,
    )
    fire = f"{API}/inspections/{visit}/agencies/{ids['YZ-XFJY']}/accept"
    r = api.post(
        fire, json={"officer_ids": [o["500103-XF-0001"], wang]}, headers=login("fire_officer")
    )
    assert paths(r) == ["officer_ids.1"] and "回避" in r.json()["errors"][0]["message"]
    # The lead agency adjusts the invitations: police invited, market regulation not.
    h = login("jfb_officer")
    body = {"agency_ids": [ids["YZ-XFJY"], ids["YZ-WHZF"], ids["YZ-GA"]]}
    assert api.put(f"{API}/inspections/{visit}/agencies", json=body, headers=mh).status_code == 403
    detail = ok(api.put(f"{API}/inspections/{visit}/agencies", json=body, headers=h))
    assert sorted(a["code"] for a in detail["agencies"]) == [
        "YZ-GA",
        "YZ-JFB-ZF",
        "YZ-WHZF",
        "YZ-XFJY",
    ]
    assert api.post(f"{market}/decline", json={"reason": "x"}, headers=mh).status_code == 404
    police_team = {"officer_ids": [o["500103-GA-0001"], officer_id(session, "500103-GA-0002")]}
    ok(api.post(police, json=police_team, headers=login("police_officer")))
    # The initiator cannot decline its own inspection.
    own = f"{API}/inspections/{visit}/agencies/{ids['YZ-JFB-ZF']}/decline"
    assert api.post(own, json={"reason": "x"}, headers=h).status_code == 409


def test_on_site_only_the_officers_on_the_visit_record(
    api: TestClient, login: Any, cafe: Café, clock: Any
) -> None:
    o, ids, visit = cafe.officers, cafe.ids, cafe.inspection_id
    h = login("jfb_officer")
    ok(api.post(f"{API}/plans/{cafe.plan_id}/submit", headers=h))
    ok(api.post(f"{API}/plans/{cafe.plan_id}/approve", headers=login("jfb_lead")))
    ok(
        api.post(
            f"{API}/inspections/{visit}/agencies/{ids['YZ-XFJY']}/accept",
            json={"officer_ids": [o["500103-XF-0001"], o["500103-XF-0002"]]},
            headers=login("fire_officer"),
        )
    )
    detail = ok(api.get(f"{API}/inspections/{visit}", headers=h))
    points = {p["code"]: p["id"] for p in detail["checklist"]}
    exit_ = {"checklist_item_id": str(points["XF-CF-001-01"]), "outcome": "pass"}
    findings = f"{API}/inspections/{visit}/findings"
    assert api.post(findings, data=exit_, headers=h).status_code == 409  # not started
    clock.current = VISIT
    h, fire = login("jfb_officer"), login("fire_officer")
    started = ok(api.post(f"{API}/inspections/{visit}/start", headers=h))
    # The invitations nobody answered count as declined.
    assert {a["code"]: a["reason"] for a in started["agencies"] if a["state"] == "declined"} == {
        "YZ-SCJG": "检查开始前未答复",
        "YZ-WHZF": "检查开始前未答复",
    }
    assert api.post(findings, data=exit_, headers=login("market_officer")).status_code == 403
    assert api.post(findings, data=exit_, headers=login("fire_lead")).status_code == 403
    failing = exit_ | {"outcome": "fail"}
    assert sorted(paths(api.post(findings, data=failing, headers=fire))) == [
        "deadline",
        "requirement",
    ]
    late = failing | {"requirement": "清理", "deadline": "2026-11-26", "note": "堵塞"}
    assert paths(api.post(findings, data=late, headers=fire)) == ["deadline"]
    not_ours = {"checklist_item_id": str(points["WH-CF-003-01"]), "outcome": "pass"}
    r = api.post(findings, data=not_ours, headers=fire)
    assert paths(r) == ["checklist_item_id"] and "街道" in r.json()["errors"][0]["message"]
    text = [("photos", ("exit.jpg", b"not a picture", "image/jpeg"))]
    assert paths(api.post(findings, data=exit_, files=text, headers=fire)) == ["photos.0"]
    assert paths(api.post(findings, data={"outcome": "maybe"}, headers=fire)) == ["outcome"]
    # Recorded, resent under the same key (one finding), then corrected (still one).
    key = {"Idempotency-Key": "finding-1"}
    good = failing | {"requirement": "清理", "deadline": "2026-12-01", "note": "二楼出口堵塞"}
    photo = [("photos", ("exit.jpg", JPEG, "image/jpeg"))]
    first = ok(api.post(findings, data=good, files=photo, headers=fire | key), 201)
    again = ok(api.post(findings, data=good, files=photo, headers=fire | key), 200)
    assert again["id"] == first["id"] and again["photos"] == 1
    corrected = ok(api.post(findings, data=exit_, headers=fire), 200)
    assert corrected["id"] == first["id"] and corrected["outcome"] == "pass"
    assert corrected["deadline"] is None and corrected["photos"] == 1
    # Outside the checklist: under one of the agency's own items only.
    free = {
        "item_id": "0",
        "outcome": "fail",
        "note": "x",
        "requirement": "y",
        "deadline": "2026-12-01",
    }
    assert paths(api.post(findings, data=free, headers=fire)) == ["item_id"]
    # Finishing: the lead agency's officer, once every point has its result.
    assert api.post(f"{API}/inspections/{visit}/finish", headers=fire).status_code == 403
    r = api.post(f"{API}/inspections/{visit}/finish", headers=h)
    missing = paths(r)
    assert "checklist.XF-CF-001-01" in missing and "checklist.XF-CF-002-01" in missing
    assert len(missing) == len(detail["checklist"]) + 2 - 1  # shared points twice, one done
    # An agency never invited does not see the visit; a declined one still does.
    assert api.get(f"{API}/inspections/{visit}", headers=login("police_officer")).status_code == 404
    assert (
        api.get(f"{API}/inspections/{visit}", headers=login("culture_officer")).status_code == 200
    )
