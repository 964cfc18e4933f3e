"""The closed loop through the HTTP API, as the people in each role drive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import GRID_A, GRID_B
from tests.fakes import RecordingHandler

from cityops.auth.models import AuditEntry
from cityops.cases.events import CaseTransitioned
from cityops.cases.models import Case, CaseStep


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
    r = act(client, ct, case_id, "send_verify", class_code="X0000")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "class_code"
    ok(act(client, ct, case_id, "send_verify"))  # the class may wait for the shift leader
    ok(act(client, login("inspector"), case_id, "verify", outcome="not_confirmed"))
    sl = login("shift_leader")
    r = act(client, sl, case_id, "file")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "class_code"
    r = act(client, sl, case_id, "cancel")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "note"
    assert ok(act(client, sl, case_id, "cancel", note="核实不属实"))["state"] == "cancelled"


def test_the_call_taker_may_classify_a_report_while_sending_it_to_verify(
    client: TestClient, login: Any, report: Any
) -> None:
    case_id = report(class_code=None)
    c = ok(act(client, login("call_taker"), case_id, "send_verify", class_code="e0502"))
    assert (c["state"], c["class_code"]) == ("verifying", "E0502")
    step = c["steps"][-1]
    assert step["data"]["class_code"] == {"from": None, "to": "E0502"}


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


def _to_handling(client: TestClient, login: Any, case_id: int, department_id: int) -> None:
    ok(act(client, login("call_taker"), case_id, "send_verify"))
    ok(act(client, login("inspector"), case_id, "verify", outcome="confirmed"))
    ok(act(client, login("shift_leader"), case_id, "file"))
    ok(act(client, login("dispatcher"), case_id, "dispatch", department_id=department_id))


def test_the_handler_signs_for_a_task_each_time_it_reaches_them(
    client: TestClient, login: Any, report: Any, district: Any, clock: Any
) -> None:
    case_id = report()
    handler, dp, insp = login("handler"), login("dispatcher"), login("inspector")
    _to_handling(client, login, case_id, district.departments["HW"].id)
    c = ok(client.get(f"/api/v1/cases/{case_id}", headers=handler))
    assert c["signed_for_at"] is None
    assert c["allowed_actions"][0] == "sign_for"
    assert act(client, dp, case_id, "sign_for").status_code == 403  # not the handler

    clock.advance(minutes=5)
    c = ok(act(client, handler, case_id, "sign_for", note="已签收"))
    assert c["state"] == "handling"
    assert c["signed_for_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert "sign_for" not in c["allowed_actions"]
    last = c["steps"][-1]
    assert (last["action"], last["action_name"], last["from_state"], last["to_state"]) == (
        "sign_for", "签收", "handling", "handling",
    )  # fmt: skip
    again = act(client, handler, case_id, "sign_for")
    assert again.status_code == 409
    assert "already signed for" in again.json()["detail"]
    assert again.json()["current_state"] == "handling"
    listed = ok(client.get("/api/v1/cases", headers=handler))["items"]
    assert [x["signed_for_at"] for x in listed] == [c["signed_for_at"]]

    # Rework brings the task back: it is signed for anew.
    ok(act(client, handler, case_id, "report_handled"))
    ok(act(client, login("call_taker"), case_id, "send_check"))
    c = ok(act(client, insp, case_id, "check", outcome="rework", note="仍有残留"))
    assert (c["state"], c["signed_for_at"]) == ("handling", None)
    ok(act(client, handler, case_id, "sign_for"))
    # A return sends it back to be dispatched, perhaps elsewhere.
    ok(act(client, handler, case_id, "request_return", note="不属本部门"))
    c = ok(act(client, dp, case_id, "approve"))
    assert (c["state"], c["signed_for_at"]) == ("filed", None)
    ok(act(client, dp, case_id, "dispatch", department_id=district.departments["SZ"].id))
    handler_sz = login("handler_sz")
    c = ok(client.get(f"/api/v1/cases/{case_id}", headers=handler_sz))
    assert "sign_for" in c["allowed_actions"]
    ok(act(client, handler_sz, case_id, "sign_for"))
    # Deferred works resume as a new task.
    ok(act(client, handler_sz, case_id, "request_defer", note="需大修，纳入计划"))
    c = ok(act(client, dp, case_id, "approve"))
    assert c["state"] == "deferred"
    c = ok(act(client, dp, case_id, "resume"))
    assert (c["state"], c["signed_for_at"]) == ("handling", None)
    c = ok(act(client, handler_sz, case_id, "report_handled"))  # signing for is not required
    assert c["state"] == "handled"
    assert [s["action"] for s in c["steps"]].count("sign_for") == 3


def test_a_resent_action_is_taken_once(
    client: TestClient, login: Any, report: Any, district: Any, context: Any, session: Session
) -> None:
    case_id = report()
    _to_handling(client, login, case_id, district.departments["HW"].id)
    published = RecordingHandler()
    context.bus.subscribe(CaseTransitioned, published)
    handler = login("handler")
    key = "0b7f6c1e-2d4a-4f3b-9a8e-5c6d7e8f9a0b"
    first = ok(act(client, handler, case_id, "report_handled", note="已清运", request_key=key))
    assert first["state"] == "handled"
    assert len(published.events) == 1

    def audited() -> int:
        return len(session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "case", AuditEntry.entity_id == str(case_id))).all())  # fmt: skip

    entries = audited()
    # The phone did not hear the answer and sends the same request again, with the version
    # it had read before: the case has moved on, yet this is no conflict.
    again = act(client, handler, case_id, "report_handled", note="已清运", request_key=key,
                expected_version=first["version"] - 1)  # fmt: skip
    assert again.status_code == 200, again.text
    assert again.json() == first
    assert again.json() == ok(client.get(f"/api/v1/cases/{case_id}", headers=handler))
    assert len(published.events) == 1
    assert audited() == entries
    steps = session.scalars(select(CaseStep).where(CaseStep.case_id == case_id)).all()
    assert [s.request_key for s in steps if s.action == "report_handled"] == [key]

    # Someone else's key, or the same key for another action, is not the same request.
    ct = login("call_taker")
    for who, action in ((ct, "send_check"), (handler, "request_extension")):
        r = act(client, who, case_id, action, request_key=key, extension_value=1)
        assert r.status_code == 409, r.text
        assert r.json()["errors"][0]["path"] == "request_key"
    # The key is the case's: on another case it is a new request.
    other = report(GRID_B)
    assert ok(act(client, ct, other, "send_verify", request_key=key))["state"] == "verifying"
    # Without a key, an action is taken every time it is sent.
    sl = login("shift_leader")
    ok(act(client, sl, case_id, "urge"))
    assert [s["action"] for s in ok(act(client, sl, case_id, "urge"))["steps"]][-3:] == [
        "report_handled", "urge", "urge",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", ["", "has space", "键", "x" * 65])
def test_a_malformed_request_key_is_refused(
    client: TestClient, login: Any, report: Any, bad: str
) -> None:
    case_id = report()
    r = act(client, login("call_taker"), case_id, "send_verify", request_key=bad)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "request_key"


def test_a_resent_upload_is_stored_once(
    client: TestClient, login: Any, report: Any, context: Any
) -> None:
    case_id = report()
    ct, sl = login("call_taker"), login("shift_leader")
    url = f"/api/v1/cases/{case_id}/attachments"
    jpeg = b"\xff\xd8\xff\xe0" + b"1" * 1500
    key = {"Idempotency-Key": "photo-7f3c2a"}

    def upload(headers: dict[str, str], target: str = url) -> Any:
        return client.post(target, headers=headers,
                           files={"file": ("现场.jpg", jpeg, "image/jpeg")})  # fmt: skip

    first = upload({**ct, **key})
    assert first.status_code == 201, first.text
    again = upload({**ct, **key})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    root = Path(context.settings.storage_dir)
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1
    detail = ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))
    assert [a["id"] for a in detail["attachments"]] == [first.json()["id"]]

    # The key is the uploader's: another person's upload under it is their own.
    theirs = upload({**sl, **key})
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]
    # The same key for another case is a mistake, not a resend.
    elsewhere = upload({**ct, **key}, f"/api/v1/cases/{report(GRID_B)}/attachments")
    assert elsewhere.status_code == 409
    assert elsewhere.json()["errors"][0]["path"] == "request_key"
    # Without the header every upload is stored.
    assert upload(ct).status_code == upload(ct).status_code == 201
    assert len(ok(client.get(f"/api/v1/cases/{case_id}", headers=ct))["attachments"]) == 4


@pytest.mark.parametrize("bad", [b"", b"has space", "键".encode(), b"x" * 65])
def test_a_malformed_idempotency_key_is_refused(
    client: TestClient, login: Any, report: Any, bad: bytes
) -> None:
    case_id = report()
    jpeg = b"\xff\xd8\xff" + b"0" * 10
    r = client.post(f"/api/v1/cases/{case_id}/attachments",
                    headers={**login("call_taker"), "Idempotency-Key": bad},
                    files={"file": ("a.jpg", jpeg, "image/jpeg")})  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/validation")
    assert [e["path"] for e in r.json()["errors"]] == ["header.Idempotency-Key"]
