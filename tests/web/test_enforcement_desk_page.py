"""The enforcement desk (执法工作台) in a real browser, with the shipped registries and
business directory of 渝中区: the 解放碑 street team's officer plans a joint inspection (综合查一次)
of the internet café, the agencies proposed by its type shown with their reasons, one left
out, and sends the invitations; the fire brigade's lead accepts on the desk, the officers'
certificates checked as they are ticked; a penalty case goes from filing to decision, the fine
checked against the benchmark as it is typed and refused outside it until a reason is given;
a random plan (双随机) is drawn with its seed shown, approved and published; an inspection's
merged checklist with its photos, the combined notice issued, opened and served, the
re-inspection escalating it and the finding opened as the fire brigade's case; the page in
English."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
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
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import Officer
from cityops.org.models import Person, Region

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
DESK = "/enforcement/"
API = "/api/v1/enforcement"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JIEFANGBEI, QIXINGGANG = "500103010", "500103008"
CAFE = "渝中区极速网咖"
# The people at the desk, each tied to an officer row of the sample (their agency):
# username → (name, roles, certificate number of their officer row, or None).
STAFF = {
    "jfb": ("孙浩", ["officer"], "500103-JFB-0001"),  # 解放碑街道综合行政执法大队
    "jfb_lead": ("马超", ["enforcement_lead"], "500103-JFB-0002"),
    "xf_lead": ("张伟", ["enforcement_lead"], "500103-XF-0001"),  # 渝中区消防救援支队
    "reviewer": ("法制审核员", ["legal_reviewer"], None),
}


def local_today() -> date:
    """The server runs on the real clock: the data is laid out around its today."""
    return datetime.now(SHANGHAI).date()


def enforcement_district(url: str) -> None:
    """Beside the test district: the sample's two streets, the shipped registries (their
    certificate dates as they stand to today) and business directory, and the desk's staff,
    committed."""
    engine = create_engine(url)
    with Session(engine) as s:
        for code, name in ((JIEFANGBEI, "解放碑街道"), (QIXINGGANG, "七星岗街道")):
            s.add(Region(code=code, level="street", name=name, parent_code=DISTRICT))
        s.flush()
        registries.load_seed(s, today=local_today())
        businesses.load_seed(s)
        officers = {o.certificate_number: o for o in s.scalars(select(Officer))}
        for username, (name, roles, certificate) in STAFF.items():
            person = Person(code=username, name=name, roles=roles, scope_code=DISTRICT, active=True)
            s.add(person)
            s.flush()
            s.add(Account(person_id=person.id, username=username, active=True,
                          password_hash=hash_password(PASSWORD), token_version=0))  # fmt: skip
            if certificate:
                officers[certificate].person_id = person.id
        s.commit()
    engine.dispose()


@pytest.fixture
def desk(server: tuple[ServerProcess, str]) -> ServerProcess:
    """The test district's server (tests/web/conftest.py) with the enforcement sample."""
    proc, _ = server
    enforcement_district(proc.database_url)
    return proc


def get(server: ServerProcess, username: str, path: str) -> Any:
    r = httpx.get(f"{server.url}{API}{path}", headers=login(server, username))
    assert r.status_code == 200, r.text
    return r.json()


def open_desk(browser: Any, server: ServerProcess, username: str, path: str = DESK) -> Any:
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    page.errors = errors
    sign_in(page, server, path, username)
    page.wait_for_selector("#desk:not([hidden])")
    return page


def officer_id(server: ServerProcess, certificate: str) -> int:
    found = get(server, "jfb", f"/officers?text={certificate}")["items"]
    return int(found[0]["id"])


def test_a_street_officer_plans_a_joint_inspection_and_another_agency_accepts(
    desk: ServerProcess, browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    run = request.node.callspec.id
    page = open_desk(browser, desk, "jfb")
    assert "解放碑街道综合行政执法大队" in page.inner_text("#my-agency strong")

    # 综合查一次: the café found by a word of its name, the agencies its type calls for proposed
    # with the items that bring them; public security left out.
    page.click("#new-joint")
    page.fill(".joint-plan input[type=search]", "极速")
    page.click(f".search-results button:has-text('{CAFE}')")
    page.wait_for_selector(".joint-plan fieldset[data-field=agency_ids] label.check")
    proposed = page.inner_text(".joint-plan .proposals")
    for agency in ("重庆市渝中区消防救援支队", "重庆市渝中区市场监督管理局",
                   "重庆市渝中区文化市场综合行政执法支队", "重庆市公安局渝中区分局"):  # fmt: skip
        assert agency in proposed
    assert "对占用、堵塞、封闭疏散通道" in proposed  # the fire brigade's reason: its items
    police = page.get_attribute(".joint-plan label.check:has-text('公安') input", "value")
    page.uncheck(f".joint-plan input[name=agency_ids][value='{police}']")
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    page.fill(".joint-plan input[name=scheduled_at]", f"{tomorrow}T09:30")

    # Too few officers: the API's refusal is shown next to the officers.
    page.check(".joint-plan label[data-officer-id] >> nth=0")
    page.click(".joint-plan button[type=submit]")
    error = page.wait_for_selector(".joint-plan .field-error[data-error-for=officer_ids]")
    assert error.inner_text()
    page.check(".joint-plan label[data-officer-id] >> nth=1")
    page.wait_for_selector(".joint-plan .officer-pick .hint:has-text('核验通过')")
    page.screenshot(path=str(artifacts / f"desk-joint-plan-{run}.png"))
    page.click(".joint-plan button[type=submit]")
    page.wait_for_selector(".plan-detail")
    plan_id = int(page.get_attribute(".plan-detail", "data-plan-id"))
    plan = get(desk, "jfb", f"/plans/{plan_id}")
    assert plan["kind"] == "joint" and len(plan["inspections"]) == 1
    visit_id = plan["inspections"][0]["id"]
    visit = get(desk, "jfb", f"/inspections/{visit_id}")
    answers = {a["name"]: a["state"] for a in visit["agencies"]}
    assert answers == {
        "渝中区解放碑街道综合行政执法大队": "accepted",
        "重庆市渝中区消防救援支队": "invited",
        "重庆市渝中区市场监督管理局": "invited",
        "重庆市渝中区文化市场综合行政执法支队": "invited",
    }
    assert page.errors == []
    page.close()

    # The fire brigade's lead: the invitation waits on the desk; an officer whose certificate
    # expires soon is flagged as they are ticked, the answer goes with two officers.
    page = open_desk(browser, desk, "xf_lead", f"{DESK}#invitations")
    card = page.wait_for_selector(f".invitation[data-id='{visit_id}']")
    assert page.inner_text("#invitation-count") == "1"
    assert CAFE in card.inner_text() and "解放碑街道综合行政执法大队" in card.inner_text()
    wang = officer_id(desk, "500103-XF-0003")
    page.check(f".invitation label[data-officer-id='{wang}'] input")
    page.wait_for_selector(f".invitation label[data-officer-id='{wang}'] .problem")
    page.check(f".invitation label[data-officer-id='{officer_id(desk, '500103-XF-0001')}'] input")
    page.wait_for_selector(".invitation .officer-pick .hint:has-text('核验通过')")
    page.screenshot(path=str(artifacts / f"desk-invitation-{run}.png"))
    page.click(".invitation .accept-form button[type=submit]")
    page.wait_for_selector(f".invitation[data-id='{visit_id}'][data-invitation=accepted]")
    fire = next(a for a in get(desk, "xf_lead", f"/inspections/{visit_id}")["agencies"]
                if a["code"] == "YZ-XFJY")  # fmt: skip
    assert fire["state"] == "accepted"
    assert {o["name"] for o in fire["officers"]} == {"张伟", "王强"}

    # The inspection as the desk shows it: every agency with its answer and officers.
    page.click(f".invitation[data-id='{visit_id}'] h3 a")
    detail = page.wait_for_selector(f".inspection-detail[data-inspection-id='{visit_id}']")
    assert "张伟" in detail.inner_text() and "待答复" in detail.inner_text()
    page.screenshot(path=str(artifacts / f"desk-inspection-{run}.png"))
    assert page.errors == []
    page.close()


def act_on_case(page: Any, action: str) -> Any:
    """Open the action's form on the case shown."""
    page.click(f".case-detail button[data-action={action}]")
    return page.wait_for_selector(f"form[data-action-form={action}]")


def submit(page: Any, action: str, stage: str) -> None:
    page.click(f"form[data-action-form={action}] button[type=submit]")
    page.wait_for_selector(f".case-detail[data-stage={stage}]")


def test_a_penalty_case_goes_from_filing_to_decision_with_the_fine_checked(
    desk: ServerProcess, browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    run = request.node.callspec.id
    # 立案申请: the street team's officer proposes the café's case with both its officers.
    page = open_desk(browser, desk, "jfb", f"{DESK}#case/new")
    page.select_option(".open-case select[name=item_code]", "XF-CF-001")
    page.fill(".open-case input[type=search]", "极速")
    page.click(f".search-results button:has-text('{CAFE}')")
    assert page.input_value(".open-case select[name=region_code]") == JIEFANGBEI
    violation = (local_today() - timedelta(days=3)).isoformat()
    page.fill(".open-case input[name=violation_on]", violation)
    page.fill(".open-case textarea[name=facts]", "营业期间锁闭安全出口，疏散通道堆放杂物")
    page.wait_for_selector(".open-case label[data-officer-id]")
    for box in page.query_selector_all(".open-case label[data-officer-id] input"):
        box.check()
    page.click(".open-case button[type=submit]")
    page.wait_for_selector(".case-detail[data-stage=filing]")
    case_id = int(page.get_attribute(".case-detail", "data-case-id"))
    assert page.locator(".case-detail button[data-action]").count() == 0  # the lead files
    page.close()

    # 批准立案 by the team's lead; the filing approval form opens as a PDF.
    page = open_desk(browser, desk, "jfb_lead", f"{DESK}#case/{case_id}")
    act_on_case(page, "approve_filing")
    page.fill("form[data-action-form=approve_filing] textarea[name=note]", "同意立案")
    submit(page, "approve_filing", "investigating")
    with page.expect_response(lambda r: r.url.endswith(".pdf")) as pdf, page.expect_popup():
        page.click(".case-detail .timeline li[data-step=filed] button.doc")
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"
    page.close()

    # 调取证据 by two officers, then the proposal: a fine above the benchmark's range for the
    # grade is flagged as it is typed and refused until the reason is written.
    page = open_desk(browser, desk, "jfb", f"{DESK}#case/{case_id}")
    act_on_case(page, "collect_evidence")
    page.fill(
        "form[data-action-form=collect_evidence] textarea[name=items]",
        "现场照片3张\n安全出口锁闭视频1段",
    )
    page.wait_for_selector(
        "form[data-action-form=collect_evidence] .officer-pick .hint:has-text('核验通过')"
    )
    submit(page, "collect_evidence", "investigating")
    act_on_case(page, "propose")
    form = "form[data-action-form=propose]"
    page.fill(f"{form} input[name=fine]", "30000")
    page.wait_for_selector(f"{form} .fine-check[data-within=true]")
    assert "15,000 元–35,000 元" in page.inner_text(f"{form} .fine-check")
    page.fill(f"{form} input[name=fine]", "40000")
    page.wait_for_selector(f"{form} .fine-check[data-within=false]")
    assert "超出裁量基准" in page.inner_text(f"{form} .fine-check")
    page.click(f"{form} button[type=submit]")
    refused = page.wait_for_selector(f"{form} .field-error[data-error-for=departure_reason]")
    assert "理由" in refused.inner_text()
    assert get(desk, "jfb", f"/penalty-cases/{case_id}")["stage"] == "investigating"
    page.screenshot(path=str(artifacts / f"desk-fine-check-{run}.png"))
    page.fill(
        f"{form} textarea[name=departure_reason]", "人员密集场所营业期间锁闭安全出口，情节较重"
    )
    submit(page, "propose", "reviewing")  # outside the benchmark: legal review
    page.close()

    # 法制审核 by the district's legal reviewer.
    page = open_desk(browser, desk, "reviewer", f"{DESK}#case/{case_id}")
    act_on_case(page, "pass_review")
    submit(page, "pass_review", "notifying")
    page.close()

    # 事先告知, the party's statement, then the lead's decision with the fine as proposed.
    page = open_desk(browser, desk, "jfb", f"{DESK}#case/{case_id}")
    act_on_case(page, "serve_notice")
    submit(page, "serve_notice", "notified")
    act_on_case(page, "record_statement")
    page.fill(
        "form[data-action-form=record_statement] textarea[name=statement]", "当事人表示已当场整改"
    )
    submit(page, "record_statement", "deciding")
    page.close()
    page = open_desk(browser, desk, "jfb_lead", f"{DESK}#case/{case_id}")
    act_on_case(page, "decide")
    page.wait_for_selector("form[data-action-form=decide] .fine-check[data-within=false]")
    assert page.input_value("form[data-action-form=decide] input[name=fine]") == "40000"
    submit(page, "decide", "decided")
    decided = get(desk, "jfb_lead", f"/penalty-cases/{case_id}")
    assert decided["fine"] == 40000 and decided["departure_reason"].startswith("人员密集场所")
    steps = page.inner_text(".case-detail .timeline")
    done = ("提出立案申请", "批准立案", "调取证据", "拟定处罚意见", "法制审核通过",
            "送达事先告知书", "陈述申辩", "作出决定")  # fmt: skip
    for step in done:
        assert step in steps
    assert "孙浩" in steps and "马超" in steps
    assert page.locator(".case-detail .timeline button.doc").count() >= 3
    assert "40,000 元" in page.inner_text(".case-detail dd[data-fact=fine]")
    deadlines = page.inner_text(".case-detail table.deadlines")
    assert "送达期限" in deadlines and "公示期限" in deadlines
    # In the list: the light and the days left to the stage's due date (service).
    row = page.wait_for_selector(f"#case-rows tr[data-id='{case_id}']")
    assert row.query_selector(".light[data-light=green]") is not None
    assert "剩" in row.inner_text()
    page.screenshot(path=str(artifacts / f"desk-case-{run}.png"))
    assert page.errors == []
    page.close()


def test_a_random_plan_is_drawn_with_its_seed_approved_and_published(
    desk: ServerProcess, browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    run = request.node.callspec.id
    page = open_desk(browser, desk, "jfb")
    page.click("#new-random")
    page.wait_for_selector(".random-plan input[name=item_codes]:checked")
    assert page.input_value(".random-plan select[name=region_code]") == JIEFANGBEI
    page.check(".random-plan input[name=type_codes][value=internet-cafe]")
    page.fill(".random-plan input[name=target_count]", "2")
    page.click(".random-plan button[type=submit]")
    page.wait_for_selector(".plan-detail[data-state=draft]")
    plan_id = int(page.get_attribute(".plan-detail", "data-plan-id"))

    # 抽取 with a seed: the seed, how many were drawn from how many, the digest, and what
    # was drawn — the two cafés of 解放碑 and, for each, the two officers of the team.
    page.fill(".draw-form input[name=seed]", "20261125")
    page.click(".draw-form button[type=submit]")
    page.wait_for_selector(".plan-detail [data-draw]")
    plan = get(desk, "jfb", f"/plans/{plan_id}")
    assert page.inner_text(".plan-detail dd[data-fact=seed]") == "20261125" == str(plan["seed"])
    assert page.inner_text(".plan-detail dd[data-fact=candidates]") == (
        f"从 {plan['draw']['candidates']} 户中抽取 2 户"
    )
    assert page.inner_text(".plan-detail dd[data-fact=digest]") == plan["draw"]["candidates_digest"]
    drawn = page.inner_text(".plan-detail table.drawn")
    for visit in plan["inspections"]:
        assert visit["business_name"] in drawn
    assert drawn.count("孙浩") == 2 and drawn.count("马超") == 2
    page.click(".plan-detail button:has-text('复核抽取')")
    page.wait_for_selector(".plan-detail [data-draw] .hint:has-text('复核一致')")
    page.screenshot(path=str(artifacts / f"desk-random-draw-{run}.png"))
    page.click(".plan-detail button[data-plan-action=submit]")
    page.wait_for_selector(".plan-detail[data-state=submitted]")
    assert page.locator(".plan-detail button[data-plan-action=approve]").count() == 0
    page.close()

    # The lead approves and publishes (公开); the plan is public with its seed.
    page = open_desk(browser, desk, "jfb_lead", f"{DESK}#plan/{plan_id}")
    page.click(".plan-detail button[data-plan-action=approve]")
    page.wait_for_selector(".plan-detail[data-state=approved]")
    page.click(".plan-detail button[data-plan-action=publish]")
    page.wait_for_selector(".plan-detail dd[data-fact=published]")
    published = get(desk, "jfb_lead", f"/plans/{plan_id}/public")
    assert published["seed"] == 20261125 and len(published["targets"]) == 2
    assert page.locator(".plan-detail button[data-plan-action=publish]").count() == 0
    row = page.wait_for_selector(f"#plan-rows tr[data-id='{plan_id}']")
    assert "已批准" in row.inner_text() and "已公开" in row.inner_text()

    # English: the same plan in the desk's other language.
    page.click("#lang")
    page.wait_for_selector(".plan-detail h3:text-is('The draw')")
    assert page.inner_text("h1") == "Enforcement desk"
    assert page.inner_text(".plan-detail dd[data-fact=candidates]").endswith(
        "drawn from " + str(plan["draw"]["candidates"])
    )
    page.screenshot(path=str(artifacts / f"desk-plan-en-{run}.png"))
    assert page.errors == []
    page.close()


def jpeg(colour: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


def inspected_cafe(server: ServerProcess) -> int:
    """Through the API: the street team's joint inspection of the café with the fire brigade,
    approved, started, every point answered — the fire exit locked (failed, two photos each
    agency) — and finished. Returns the inspection's id."""
    jfb, fire_lead = login(server, "jfb"), login(server, "xf_lead")
    cafe = get(server, "jfb", "/businesses?text=极速")["items"][0]
    fire = get(server, "jfb", "/agencies/YZ-XFJY")
    when = (datetime.now(SHANGHAI) + timedelta(hours=2)).isoformat()
    team = [officer_id(server, "500103-JFB-0001"), officer_id(server, "500103-JFB-0002")]
    body = {"business_id": cafe["id"], "scheduled_at": when, "officer_ids": team,
            "agency_ids": [fire["id"]]}  # fmt: skip
    r = httpx.post(f"{server.url}{API}/plans/joint", headers=jfb, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    visit = plan["inspections"][0]["id"]
    firemen = [officer_id(server, "500103-XF-0001"), officer_id(server, "500103-XF-0002")]
    for url, headers, payload in (
        (f"/inspections/{visit}/agencies/{fire['id']}/accept", fire_lead, {"officer_ids": firemen}),
        (f"/plans/{plan['id']}/submit", jfb, None),
        (f"/plans/{plan['id']}/approve", login(server, "jfb_lead"), None),
        (f"/inspections/{visit}/start", jfb, None),
    ):
        r = httpx.post(f"{server.url}{API}{url}", headers=headers, json=payload)
        assert r.status_code == 200, r.text
    deadline = (local_today() + timedelta(days=7)).isoformat()
    for point in get(server, "jfb", f"/inspections/{visit}")["checklist"]:
        for agency in point["agencies"]:
            failed = point["code"] == "XF-CF-001-01"
            form = {"checklist_item_id": str(point["id"]), "outcome": "fail" if failed else "pass"}
            photos = None
            if failed:
                form |= {"note": "营业期间安全出口上锁", "deadline": deadline,
                         "requirement": "立即拆除门锁，保持疏散通道畅通"}  # fmt: skip
                photos = [("photos", (f"{c}.jpg", jpeg(c), "image/jpeg")) for c in ("red", "blue")]
            headers = fire_lead if agency["id"] == fire["id"] else jfb
            r = httpx.post(f"{server.url}{API}/inspections/{visit}/findings", headers=headers,
                           data=form, files=photos)  # fmt: skip
            assert r.status_code == 201, r.text
    r = httpx.post(f"{server.url}{API}/inspections/{visit}/finish", headers=jfb)
    assert r.status_code == 200 and r.json()["state"] == "findings_recorded", r.text
    return int(visit)


def test_an_inspection_notice_re_inspection_and_penalty_case_on_the_desk(
    desk: ServerProcess, browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    run = request.node.callspec.id
    visit = inspected_cafe(desk)
    page = open_desk(browser, desk, "jfb", f"{DESK}#inspection/{visit}")

    # The merged checklist: the point both agencies check, each one's result with its photos
    # as thumbnails that open in the viewer.
    point = page.wait_for_selector(".check-entry[data-point='XF-CF-001-01']")
    assert point.inner_text().count("不符合") == 2
    assert "渝中区解放碑街道综合行政执法大队" in point.inner_text()
    assert "重庆市渝中区消防救援支队" in point.inner_text()
    page.wait_for_selector(".check-entry[data-point='XF-CF-001-01'] .thumbs img[src^='blob:']")
    page.click(".check-entry[data-point='XF-CF-001-01'] .thumbs button >> nth=0")
    page.wait_for_selector("#lightbox[open] #lightbox-img[src^='blob:']")
    assert page.inner_text("#lightbox-index") == "1 / 2"
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#lightbox-index") == "2 / 2"
    page.keyboard.press("Escape")

    # One combined notice, issued, opened as a PDF, served.
    page.fill(".issue-notice input[name=contact]", "解放碑街道执法大队 023-63000000")
    page.click(".issue-notice button[type=submit]")
    page.wait_for_selector(".inspection-detail dd[data-fact=notice-number]")
    with page.expect_response(lambda r: r.url.endswith("/notice.pdf")) as pdf, page.expect_popup():
        page.click(".inspection-detail button[data-open=notice-pdf]")
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"
    page.click(".serve-notice button[type=submit]")
    page.wait_for_selector(".inspection-detail[data-state=notice_served]")
    assert "直接送达" in page.inner_text(".inspection-detail dd[data-fact=served]")

    # The business's proof comes in; the re-inspection finds the fire brigade's point not
    # rectified: escalated, and its finding offered to the fire brigade as a penalty case.
    r = httpx.post(f"{desk.url}{API}/inspections/{visit}/proof", headers=login(desk, "jfb"),
                   data={"note": "门锁已拆除"},
                   files=[("photos", ("p.jpg", jpeg("green"), "image/jpeg"))])  # fmt: skip
    assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector(".reinspection")
    assert "门锁已拆除" in page.inner_text(".notice-block")
    findings = get(desk, "jfb", f"/inspections/{visit}")["findings"]
    for f in (f for f in findings if f["outcome"] == "fail"):
        answer = "yes" if f["agency_name"].startswith("渝中区解放碑") else "no"
        page.check(f".reinspection input[name='rectified-{f['id']}'][value={answer}]")
    for box in page.query_selector_all(".reinspection label[data-officer-id] input"):
        box.check()
    page.click(".reinspection button[type=submit]")
    page.wait_for_selector(".inspection-detail[data-state=escalated]")
    page.wait_for_selector(".escalation .card")
    assert "由该单位立案" in page.inner_text(".escalation")  # not the street team's to open
    page.screenshot(path=str(artifacts / f"desk-escalated-{run}.png"))
    assert page.errors == []
    page.close()

    page = open_desk(browser, desk, "xf_lead", f"{DESK}#inspection/{visit}")
    page.click(".escalation button[data-open-case]")
    page.wait_for_selector(".case-detail[data-stage=filing]")
    case_id = int(page.get_attribute(".case-detail", "data-case-id"))
    case = get(desk, "xf_lead", f"/penalty-cases/{case_id}")
    assert case["source"] == "inspection" and case["party_name"] == CAFE
    assert case["item_code"] == "XF-CF-001"
    assert page.errors == []
    page.close()
