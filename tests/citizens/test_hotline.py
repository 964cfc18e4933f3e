"""Hotline intake in the console (热线受理), call-backs (回访) and the vocabulary admins keep:
the call-taker's choice routes the report, else the classifier's when it is sure, else it
waits for the call-taker; a resident not satisfied at the call-back reopens the case."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.cases.test_api import ok
from tests.citizens.test_public_reports import close
from tests.factories import GRID_A, inside

from cityops.catalog.models import AutomationRule

CITIZENS = "/api/v1/citizens"


def call(client: TestClient, headers: dict[str, str], description: str, *,
         key: str | None = None, dx: float = 0.001, **fields: Any) -> Any:  # fmt: skip
    lon, lat = inside(GRID_A, dx=dx)
    body = {"description": description, "lat": lat, "lon": lon,
            "caller_name": "王芳", "caller_phone": "13912345678", **fields}  # fmt: skip
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"{CITIZENS}/hotline", json=body, headers={**headers, **extra})


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def hotline_rule(session: Session, request: pytest.FixtureRequest) -> None:
    """The seed's rule for the hotline: a report whose class is sure goes to its department."""
    request.getfixturevalue("district")
    session.add(AutomationRule(
        name="hotline-auto-route", class_code=None, source_kind="hotline", min_confidence=0.8,
        auto_accept=True, auto_file=True, auto_dispatch=True, dispatch_to="department",
        active=True,
    ))  # fmt: skip
    session.commit()


@pytest.mark.usefixtures("hotline_rule")
def test_the_call_taker_s_choice_routes_the_report_to_its_department(
    client: TestClient, login: Any, district: Any
) -> None:
    body = created(call(client, login("call_taker"), "居民反映楼下有垃圾", class_code="e0102"))
    assert (body["routing"], body["class_code"], body["joined"]) == ("chosen", "E0102", False)
    assert body["case_state"] == "handling"
    case = ok(client.get(f"/api/v1/cases/{body['case_id']}", headers=login("call_taker")))
    assert case["department_id"] == district.departments["HW"].id
    assert case["source_kind"] == "hotline"


@pytest.mark.usefixtures("hotline_rule")
def test_a_clear_call_is_routed_by_the_classifier_and_an_unclear_one_waits(
    client: TestClient, login: Any
) -> None:
    ct = login("call_taker")
    clear = created(call(client, ct, "小区门口的生活垃圾堆了好几天没人清理，很臭"))
    assert (clear["routing"], clear["class_code"]) == ("automatic", "E0102")
    assert clear["suggestions"][0]["class_code"] == "E0102"
    assert clear["suggestions"][0]["confidence"] >= 0.8
    assert clear["case_state"] == "handling"

    unclear = created(call(client, ct, "来电人情绪激动，要求尽快处理", dx=0.004))
    assert (unclear["routing"], unclear["class_code"]) == ("call_taker", None)
    assert unclear["case_state"] == "reported"
    case = ok(client.get(f"/api/v1/cases/{unclear['case_id']}", headers=ct))
    assert case["class_code"] is None  # the call-taker gives it when accepting


def test_hotline_intake_is_for_call_takers_and_checks_what_it_is_given(
    client: TestClient, login: Any
) -> None:
    assert call(client, login("inspector"), "垃圾").status_code == 403
    r = call(client, login("call_taker"), "垃圾", class_code="X9999")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "class_code"
    r = call(client, login("call_taker"), "")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "description"


def test_a_call_sent_twice_under_one_key_is_taken_once(client: TestClient, login: Any) -> None:
    ct = login("call_taker")
    first = created(call(client, ct, "路边垃圾没人清", key="call-1"))
    again = call(client, ct, "路边垃圾没人清", key="call-1")
    assert again.status_code == 200
    assert (again.json()["request_id"], again.json()["ticket"]) == (
        first["request_id"], first["ticket"])  # fmt: skip


@pytest.mark.usefixtures("hotline_rule")
def test_a_dissatisfied_call_back_reopens_the_case(
    client: TestClient, login: Any, district: Any
) -> None:
    ct = login("call_taker")
    body = created(call(client, ct, "居民反映楼下有垃圾", class_code="E0102"))
    case_id = body["case_id"]
    early = client.post(f"{CITIZENS}/requests/{body['request_id']}/callbacks",
                        json={"reached": True, "rating": "satisfied"}, headers=ct)  # fmt: skip
    assert early.status_code == 409
    assert ok(client.get(f"{CITIZENS}/callbacks/due", headers=ct))["items"] == []

    close(client, login, district, case_id, "已清运")
    (due,) = ok(client.get(f"{CITIZENS}/callbacks/due", headers=ct))["items"]
    assert (due["request_id"], due["case_id"]) == (body["request_id"], case_id)
    assert due["contact"]["phone"] == "13912345678"  # in full: the call-taker calls it

    url = f"{CITIZENS}/requests/{body['request_id']}/callbacks"
    r = client.post(url, json={"reached": False, "rating": "satisfied"}, headers=ct)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "rating"
    r = client.post(url, json={"reached": True, "rating": "dissatisfied", "note": "垃圾又堆起来了"},
                    headers=ct)  # fmt: skip
    assert r.status_code == 201, r.text
    me = ok(client.get("/api/v1/auth/me", headers=ct))
    assert r.json()["reopened"] is True and r.json()["by"] == me["name"]
    case = ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))
    assert case["state"] == "reported"
    assert case["steps"][-1]["action"] == "reopen"
    assert case["steps"][-1]["actor_role"] == "call_taker"
    assert ok(client.get(f"{CITIZENS}/callbacks/due", headers=ct))["items"] == []

    (request,) = client.get(f"{CITIZENS}/requests", params={"case_id": case_id},
                            headers=ct).json()  # fmt: skip
    assert request["channel"] == "hotline" and request["routing"] == "chosen"
    assert [c["rating"] for c in request["callbacks"]] == ["dissatisfied"]
    # the dispatcher sees the call-back but not the resident's number
    (seen,) = client.get(f"{CITIZENS}/requests", params={"case_id": case_id},
                         headers=login("dispatcher")).json()  # fmt: skip
    assert seen["contact"]["phone"] == "139****5678"
    assert [c["rating"] for c in seen["callbacks"]] == ["dissatisfied"]


def test_call_backs_are_made_by_call_takers(client: TestClient, login: Any) -> None:
    assert client.get(f"{CITIZENS}/callbacks/due", headers=login("handler")).status_code == 403
    r = client.post(f"{CITIZENS}/requests/1/callbacks", json={"reached": False},
                    headers=login("dispatcher"))  # fmt: skip
    assert r.status_code == 403


def test_an_admin_teaches_the_classifier_a_word_and_it_is_used_at_once(
    client: TestClient, login: Any
) -> None:
    ct, admin = login("call_taker"), login("admin")
    text = {"text": "楼下有个大铁疙瘩挡着路"}
    before = ok(client.post(f"{CITIZENS}/classify", json=text, headers=ct))
    assert not before["suggestions"] or before["suggestions"][0]["class_code"] != "P0101"

    r = client.post(f"{CITIZENS}/vocabulary", json={"class_code": "P0101", "term": "铁疙瘩"},
                    headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text
    term = r.json()
    after = ok(client.post(f"{CITIZENS}/classify", json=text, headers=ct))
    assert after["suggestions"][0]["class_code"] == "P0101"
    # the first edit kept the shipped words: the district's vocabulary holds both
    listed = client.get(f"{CITIZENS}/vocabulary", params={"class_code": "P0101"}, headers=ct)
    words = {t["term"] for t in listed.json()}
    assert {"铁疙瘩", "自来水井盖"} <= words

    again = client.post(f"{CITIZENS}/vocabulary", json={"class_code": "P0101", "term": "铁疙瘩"},
                        headers=admin)  # fmt: skip
    assert again.status_code == 409
    r = client.post(f"{CITIZENS}/vocabulary", json={"class_code": "P0101", "term": "x"},
                    headers=ct)  # fmt: skip
    assert r.status_code == 403
    assert client.delete(f"{CITIZENS}/vocabulary/{term['id']}", headers=admin).status_code == 204
    gone = ok(client.post(f"{CITIZENS}/classify", json=text, headers=ct))
    assert not gone["suggestions"] or gone["suggestions"][0]["class_code"] != "P0101"
