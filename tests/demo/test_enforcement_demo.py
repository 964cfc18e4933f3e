"""The demo's law enforcement as someone who runs `make run` finds it, through the API: the
enforcement logins with their roles and officer rows, the café's joint inspection with its
notice, penalty cases at every stage, the supervisor's flags and the public lookup; and the
same seed making the same enforcement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.fakes import FakeClock

from cityops.app import create_app
from cityops.bootstrap import build_context
from cityops.config import Settings
from cityops.db import Base, import_all_models, make_engine
from cityops.demo.district import DEMO_PASSWORD, WELL_KNOWN
from cityops.demo.service import DemoSummary, build_demo
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections.models import Finding, Inspection, InspectionPlan
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.public.models import Complaint
from cityops.enforcement.registries.models import ChecklistItem
from cityops.enforcement.supervision.models import Flag, SupervisionRule
from cityops.kit.storage import LocalStorage

API = "/api/v1"
UNTIL = date(2026, 11, 24)  # the demo ends at 16:00 that day
AFTER = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 17:00 in Chongqing: the API's now
BUILD = {"until": UNTIL, "days": 1, "cases_per_day": 8, "seed": 5}
# The enforcement logins: role, and the agency of the officer row they act through.
ENFORCEMENT = {
    "officer": ("officer", "YZ-JFB-ZF"),
    "fireofficer": ("officer", "YZ-XFJY"),
    "marketofficer": ("officer", "YZ-SCJG"),
    "lead": ("enforcement_lead", "YZ-JFB-ZF"),
    "reviewer": ("legal_reviewer", "YZ-SFJ"),
    "enfsupervisor": ("enforcement_supervisor", "YZ-SFJ"),
}
CAFE, CAFE_PHONE = "91500103232332119Y", "13923000001"  # 渝中区极速网咖
PUBLISHED_PARTY = "重庆好又来餐饮管理有限公司解放碑分店"
UNPUBLISHED_PARTY = "渝中区巷子深火锅店"


@dataclass
class Demo:
    """The demo built once for the module, with an HTTP client on it."""

    http: TestClient
    sessions: sessionmaker[Session]
    summary: DemoSummary
    texts: list[tuple[str, str]]  # the text messages sent, (phone, text)
    tokens: dict[str, dict[str, str]]

    def login(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            r = self.http.post(f"{API}/auth/token",
                               data={"username": username, "password": DEMO_PASSWORD})  # fmt: skip
            assert r.status_code == 200, r.text
            self.tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self.tokens[username]

    def get(self, path: str, username: str | None = None, **params: Any) -> Any:
        headers = self.login(username) if username else {}
        r = self.http.get(f"{API}{path}", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The short demo on SQLite and on PostgreSQL, in one transaction rolled back after the
    module (its commits release savepoints, as in the `session_factory` fixture)."""
    engine = request.getfixturevalue(
        {"sqlite": "sqlite_engine", "postgresql": "postgres_engine"}[request.param]
    )
    connection = engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                            expire_on_commit=False)  # fmt: skip
    blobs = tmp_path_factory.mktemp("demo-blobs")
    settings = Settings(database_url="sqlite://", storage_dir=blobs, district_code="500103",
                        sms_backend="memory")  # fmt: skip
    context = build_context(settings, sessions=sessions, clock=FakeClock(AFTER),
                            storage=LocalStorage(blobs))  # fmt: skip
    try:
        summary = build_demo(context, **BUILD)
        app = create_app(settings, context=context, check_schema=False)
        with TestClient(app) as http:
            yield Demo(http, sessions, summary, context.sms.sent, {})
    finally:
        outer.rollback()
        connection.close()


def test_each_enforcement_login_acts_with_its_role_for_its_agency(demo: Demo) -> None:
    officers = demo.get("/enforcement/officers", "admin", limit=100)["items"]
    for username, (role, agency) in ENFORCEMENT.items():
        assert WELL_KNOWN[username] == role
        me = demo.get("/auth/me", username)
        assert me["roles"] == [role], username
        mine = [o for o in officers if o["person_id"] == me["id"]]
        assert [(o["agency_code"], o["name"]) for o in mine] == [(agency, me["name"])], username
    # An officer sees their own agency's penalty cases, and no other agency's.
    street = demo.get("/enforcement/penalty-cases", "officer", limit=100)
    assert street["total"] == sum(demo.summary.penalty_cases.values()) == 8
    assert demo.get("/enforcement/penalty-cases", "fireofficer")["total"] == 0
    # The district's legal reviewer has the case that waits for review to act on.
    waiting = demo.get("/enforcement/penalty-cases", "reviewer", stage="reviewing")["items"]
    assert len(waiting) == 1
    detail = demo.get(f"/enforcement/penalty-cases/{waiting[0]['id']}", "reviewer")
    assert set(detail["allowed_actions"]) == {"pass_review", "return_review"}


def test_the_cafe_joint_inspection_left_one_served_notice_with_its_pdf(demo: Demo) -> None:
    plans = demo.get("/enforcement/plans", "officer", kind="joint")["items"]
    assert [p["title"] for p in plans] == ["综合查一次：渝中区极速网咖"]
    plan = demo.get(f"/enforcement/plans/{plans[0]['id']}", "officer")
    visit = demo.get(f"/enforcement/inspections/{plan['inspections'][0]['id']}", "fireofficer")
    answers = {a["code"]: (a["state"], bool(a["reason"])) for a in visit["agencies"]}
    assert answers == {"YZ-JFB-ZF": ("accepted", False), "YZ-XFJY": ("accepted", False),
                       "YZ-SCJG": ("accepted", False), "YZ-WHZF": ("declined", True)}  # fmt: skip
    failed = {f["agency_name"] for f in visit["findings"] if f["outcome"] == "fail"}
    assert failed == {"重庆市渝中区消防救援支队", "重庆市渝中区市场监督管理局"}
    assert visit["state"] == "notice_served"
    notice = visit["notice"]
    assert notice["served_at"] is not None and notice["deadline"] > UNTIL.isoformat()
    for username in ("officer", "marketofficer"):
        r = demo.http.get(f"{API}/enforcement/inspections/{visit['id']}/notice.pdf",
                          headers=demo.login(username))  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF")
    # The café, signed in with its credit code and the code sent to its phone, sees the
    # notice running.
    business = f"{API}/public/enforcement/business"
    sent = demo.http.post(f"{business}/codes", json={"credit_code": CAFE})
    assert sent.status_code == 202, sent.text
    code = re.search(r"\d{6}", [t for p, t in demo.texts if p == CAFE_PHONE][-1])
    assert code is not None
    token = demo.http.post(f"{business}/token", json={"credit_code": CAFE, "code": code.group()})
    assert token.status_code == 200, token.text
    seen = demo.http.get(
        f"{business}/me", headers={"X-Business-Token": token.json()["access_token"]}
    )
    assert seen.status_code == 200, seen.text
    (running,) = seen.json()["notices"]
    assert running["number"] == notice["number"] and running["days_left"] > 0
    assert running["can_upload"] is True


def test_penalty_cases_stand_at_every_stage(demo: Demo) -> None:
    cases = demo.get("/enforcement/penalty-cases", "lead", limit=100)["items"]
    stages = sorted(c["stage"] for c in cases)
    assert stages == ["closed", "closed", "executing", "filing", "investigating",
                      "investigating", "notified", "reviewing"]  # fmt: skip
    assert demo.summary.penalty_cases == {s: stages.count(s) for s in set(stages)}
    by_party = {c["party_name"]: c for c in cases}
    assert by_party[PUBLISHED_PARTY]["published_on"] is not None
    assert by_party[UNPUBLISHED_PARTY]["stage"] == "closed"
    assert by_party[UNPUBLISHED_PARTY]["published_on"] is None
    spot = [c for c in cases if c["procedure"] == "simplified"]
    assert [(c["stage"], c["fine"], c["party_kind"]) for c in spot] == [("closed", 200, "citizen")]
    # One past its decision deadline (Art. 60: ninety days from filing), still investigating.
    late = demo.get("/enforcement/penalty-cases", "lead", overdue="true")["items"]
    undecided = [c for c in late if c["decided_on"] is None]
    assert [c["stage"] for c in undecided] == ["investigating"]
    assert undecided[0]["decision_due"] < UNTIL.isoformat()
    # One whose fine departs from the benchmark, with the written reason, under review.
    departing = [c for c in cases if c["departure_reason"]]
    assert [(c["stage"], c["fine"]) for c in departing] == [("reviewing", 12000)]
    # The recent investigation: acts of two officers.
    fresh = max((c for c in cases if c["stage"] == "investigating"), key=lambda c: c["id"])
    steps = demo.get(f"/enforcement/penalty-cases/{fresh['id']}", "officer")["steps"]
    acts = [s for s in steps if s["kind"] in ("site_inspected", "correction_ordered")]
    assert len(acts) == 2 and all(len(s["officer_ids"]) == 2 for s in acts)


def test_the_supervisor_finds_flags_and_complaints(demo: Demo) -> None:
    flags = demo.get("/enforcement/supervision/flags", "enfsupervisor")["items"]
    assert demo.summary.flags == len(flags) >= 2
    rules = {f["rule_code"]: f for f in flags}
    assert {"overdue-stage", "decision-not-published"} <= set(rules)
    undecided = [c for c in demo.get("/enforcement/penalty-cases", "lead", overdue="true")[
        "items"] if c["decided_on"] is None]  # fmt: skip
    assert rules["overdue-stage"]["subject_id"] == undecided[0]["id"]
    assert UNPUBLISHED_PARTY not in {c["party_name"] for c in demo.get(
        "/public/enforcement/decisions")["items"]}  # fmt: skip
    # The street team's officer sees the flags of their agency only; fire rescue has none.
    assert {f["agency_name"] for f in demo.get("/enforcement/supervision/flags", "officer")[
        "items"]} == {"渝中区解放碑街道综合行政执法大队"}  # fmt: skip
    assert demo.get("/enforcement/supervision/flags", "fireofficer")["total"] == 0
    complaints = demo.get("/enforcement/complaints", "enfsupervisor")["items"]
    assert sorted(c["state"] for c in complaints) == ["answered", "received"]
    assert demo.summary.complaints == 2


def test_the_public_finds_the_published_decision_and_the_plan(demo: Demo) -> None:
    decisions = demo.get("/public/enforcement/decisions")["items"]
    assert [(d["party_name"], d["fine"]) for d in decisions] == [(PUBLISHED_PARTY, 20000)]
    found = demo.get("/public/enforcement/decisions", q="好又来")["items"]
    assert [d["number"] for d in found] == [decisions[0]["number"]]
    plans = demo.get("/public/enforcement/plans")["items"]
    assert [p["kind"] for p in plans] == ["random"]
    assert plans[0]["seed"] is not None and plans[0]["drawn"] == 4
    assert sorted(r["result"] for r in plans[0]["results"]) == [
        "compliant", "compliant", "pending", "rectified"]  # fmt: skip


def _utc(moment: datetime | None) -> str:
    """A moment as UTC text, whichever way the database gave it back."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def _fingerprint(session: Session) -> list[tuple[Any, ...]]:
    """The enforcement the demo made, by what does not depend on the database's ids."""
    party = {c.id: c.party_name for c in session.scalars(select(PenaltyCase))}
    code = dict(session.execute(select(Business.id, Business.credit_code)).all())
    checklist = dict(session.execute(select(ChecklistItem.id, ChecklistItem.code)).all())
    rule = dict(session.execute(select(SupervisionRule.id, SupervisionRule.code)).all())
    rows: list[tuple[Any, ...]] = []
    rows += sorted((party[s.case_id], s.seq, s.kind, _utc(s.at), s.note)
                   for s in session.scalars(select(PenaltyStep)))  # fmt: skip
    rows += sorted((c.party_name, c.number, c.stage, c.fine, c.filed_on, c.decided_on)
                   for c in session.scalars(select(PenaltyCase)))  # fmt: skip
    rows += sorted((p.title, p.seed, tuple(t["key"] for t in (p.draw or {}).get("targets", [])))
                   for p in session.scalars(select(InspectionPlan)))  # fmt: skip
    rows += sorted((code[i.business_id], i.state, _utc(i.scheduled_at), i.rectification_deadline)
                   for i in session.scalars(select(Inspection)))  # fmt: skip
    rows += sorted((checklist.get(f.checklist_item_id or 0), f.outcome, f.deadline, f.note)
                   for f in session.scalars(select(Finding)))  # fmt: skip
    rows += sorted((d.kind, d.number, _utc(d.issued_at))
                   for d in session.scalars(select(IssuedDocument)))  # fmt: skip
    rows += sorted((rule[f.rule_id], f.message) for f in session.scalars(select(Flag)))
    rows += sorted((c.state, c.what) for c in session.scalars(select(Complaint)))
    return rows


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The fingerprint of the same demo built again, in a SQLite database of its own."""
    folder = tmp_path_factory.mktemp("demo-again")
    url = f"sqlite:///{folder / 'again.db'}"
    engine = make_engine(url, synchronous="NORMAL")
    import_all_models()
    Base.metadata.create_all(engine)
    context = build_context(Settings(database_url=url, storage_dir=folder / "blobs"))
    try:
        build_demo(context, **BUILD)
        with Session(engine) as session:
            return _fingerprint(session)
    finally:
        engine.dispose()
        context.engine.dispose()


def test_the_same_seed_makes_the_same_enforcement(
    demo: Demo, rebuilt: list[tuple[Any, ...]]
) -> None:
    with demo.sessions() as session:
        assert _fingerprint(session) == rebuilt
