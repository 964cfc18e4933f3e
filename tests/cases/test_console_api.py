"""What the dispatcher's console reads: work queues with their sizes, search by case number,
and whom to dispatch a filed case to."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def act(client: TestClient, headers: dict[str, str], case_id: int, action: str,
        **body: Any) -> dict[str, Any]:  # fmt: skip
    r = client.post(f"/api/v1/cases/{case_id}/actions", json={"action": action, **body},
                    headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    return dict(r.json())


def counts(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, int]:
    r = client.get("/api/v1/cases/queues", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return {k: v for k, v in r.json()["counts"].items() if v}


def queue(client: TestClient, headers: dict[str, str], name: str) -> list[int]:
    r = client.get("/api/v1/cases", headers=headers, params={"queue": name})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_a_case_moves_from_queue_to_queue_as_it_is_worked(
    client: TestClient, login: Any, report: Any, district: Any, clock: Any, context: Any
) -> None:
    from cityops.cases.jobs import run_sweep

    dp, ct, sl = login("dispatcher"), login("call_taker"), login("shift_leader")
    insp, handler = login("inspector"), login("handler")
    case_id = report()
    assert counts(client, dp) == {"to_accept": 1}
    assert queue(client, dp, "to_accept") == [case_id]
    act(client, ct, case_id, "send_verify")
    assert counts(client, dp) == {"verifying": 1}
    act(client, insp, case_id, "verify", outcome="confirmed")
    assert counts(client, dp) == {"to_file": 1}
    act(client, sl, case_id, "file")
    assert counts(client, dp) == {"to_dispatch": 1}
    assert queue(client, dp, "to_dispatch") == [case_id]
    act(client, dp, case_id, "dispatch", department_id=district.departments["HW"].id)
    assert counts(client, dp) == {"handling": 1}
    act(client, handler, case_id, "request_extension", extension_value=2, note="需调车")
    assert counts(client, dp) == {"awaiting_approval": 1}
    assert queue(client, dp, "awaiting_approval") == [case_id]
    assert queue(client, dp, "handling") == []
    act(client, dp, case_id, "reject", note="按时处理")
    assert counts(client, dp) == {"handling": 1}

    clock.advance(hours=7)  # past the 4 working hours of 暴露垃圾, within the login's day
    run_sweep(context)
    assert counts(client, dp) == {"handling": 1, "overdue": 1}
    assert queue(client, dp, "overdue") == [case_id]
    act(client, handler, case_id, "report_handled")
    assert counts(client, dp) == {"to_check": 1}
    act(client, ct, case_id, "send_check")
    act(client, insp, case_id, "check", outcome="pass")
    assert counts(client, dp) == {"to_close": 1}
    act(client, sl, case_id, "close")
    assert counts(client, dp) == {}


def test_queues_count_only_what_the_reader_may_see_and_what_the_filters_keep(
    client: TestClient, login: Any, report: Any
) -> None:
    report(class_code="E0102")
    report(class_code="P0101")
    assert counts(client, login("dispatcher")) == {"to_accept": 2}
    assert counts(client, login("dispatcher"), class_code="P0101") == {"to_accept": 1}
    # The other street's dispatcher and a department with nothing sent to it see none.
    assert counts(client, login("street_dispatcher")) == {}
    assert counts(client, login("handler")) == {}


def test_an_unknown_queue_is_refused_by_name(client: TestClient, login: Any) -> None:
    r = client.get("/api/v1/cases", headers=login("dispatcher"), params={"queue": "someday"})
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == ["query.queue"]


def test_a_case_is_found_by_the_number_people_read_out(
    client: TestClient, login: Any, report: Any
) -> None:
    dp = login("dispatcher")
    first, second = report(), report()
    number = client.get(f"/api/v1/cases/{second}", headers=dp).json()["number"]
    found = client.get("/api/v1/cases", headers=dp, params={"text": number}).json()["items"]
    assert [c["id"] for c in found] == [second]
    found = client.get("/api/v1/cases", headers=dp, params={"text": str(first)}).json()["items"]
    assert [c["id"] for c in found] == [first]


def _filed(client: TestClient, login: Any, case_id: int) -> None:
    act(client, login("call_taker"), case_id, "send_verify")
    act(client, login("inspector"), case_id, "verify", outcome="confirmed")
    act(client, login("shift_leader"), case_id, "file")


def test_suggestions_put_the_responsible_department_first_then_the_grid_and_street(
    client: TestClient, login: Any, report: Any, district: Any
) -> None:
    dp = login("dispatcher")
    case_id = report(class_code="E0102")
    _filed(client, login, case_id)
    r = client.get(f"/api/v1/cases/{case_id}/dispatch-suggestions", headers=dp)
    assert r.status_code == 200, r.text
    got = [(s["department_id"], s["assignee_id"], s["reasons"]) for s in r.json()]
    assert got == [
        (district.departments["HW"].id, None, ["responsible_department"]),
        (None, district.people["worker"].id, ["on_duty"]),
        (district.departments["JFB"].id, None, ["street_office"]),
    ]
    assert r.json()[1]["assignee_name"] == "worker"


def test_suggestions_show_open_tasks_and_follow_a_rule_that_sends_the_class_to_the_grid(
    client: TestClient, login: Any, report: Any, district: Any
) -> None:
    dp = login("dispatcher")
    busy = report(class_code="E0102")
    _filed(client, login, busy)
    sent = act(client, dp, busy, "dispatch", assignee_id=district.people["handler"].id)
    assert (sent["department_name"], sent["assignee_name"]) == ("区环卫所", "handler")
    case_id = report(class_code="E0102")
    _filed(client, login, case_id)
    first = client.get(f"/api/v1/cases/{case_id}/dispatch-suggestions", headers=dp).json()[0]
    assert (first["department_name"], first["open_tasks"]) == ("区环卫所", 1)

    # 占道经营 has no department in the catalog; the camera rule routes it to the grid.
    client.post("/api/v1/catalog/rules", headers=login("admin"), json={
        "name": "hotline-street-vending", "class_code": "E0502", "source_kind": "hotline",
        "auto_accept": False, "auto_file": False, "auto_dispatch": False,
        "dispatch_to": "grid_worker",
    }).raise_for_status()  # fmt: skip
    vending = report(class_code="E0502")
    _filed(client, login, vending)
    got = client.get(f"/api/v1/cases/{vending}/dispatch-suggestions", headers=dp).json()
    assert [(s["assignee_id"], s["reasons"], s["rule"]) for s in got] == [
        (district.people["worker"].id, ["on_duty", "dispatch_rule"], "hotline-street-vending"),
        (None, ["street_office"], None),
    ]


def test_suggestions_are_for_cases_the_reader_may_see(
    client: TestClient, login: Any, report: Any
) -> None:
    case_id = report()
    r = client.get(f"/api/v1/cases/{case_id}/dispatch-suggestions",
                   headers=login("street_dispatcher"))  # fmt: skip
    assert r.status_code == 404
