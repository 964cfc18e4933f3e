"""`/api/v1/enforcement/supervision`: rules, evaluation on demand, flags in the caller's scope,
the supervisor's case with its refusals, and the weekly trend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import (
    TODAY,
    World,
    days_ago,
    inspection,
    penalty_case,
)
from tests.factories import EPOCH

from cityops.app import API_PREFIX
from cityops.auth.models import AuditEntry
from cityops.auth.service import create_api_key

URL = f"{API_PREFIX}/enforcement/supervision"
Login = Callable[[str], dict[str, str]]


@pytest.fixture
def api(client: Any, world: World, session: Session) -> Any:
    """The client, with two flags to be: a penalty case of agency A past its decision's due
    date, and an unplanned inspection of agency B."""
    penalty_case(session, world, filed_on=days_ago(100))
    inspection(
        session, world, agency=world.agency_b, officers=("b1", "b2"), plan=False, source="other"
    )
    session.commit()
    return client


def _evaluate(api: Any, login: Login) -> dict[str, Any]:
    r = api.post(f"{URL}/evaluate", headers=login("esup"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _flag(api: Any, login: Login, rule: str) -> dict[str, Any]:
    r = api.get(f"{URL}/flags", params={"rule": rule}, headers=login("esup"))
    (flag,) = r.json()["items"]
    return flag  # type: ignore[no-any-return]


def test_login_is_required_and_keys_are_refused(api: Any, session: Session) -> None:
    assert api.get(f"{URL}/flags").status_code == 401
    _, key = create_api_key(session, name="gateway", sources=["x"], trusted=False, now=EPOCH)
    session.commit()
    assert api.get(f"{URL}/flags", headers={"X-API-Key": key}).status_code == 403


def test_evaluate_reports_counts_per_rule_and_time(api: Any, login: Login) -> None:
    assert api.post(f"{URL}/evaluate", headers=login("officer_a")).status_code == 403
    body = _evaluate(api, login)
    counts = {r["code"]: (r["hits"], r["raised"]) for r in body["rules"]}
    assert counts["overdue-stage"] == (1, 1)
    assert counts["inspection-without-plan"] == (1, 1)
    assert len(counts) == 10 and body["seconds"] >= 0
    again = api.post(f"{URL}/evaluate", params={"rule": "overdue-stage"}, headers=login("esup"))
    assert [(r["code"], r["hits"], r["raised"]) for r in again.json()["rules"]] == [
        ("overdue-stage", 1, 0)
    ]
    bad = api.post(f"{URL}/evaluate", params={"rule": "no-such-rule"}, headers=login("esup"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "rule"


def test_rules_are_tuned_by_supervisors_and_audited(
    api: Any, login: Login, session: Session
) -> None:
    _evaluate(api, login)
    rules = api.get(f"{URL}/rules", headers=login("officer_a")).json()
    assert len(rules) == 10 and all(r["legal_source"] for r in rules)
    change = {"parameters": {"window_days": 14}, "severity": "high"}
    refused = api.patch(f"{URL}/rules/repeated-inspection", json=change, headers=login("lead_a"))
    assert refused.status_code == 403
    r = api.patch(f"{URL}/rules/repeated-inspection", json=change, headers=login("esup"))
    assert r.status_code == 200, r.text
    assert r.json()["parameters"] == {"max_inspections": 2, "window_days": 14}
    assert r.json()["severity"] == "high"
    bad = api.patch(
        f"{URL}/rules/repeated-inspection",
        json={"parameters": {"window_days": 0}},
        headers=login("admin"),
    )
    assert bad.status_code == 422
    assert [e["path"] for e in bad.json()["errors"]] == ["parameters.window_days"]
    assert (
        api.patch(f"{URL}/rules/nope", json={"active": False}, headers=login("esup")).status_code
        == 404
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "supervision_rule.update")
    ).one()
    assert entry.entity_id == "repeated-inspection"
    assert entry.before["parameters"]["window_days"] == 30  # type: ignore[index]
    assert entry.after["parameters"]["window_days"] == 14  # type: ignore[index]


def test_flags_are_scoped_to_the_callers_agency(api: Any, login: Login, world: World) -> None:
    _evaluate(api, login)
    every = api.get(f"{URL}/flags", headers=login("esup")).json()
    assert every["total"] == 2
    mine = api.get(f"{URL}/flags", headers=login("officer_a")).json()["items"]
    assert [f["rule_code"] for f in mine] == ["overdue-stage"]
    assert {f["agency_id"] for f in mine} == {world.agency_a.id}
    theirs = api.get(f"{URL}/flags", headers=login("officer_b")).json()["items"]
    assert [f["rule_code"] for f in theirs] == ["inspection-without-plan"]
    other = _flag(api, login, "inspection-without-plan")
    assert api.get(f"{URL}/flags/{other['id']}", headers=login("lead_a")).status_code == 403
    asked = api.get(
        f"{URL}/flags", params={"agency_id": world.agency_b.id}, headers=login("officer_a")
    )
    assert asked.status_code == 403
    assert api.get(f"{URL}/flags", headers=login("stranger")).status_code == 403
    assert api.get(f"{URL}/flags", headers=login("dispatcher")).status_code == 403


def test_a_flag_shows_its_evidence_link_and_what_the_caller_may_do(api: Any, login: Login) -> None:
    _evaluate(api, login)
    flag = _flag(api, login, "overdue-stage")
    detail = api.get(f"{URL}/flags/{flag['id']}", headers=login("esup")).json()
    assert detail["link"]["href"] == (
        f"{API_PREFIX}/enforcement/penalty-cases/{detail['subject_id']}"
    )
    assert detail["evidence"]["stages"][0]["days_late"] == 10
    assert "第六十条" in detail["legal_source"] and "已逾期10日" in detail["message"]
    assert [s["kind"] for s in detail["steps"]] == ["raised"]
    assert detail["allowed_actions"] == ["assign", "request_correction", "close", "dismiss"]
    as_agency = api.get(f"{URL}/flags/{flag['id']}", headers=login("officer_a")).json()
    assert as_agency["allowed_actions"] == []
    visit = _flag(api, login, "inspection-without-plan")
    assert visit["link"]["href"] == f"{API_PREFIX}/enforcement/inspections/{visit['subject_id']}"


def test_the_supervisors_case_from_open_to_closed(
    api: Any, login: Login, world: World, session: Session
) -> None:
    _evaluate(api, login)
    flag_id = _flag(api, login, "overdue-stage")["id"]
    act = f"{URL}/flags/{flag_id}"
    r = api.post(
        f"{act}/assign", json={"assignee_id": world.people["esup2"].id}, headers=login("esup")
    )
    assert r.status_code == 200 and r.json()["state"] == "assigned", r.text
    due = (TODAY + timedelta(days=7)).isoformat()
    r = api.post(
        f"{act}/request-correction",
        json={"due": due, "note": "请说明超期原因并报延期审批"},
        headers=login("esup2"),
    )
    assert r.json()["state"] == "correction_requested" and r.json()["correction_due"] == due
    assert r.json()["allowed_actions"] == ["assign", "close", "dismiss"]
    as_lead = api.get(act, headers=login("lead_a")).json()
    assert as_lead["allowed_actions"] == ["answer"]
    r = api.post(
        f"{act}/answer",
        json={"answer": "已补办延期审批，预计本周作出决定"},
        headers=login("lead_a"),
    )
    assert r.json()["state"] == "answered" and r.json()["answer"].startswith("已补办")
    r = api.post(f"{act}/close", json={"note": "整改到位"}, headers=login("esup"))
    body = r.json()
    assert body["state"] == "closed" and body["resolution"] == "整改到位"
    assert [s["kind"] for s in body["steps"]] == [
        "raised",
        "assign",
        "request_correction",
        "answer",
        "close",
    ]
    assert [s["actor_name"] for s in body["steps"]] == ["系统", "esup", "esup2", "lead_a", "esup"]
    audited = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "supervision_flag")
        .order_by(AuditEntry.id)
    ).all()
    assert audited == [
        "supervision_flag.assign",
        "supervision_flag.request_correction",
        "supervision_flag.answer",
        "supervision_flag.close",
    ]
    again = api.post(f"{act}/close", json={}, headers=login("esup"))
    assert again.status_code == 409 and again.json()["allowed"] == []


def test_the_supervisors_case_refuses_the_wrong_people_and_steps(
    api: Any, login: Login, world: World
) -> None:
    _evaluate(api, login)
    act = f"{URL}/flags/{_flag(api, login, 'overdue-stage')['id']}"
    due = {"due": (TODAY + timedelta(days=7)).isoformat()}
    assert (
        api.post(
            f"{act}/assign", json={"assignee_id": world.people["esup2"].id}, headers=login("lead_a")
        ).status_code
        == 403
    )
    early = api.post(f"{act}/answer", json={"answer": "已处理"}, headers=login("lead_a"))
    assert early.status_code == 409 and "request_correction" in early.json()["allowed"]
    not_supervisor = api.post(
        f"{act}/assign", json={"assignee_id": world.people["officer_a"].id}, headers=login("esup")
    )
    assert not_supervisor.status_code == 422
    assert not_supervisor.json()["errors"][0]["path"] == "assignee_id"
    past = api.post(
        f"{act}/request-correction", json={"due": days_ago(1).isoformat()}, headers=login("esup")
    )
    assert past.status_code == 422 and past.json()["errors"][0]["path"] == "due"
    assert api.post(f"{act}/request-correction", json=due, headers=login("esup")).status_code == 200
    # Another agency's officer may not answer, nor may someone of no agency.
    assert (
        api.post(f"{act}/answer", json={"answer": "x"}, headers=login("officer_b")).status_code
        == 403
    )
    assert (
        api.post(f"{act}/answer", json={"answer": "x"}, headers=login("stranger")).status_code
        == 403
    )
    assert (
        api.post(f"{act}/answer", json={"answer": ""}, headers=login("lead_a")).status_code == 422
    )
    assert api.post(f"{act}/dismiss", json={"reason": ""}, headers=login("esup")).status_code == 422
    r = api.post(
        f"{act}/dismiss", json={"reason": "属合法延长，系统未录入"}, headers=login("admin")
    )
    assert r.status_code == 200 and r.json()["state"] == "dismissed"


def test_flags_filter_by_rule_state_and_day(api: Any, login: Login, world: World) -> None:
    _evaluate(api, login)
    esup = login("esup")
    flag_id = _flag(api, login, "overdue-stage")["id"]
    api.post(f"{URL}/flags/{flag_id}/dismiss", json={"reason": "已核实"}, headers=esup)

    def ids(**params: Any) -> list[str]:
        r = api.get(f"{URL}/flags", params=params, headers=esup)
        assert r.status_code == 200, r.text
        return [f["rule_code"] for f in r.json()["items"]]

    assert ids(state="dismissed") == ["overdue-stage"]
    assert ids(state="open") == ["inspection-without-plan"]
    assert ids(agency_id=world.agency_b.id) == ["inspection-without-plan"]
    assert sorted(ids(raised_from=TODAY.isoformat(), raised_until=TODAY.isoformat())) == [
        "inspection-without-plan",
        "overdue-stage",
    ]
    assert ids(raised_until=(TODAY - timedelta(days=1)).isoformat()) == []
    assert ids(cleared=True) == []
    assert ids(subject_type="inspection") == ["inspection-without-plan"]
    assert api.get(f"{URL}/flags", params={"state": "lost"}, headers=esup).status_code == 422


def test_trends_count_flags_per_week_and_rule(api: Any, login: Login, world: World) -> None:
    _evaluate(api, login)
    flag_id = _flag(api, login, "overdue-stage")["id"]
    api.post(f"{URL}/flags/{flag_id}/close", json={"note": "已纠正"}, headers=login("esup"))
    since = (TODAY - timedelta(weeks=3)).isoformat()
    r = api.get(f"{URL}/trends", params={"since": since}, headers=login("esup"))
    assert r.status_code == 200, r.text
    chart = r.json()
    # Tuesday 24 November 2026 falls in the week of Monday the 23rd, the last of four.
    assert chart["weeks"] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    series = {(s["rule_code"], s["measure"]): s for s in chart["series"]}
    assert series[("overdue-stage", "raised")]["data"] == [0, 0, 0, 1]
    assert series[("overdue-stage", "raised")]["type"] == "bar"
    assert series[("overdue-stage", "closed")]["data"] == [0, 0, 0, 1]
    assert series[("inspection-without-plan", "raised")]["data"] == [0, 0, 0, 1]
    assert chart["totals"] == {"raised": [0, 0, 0, 2], "closed": [0, 0, 0, 1]}
    assert chart["legend"] == [s["name"] for s in chart["series"]]
    agencies = {a["agency_id"]: a for a in chart["agencies"]}
    assert (agencies[world.agency_a.id]["raised"], agencies[world.agency_a.id]["open"]) == (1, 0)
    assert (agencies[world.agency_b.id]["raised"], agencies[world.agency_b.id]["open"]) == (1, 1)
    mine = api.get(f"{URL}/trends", params={"since": since}, headers=login("officer_b")).json()
    assert [a["agency_id"] for a in mine["agencies"]] == [world.agency_b.id]
    assert mine["totals"]["raised"] == [0, 0, 0, 1]
