"""综合查一次 through the API, end to end: the street team of 解放碑 plans a joint inspection
of the internet café “极速网咖”; fire rescue and the culture market team accept, market
regulation declines with a reason; the merged checklist asks each point once; every
officer is reminded once the day before and once an hour before; each agency records its
findings with photos; the owner gets ONE notice (PDF) with every agency's lines; proof
comes in and the re-inspection closes it — or, when a finding is not rectified, the visit
is escalated and its findings listed for penalty cases."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from tests.enforcement.inspections.conftest import API, VISIT, Café, ok
from tests.fakes import JPEG

from cityops.enforcement.inspections import rectification, service
from cityops.enforcement.inspections.jobs import run_due, run_reminders
from cityops.errors import NotFound

FAILS = {  # checklist code → (note, requirement, deadline)
    "XF-CF-001-01": (
        "二楼东侧安全出口堆放纸箱，堵塞疏散通道",
        "立即清理安全出口堆放物，保持畅通",
        date(2026, 12, 3),
    ),
    "XF-CF-002-01": ("大厅2具灭火器压力不足", "更换或充装失效灭火器", date(2026, 12, 10)),
    "WH-CF-001-02": (
        "入口处未悬挂未成年人禁入标志",
        "在入口显著位置悬挂未成年人禁入标志",
        date(2026, 12, 3),
    ),
}


def act(api: TestClient, h: dict[str, str], path: str, status: int = 200, **kw: Any) -> Any:
    return ok(api.post(f"{API}/inspections{path}", headers=h, **kw), status)


def plan_and_answer(api: TestClient, login: Any, cafe: Café) -> dict[str, Any]:
    """Submit and approve the plan; fire and culture accept, market regulation declines."""
    ok(api.post(f"{API}/plans/{cafe.plan_id}/submit", headers=login("jfb_officer")))
    r = api.post(f"{API}/plans/{cafe.plan_id}/approve", headers=login("fire_lead"))
    assert r.status_code == 403  # the lead of another agency
    assert (
        ok(api.post(f"{API}/plans/{cafe.plan_id}/approve", headers=login("jfb_lead")))["state"]
        == "approved"
    )
    o, ids = cafe.officers, cafe.ids
    fire = [o["500103-XF-0001"], o["500103-XF-0002"]]
    act(
        api,
        login("fire_officer"),
        f"/{cafe.inspection_id}/agencies/{ids['YZ-XFJY']}/accept",
        json={"officer_ids": fire},
    )
    culture = [o["500103-WH-0001"], o["500103-WH-0002"]]
    act(
        api,
        login("culture_officer"),
        f"/{cafe.inspection_id}/agencies/{ids['YZ-WHZF']}/accept",
        json={"officer_ids": culture},
    )
    market = f"/{cafe.inspection_id}/agencies/{ids['YZ-SCJG']}"
    return act(
        api,
        login("market_officer"),
        f"{market}/decline",
        json={"reason": "本周集中开展食品安全专项检查，另行安排"},
    )


def record_all(
    api: TestClient,
    login: Any,
    cafe: Café,
    checklist: list[dict[str, Any]],
) -> None:
    """Each agency's officer answers each of its points: the three of FAILS fail (the fire
    exit with a photo), the rest pass."""
    who = {"YZ-JFB-ZF": "jfb_officer", "YZ-XFJY": "fire_officer", "YZ-WHZF": "culture_officer"}
    names = {cafe.ids[code]: user for code, user in who.items()}
    for point in checklist:
        for agency in point["agencies"]:
            form: dict[str, Any] = {"checklist_item_id": str(point["id"]), "outcome": "pass"}
            files = None
            if point["code"] in FAILS:
                note, requirement, deadline = FAILS[point["code"]]
                form |= {
                    "outcome": "fail",
                    "note": note,
                    "requirement": requirement,
                    "deadline": deadline.isoformat(),
                }
                files = [("photos", ("exit.jpg", JPEG, "image/jpeg"))]
            act(
                api,
                login(names[agency["id"]]),
                f"/{cafe.inspection_id}/findings",
                201,
                data=form,
                files=files,
            )


def test_the_cafe_is_inspected_once_by_three_agencies(
    api: TestClient, login: Any, cafe: Café, context: Any, clock: Any, session: Session
) -> None:
    h, lead = login("jfb_officer"), login("jfb_lead")
    proposed = ok(api.get(f"{API}/inspections/{cafe.inspection_id}/proposed-agencies", headers=h))
    assert {a["code"]: a["invited"] for a in proposed} == {
        "YZ-GA": False,
        "YZ-JFB-ZF": True,
        "YZ-SCJG": True,
        "YZ-WHZF": True,
        "YZ-XFJY": True,
    }
    # The lead agency's officers cannot skip the plan's approval.
    r = api.post(f"{API}/inspections/{cafe.inspection_id}/start", headers=h)
    assert r.status_code == 409 and "approved" in r.json()["detail"]
    detail = plan_and_answer(api, login, cafe)
    states = {a["code"]: (a["role"], a["state"], a["reason"]) for a in detail["agencies"]}
    assert states == {
        "YZ-JFB-ZF": ("initiator", "accepted", ""),
        "YZ-XFJY": ("invited", "accepted", ""),
        "YZ-WHZF": ("invited", "accepted", ""),
        "YZ-SCJG": ("invited", "declined", "本周集中开展食品安全专项检查，另行安排"),
    }

    # The merged checklist: 20 entries of the three agencies' items, 16 points; each
    # code once and each (article, text) once.
    checklist = detail["checklist"]
    assert len(checklist) == 16
    assert len({p["code"] for p in checklist}) == 16
    assert len({(p["citation"], p["text"]) for p in checklist}) == 16
    by_code = {p["code"]: p for p in checklist}
    assert {a["name"] for a in by_code["XF-CF-001-01"]["agencies"]} == {
        "渝中区解放碑街道综合行政执法大队",
        "重庆市渝中区消防救援支队",
    }
    hours = by_code["WH-CF-003-01"]  # the same question in two culture items
    assert hours["item_codes"] == ["WH-CF-003", "WH-JC-001"] and len(hours["agencies"]) == 2
    assert "WH-JC-001-02" not in by_code
    assert not any(p["item_codes"][0].startswith("SP") for p in checklist)  # declined

    # Reminders: once the day before and once an hour before, to each of the six officers.
    clock.current = VISIT - timedelta(hours=23, minutes=30)
    assert run_reminders(context) == 6
    assert run_reminders(context) == 0
    clock.current = VISIT - timedelta(minutes=50)
    assert run_reminders(context) == 6
    assert run_reminders(context) == 0
    sent = context.sms.sent
    assert len(sent) == 12 and len({phone for phone, _ in sent}) == 6
    assert "明天10:00" in sent[0][1] and "渝中区极速网咖" in sent[0][1]
    assert "今天10:00（1小时后）" in sent[-1][1]

    clock.current = VISIT + timedelta(minutes=5)
    h = login("jfb_officer")
    r = api.post(f"{API}/inspections/{cafe.inspection_id}/start", headers=login("market_officer"))
    assert r.status_code == 403  # declined: not on the visit
    act(api, h, f"/{cafe.inspection_id}/start")
    record_all(api, login, cafe, checklist)
    detail = ok(api.get(f"{API}/inspections/{cafe.inspection_id}", headers=h))
    failed = [f for f in detail["findings"] if f["outcome"] == "fail"]
    # The fire exit fails for both agencies that check it; each finding keeps its photo.
    code = {i: c for c, i in cafe.ids.items()}
    assert sorted((f["item_code"], code[f["agency_id"]]) for f in failed) == [
        ("WH-CF-001", "YZ-WHZF"),
        ("XF-CF-001", "YZ-JFB-ZF"),
        ("XF-CF-001", "YZ-XFJY"),
        ("XF-CF-002", "YZ-XFJY"),
    ]
    assert all(f["photos"] == 1 for f in failed)
    photo = api.get(
        f"{API}/inspections/{cafe.inspection_id}/findings/{failed[0]['id']}/photos/0",
        headers=login("fire_officer"),
    )
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content == JPEG
    assert act(api, h, f"/{cafe.inspection_id}/finish")["state"] == "findings_recorded"

    # ONE notice for every agency's lines, numbered, as a PDF anyone on the visit may read.
    notice = act(api, h, f"/{cafe.inspection_id}/notice", json={})["notice"]
    assert notice["number"] == "渝中解放碑综查改字〔2026〕第1号"
    assert notice["deadline"] == "2026-12-10"
    pdf = api.get(
        f"{API}/inspections/{cafe.inspection_id}/notice.pdf", headers=login("culture_officer")
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = re.sub(
        r"\s+", "", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    )
    for phrase in (
        "渝中解放碑综查改字",
        "渝中区极速网咖",
        "重庆市渝中区消防救援支队",
        "重庆市渝中区文化市场综合行政执法支队",
        "渝中区解放碑街道综合行政执法大队",
        "二楼东侧安全出口堆放纸箱",
        "大厅2具灭火器压力不足",
        "入口处未悬挂未成年人禁入标志",
        "《中华人民共和国消防法》第二十八条",
    ):
        assert phrase in text, phrase
    assert "市场监督管理局" not in text  # it declined: not an issuer, no lines
    served = act(api, h, f"/{cafe.inspection_id}/notice/serve", json={"method": "直接送达"})
    assert served["state"] == "notice_served"
    team = {"officer_ids": [cafe.officers["500103-JFB-0001"], cafe.officers["500103-XF-0001"]]}
    results = [{"finding_id": f["id"], "rectified": True} for f in failed]
    r = api.post(
        f"{API}/inspections/{cafe.inspection_id}/reinspection",
        headers=h,
        json=team | {"results": results},
    )
    assert r.status_code == 409 and "2026-12-10" in r.json()["detail"]

    # The business sends proof early; the re-inspection finds everything rectified.
    clock.current = VISIT + timedelta(days=6)
    h, lead = login("jfb_officer"), login("jfb_lead")
    proof = act(
        api,
        h,
        f"/{cafe.inspection_id}/proof",
        data={"note": "已清理通道、更换灭火器、悬挂标志"},
        files=[("photos", ("after.jpg", JPEG, "image/jpeg"))],
    )
    assert proof["state"] == "reinspection_due" and proof["notice"]["proof_photos"] == 1
    closed = act(api, h, f"/{cafe.inspection_id}/reinspection", json=team | {"results": results})
    assert (closed["state"], closed["outcome"]) == ("closed", "rectification")
    assert all(f["rectified"] for f in closed["findings"] if f["outcome"] == "fail")
    plan = ok(api.get(f"{API}/plans/{cafe.plan_id}", headers=lead))
    assert plan["state"] == "completed"
    assert service.findings_for_penalty(session, cafe.inspection_id) == []


def test_a_finding_not_rectified_escalates_to_penalty_cases(
    api: TestClient, login: Any, cafe: Café, context: Any, clock: Any, session: Session
) -> None:
    h = login("jfb_officer")
    detail = plan_and_answer(api, login, cafe)
    clock.current = VISIT
    h = login("jfb_officer")
    act(api, h, f"/{cafe.inspection_id}/start")
    record_all(api, login, cafe, detail["checklist"])
    act(api, h, f"/{cafe.inspection_id}/finish")
    act(api, h, f"/{cafe.inspection_id}/notice", json={"contact": "请联系孙浩 023-63800000"})
    act(api, h, f"/{cafe.inspection_id}/notice/serve", json={"method": "留置送达"})
    # No proof: after the deadline the job makes the visit due for re-inspection.
    clock.current = VISIT + timedelta(days=15)
    assert run_due(context) == 1
    assert run_due(context) == 0
    # Late, the owner sends a note through the public entrance, which finds the visit by
    # the notice's number and the business's own credit code.
    h = login("jfb_officer")
    detail = ok(api.get(f"{API}/inspections/{cafe.inspection_id}", headers=h))
    assert detail["state"] == "reinspection_due"
    number, code = detail["notice"]["number"], detail["business"]["credit_code"]
    with pytest.raises(NotFound):
        rectification.inspection_for_proof(session, notice_number=number, credit_code="X" + code)
    found = rectification.inspection_for_proof(session, notice_number=number, credit_code=code)
    rectification.submit_proof(
        session,
        context.storage,
        found.id,
        note="已整改",
        photos=[],
        max_photo_bytes=10**6,
        now=clock.now(),
    )
    session.commit()
    detail = ok(api.get(f"{API}/inspections/{cafe.inspection_id}", headers=h))
    assert detail["notice"]["proof_note"] == "已整改" and detail["notice"]["proof_photos"] == 0
    failed = [f for f in detail["findings"] if f["outcome"] == "fail"]
    extinguishers = next(f for f in failed if f["item_code"] == "XF-CF-002")
    results = [
        {
            "finding_id": f["id"],
            "rectified": f is not extinguishers,
            "note": "" if f is not extinguishers else "灭火器仍未更换",
        }
        for f in failed
    ]
    team = [cafe.officers["500103-XF-0001"], cafe.officers["500103-XF-0002"]]
    escalated = act(
        api,
        login("fire_officer"),
        f"/{cafe.inspection_id}/reinspection",
        json={"officer_ids": team, "results": results},
    )
    assert (escalated["state"], escalated["outcome"]) == ("escalated", "penalty")
    listed = ok(api.get(f"{API}/inspections/{cafe.inspection_id}/penalty-findings", headers=h))
    assert [f["id"] for f in listed] == [extinguishers["id"]]
    assert listed[0]["reinspection_note"] == "灭火器仍未更换"
    session.expire_all()  # what the requests wrote since this session last read
    for_cases = service.findings_for_penalty(session, cafe.inspection_id)
    assert [f.id for f in for_cases] == [extinguishers["id"]]
    service.mark_penalty_case(session, extinguishers["id"], 4242)
    assert service.findings_for_penalty(session, cafe.inspection_id) == []
