"""The closed loop through the HTTP API, as the people in each role drive it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, GRID_B, inside

from cityops.auth.models import AuditEntry
from cityops.auth.service import create_api_key
from cityops.cases.models import Case, CaseStep


@pytest.fixture
def report(client: TestClient, session: Session) -> Any:
    """`report(grid, kind=...)` posts a citizen/hotline-style report and returns the case id."""
    _, key = create_api_key(session, name="hotline", sources=["hotline"], now=EPOCH,
                            trusted=False)  # fmt: skip
    session.commit()
    n = 0

    def _report(grid: str = GRID_A, class_code: str | None = "E0102", kind: str = "hotline") -> int:
        nonlocal n
        n += 1
        lon, lat = inside(grid, 0.0002 * n, 0.0001)
        r = client.post("/api/v1/events", headers={"X-API-Key": key}, json={
            "source": "hotline", "external_id": f"call-{n}", "kind": kind,
            "location": {"lon": lon, "lat": lat}, "occurred_at": "2026-11-24T00:50:00Z",
            "class_code": class_code, "description": "市民来电：路边有垃圾堆放",
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return int(r.json()["case_id"])

    return _report


def act(client: TestClient, headers: dict[str, str], case_id: int, action: str,
        **body: Any) -> Any:  # fmt: skip
    return client.post(f"/api/v1/cases/{case_id}/actions", json={"action": action, **body},
                       headers=headers)  # fmt: skip


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_public_report_goes_round_the_whole_loop(
    client: TestClient, login: Any, report: Any, district: Any, clock: Any, session: Session
) -> None:
    case_id = report()
    ct, sl, dp = login("call_taker"), login("shift_leader"), login("dispatcher")
    insp, handler = login("inspector"), login("handler")

    assert ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))["allowed_actions"] == [
        "send_verify"
    ]
    ok(act(client, ct, case_id, "send_verify"))
    c = ok(act(client, insp, case_id, "verify", outcome="confirmed", note="现场属实"))
    assert (c["state"], c["verified"]) == ("accepted", True)
    ok(act(client, sl, case_id, "file"))
    hw = district.departments["HW"].id
    c = ok(act(client, dp, case_id, "dispatch", department_id=hw))
    assert c["state"] == "handling"
    assert c["department_id"] == hw
    assert c["handle_due_at"] is not None
    assert c["light"] == "green"
    clock.advance(hours=1)
    ok(act(client, handler, case_id, "report_handled", note="已清运"))
    ok(act(client, ct, case_id, "send_check"))
    c = ok(act(client, insp, case_id, "check", outcome="rework", note="仍有残留"))
    assert (c["state"], c["rework_count"]) == ("handling", 1)
    ok(act(client, handler, case_id, "report_handled", note="已彻底清理"))
    ok(act(client, ct, case_id, "send_check"))
    ok(act(client, insp, case_id, "check", outcome="pass"))
    c = ok(act(client, sl, case_id, "close"))
    assert c["state"] == "closed"
    assert c["closed_at"] is not None
    c = ok(act(client, login("supervisor"), case_id, "evaluate", score=5))
    assert c["state"] == "evaluated"
    assert c["evaluation"] == 5

    actions = [s["action"] for s in c["steps"]]
    assert actions == ["report", "send_verify", "verify", "file", "dispatch", "report_handled",
                       "send_check", "check", "report_handled", "send_check", "check", "close",
                       "evaluate"]  # fmt: skip
    assert [s["seq"] for s in c["steps"]] == list(range(1, 14))
    assert c["steps"][2]["actor_role"] == "inspector"
    assert c["steps"][2]["action_name"] == "核实"
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "case")).all()
    assert "case.dispatch" in audited
    assert "case.close" in audited


def test_an_illegal_action_answers_409_with_state_and_allowed_actions(
    client: TestClient, login: Any, report: Any
) -> None:
    case_id = report()
    r = act(client, login("shift_leader"), case_id, "close")
    assert r.status_code == 409
    body = r.json()
    assert body["current_state"] == "reported"
    assert set(body["allowed_actions"]) == {"send_verify", "cancel", "urge"}


def test_a_role_that_may_not_act_gets_403(client: TestClient, login: Any, report: Any) -> None:
    case_id = report()
    r = act(client, login("dispatcher"), case_id, "send_verify")
    assert r.status_code == 403


def test_out_of_scope_cases_are_invisible(client: TestClient, login: Any, report: Any) -> None:
    in_b = report(GRID_B)
    in_a = report(GRID_A)
    street_b = login("street_dispatcher")
    assert client.get(f"/api/v1/cases/{in_a}", headers=street_b).status_code == 404
    assert client.get(f"/api/v1/cases/{in_b}", headers=street_b).status_code == 200
    ids = {c["id"] for c in ok(client.get("/api/v1/cases", headers=street_b))["items"]}
    assert ids == {in_b}
    everything = ok(client.get("/api/v1/cases", headers=login("dispatcher")))
    assert everything["total"] == 2
    assert ok(client.get("/api/v1/cases", headers=login("handler")))["total"] == 0


def test_requests_during_handling(
    client: TestClient, login: Any, report: Any, district: Any
) -> None:
    case_id = report()
    ct, sl, dp, handler = (login(u) for u in ("call_taker", "shift_leader", "dispatcher",
                                              "handler"))  # fmt: skip
    ok(act(client, ct, case_id, "send_verify"))
    ok(act(client, login("inspector"), case_id, "verify", outcome="confirmed"))
    ok(act(client, sl, case_id, "file"))
    c = ok(act(client, dp, case_id, "dispatch", department_id=district.departments["HW"].id))
    due = c["handle_due_at"]

    r = act(client, handler, case_id, "request_extension")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "extension_value"
    ok(act(client, handler, case_id, "request_extension", extension_value=2,
           extension_unit="working_hours", note="需调车"))  # fmt: skip
    assert act(client, handler, case_id, "report_handled").status_code == 409
    c = ok(act(client, dp, case_id, "approve"))
    assert c["handle_due_at"] > due
    assert c["extension_count"] == 1
    assert c["pending_request"] is None

    ok(act(client, handler, case_id, "request_return", note="不属本部门"))
    c = ok(act(client, dp, case_id, "approve"))
    assert (c["state"], c["department_id"], c["return_count"]) == ("filed", None, 1)

    ok(act(client, dp, case_id, "dispatch", department_id=district.departments["SZ"].id))
    handler_sz = login("handler_sz")
    ok(act(client, handler_sz, case_id, "request_defer", note="需大修，纳入计划"))
    assert ok(act(client, dp, case_id, "reject"))["state"] == "handling"
    ok(act(client, handler_sz, case_id, "request_defer", note="需大修，纳入计划"))
    assert ok(act(client, dp, case_id, "approve"))["state"] == "deferred"
    assert ok(act(client, dp, case_id, "resume"))["state"] == "handling"


def test_dispatch_validates_its_target(client: TestClient, login: Any, report: Any) -> None:
    case_id = report()
    ok(act(client, login("call_taker"), case_id, "send_verify"))
    ok(act(client, login("inspector"), case_id, "verify", outcome="confirmed"))
    ok(act(client, login("shift_leader"), case_id, "file"))
    dp = login("dispatcher")
    r = act(client, dp, case_id, "dispatch")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "department_id"
    r = act(client, dp, case_id, "dispatch", department_id=99999)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "department_id"


def test_an_unclassified_report_is_classified_at_acceptance(
    client: TestClient, login: Any, report: Any
) -> None:
    case_id = report(class_code=None)
    ct = login("call_taker")
    ok(act(client, ct, case_id, "send_verify"))
    ok(act(client, login("inspector"), case_id, "verify", outcome="not_confirmed"))
    sl = login("shift_leader")
    assert act(client, sl, case_id, "file").status_code == 409
    r = act(client, sl, case_id, "cancel")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "note"
    assert ok(act(client, sl, case_id, "cancel", note="核实不属实"))["state"] == "cancelled"


def test_stale_versions_are_refused(client: TestClient, login: Any, report: Any) -> None:
    case_id = report()
    r = act(client, login("call_taker"), case_id, "send_verify", expected_version=7)
    assert r.status_code == 409
    assert r.json()["current_version"] == 1


def test_photos_are_attached_and_named_in_a_step(
    client: TestClient, login: Any, report: Any
) -> None:
    case_id = report()
    ct = login("call_taker")
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 2000
    r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=ct,
                    files={"file": ("现场.jpg", jpeg, "image/jpeg")})  # fmt: skip
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["size"] == len(jpeg)
    c = ok(act(client, ct, case_id, "send_verify", attachment_ids=[att["id"]]))
    assert c["steps"][-1]["attachments"] == [att["id"]]
    got = client.get(att["url"], headers=ct)
    assert got.status_code == 200
    assert got.content == jpeg
    assert act(client, ct, case_id, "urge", attachment_ids=[att["id"] + 100]).status_code in (
        403, 422,
    )  # fmt: skip
    r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=ct,
                    files={"file": ("x.exe", b"MZ", "application/x-msdownload")})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "file"


def test_the_case_list_filters(client: TestClient, login: Any, report: Any) -> None:
    a = report(GRID_A)
    b = report(GRID_B, class_code="P0101")
    dp = login("dispatcher")
    by_class = ok(client.get("/api/v1/cases", params={"class_code": "P0101"}, headers=dp))
    assert [c["id"] for c in by_class["items"]] == [b]
    by_region = ok(client.get("/api/v1/cases", params={"region": "500103001"}, headers=dp))
    assert [c["id"] for c in by_region["items"]] == [a]
    by_text = ok(client.get("/api/v1/cases", params={"text": "垃圾"}, headers=dp))
    assert by_text["total"] == 2
    paged = ok(client.get("/api/v1/cases", params={"limit": 1, "offset": 1}, headers=dp))
    assert paged["total"] == 2
    assert len(paged["items"]) == 1
    assert paged["items"][0]["id"] == a
    bad = client.get("/api/v1/cases", params={"limit": 0}, headers=dp)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.limit"


def test_the_overdue_sweep_escalates_once(
    report: Any, context: Any, clock: Any, session: Session
) -> None:
    from cityops.cases.jobs import run_sweep

    case_id = report()
    assert run_sweep(context) == 0
    clock.advance(hours=3)  # the 30-minute accept limit has long passed
    assert run_sweep(context) == 1
    assert run_sweep(context) == 0
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    assert case.overdue
    assert case.escalated_at == clock.now()
    last = session.scalars(
        select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.seq.desc())
    ).first()
    assert last is not None
    assert (last.action, last.rule, last.actor_role) == ("escalate", "sla-overdue", "system")
