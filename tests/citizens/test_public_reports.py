"""The residents' public page's API: a report without an account (its class chosen,
decided by the classifier, or left to the call-taker), a phone proven by a code, photos,
the ticket to follow it by, reports of a problem already open joining its case, and the
rating at the end ("dissatisfied" reopens the case)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.cases.test_api import act, ok
from tests.factories import GRID_A, inside

from cityops.cases.models import Case, CaseAttachment
from cityops.citizens.models import CitizenRequest

PUBLIC = "/api/v1/public"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
GARBAGE = "小区门口的生活垃圾堆了好几天没人清理，乱扔的垃圾袋很臭"


def report(client: TestClient, *, key: str | None = None, photos: list[bytes] | None = None,
           dx: float = 0.001, **fields: Any) -> Any:  # fmt: skip
    lon, lat = inside(GRID_A, dx=dx)
    form = {"description": GARBAGE, "lat": str(lat), "lon": str(lon), **fields}
    files = [("photos", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(photos or [])]
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{PUBLIC}/reports", data=form, files=files or None, headers=headers)


def taken(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def ticket_of(client: TestClient, ticket: str) -> dict[str, Any]:
    return ok(client.get(f"{PUBLIC}/tickets/{ticket}"))


def case_of(session: Session, ticket: str) -> Case:
    session.expire_all()
    row = session.scalar(select(CitizenRequest).where(CitizenRequest.token == ticket))
    assert row is not None and row.case_id is not None
    case = session.get(Case, row.case_id)
    assert case is not None
    return case


def close(client: TestClient, login: Any, district: Any, case_id: int, answer: str) -> None:
    """Take a resident's case round the loop to its closing, with the answer for them."""
    ct, sl, insp = login("call_taker"), login("shift_leader"), login("inspector")
    state = ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))["state"]
    if state == "reported":
        ok(act(client, ct, case_id, "send_verify"))
        ok(act(client, insp, case_id, "verify", outcome="confirmed"))
        state = "accepted"
    if state == "accepted":
        ok(act(client, sl, case_id, "file"))
        hw = district.departments["HW"].id
        ok(act(client, login("dispatcher"), case_id, "dispatch", department_id=hw))
    ok(act(client, login("handler"), case_id, "report_handled", note="已清运"))
    ok(act(client, ct, case_id, "send_check"))
    ok(act(client, insp, case_id, "check", outcome="pass"))
    assert ok(act(client, sl, case_id, "close", note=answer))["state"] == "closed"


# The seed's services that the test catalog has (E0102, E0502), through the Open311 fixture.
pytestmark = pytest.mark.usefixtures("open311_key")


def test_the_page_lists_services_and_suggests_them_from_the_text(client: TestClient) -> None:
    listed = ok(client.get(f"{PUBLIC}/services"))["items"]
    assert {s["code"] for s in listed} == {"E0102", "E0502"}
    assert all(s["name"] and isinstance(s["keywords"], list) for s in listed)
    r = client.post(f"{PUBLIC}/suggest", json={"text": "人行道上有人摆摊卖水果"})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["service_code"] == "E0502"


def test_a_report_without_an_account_gets_a_ticket_to_follow_it_by(
    client: TestClient, session: Session
) -> None:
    body = taken(report(client, service_code="E0102", address="幸福路12号"))
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", body["ticket"])
    assert (body["status"], body["service_name"], body["joined"]) == ("open", "暴露垃圾", False)
    assert body["ticket"] in body["notice"]

    # typed loosely, the ticket still finds the request
    loose = body["ticket"].lower().replace("-", " ")
    seen = ticket_of(client, loose)
    assert (seen["status"], seen["service_code"], seen["address"]) == (
        "open",
        "E0102",
        "幸福路12号",
    )
    assert seen["notes"][0]["text"].startswith("已收到您的诉求")
    assert seen["can_rate"] is False and seen["rating"] is None
    case = case_of(session, body["ticket"])
    assert (case.source_kind, case.class_code, case.state) == ("citizen", "E0102", "reported")
    assert client.get(f"{PUBLIC}/tickets/ZZZZ-ZZZZ-ZZZZ").status_code == 404


def test_the_classifier_routes_a_clear_report_and_leaves_an_unclear_one_to_the_call_taker(
    client: TestClient, session: Session
) -> None:
    clear = taken(report(client))
    assert clear["service_code"] == "E0102"
    row = session.scalar(select(CitizenRequest).where(CitizenRequest.token == clear["ticket"]))
    assert row is not None and row.routing == "automatic"
    assert case_of(session, clear["ticket"]).class_code == "E0102"

    unclear = taken(report(client, description="你们管一下吧，太不像话了", dx=0.004))
    assert unclear["service_code"] is None
    row = session.scalar(select(CitizenRequest).where(CitizenRequest.token == unclear["ticket"]))
    assert row is not None and row.routing == "call_taker"
    assert case_of(session, unclear["ticket"]).class_code is None


def test_a_resident_s_choice_stands_but_is_routed_only_when_the_classifier_agrees(
    client: TestClient, session: Session
) -> None:
    # garbage described, street vending chosen: the choice is kept for the call-taker to see
    body = taken(report(client, service_code="E0502"))
    row = session.scalar(select(CitizenRequest).where(CitizenRequest.token == body["ticket"]))
    assert row is not None and (row.routing, row.service_code) == ("chosen", "E0502")


def test_a_phone_is_proven_by_the_code_sent_to_it(
    client: TestClient, context: Any, session: Session
) -> None:
    phone = "13800138000"
    r = client.post(f"{PUBLIC}/phone-codes", json={"phone": phone})
    assert r.status_code == 202, r.text
    assert r.json() == {"expires_in": 300, "resend_after": 60}
    ((to, text),) = context.sms.sent
    code = re.search(r"\d{6}", text).group()  # type: ignore[union-attr]
    assert to == phone

    again = client.post(f"{PUBLIC}/phone-codes", json={"phone": phone})
    assert again.status_code == 429
    assert again.json()["errors"][0]["path"] == "phone"
    bad = client.post(f"{PUBLIC}/phone-codes", json={"phone": "12345"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "phone"

    wrong = "000000" if code != "000000" else "111111"
    r = report(client, phone=phone, code=wrong)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "code"
    missing = report(client, phone=phone)
    assert missing.status_code == 422 and missing.json()["errors"][0]["path"] == "code"

    body = taken(report(client, phone=phone, code=code, name="李明"))
    row = session.scalar(select(CitizenRequest).where(CitizenRequest.token == body["ticket"]))
    assert row is not None and (row.phone, row.phone_verified, row.first_name) == (
        phone, True, "李明")  # fmt: skip
    # a code is spent once
    r = report(client, phone=phone, code=code, dx=0.004)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "code"


def test_a_phone_gets_no_more_codes_once_its_tries_are_spent(
    client: TestClient, context: Any
) -> None:
    phone = "13900139000"
    assert client.post(f"{PUBLIC}/phone-codes", json={"phone": phone}).status_code == 202
    code = re.search(r"\d{6}", context.sms.sent[-1][1]).group()  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert report(client, phone=phone, code=wrong).status_code == 422
    # five wrong tries spend the code: even the right one is refused now
    r = report(client, phone=phone, code=code)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "code"


def test_photos_are_kept_with_the_case_and_shown_to_the_resident(
    client: TestClient, session: Session
) -> None:
    body = taken(report(client, photos=[JPEG, JPEG]))
    seen = ticket_of(client, body["ticket"])
    assert len(seen["photos"]) == 2
    photo = client.get(seen["photos"][1]["url"])
    assert photo.status_code == 200
    assert (photo.content, photo.headers["content-type"]) == (JPEG, "image/jpeg")
    case = case_of(session, body["ticket"])
    assert (
        session.scalar(
            select(func.count())
            .select_from(CaseAttachment)
            .where(CaseAttachment.case_id == case.id)
        )
        == 2
    )
    assert client.get(f"{PUBLIC}/tickets/{body['ticket']}/photos/2").status_code == 404


def test_a_bad_photo_refuses_the_whole_report_naming_it(
    client: TestClient, session: Session, context: Any
) -> None:
    before = session.scalar(select(func.count()).select_from(Case))
    r = report(client, photos=[JPEG, b"<script>alert(1)</script>"])
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "photos.1"
    context.settings.max_upload_bytes = 100
    r = report(client, photos=[JPEG])
    assert r.status_code == 413 and r.json()["errors"][0]["path"] == "photos.0"
    context.settings.max_upload_bytes = 10_000
    r = report(client, photos=[JPEG] * 4)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "photos"
    r = report(client, lat="")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "lat"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Case)) == before


def test_a_report_sent_twice_under_one_key_is_taken_once(
    client: TestClient, session: Session
) -> None:
    first = taken(report(client, key="k-1"))
    again = report(client, key="k-1")
    assert again.status_code == 200
    assert again.json()["ticket"] == first["ticket"]
    assert "无需重复提交" in again.json()["notice"]
    assert session.scalar(select(func.count()).select_from(CitizenRequest)) == 1


def test_a_report_that_says_what_an_open_case_nearby_says_joins_it(
    client: TestClient, session: Session
) -> None:
    first = taken(report(client, service_code="E0102"))
    # 100 m away: beyond the class's merge radius (50 m), within what residents call "here",
    # and said in other words, with the kind of problem left to the centre
    lon, lat = inside(GRID_A)
    near = {"lat": str(lat + 0.0009), "lon": str(lon)}
    joined = taken(client.post(f"{PUBLIC}/reports", data={
        "description": "门口的垃圾好几天没人收了，很臭", **near}))  # fmt: skip
    assert joined["joined"] is True
    assert "已并入" in joined["notice"]
    assert case_of(session, joined["ticket"]).id == case_of(session, first["ticket"]).id
    assert case_of(session, first["ticket"]).signal_count == 2
    seen = ticket_of(client, joined["ticket"])
    assert seen["joined"] is True and "已并入" in seen["notes"][0]["text"]

    # the same place, another problem: a case of its own
    other = taken(client.post(f"{PUBLIC}/reports", data={
        "description": "有人在人行道上摆摊卖水果", **near}))  # fmt: skip
    assert other["joined"] is False
    assert case_of(session, other["ticket"]).id != case_of(session, first["ticket"]).id


def test_the_resident_follows_the_case_to_the_answer_and_rates_it(
    client: TestClient, login: Any, district: Any, session: Session
) -> None:
    body = taken(report(client, service_code="E0102",
                        description="门口垃圾堆了三天，我的电话13800138000"))  # fmt: skip
    ticket = body["ticket"]
    assert "13800138000" not in ticket_of(client, ticket)["description"]
    early = client.post(f"{PUBLIC}/tickets/{ticket}/rating", json={"rating": "satisfied"})
    assert early.status_code == 409

    close(client, login, district, case_of(session, ticket).id, "已安排环卫清运完毕，感谢您的反映")
    seen = ticket_of(client, ticket)
    assert (seen["status"], seen["can_rate"]) == ("closed", True)
    assert seen["answer"] == "已安排环卫清运完毕，感谢您的反映"
    texts = [n["text"] for n in seen["notes"]]
    assert texts[0].startswith("已收到") and texts[-1] == "已办结。"
    assert len(texts) == len(set(texts))  # each stage told once

    r = client.post(f"{PUBLIC}/tickets/{ticket}/rating",
                    json={"rating": "satisfied", "comment": "很及时"})  # fmt: skip
    rated = ok(r)
    assert rated["rating"]["rating"] == "satisfied" and rated["can_rate"] is False
    assert rated["status"] == "closed"
    again = client.post(f"{PUBLIC}/tickets/{ticket}/rating", json={"rating": "dissatisfied"})
    assert again.status_code == 409
    bad = client.post(f"{PUBLIC}/tickets/{ticket}/rating", json={"rating": "so-so"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "rating"


def test_dissatisfied_reopens_the_case_for_the_call_taker(
    client: TestClient, login: Any, district: Any, session: Session, clock: Any
) -> None:
    ticket = taken(report(client, service_code="E0102"))["ticket"]
    case_id = case_of(session, ticket).id
    close(client, login, district, case_id, "已清运")
    seen = ok(client.post(f"{PUBLIC}/tickets/{ticket}/rating",
                          json={"rating": "dissatisfied", "comment": "根本没清干净"}))  # fmt: skip
    assert (seen["status"], seen["state"], seen["answer"]) == ("open", "reported", None)
    assert seen["notes"][-1]["text"] == "因诉求人不满意，已重新办理。"

    ct = login("call_taker")
    case = ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))
    assert case["state"] == "reported" and case["closed_at"] is None
    last = case["steps"][-1]
    assert (last["action"], last["action_name"]) == ("reopen", "重新办理")
    assert "根本没清干净" in last["note"]
    assert case["allowed_actions"]  # the call-taker takes it through the loop again
    # closed again, the resident may rate again
    clock.advance(hours=2)
    close(client, login, district, case_id, "已彻底清理")
    assert ticket_of(client, ticket)["can_rate"] is True


def test_a_report_left_to_the_centre_gets_its_class_from_a_person(
    client: TestClient, login: Any, session: Session
) -> None:
    ct, sl, insp = login("call_taker"), login("shift_leader"), login("inspector")
    body = taken(report(client, description="这事一直没人管"))
    case_id = case_of(session, body["ticket"]).id
    ok(act(client, ct, case_id, "send_verify"))
    ok(act(client, insp, case_id, "verify", outcome="confirmed"))
    # the shift leader gives it when filing, if the call-taker did not
    r = act(client, sl, case_id, "file")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "class_code"
    c = ok(act(client, sl, case_id, "file", class_code="e0102"))
    assert (c["state"], c["class_code"]) == ("filed", "E0102")
