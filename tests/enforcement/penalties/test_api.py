"""`/api/v1/enforcement/penalty-cases` through HTTP: the café's case from an inspection
finding to closing, a decision on the spot and what the public sees of it, the agencies'
numbers, and 401/403/404/409/422 that say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.penalties.conftest import Staff
from tests.factories import PASSWORD, STREET_A

from cityops.auth.models import AuditEntry

API = "/api/v1/enforcement"
CASES = f"{API}/penalty-cases"


@pytest.fixture
def api(client: TestClient, request: pytest.FixtureRequest) -> TestClient:
    """The client on the sample registries with the enforcement staff."""
    request.getfixturevalue("staff")
    return client


def fresh(api: TestClient, username: str) -> dict[str, str]:
    """A new login (tokens last twelve hours: the clock moves by days here)."""
    r = api.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def post(api: TestClient, headers: dict[str, str], path: str, body: dict[str, Any],
         status: int = 200) -> Any:  # fmt: skip
    r = api.post(path, json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def action(api: TestClient, headers: dict[str, str], case_id: int, status: int = 200,
           **body: Any) -> Any:  # fmt: skip
    return post(api, headers, f"{CASES}/{case_id}/actions", body, status)


def test_the_cafe_from_a_finding_to_closing(
    api: TestClient, login: Any, staff: Staff, finding: Any, clock: Any, session: Session
) -> None:
    officer, lead = login("zhangwei"), login("fire_lead")
    team = [staff.officers["张伟"], staff.officers["李娜"]]
    case = post(api, officer, f"{CASES}/from-finding", {"finding_id": finding.id}, 201)
    assert post(api, officer, f"{CASES}/from-finding", {"finding_id": finding.id})["id"] == (
        case["id"])  # fmt: skip
    cid = case["id"]
    assert case["stage"] == "filing" and case["source"] == "inspection"
    assert case["allowed_actions"] == []  # an officer does not approve filing
    assert case["officer_ids"] == team
    filed = action(api, lead, cid, action="approve_filing", note="同意立案")
    assert filed["number"] == "渝中消立字〔2026〕第1号" and filed["stage"] == "investigating"
    action(api, officer, cid, action="inspect_site", officer_ids=team, present="赵六",
           record="二楼安全出口被桌椅堵塞，已拍照", findings=["安全出口堵塞"])  # fmt: skip
    action(api, officer, cid, action="order_correction", officer_ids=team,
           requirement="立即清除安全出口的桌椅", deadline="2026-11-25")  # fmt: skip
    proposed = action(api, officer, cid, action="propose", grade="ordinary",
                      measures=["fine"], fine=20_000)  # fmt: skip
    assert proposed["stage"] == "notifying" and not proposed["hearing_right"]
    notified = action(api, officer, cid, action="serve_notice")
    statement = next(d for d in notified["deadlines"] if d["name"] == "statement")
    assert statement["due"] == "2026-12-01" and statement["light"] == "green"
    action(api, officer, cid, action="record_statement", statement="已改正，请求从轻")
    clock.advance(days=1)
    officer, lead = fresh(api, "zhangwei"), fresh(api, "fire_lead")
    decided = action(api, lead, cid, action="decide", note="采纳部分申辩意见", grade="lighter",
                     fine=15_000)  # fmt: skip
    assert decided["stage"] == "decided" and decided["fine"] == 15_000
    served = action(api, officer, cid, action="serve", recipient="赵六", officer_ids=team)
    assert served["stage"] == "executing" and served["payment_due"] == "2026-12-10"
    paid = action(api, officer, cid, action="record_payment", amount="15000")
    assert paid["stage"] == "executed" and paid["paid"] == "15000.00" and paid["late_fee"] == "0.00"
    action(api, lead, cid, action="publish")
    closed = action(api, lead, cid, action="close", note="结案")
    assert closed["stage"] == "closed" and closed["allowed_actions"] == []
    detail = api.get(f"{CASES}/{cid}", headers=officer).json()
    assert [d["kind"] for d in detail["documents"]] == [
        "filing_approval",
        "on_site_record",
        "order_to_correct",
        "advance_notice",
        "penalty_decision",
        "service_proof",
    ]
    assert detail["documents"][4]["url"].endswith(".pdf")
    assert [s["kind"] for s in detail["steps"]][-3:] == ["paid", "published", "closed"]
    deadlines = {d["name"]: d for d in detail["deadlines"]}
    assert deadlines["decision"]["on_time"] and deadlines["decision"]["light"] is None
    assert deadlines["publication"]["done_on"] == "2026-11-25"
    public = api.get(f"{API}/penalty-decisions").json()  # no login: it is public
    assert public["total"] == 1
    shown = public["items"][0]
    assert shown["number"] == "渝中消罚决字〔2026〕第1号"
    assert shown["party_name"] == "重庆市渝中区极速网咖有限公司"
    assert shown["penalty"] == "罚款人民币15,000元"
    audited = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity == "penalty_case", AuditEntry.entity_id == str(cid))).all()  # fmt: skip
    assert "penalty_case.decide" in audited and "penalty_case.open" in audited


def test_errors_say_what_is_wrong(api: TestClient, login: Any, staff: Staff,
                                  finding: Any) -> None:  # fmt: skip
    officer, lead = login("zhangwei"), login("fire_lead")
    assert api.get(CASES).status_code == 401
    assert api.get(CASES, headers=login("dispatcher")).status_code == 403
    cid = post(api, officer, f"{CASES}/from-finding", {"finding_id": finding.id}, 201)["id"]
    early = api.post(f"{CASES}/{cid}/actions", json={"action": "decide"}, headers=lead)
    assert early.status_code == 409
    assert early.json()["current_stage"] == "filing"
    assert early.json()["allowed_actions"] == ["approve_filing", "refuse_filing"]
    forbidden = api.post(f"{CASES}/{cid}/actions", json={"action": "approve_filing"},
                         headers=officer)  # fmt: skip
    assert forbidden.status_code == 403
    # Another agency's officer does not learn that the case exists.
    assert api.get(f"{CASES}/{cid}", headers=login("liuyang")).status_code == 404
    assert api.get(f"{CASES}/{cid}", headers=login("watcher")).status_code == 200
    unknown = api.post(f"{CASES}/{cid}/actions", json={"action": "pay"}, headers=lead)
    assert unknown.status_code == 422
    refused = api.post(f"{CASES}/{cid}/actions", json={"action": "refuse_filing"}, headers=lead)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "note"
    over = api.post(f"{CASES}/on-the-spot", headers=officer, json={
        "item_code": "XF-CF-001", "region_code": STREET_A, "facts": "堵塞疏散通道",
        "party": {"kind": "citizen", "name": "张三"}, "violation_on": "2026-11-24",
        "officer_ids": [staff.officers["张伟"], staff.officers["李娜"]], "grade": "ordinary",
        "measures": ["fine"], "fine": 201,
    })  # fmt: skip
    assert over.status_code == 422 and over.json()["errors"][0]["path"] == "fine"
    listed = api.get(CASES, params={"stage": "filing"}, headers=officer).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    assert api.get(CASES, params={"stage": "filing"}, headers=login("liuyang")).json()[
        "total"] == 0  # fmt: skip
    bad = api.get(CASES, params={"agency": "NOPE"}, headers=officer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "query.agency"


def test_a_decision_on_the_spot_as_the_public_sees_it(api: TestClient, login: Any,
                                                     staff: Staff, clock: Any) -> None:  # fmt: skip
    officer, lead = login("zhangwei"), login("fire_lead")
    case = post(api, officer, f"{CASES}/on-the-spot", {
        "item_code": "XF-CF-001", "region_code": STREET_A, "facts": "在楼梯间堆放电动车",
        "party": {"kind": "citizen", "name": "张三", "identifier": "500103199001010011"},
        "violation_on": "2026-11-24", "grade": "ordinary", "measures": ["fine"], "fine": 200,
        "officer_ids": [staff.officers["张伟"], staff.officers["李娜"]],
    }, 201)  # fmt: skip
    assert case["procedure"] == "simplified" and case["stage"] == "executing"
    assert case["number"] == "渝中消简罚字〔2026〕第1号"
    assert [d["kind"] for d in case["documents"]] == ["penalty_decision"]
    clock.advance(days=3)
    officer, lead = fresh(api, "zhangwei"), fresh(api, "fire_lead")
    overdue = api.get(f"{CASES}/overdue", headers=lead).json()
    assert [(o["case_id"], o["kind"]) for o in overdue] == [(case["id"], "record")]
    assert [c["id"] for c in api.get(CASES, params={"overdue": "true"}, headers=lead).json()[
        "items"]] == [case["id"]]  # fmt: skip
    action(api, officer, case["id"], action="record_filing")
    action(api, lead, case["id"], action="publish")
    shown = api.get(f"{API}/penalty-decisions").json()["items"][0]
    assert shown["party_name"] == "张*" and shown["party_identifier"] == ""
    preview = api.get(f"{CASES}/{case['id']}/public", headers=officer).json()
    assert preview == shown


def test_each_agency_sets_its_own_numbers(api: TestClient, login: Any,
                                          session: Session) -> None:  # fmt: skip
    url = f"{API}/penalty-settings/YZ-XFJY"
    numbers = api.get(url, headers=login("zhangwei")).json()
    assert numbers["number_prefix"] == "渝中消" and numbers["review_fine_organisation"] == 50_000
    assert numbers["reconsideration_body"] == "渝中区人民政府"
    body = {"review_fine_organisation": 30_000, "number_prefix": "渝中消救"}
    assert api.put(url, json=body, headers=login("zhangwei")).status_code == 403
    assert api.put(url, json=body, headers=login("market_lead")).status_code == 403
    changed = api.put(url, json=body, headers=login("fire_lead")).json()
    assert changed["review_fine_organisation"] == 30_000 and changed["number_prefix"] == "渝中消救"
    back = api.put(url, json={"number_prefix": None}, headers=login("fire_lead")).json()
    assert back["number_prefix"] == "渝中消" and back["review_fine_organisation"] == 30_000
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "penalty_settings.update")).all()  # fmt: skip
    assert len(entries) == 2 and entries[0].after["review_fine_organisation"] == 30_000  # type: ignore[index]
