"""KPIs from the steps of cases driven through the real workflow at chosen times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, GRID_B, inside

from cityops.auth.service import Principal, actor_of
from cityops.cases import service as cases
from cityops.cases.schemas import ActionRequest
from cityops.ingest.service import ingest_events
from cityops.kpi import service as kpi
from cityops.kpi.schemas import Rates, Weights

START, END = EPOCH - timedelta(hours=1), EPOCH + timedelta(days=7)


class Driver:
    """Report and act on cases as the test district's people, on the fake clock."""

    def __init__(self, context: Any, district: Any, session: Session, clock: Any) -> None:
        self.context, self.district, self.session, self.clock = context, district, session, clock
        self.n = 0

    def person(self, code: str) -> Principal:
        return Principal(actor=actor_of(self.district.people[code]))

    def report(self, grid: str = GRID_A, kind: str = "inspector", reporter: str = "inspector",
               class_code: str = "E0102") -> int:  # fmt: skip
        self.n += 1
        # 60 m apart, more than any merge radius here: each report is its own case.
        spot = self.n % 9
        lon, lat = inside(grid, 0.0003 + 0.0006 * (spot % 3), 0.0003 + 0.0006 * (spot // 3))
        event = {
            "external_id": f"k{self.n}",
            "kind": kind,
            "class_code": class_code,
            "location": {"lon": lon, "lat": lat},
            "occurred_at": self.clock.now().isoformat(),
        }
        if kind != "inspector":
            event["source"] = "hotline"
            principal = Principal(actor=actor_of(self.district.people["call_taker"]),
                                  api_key_id=1, sources=frozenset({"hotline"}))  # fmt: skip
        else:
            principal = self.person(reporter)
        env = self.context.intake_env(self.session, self.clock.now())
        result = ingest_events(self.session, env, principal, [event], max_batch=1)[0]
        assert result.case_id is not None, result
        return result.case_id

    def act(self, case_id: int, who: str, action: str, minutes: float = 10, **body: Any) -> None:
        self.clock.advance(minutes=minutes)
        env = self.context.case_env(self.session, self.clock.now())
        cases.act(self.session, env, self.person(who).actor, case_id,
                  ActionRequest(action=action, **body))  # fmt: skip

    def dispatch(self, case_id: int, dept: str = "HW") -> None:
        self.act(case_id, "dispatcher", "dispatch",
                 department_id=self.district.departments[dept].id)  # fmt: skip

    def finish(self, case_id: int, *, late: bool = False, rework: bool = False,
               extension: bool = False, handler: str = "handler",
               checker: str = "inspector") -> None:  # fmt: skip
        if extension:
            self.act(case_id, handler, "request_extension", extension_value=4,
                     extension_unit="working_hours")  # fmt: skip
            self.act(case_id, "dispatcher", "approve")
        self.act(case_id, handler, "report_handled", minutes=60 * 30 if late else 60)
        self.act(case_id, "call_taker", "send_check")
        if rework:
            self.act(case_id, checker, "check", outcome="rework")
            self.act(case_id, handler, "report_handled", minutes=30)
            self.act(case_id, "call_taker", "send_check")
        self.act(case_id, checker, "check", outcome="pass")
        self.act(case_id, "shift_leader", "close")


@pytest.fixture
def drive(context: Any, district: Any, session: Session, clock: Any) -> Driver:
    return Driver(context, district, session, clock)


def test_region_indicators(drive: Driver, session: Session) -> None:
    # Four inspector reports (auto-filed) and one hotline report, all in grid A.
    on_time, late, reworked, extended = (drive.report() for _ in range(4))
    for case_id in (on_time, late, reworked, extended):
        drive.dispatch(case_id)
    drive.finish(on_time)
    drive.finish(reworked, rework=True)
    drive.finish(extended, extension=True)
    drive.finish(late, late=True)
    public = drive.report(kind="hotline")
    drive.act(public, "call_taker", "send_verify")
    drive.act(public, "inspector", "verify", outcome="confirmed")
    drive.act(public, "shift_leader", "file")
    drive.dispatch(public)
    drive.act(public, "handler", "request_return", note="非本部门")
    drive.act(public, "dispatcher", "approve")
    drive.act(public, "shift_leader", "cancel", note="重复立案")
    session.flush()

    k = kpi.region_kpi(session, GRID_A, START, drive.clock.now() + timedelta(minutes=1))
    c = k.counts
    assert (c.reported, c.filed, c.cancelled, c.filed_then_cancelled) == (5, 5, 1, 1)
    assert (c.dispatched, c.returned) == (5, 1)
    assert (c.due_to_close, c.closed, c.closed_on_time) == (4, 4, 3)
    assert (c.reworked, c.extended) == (1, 1)
    assert (c.handled, c.handled_on_time) == (5, 4)
    assert c.public_reports_verified == 1
    assert k.rates == Rates(
        closure_rate=1.0, on_time_closure_rate=0.75, on_time_handling_rate=0.8,
        rework_rate=0.25, extension_rate=0.25, public_report_rate=0.2, valid_report_rate=None,
        accurate_filing_rate=0.8, accurate_dispatch_rate=0.8,
        on_time_verification_rate=1.0, on_time_check_rate=1.0,
    )  # fmt: skip
    # 0.2·1 + 0.3·0.75 + 0.2·0.8 + 0.1·0.75 + 0.1·0.75 + 0.1·0.8 = 0.815
    assert (k.score, k.grade) == (81.5, "B")
    # Nothing happened in grid B: every rate is None, and so is the score.
    empty = kpi.region_kpi(session, GRID_B, START, drive.clock.now())
    assert empty.counts.reported == 0
    assert empty.score is None and empty.rates.closure_rate is None


def test_open_cases_count_once_they_are_late(drive: Driver, session: Session) -> None:
    case_id = drive.report()
    drive.dispatch(case_id)  # 4 working hours for exposed garbage
    soon = drive.clock.now() + timedelta(hours=1)
    assert kpi.region_kpi(session, GRID_A, START, soon).counts.due_to_close == 0
    later = drive.clock.now() + timedelta(days=2)
    k = kpi.region_kpi(session, GRID_A, START, later)
    assert (k.counts.due_to_close, k.counts.closed, k.counts.due_to_handle) == (1, 0, 1)
    assert k.rates.closure_rate == 0.0


def test_periods_exclude_steps_outside_them(drive: Driver, session: Session) -> None:
    case_id = drive.report()
    drive.dispatch(case_id)
    drive.finish(case_id)
    before = kpi.region_kpi(session, GRID_A, START - timedelta(days=3), START)
    assert before.counts.reported == 0
    after = kpi.region_kpi(session, GRID_A, drive.clock.now() + timedelta(minutes=1),
                           drive.clock.now() + timedelta(days=1))  # fmt: skip
    assert (after.counts.reported, after.counts.closed) == (0, 0)


def test_department_and_person_indicators(drive: Driver, session: Session, district: Any) -> None:
    a, b = drive.report(), drive.report(class_code="P0101")
    drive.dispatch(a, "HW")
    drive.dispatch(b, "SZ")
    drive.finish(a)
    drive.finish(b, late=True, handler="handler_sz")
    end = drive.clock.now() + timedelta(minutes=1)
    hw = kpi.department_kpi(session, district.departments["HW"].id, START, end)
    sz = kpi.department_kpi(session, district.departments["SZ"].id, START, end)
    assert (hw.counts.handled, hw.rates.on_time_handling_rate) == (1, 1.0)
    assert (sz.counts.handled, sz.rates.on_time_handling_rate) == (1, 0.0)
    person = kpi.person_kpi(session, district.people["inspector"].id, START, end)
    assert (person.counts.own_reports, person.counts.own_reports_filed) == (2, 2)
    assert person.rates.valid_report_rate == 1.0
    assert person.counts.checks == 2 and person.rates.on_time_check_rate == 1.0
    assert person.grade == "A"


def test_ranking_groups_children_in_one_go(drive: Driver, session: Session) -> None:
    for grid in (GRID_A, GRID_B):
        case_id = drive.report(grid=grid, reporter="inspector" if grid == GRID_A else "inspector_b")
        drive.dispatch(case_id)
        drive.finish(
            case_id, late=grid == GRID_B, checker="inspector" if grid == GRID_A else "inspector_b"
        )
    end = drive.clock.now() + timedelta(minutes=1)
    streets = kpi.ranking(session, start=START, end=end, parent="500103")
    assert [s.subject for s in streets] == ["region:500103001", "region:500103002"]
    assert streets[0].name == "解放碑街道"
    assert streets[0].score is not None and streets[1].score is not None
    assert streets[0].score > streets[1].score
    by_dept = kpi.ranking(session, start=START, end=end, parent="500103", by="department")
    assert [d.name for d in by_dept] == ["区环卫所"]


def test_weights_and_grades() -> None:
    rates = Rates(closure_rate=1.0, on_time_closure_rate=0.5, on_time_handling_rate=None,
                  rework_rate=0.0, extension_rate=None, public_report_rate=None,
                  valid_report_rate=None, accurate_filing_rate=None, accurate_dispatch_rate=None,
                  on_time_verification_rate=None, on_time_check_rate=None)  # fmt: skip
    # Renormalised over closure (0.2), on-time closure (0.3) and rework (0.1): 0.45/0.6.
    assert kpi.score_of(rates, Weights()) == (75.0, "B")
    assert kpi.score_of(rates, Weights(on_time_closure_rate=0, rework_rate=0)) == (100.0, "A")
    assert kpi.score_of(rates, Weights(closure_rate=0, rework_rate=0)) == (50.0, "D")


def test_kpi_api_checks_role_and_scope(client: TestClient, login: Any, district: Any) -> None:
    november = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
    r = client.get("/api/v1/kpi/regions/500103", headers=login("supervisor"), params=november)
    assert r.status_code == 200 and r.json()["subject"] == "region:500103"
    assert client.get("/api/v1/kpi/regions/500103",
                      headers=login("street_dispatcher")).status_code == 403  # fmt: skip
    assert client.get("/api/v1/kpi/regions/500103002",
                      headers=login("street_dispatcher")).status_code == 200  # fmt: skip
    assert client.get("/api/v1/kpi/regions/500103", headers=login("handler")).status_code == 403
    own = district.departments["HW"].id
    assert client.get(f"/api/v1/kpi/departments/{own}", headers=login("handler")).status_code == 200
    other = district.departments["SZ"].id
    assert client.get(f"/api/v1/kpi/departments/{other}",
                      headers=login("handler")).status_code == 403  # fmt: skip
    me = district.people["inspector"].id
    assert client.get(f"/api/v1/kpi/people/{me}", headers=login("inspector")).status_code == 200
    backwards = {"start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    bad = client.get("/api/v1/kpi/regions/500103", headers=login("supervisor"), params=backwards)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "end"
    ranking = client.get("/api/v1/kpi/ranking", params={"parent": "500103",
                         "closure_rate": 1}, headers=login("supervisor"))  # fmt: skip
    assert ranking.status_code == 200
