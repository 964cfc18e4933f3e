"""Complaints about enforcement conduct through HTTP: anyone complains (a phone only with its
code), gets a ticket and follows it; the enforcement supervisors list, take up and answer
them, audited, and a proven phone is told by SMS; 4xx name the field, and a refused
complaint leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.enforcement.public.conftest import API, jpeg, last_code

from cityops.auth.models import AuditEntry
from cityops.enforcement.public.models import Complaint
from cityops.enforcement.registries.models import Agency

pytestmark = pytest.mark.usefixtures("directory")
PUBLIC = f"{API}/public/enforcement"
MOBILE = "13800138123"


def agency_id(session: Session, code: str) -> int:
    return int(session.scalar(select(Agency.id).where(Agency.code == code)))


def fields(session: Session, clock: Any, **extra: Any) -> dict[str, Any]:
    at = clock.now() - timedelta(days=1)
    return {
        "what": "执法人员检查时态度粗暴，未出示执法证件，并要求我们停业。",
        "agency_id": str(agency_id(session, "YZ-CGZF")),
        "officer_name": "王某",
        "happened_at": at.isoformat(),
        "place": "解放碑步行街八一路口",
    } | extra


def complain(client: TestClient, data: dict[str, Any], photos: int = 1,
             key: str | None = None) -> Any:  # fmt: skip
    files = [("photos", (f"p{n}.jpg", jpeg(), "image/jpeg")) for n in range(photos)]
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{PUBLIC}/complaints", data=data, files=files or None, headers=headers)


def test_anyone_complains_and_follows_it_by_the_ticket(
    client: TestClient, session: Session, clock: Any
) -> None:
    r = complain(client, fields(session, clock))
    assert r.status_code == 201, r.text
    taken = r.json()
    assert taken["state"] == "received" and taken["ticket"] in taken["notice"]
    # As typed back by someone reading it off a phone: lower case, spaces.
    typed = taken["ticket"].lower().replace("-", " ")
    seen = client.get(f"{PUBLIC}/complaints/{typed}").json()
    assert seen["ticket"] == taken["ticket"]
    assert seen["state_name"] == "已受理，等待执法监督人员办理"
    assert seen["agency_name"] == "重庆市渝中区城市管理综合行政执法支队"
    assert seen["answer"] is None and "phone" not in seen and "name" not in seen
    photo = client.get(seen["photos"][0]["url"])
    assert photo.status_code == 200 and photo.content == jpeg()
    assert client.get(f"{PUBLIC}/complaints/ABCD-EFGH-JKMN").status_code == 404


def test_a_phone_is_taken_only_with_the_code_sent_to_it(
    client: TestClient, session: Session, clock: Any, texts: list[tuple[str, str]],
    supervisor: str, login: Any,
) -> None:  # fmt: skip
    data = fields(session, clock, name="李女士", phone=MOBILE)
    r = complain(client, data)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "code"
    assert client.post(f"{API}/public/phone-codes", json={"phone": MOBILE}).status_code == 202
    wrong = complain(client, data | {"code": "000000"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["path"] == "code"
    r = complain(client, data | {"code": last_code(texts, MOBILE)})
    assert r.status_code == 201, r.text
    (item,) = client.get(f"{API}/enforcement/complaints", headers=login(supervisor)).json()["items"]
    assert item["phone"] == MOBILE and item["phone_verified"] and item["name"] == "李女士"


def test_the_certificate_is_matched_against_the_officer_registry(
    client: TestClient, session: Session, clock: Any, supervisor: str, login: Any
) -> None:
    data = fields(session, clock)
    del data["agency_id"]  # the complainant knows only the certificate they were shown
    assert complain(client, data | {"certificate_number": "500103-xf-0001"}).status_code == 201
    assert complain(client, data | {"certificate_number": "500103-XF-9999"}).status_code == 201
    items = client.get(f"{API}/enforcement/complaints", headers=login(supervisor)).json()["items"]
    known, unknown = items
    assert known["certificate_found"] and known["officer"]["name"] == "张伟"
    assert known["agency"]["name"] == "重庆市渝中区消防救援支队"  # the officer's agency
    assert unknown["certificate_found"] is False and unknown["officer"] is None
    assert unknown["certificate_number"] == "500103-XF-9999"


def test_a_resent_complaint_is_taken_once(client: TestClient, session: Session,
                                          clock: Any) -> None:  # fmt: skip
    data = fields(session, clock)
    first = complain(client, data, key="c0ffee-1")
    again = complain(client, data, key="c0ffee-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["ticket"] == first.json()["ticket"] and again.json()["repeat"]
    assert session.scalar(select(func.count(Complaint.id))) == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"what": ""}, "what"),
        ({"agency_id": "99999"}, "agency_id"),
        ({"happened_at": "tomorrow"}, "happened_at"),
        ({"place": "x"}, "place"),
        ({"phone": "12345"}, "phone"),
    ],
)
def test_bad_fields_are_named(client: TestClient, session: Session, clock: Any,
                              change: dict[str, str], path: str) -> None:  # fmt: skip
    r = complain(client, fields(session, clock) | change)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == path
    assert session.scalar(select(func.count(Complaint.id))) == 0


def test_a_time_in_the_future_is_refused(client: TestClient, session: Session, clock: Any) -> None:
    later = (clock.now() + timedelta(days=2)).isoformat()
    r = complain(client, fields(session, clock, happened_at=later))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "happened_at"


def test_a_bad_photo_refuses_the_whole_complaint_and_spends_no_code(
    client: TestClient, session: Session, clock: Any, texts: list[tuple[str, str]]
) -> None:
    client.post(f"{API}/public/phone-codes", json={"phone": MOBILE})
    data = fields(session, clock, phone=MOBILE, code=last_code(texts, MOBILE))
    files = [("photos", ("a.jpg", jpeg(), "image/jpeg")),
             ("photos", ("notes.txt", b"not a picture", "image/jpeg"))]  # fmt: skip
    r = client.post(f"{PUBLIC}/complaints", data=data, files=files)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "photos.1"
    assert session.scalar(select(func.count(Complaint.id))) == 0
    assert complain(client, data).status_code == 201  # the code is still good


def test_supervisors_take_up_and_answer_complaints(
    client: TestClient, session: Session, clock: Any, texts: list[tuple[str, str]],
    supervisor: str, login: Any,
) -> None:  # fmt: skip
    client.post(f"{API}/public/phone-codes", json={"phone": MOBILE})
    data = fields(session, clock, phone=MOBILE, code=last_code(texts, MOBILE))
    ticket = complain(client, data).json()["ticket"]
    other = complain(client, fields(session, clock, what="执法车辆违规占用消防通道停放。"),
                     photos=0).json()["ticket"]  # fmt: skip
    url = f"{API}/enforcement/complaints"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("dispatcher")).status_code == 403
    h = login(supervisor)
    listed = client.get(url, headers=h).json()
    assert listed["total"] == 2 and listed["items"][0]["ticket"] == ticket  # oldest first
    first = listed["items"][0]
    assert first["photos"][0]["url"] == f"{url}/{first['id']}/photos/0"
    assert client.get(first["photos"][0]["url"], headers=h).content == jpeg()
    assert client.get(first["photos"][0]["url"], headers=login("dispatcher")).status_code == 403

    taken = client.post(f"{url}/{first['id']}/take", headers=h).json()
    assert taken["state"] == "handling" and taken["handler_name"] == "监督员jiandu"
    waiting = client.get(url, params={"state": "received"}, headers=h).json()["items"]
    assert [c["ticket"] for c in waiting] == [other]
    assert client.get(url, params={"text": "消防通道"}, headers=h).json()["total"] == 1

    bad = client.post(f"{url}/{first['id']}/answer", json={"answer": ""}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "answer"
    answer = "经核查，执法人员未出示证件属实，已责令该支队整改并对当事执法人员批评教育。"
    before = len(texts)
    answered = client.post(f"{url}/{first['id']}/answer", json={"answer": answer}, headers=h)
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert texts[before:] and texts[-1][0] == MOBILE and ticket in texts[-1][1]
    seen = client.get(f"{PUBLIC}/complaints/{ticket}").json()
    assert seen["answer"] == answer and seen["state_name"] == "已答复"
    again = client.post(f"{url}/{first['id']}/answer", json={"answer": answer}, headers=h)
    assert again.status_code == 409
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity == "enforcement_complaint", AuditEntry.entity_id == str(first["id"]))
    ).all()  # fmt: skip
    assert sorted(actions) == ["complaint.answer", "complaint.take"]
    # A complaint without a proven phone is answered on its ticket only.
    before = len(texts)
    second = client.get(url, params={"state": "received"}, headers=h).json()["items"][0]
    client.post(f"{url}/{second['id']}/answer", json={"answer": answer}, headers=h)
    assert len(texts) == before


def test_the_agencies_to_name(client: TestClient) -> None:
    agencies = client.get(f"{PUBLIC}/agencies").json()
    assert len(agencies) == 7
    names = {a["name"] for a in agencies}
    assert {"渝中区解放碑街道综合行政执法大队", "重庆市渝中区消防救援支队"} <= names
