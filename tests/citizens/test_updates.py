"""The GeoReport v2 updates extension both ways: residents' follow-ups reach the case (and
the centre), and what happens to a request is listed with the richer statuses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.cases.test_api import act, ok
from tests.citizens.test_open311 import FORM, ROOT, submit, xml

from cityops.cases.service import SystemNote, add_system_notes
from cityops.cases.workflow import Actor


def follow_up(client: TestClient, key: str, case_id: str, update_id: str = "u1",
              **fields: Any) -> Any:  # fmt: skip
    body = {"api_key": key, "service_request_id": case_id, "update_id": update_id,
            "status": "OPEN", "updated_datetime": "2026-11-24T09:30:00+08:00",
            "description": "垃圾越堆越多了，电话 13800138000", **fields}  # fmt: skip
    return client.post(f"{ROOT}/servicerequestupdates.json", data=body, headers=FORM)


def updates(client: TestClient, **params: str) -> list[dict[str, Any]]:
    r = client.get(f"{ROOT}/servicerequestupdates.json", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_a_resident_s_follow_up_is_noted_on_the_case_for_the_centre(
    client: TestClient, login: Any, open311_key: str
) -> None:
    (request,) = submit(client, open311_key).json()
    case_id = request["service_request_id"]
    r = follow_up(client, open311_key, case_id, media_url="https://example.com/more.jpg")
    assert r.status_code == 201, r.text
    (answer,) = r.json()
    case = ok(client.get(f"/api/v1/cases/{case_id}", headers=login("call_taker")))
    noted = [s for s in case["steps"] if s["action"] == "note"]
    assert [s["id"] for s in noted] == [int(answer["update_id"])]
    assert noted[0]["note"].startswith("市民补充：垃圾越堆越多了")
    assert "https://example.com/more.jpg" in noted[0]["note"]
    # sent again (the app retrying): the same update, nothing new on the case
    again = follow_up(client, open311_key, case_id)
    assert (again.status_code, again.json()) == (200, [answer])
    case = ok(client.get(f"/api/v1/cases/{case_id}", headers=login("call_taker")))
    assert len([s for s in case["steps"] if s["action"] == "note"]) == 1


def test_what_happens_to_a_request_is_listed_with_the_richer_statuses(
    client: TestClient, login: Any, open311_key: str, context: Any, session: Session
) -> None:
    (request,) = submit(client, open311_key).json()
    case_id = request["service_request_id"]
    ok(act(client, login("call_taker"), int(case_id), "send_verify"))
    follow_up(client, open311_key, case_id)
    # a note of the centre's own (a camera's, a sensor's) is not the public's
    env = context.case_env(session, context.clock.now())
    add_system_notes(session, env, context.storage, Actor.system("视频智能分析"),
                     [SystemNote(int(case_id), "视频抓拍：内部")])  # fmt: skip
    session.commit()
    listed = updates(client)
    assert [(u["service_request_id"], u["status"], u["description"][:6]) for u in listed] == [
        (case_id, "open", "已收到您的诉"),
        (case_id, "investigating", "已受理，正派"),
        (case_id, "investigating", "市民补充：垃"),
    ]  # fmt: skip
    assert "138******00" in listed[2]["description"]
    assert all(u["updated_datetime"].endswith("+08:00") for u in listed)
    root = xml(client.get(f"{ROOT}/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    assert [u.findtext("update_id") for u in root.iterfind("request_update")] == [
        u["update_id"] for u in listed
    ]
    assert updates(client, start_date="2026-11-25T00:00:00Z") == []


def test_a_closed_request_takes_no_follow_up(
    client: TestClient, login: Any, open311_key: str
) -> None:
    (request,) = submit(client, open311_key).json()
    case_id = request["service_request_id"]
    ok(act(client, login("shift_leader"), int(case_id), "cancel", note="不属实"))
    r = follow_up(client, open311_key, case_id)
    assert r.status_code == 400
    assert r.json()[0]["description"].startswith("service_request_id: closed")
    assert updates(client)[-1]["status"] == "no_further_action"


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"status": "DONE"}, 400, "status"),
        ({"updated_datetime": "yesterday"}, 400, "updated_datetime"),
        ({"description": ""}, 400, "description"),
        ({"service_request_id": "999999"}, 404, "no request"),
        ({"api_key": ""}, 403, "api_key"),
    ],
)
def test_bad_follow_ups_are_refused_naming_the_field(
    client: TestClient, open311_key: str, fields: dict[str, str], status: int, field: str
) -> None:
    (request,) = submit(client, open311_key).json()
    r = follow_up(client, open311_key, request["service_request_id"], **fields)
    assert r.status_code == status, r.text
    assert any(field in e["description"] for e in r.json())
