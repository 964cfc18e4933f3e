"""What an officer's phone reads: the visits they are on or their agency is asked to
(`mine=true`), by several states at once, each row with its agencies' answers and
officers, in a fixed number of queries; and a visit without a plan on a complaint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.enforcement.inspections.conftest import API, Café, ok
from tests.enforcement.inspections.test_joint_api import act, plan_and_answer

from cityops.config import get_settings
from cityops.enforcement.supervision.checks.common import Env
from cityops.enforcement.supervision.checks.inspections import inspection_without_plan
from cityops.enforcement.supervision.rules import parse_params
from cityops.enforcement.supervision.service import make_env
from cityops.worktime.service import load_calendar


def listed(api: TestClient, h: dict[str, str], **params: Any) -> list[Any]:
    return ok(api.get(f"{API}/inspections", headers=h, params=params))["items"]


def test_mine_lists_what_the_officer_is_on_or_asked_to_with_answers_and_officers(
    api: TestClient, login: Any, cafe: Café
) -> None:
    i, o = cafe.inspection_id, cafe.officers
    asked = listed(api, login("market_officer"), mine="true", state="scheduled")
    assert [r["id"] for r in asked] == [i]  # invited, not yet answered
    plan_and_answer(api, login, cafe)  # fire and culture accept, market regulation declines
    assert listed(api, login("market_officer"), mine="true") == []  # declined: not theirs
    assert [r["id"] for r in listed(api, login("market_officer"))] == [i]  # still in scope
    (row,) = listed(api, login("fire_officer2"), mine="true")
    assert (row["plan_kind"], row["source"], row["business_name"]) == (
        "joint", "plan", "渝中区极速网咖",
    )  # fmt: skip
    answers = {a["code"]: (a["state"], [x["officer_id"] for x in a["officers"]])
               for a in row["agencies"]}  # fmt: skip
    assert answers == {
        "YZ-JFB-ZF": ("accepted", [o["500103-JFB-0001"], o["500103-JFB-0002"]]),
        "YZ-XFJY": ("accepted", [o["500103-XF-0001"], o["500103-XF-0002"]]),
        "YZ-WHZF": ("accepted", [o["500103-WH-0001"], o["500103-WH-0002"]]),
        "YZ-SCJG": ("declined", []),
    }
    # A repeatable state: any of them.
    h = login("jfb_officer")
    assert listed(api, h, mine="true", state=["in_progress", "findings_recorded"]) == []
    assert len(listed(api, h, mine="true", state=["scheduled", "in_progress"])) == 1
    bad = api.get(f"{API}/inspections", headers=h, params={"state": ["scheduled", "lost"]})
    assert bad.status_code == 422 and "state" in bad.text
    # The police were never asked: nothing is theirs.
    assert listed(api, login("police_officer"), mine="true") == []


def test_the_list_reads_in_the_same_number_of_queries_for_many_rows(
    api: TestClient, login: Any, cafe: Café, session: Session, clock: Any
) -> None:
    h = login("jfb_officer")
    visit = {
        "source": "patrol", "business_id": cafe.business_id, "reason": "巡查发现",
        "officer_ids": [cafe.officers["500103-JFB-0001"], cafe.officers["500103-JFB-0002"]],
    }  # fmt: skip
    engine = session.get_bind()
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(str(args[2]))

    def queries() -> int:
        counted.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            listed(api, h, mine="true")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(counted)

    one = queries()
    for n in range(4):
        at = (clock.now() + timedelta(days=1, hours=n)).isoformat()
        ok(api.post(f"{API}/inspections", headers=h, json=visit | {"scheduled_at": at}), 201)
    assert len(listed(api, h, mine="true")) == 5
    assert queries() == one


def test_a_visit_without_a_plan_on_a_complaint(
    api: TestClient, login: Any, cafe: Café, session: Session, clock: Any
) -> None:
    h, o = login("fire_officer"), cafe.officers
    body = {
        "source": "complaint",
        "business_id": cafe.business_id,
        "scheduled_at": (clock.now() + timedelta(minutes=30)).isoformat(),
        "reason": "12345热线转来群众投诉：二楼安全出口被锁闭",
        "officer_ids": [o["500103-XF-0001"], o["500103-XF-0002"]],
        "item_codes": ["XF-CF-001"],
    }
    made = ok(api.post(f"{API}/inspections", headers=h, json=body), 201)
    assert (made["plan_id"], made["source"], made["state"]) == (None, "complaint", "scheduled")
    assert made["place"] == made["business"]["address"]
    (agency,) = made["agencies"]
    assert (agency["code"], agency["role"], agency["state"]) == ("YZ-XFJY", "initiator", "accepted")
    assert agency["item_codes"] == ["XF-CF-001"]
    assert {p["item_codes"][0] for p in made["checklist"]} == {"XF-CF-001"}
    # No plan to approve: it starts at once.
    started = act(api, h, f"/{made['id']}/start")
    assert started["state"] == "in_progress"

    refused = [
        ({"source": "whim"}, "source", 422),
        ({"officer_ids": [o["500103-XF-0001"]]}, "officer_ids", 422),
        ({"officer_ids": [o["500103-XF-0001"], o["500103-SJ-0001"]]}, "officer_ids.1", 422),
        ({"item_codes": ["SP-CF-001"]}, "item_codes.0", 422),
        ({"reason": ""}, "reason", 422),
        ({"scheduled_at": (clock.now() - timedelta(days=1)).isoformat()}, "scheduled_at", 422),
    ]
    for change, path, status in refused:
        r = api.post(f"{API}/inspections", headers=h, json=body | change)
        assert r.status_code == status, (change, r.text)
        assert path in r.text, (change, r.text)
    assert api.post(f"{API}/inspections", headers=login("enforcement_supervisor"),
                    json=body).status_code == 403  # fmt: skip

    # Supervision: a visit on a complaint needs no plan; one met on patrol is flagged.
    patrol = ok(api.post(f"{API}/inspections", headers=h, json=body | {"source": "patrol"}), 201)
    act(api, h, f"/{patrol['id']}/start")
    session.expire_all()
    hits = inspection_without_plan(
        session, parse_params("inspection_without_plan", {}), _env(session, clock)
    )
    flagged = {hit.subject_id for hit in hits}
    assert patrol["id"] in flagged and made["id"] not in flagged


def _env(session: Session, clock: Any) -> Env:
    calendar = load_calendar(session, get_settings())
    return make_env(session, calendar, clock.now() + timedelta(hours=2))
