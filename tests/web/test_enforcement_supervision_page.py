"""The supervisor's page (执法监督) in a real browser: with the sample registries and
businesses of 渝中区, an inspection of the internet café by a single officer and a penalty
case past its decision deadline, the supervisor evaluates the rules and sees both flags with
their evidence, drills into each (the inspection's officers, the case's deadlines and steps),
requests a correction from the agency with a deadline (a day in the past refused next to the
field), reads the weekly trend and the agencies' ranking, and tunes the repeated-inspection
rule; a member of staff who is not a supervisor is refused; the page in English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from tests.factories import DISTRICT, PASSWORD
from tests.serverproc import ServerProcess
from tests.web.helpers import login, sign_in

from cityops.auth.models import Account
from cityops.auth.service import hash_password
from cityops.enforcement.businesses import service as businesses
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections.models import (
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
)
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import Agency, Item, Officer
from cityops.org.models import Person, Region

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
API = "/api/v1/enforcement/supervision"
PAGE = "/enforcement/supervision/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# The sample's streets (its businesses and street teams are there).
JIEFANGBEI, QIXINGGANG = "500103010", "500103008"
CAFE = "91500103232332119Y"  # 渝中区极速网咖


@dataclass(frozen=True)
class Supervised:
    inspection_id: int
    case_id: int
    case_number: str
    fire_agency_id: int
    market_agency_id: int


def local_today() -> date:
    """The server runs on the real clock: the data is laid out around its today."""
    return datetime.now(SHANGHAI).date()


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def supervised_district(url: str) -> Supervised:
    """The shipped sample (registries and businesses) in the test district, an enforcement
    supervisor, and two irregularities, committed: the fire brigade's planned inspection of
    the internet café five days ago by 张伟 alone (too few officers, Art. 42), and the market
    regulator's case against the café filed 100 days ago and still undecided (past the
    90 days of Art. 60). Everything else about them keeps the rules."""
    engine = create_engine(url)
    today = local_today()
    with Session(engine) as s:
        for code, name in ((JIEFANGBEI, "解放碑街道"), (QIXINGGANG, "七星岗街道")):
            s.add(Region(code=code, level="street", name=name, parent_code=DISTRICT))
        s.flush()
        registries.load_seed(s, today=today)
        businesses.load_seed(s)
        supervisor = Person(code="esup", name="督查员老周", roles=["enforcement_supervisor"],
                            scope_code=DISTRICT, active=True)  # fmt: skip
        s.add(supervisor)
        s.flush()
        s.add(Account(person_id=supervisor.id, username="esup", active=True,
                      password_hash=hash_password(PASSWORD), token_version=0))  # fmt: skip
        cafe = s.scalars(select(Business).where(Business.credit_code == CAFE)).one()
        fire = s.scalars(select(Agency).where(Agency.code == "YZ-XFJY")).one()
        market = s.scalars(select(Agency).where(Agency.code == "YZ-SCJG")).one()
        officer = {o.certificate_number: o for o in s.scalars(select(Officer))}

        day = today - timedelta(days=5)
        plan = InspectionPlan(title="网吧消防安全双随机抽查", kind="random",
                              initiator_agency_id=fire.id, region_code=DISTRICT, state="approved",
                              planned_from=day, planned_until=day, created_by=supervisor.id,
                              created_at=at(day - timedelta(days=7), 9))  # fmt: skip
        s.add(plan)
        s.flush()
        visit = Inspection(plan_id=plan.id, source="plan", business_id=cafe.id,
                           lead_agency_id=fire.id, region_code=cafe.region_code,
                           scheduled_at=at(day, 10), started_at=at(day, 10),
                           finished_at=at(day, 11), state="closed", outcome="compliant",
                           closed_at=at(day, 12))  # fmt: skip
        s.add(visit)
        s.flush()
        s.add_all([
            InspectionAgency(inspection_id=visit.id, agency_id=fire.id, role="initiator",
                             state="accepted", invited_at=at(day - timedelta(days=7), 9)),
            InspectionOfficer(inspection_id=visit.id, officer_id=officer["500103-XF-0001"].id,
                              agency_id=fire.id),
        ])  # fmt: skip

        filed = today - timedelta(days=100)
        item = s.scalars(select(Item).where(Item.code == "SP-CF-001")).one()
        team = [officer["500103-SJ-0001"].id, officer["500103-SJ-0002"].id]
        case = PenaltyCase(number="渝中市监罚立〔2026〕第18号", agency_id=market.id,
                           item_id=item.id, business_id=cafe.id, party_kind="organisation",
                           party_name=cafe.name, procedure="general", stage="investigating",
                           source="inspection", title=item.name, region_code=cafe.region_code,
                           officer_ids=team, violation_on=filed - timedelta(days=6),
                           discovered_on=filed - timedelta(days=4), filed_on=filed,
                           decision_due=filed + timedelta(days=90), stage_started_on=filed,
                           created_at=at(filed - timedelta(days=4), 9),
                           updated_at=at(filed + timedelta(days=3), 15))  # fmt: skip
        s.add(case)
        s.flush()
        s.add_all([
            PenaltyStep(case_id=case.id, seq=1, kind="opened", from_stage=None, to_stage="filing",
                        at=at(filed - timedelta(days=4), 9), officer_ids=team),
            PenaltyStep(case_id=case.id, seq=2, kind="filed", from_stage="filing",
                        to_stage="investigating", at=at(filed, 10), officer_ids=team),
            PenaltyStep(case_id=case.id, seq=3, kind="evidence_collected",
                        from_stage="investigating", to_stage="investigating",
                        at=at(filed + timedelta(days=3), 15), officer_ids=team,
                        note="调取进货台账、现场照片"),
        ])  # fmt: skip
        s.commit()
        found = Supervised(visit.id, case.id, str(case.number), fire.id, market.id)
    engine.dispose()
    return found


def flag(server: ServerProcess, flag_id: int) -> Any:
    r = httpx.get(f"{server.url}{API}/flags/{flag_id}", headers=login(server, "esup"))
    assert r.status_code == 200, r.text
    return r.json()


def trend_option(page: Any) -> Any:
    """The trend chart's option as ECharts holds it, once it has its series."""
    script = "() => echarts.getInstanceByDom(document.getElementById('trend-chart'))"
    page.wait_for_function(f"() => ({script})()?.getOption().series.length > 0")
    return page.evaluate(f"() => ({script})().getOption()")


def test_a_supervisor_evaluates_sees_both_flags_drills_in_and_requests_a_correction(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path
) -> None:
    srv, _ = server
    facts = supervised_district(srv.database_url)
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, srv, PAGE, "esup")

    # Before any evaluation: no flags, and the empty list says what to do.
    page.wait_for_selector("#flags-empty:not([hidden])")
    assert "立即评估" in page.inner_text("#flags-empty")

    # 立即评估: the counts per rule and the time taken; exactly the two rules broken fire.
    page.click("#evaluate")
    page.wait_for_selector("#evaluation:not([hidden]) #evaluation-rules li")
    hits = {
        chip.get_attribute("data-rule"): int(chip.get_attribute("data-hits"))
        for chip in page.query_selector_all("#evaluation-rules li")
    }
    assert len(hits) == 10 and sum(hits.values()) == 2, hits
    assert hits["too-few-officers"] == 1 and hits["overdue-stage"] == 1
    assert "执法人员不足两人" in page.inner_text("#evaluation-rules li[data-rule=too-few-officers]")
    assert float(page.get_attribute("#evaluation", "data-seconds")) > 0
    assert "10 条规则，用时" in page.inner_text("#evaluation-summary")

    # The list: both flags, the serious one (too few officers) first, each with its rule,
    # its evidence as a sentence, its subject and agency, open.
    page.wait_for_selector("#flag-rows tr[data-rule=overdue-stage]")
    rows = page.query_selector_all("#flag-rows tr")
    assert [r.get_attribute("data-rule") for r in rows] == ["too-few-officers", "overdue-stage"]
    first = rows[0].inner_text()
    assert "执法人员不足两人" in first and "重庆市渝中区消防救援支队" in first
    assert "渝中区极速网咖" in first and "待督办" in first
    assert "渝中市监罚立〔2026〕第18号" in rows[1].inner_text()
    assert page.inner_text("#open-count") == "2"
    page.screenshot(path=str(artifacts / "supervision-flags.png"))

    # The inspection's flag: the sentence, the facts, and the inspection itself with its
    # one officer and its dates; the desk link opens the inspection there.
    page.focus("#flag-rows tr[data-rule=too-few-officers]")
    page.keyboard.press("Enter")  # a row opens from the keyboard too
    page.wait_for_selector("#subject-body .subject-steps")
    assert "1名" in page.inner_text("#flag-message")
    assert page.inner_text("#flag-evidence dd[data-fact=inspection_id]") == str(facts.inspection_id)
    assert "张伟" in page.inner_text("#subject-body dd[data-fact=officers]")
    assert "开始现场检查" in page.inner_text("#subject-body .subject-steps")
    desk = page.get_attribute("#subject-link", "href")
    assert desk == f"/enforcement/#inspection/{facts.inspection_id}"

    # The case's flag: the case read through the penalty-cases API, its decision deadline
    # late, its steps with their officers.
    page.click("#flag-rows tr[data-rule=overdue-stage]")
    page.wait_for_selector("#subject-body .deadline[data-name=decision]")
    flag_id = int(page.get_attribute("#flag", "data-flag-id"))
    assert facts.case_number in page.inner_text("#subject-title")
    assert page.get_attribute("#subject-body .deadline[data-name=decision]", "data-late") == "true"
    steps = page.inner_text("#subject-body .subject-steps")
    assert "调取证据" in steps and "刘洋" in steps and "陈静" in steps
    assert page.get_attribute("#subject-link", "href") == f"/enforcement/#case/{facts.case_id}"
    late = local_today() - timedelta(days=10)  # filed 100 days ago, 90 days to decide
    stages = page.inner_text("#flag-evidence dd[data-fact=stages]")
    assert "作出处罚决定" in stages and f"{late.year}年{late.month}月{late.day}日" in stages
    page.locator("#subject").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "supervision-flag-case.png"))

    # 分派给我, then 发出整改督办: a day already past is refused next to the deadline field;
    # then sent.
    page.click("#flag-actions [data-action=assign]")
    page.wait_for_selector("#flag[data-state=assigned]")
    assert "督查员老周" in page.inner_text("#flag-steps")
    page.click("#flag-actions [data-action=request_correction]")
    page.fill("#action-due", (local_today() - timedelta(days=1)).isoformat())
    page.fill("#action-note", "请于期限内作出处理决定或依法办理延期审批")
    page.click("#action-form button[type=submit]")
    page.wait_for_selector("#action-due[aria-invalid=true]")
    assert "before today" in page.inner_text("#action-due-error")
    due = local_today() + timedelta(days=10)
    page.fill("#action-due", due.isoformat())
    page.click("#action-form button[type=submit]")
    page.wait_for_selector("#flag[data-state=correction_requested]")
    assert page.inner_text("#flag-state") == "待整改反馈"
    assert "重庆市渝中区市场监督管理局" in page.inner_text("#flag-notice")
    assert f"{due.year}年{due.month}月{due.day}日" in page.inner_text("#flag-facts")
    history = page.inner_text("#flag-steps")
    assert "发出整改督办" in history and "督查员老周" in history
    sent = flag(srv, flag_id)
    assert (sent["state"], sent["correction_due"]) == ("correction_requested", due.isoformat())
    assert [step["kind"] for step in sent["steps"]] == ["raised", "assign", "request_correction"]
    assert sent["steps"][-1]["note"] == "请于期限内作出处理决定或依法办理延期审批"
    asked = "#flag-rows tr[data-rule=overdue-stage][data-state=correction_requested]"
    page.wait_for_selector(asked)
    assert page.inner_text("#open-count") == "1"

    # 趋势: a chart (a canvas) with one series per rule that raised flags, and the agencies
    # ranked; a click on one lists its flags.
    page.click("#tab-trends")
    option = trend_option(page)
    assert page.locator("#trend-chart canvas").count() >= 1
    assert len(option["series"]) == 2 and len(option["xAxis"][0]["data"]) == 12
    assert {s["stack"] for s in option["series"]} == {"raised"}
    names = {s["name"] for s in option["series"]}
    assert names == {"执法人员不足两人", "办案环节超期"}
    page.wait_for_selector("#agency-rows tr")
    assert page.locator("#agency-rows tr").count() == 2
    page.screenshot(path=str(artifacts / "supervision-trends.png"))
    page.click(f"#agency-rows tr[data-agency-id='{facts.fire_agency_id}']")
    page.wait_for_selector("#view-flags:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#flag-rows tr').length === 1")
    assert page.get_attribute("#flag-rows tr", "data-rule") == "too-few-officers"

    # 监督规则: the repeated-inspection rule's window and count changed and saved.
    page.click("#tab-rules")
    row = "#rule-rows tr[data-rule=repeated-inspection]"
    page.wait_for_selector(row)
    page.fill(f"{row} input[name=window_days]", "0")
    page.click(f"{row} button.primary")
    page.wait_for_selector(f"{row} input[name=window_days][aria-invalid=true]")
    assert page.inner_text("#param-repeated-inspection-window_days-error")
    page.fill(f"{row} input[name=window_days]", "60")
    page.fill(f"{row} input[name=max_inspections]", "3")
    page.click(f"{row} button.primary")
    page.wait_for_selector(f"{row} .saved:text('已保存')")
    rules = httpx.get(f"{srv.url}{API}/rules/repeated-inspection", headers=login(srv, "esup"))
    assert rules.json()["parameters"] == {"max_inspections": 3, "window_days": 60}
    page.screenshot(path=str(artifacts / "supervision-rules.png"))
    assert not errors, errors


def test_a_member_of_staff_who_is_not_a_supervisor_is_refused_and_the_page_reads_in_english(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path
) -> None:
    srv, _ = server
    supervised_district(srv.database_url)
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))

    # The dispatcher is staff, but not a supervisor: the API refuses, so does the page.
    sign_in(page, srv, PAGE, "dispatcher")
    page.wait_for_selector("#refused:not([hidden])")
    assert page.locator("#board").is_hidden()
    assert "没有执法监督权限" in page.inner_text("#refused")
    refused = httpx.get(f"{srv.url}{API}/flags", headers=login(srv, "dispatcher"))
    assert refused.status_code == 403
    page.screenshot(path=str(artifacts / "supervision-refused.png"))

    # The supervisor, in English.
    english = browser.new_page(viewport=DESKTOP, locale="en-GB")
    english.on("pageerror", lambda error: errors.append(error))
    sign_in(english, srv, f"{PAGE}?lang=en", "esup")
    english.wait_for_selector("#flags-empty:not([hidden])")
    assert english.inner_text("#tab-flags").startswith("Flags")
    assert "Evaluate now" in english.inner_text("#flags-empty")
    english.click("#evaluate")
    english.wait_for_selector("#flag-rows tr[data-rule=too-few-officers]")
    assert "Serious" in english.inner_text("#flag-rows tr[data-rule=too-few-officers]")
    english.click("#flag-rows tr[data-rule=too-few-officers]")
    english.wait_for_selector("#subject-body .subject-steps")
    assert "Started on site" in english.inner_text("#subject-body")
    english.screenshot(path=str(artifacts / "supervision-english.png"))

    # Dismissed: not without the reason, which the form asks for next to the field.
    english.click("#flag-actions [data-action=dismiss]")
    english.click("#action-form button[type=submit]")
    english.wait_for_selector("#action-note[aria-invalid=true]")
    assert english.inner_text("#action-note-error") == "Give the reason"
    english.fill("#action-note", "两名执法人员在场，另一人的记录漏登，已补录")
    english.click("#action-form button[type=submit]")
    english.wait_for_selector("#flag[data-state=dismissed]")
    assert english.inner_text("#flag-state") == "Dismissed"

    # A complaint from the public entrance reaches the supervisor, who takes it up and
    # answers it; the complainant reads the answer by the ticket.
    sent = httpx.post(f"{srv.url}/api/v1/public/enforcement/complaints", data={
        "what": "检查时未出示执法证件，态度粗暴", "place": "民权路56号3楼",
        "happened_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
    })  # fmt: skip
    assert sent.status_code == 201, sent.text
    ticket = sent.json()["ticket"]
    english.reload()
    english.wait_for_selector("#tab-complaints:not([hidden])")
    english.click("#tab-complaints")
    english.click(f"#complaint-rows tr:has-text('{ticket}')")
    english.click("#complaint button:text('Take it up')")
    english.fill("#complaint-answer", "经核查，执法人员已出示证件，已提醒其文明执法。")
    english.click("#complaint form button[type=submit]")
    english.wait_for_selector("#complaint-rows tr[data-state=answered]")
    tracked = httpx.get(f"{srv.url}/api/v1/public/enforcement/complaints/{ticket}")
    assert tracked.json()["answer"] == "经核查，执法人员已出示证件，已提醒其文明执法。"
    assert not errors, errors
