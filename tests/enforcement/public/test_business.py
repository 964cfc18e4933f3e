"""A business's own side through HTTP: it signs in with its credit code and the code sent to
its registered phone, sees its notices with each deadline and the days left, its decisions
with what it owes, downloads its documents and sends proof of rectification, which reaches
the inspection; it sees nothing of another business's, and its token expires."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.public.conftest import API, jpeg, last_code
from tests.enforcement.public.scenario import CAFE, CAFE_PHONE, OTHER_CAFE, OTHER_PHONE, Story

from cityops.auth.models import AuditEntry
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections.models import Inspection, RectificationNotice

BUSINESS = f"{API}/public/enforcement/business"


def sign_in(client: TestClient, texts: list[tuple[str, str]], credit_code: str,
            phone: str) -> dict[str, str]:  # fmt: skip
    sent = client.post(f"{BUSINESS}/codes", json={"credit_code": credit_code.lower()})
    assert sent.status_code == 202, sent.text
    assert sent.json()["phone_hint"] == phone[:3] + "****" + phone[-4:]
    code = last_code(texts, phone)
    token = client.post(f"{BUSINESS}/token", json={"credit_code": credit_code, "code": code})
    assert token.status_code == 200, token.text
    return {"X-Business-Token": token.json()["access_token"]}


@pytest.mark.usefixtures("story")
def test_signing_in_with_the_code_sent_to_the_registered_phone(
    client: TestClient, texts: list[tuple[str, str]]
) -> None:
    assert client.get(f"{BUSINESS}/me").status_code == 401
    unknown = client.post(f"{BUSINESS}/codes", json={"credit_code": "91500103000000000X"})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["path"] == "credit_code"
    short = client.post(f"{BUSINESS}/codes", json={"credit_code": "9150"})
    assert short.status_code == 422 and short.json()["errors"][0]["path"] == "credit_code"
    assert client.post(f"{BUSINESS}/codes", json={"credit_code": CAFE}).status_code == 202
    again = client.post(f"{BUSINESS}/codes", json={"credit_code": CAFE})
    assert again.status_code == 429  # the residents' limits, per phone
    wrong = client.post(f"{BUSINESS}/token", json={"credit_code": CAFE, "code": "000000"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["path"] == "code"
    sent = {"credit_code": CAFE, "code": last_code(texts, CAFE_PHONE)}
    right = client.post(f"{BUSINESS}/token", json=sent)
    assert right.status_code == 200, right.text
    body = right.json()
    assert body["business"]["name"] == "渝中区极速网咖" and body["expires_in"] == 1800
    reused = client.post(f"{BUSINESS}/token", json=sent)
    assert reused.status_code == 422  # a code is spent once
    me = client.get(f"{BUSINESS}/me", headers={"X-Business-Token": body["access_token"]})
    assert me.status_code == 200 and me.json()["business"]["credit_code"] == CAFE


@pytest.mark.usefixtures("story")
def test_a_business_without_a_mobile_phone_is_told_whom_to_ask(
    client: TestClient, session: Session
) -> None:
    other = session.scalar(select(Business).where(Business.credit_code == OTHER_CAFE))
    assert other is not None
    other.phone = "023-63800000"
    session.commit()
    r = client.post(f"{BUSINESS}/codes", json={"credit_code": OTHER_CAFE})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "credit_code"
    assert "no mobile phone" in r.json()["detail"]


def test_the_business_sees_its_notice_deadlines_and_what_it_owes(
    client: TestClient, texts: list[tuple[str, str]], story: Story
) -> None:
    me = client.get(f"{BUSINESS}/me", headers=sign_in(client, texts, CAFE, CAFE_PHONE)).json()
    assert me["today"] == "2026-11-24"
    (notice,) = me["notices"]
    assert notice["number"] == story.notice_number and notice["title"] == "综合检查整改通知书"
    assert notice["agencies"] == ["渝中区解放碑街道综合行政执法大队", "重庆市渝中区消防救援支队"]
    assert notice["served_on"] == "2026-11-21" and notice["can_upload"] and notice["proof"] is None
    assert (notice["deadline"], notice["days_left"]) == ("2026-12-04", 10)
    lines = {line["agency"]: line for line in notice["lines"]}
    fire = lines["重庆市渝中区消防救援支队"]
    assert fire["finding"].startswith("西侧安全出口被货架和纸箱堵塞")
    assert (fire["deadline"], fire["days_left"]) == ("2026-11-27", 3)
    assert "《中华人民共和国消防法》第二十八条" in fire["basis"]
    assert lines["渝中区解放碑街道综合行政执法大队"]["days_left"] == 10
    (decision,) = me["decisions"]
    assert decision["number"] == story.decision_number and decision["fine"] == 5000
    assert decision["payment_due"] == "2026-11-17" and decision["days_left"] == -7
    # Art. 72: 3 % of 5,000 a day for the seven days since the 17th.
    assert (decision["late_days"], decision["late_fee"]) == (7, "1050.00")
    assert decision["amount_due"] == "6050.00" and not decision["paid"]
    assert decision["penalty"] == "罚款人民币5,000元"
    (visit,) = me["inspections"]
    assert visit["title"].startswith("2026年第四季度") and visit["result"] == "rectification"


def test_the_business_downloads_its_own_documents_only(
    client: TestClient, texts: list[tuple[str, str]], story: Story
) -> None:
    cafe = sign_in(client, texts, CAFE, CAFE_PHONE)
    me = client.get(f"{BUSINESS}/me", headers=cafe).json()
    for url in (me["notices"][0]["document_url"], me["decisions"][0]["document_url"]):
        pdf = client.get(url, headers=cafe)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
    other = sign_in(client, texts, OTHER_CAFE, OTHER_PHONE)
    mine = client.get(f"{BUSINESS}/me", headers=other).json()
    assert mine["notices"] == []
    # Its own decision, published or not; not the café's.
    assert [d["id"] for d in mine["decisions"]] == [story.other_case_id]
    assert [v["result"] for v in mine["inspections"]] == ["compliant"]
    for document in (story.notice_document_id, story.decision_document_id):
        r = client.get(f"{BUSINESS}/documents/{document}.pdf", headers=other)
        assert r.status_code == 404
    photo = [("photos", ("a.jpg", jpeg(), "image/jpeg"))]
    theirs = client.post(f"{BUSINESS}/notices/{story.notice_id}/proof", headers=other,
                         data={"note": "已整改"}, files=photo)  # fmt: skip
    assert theirs.status_code == 404


def test_proof_of_rectification_reaches_the_inspection_once(
    client: TestClient, session: Session, texts: list[tuple[str, str]], story: Story
) -> None:
    cafe = sign_in(client, texts, CAFE, CAFE_PHONE)
    url = f"{BUSINESS}/notices/{story.notice_id}/proof"
    files = [("photos", ("exit.jpg", jpeg(), "image/jpeg"))]
    note = "已清除安全出口处的货架和纸箱，并调整营业时间。"
    bad = client.post(url, headers=cafe | {"Idempotency-Key": "proof-1"}, data={"note": note},
                      files=[*files, ("photos", ("x.jpg", b"nonsense", "image/jpeg"))])  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "photos.1"
    first = client.post(url, headers=cafe | {"Idempotency-Key": "proof-1"}, data={"note": note},
                        files=files)  # fmt: skip
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "reinspection_due" and first.json()["photos"] == 1
    again = client.post(url, headers=cafe | {"Idempotency-Key": "proof-1"}, data={"note": note},
                        files=files)  # fmt: skip
    assert again.status_code == 200 and again.json()["repeat"]
    session.expire_all()
    notice = session.get(RectificationNotice, story.notice_id)
    inspection = session.get(Inspection, story.visit_id)
    assert notice is not None and inspection is not None
    assert len(notice.proof_keys) == 1 and notice.proof_note == note
    assert inspection.state == "reinspection_due"
    assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "business.proof"))
    me = client.get(f"{BUSINESS}/me", headers=cafe).json()
    assert me["notices"][0]["proof"]["photos"] == 1 and me["notices"][0]["can_upload"]


@pytest.mark.usefixtures("story")
def test_the_token_expires_and_is_good_for_nothing_else(
    client: TestClient, texts: list[tuple[str, str]], clock: Any, login: Any
) -> None:
    cafe = sign_in(client, texts, CAFE, CAFE_PHONE)
    assert client.get(f"{BUSINESS}/me", headers=cafe).status_code == 200
    staff = login("dispatcher")["Authorization"].removeprefix("Bearer ")
    assert client.get(f"{BUSINESS}/me", headers={"X-Business-Token": staff}).status_code == 401
    forged = cafe["X-Business-Token"][:-4] + "AAAA"
    assert client.get(f"{BUSINESS}/me", headers={"X-Business-Token": forged}).status_code == 401
    business_as_staff = {"Authorization": f"Bearer {cafe['X-Business-Token']}"}
    assert client.get(f"{API}/enforcement/complaints", headers=business_as_staff).status_code == 401
    clock.advance(minutes=30)
    expired = client.get(f"{BUSINESS}/me", headers=cafe)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
