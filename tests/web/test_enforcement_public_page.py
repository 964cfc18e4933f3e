"""The public entrance of law enforcement in a real browser on a phone-sized screen: a
business signs in with its credit code and the code texted to its registered phone, sees
its rectification notice and the days left, downloads it and uploads proof with a photo;
a member of the public finds a published decision and a plan's results, and complains
about how officers acted, getting a ticket to follow the answer by."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from tests.enforcement.public import scenario
from tests.factories import DISTRICT, PASSWORD, migrated_district
from tests.serverproc import ServerProcess

from cityops.enforcement.businesses.service import load_seed as load_businesses
from cityops.enforcement.inspections.models import Inspection, RectificationNotice
from cityops.enforcement.registries.service import SEED_REFERENCE_DAY, load_seed
from cityops.kit.storage import LocalStorage
from cityops.org.models import Region

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
TICKET = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")
ENTRANCE = "/api/v1/public/enforcement/agencies"


@pytest.fixture
def entrance(
    fresh_database_url: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, Path, scenario.Story]]:
    """The test district with the shipped enforcement registries and business directory of
    解放碑 and 七星岗, the café's story (`tests.enforcement.public.scenario`), served by a
    real server whose text messages land in a file; that file; the story."""
    migrated_district(fresh_database_url)
    engine = create_engine(fresh_database_url)
    with Session(engine) as session:
        for code, name in ((scenario.JIEFANGBEI, "解放碑街道"), ("500103008", "七星岗街道")):
            if session.get(Region, code) is None:
                session.add(Region(code=code, level="street", name=name, parent_code=DISTRICT))
        session.flush()
        load_seed(session, today=SEED_REFERENCE_DAY)
        load_businesses(session)
        story = scenario.build(session, LocalStorage(tmp_path / "blobs"), datetime.now(UTC),
                               PASSWORD)  # fmt: skip
        session.commit()
    engine.dispose()
    sms = tmp_path / "sms.jsonl"
    env = {"CITYOPS_SMS_BACKEND": "file", "CITYOPS_SMS_FILE": str(sms)}
    proc = ServerProcess(fresh_database_url, tmp_path, extra_env=env)
    proc.start(timeout=90)  # a busy machine takes its time to import the application
    try:
        yield proc, sms, story
    finally:
        proc.stop()


def _sms_code(sms: Path, phone: str, timeout: float = 5.0) -> str:
    """The six digits of the last code sent to `phone`, as its owner reads them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sms.exists():
            texts = [m["text"] for line in sms.read_text(encoding="utf-8").splitlines()
                     if (m := json.loads(line))["phone"] == phone]  # fmt: skip
            if texts:
                found = re.search(r"\d{6}", texts[-1])
                assert found, texts[-1]
                return found.group()
        time.sleep(0.1)
    raise AssertionError(f"no text message to {phone} in {sms}")


def _jpeg(path: Path) -> Path:
    """A photo of the cleared exit, as the phone's camera stands in for."""
    image = np.full((480, 640, 3), 200, dtype=np.uint8)
    cv2.rectangle(image, (220, 80), (420, 460), (40, 140, 40), thickness=-1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def _screenshot(page: Any, path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def _phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)  # fmt: skip
    return context.new_page()


def test_a_business_signs_in_sees_its_deadline_and_sends_proof(
    entrance: tuple[ServerProcess, Path, scenario.Story],
    browser: Any,
    tmp_path: Path,
    artifacts: Path,
    request: pytest.FixtureRequest,
) -> None:
    srv, sms, story = entrance
    run = request.node.callspec.id
    page = _phone(browser)
    page.goto(f"{srv.url}/enforcement/public/#business")
    assert page.inner_text("h1") == "执法公开"
    assert page.get_attribute("#tab-business", "aria-selected") == "true"

    page.fill("#credit-code", scenario.CAFE.lower())
    page.click("#biz-send")
    page.wait_for_selector("#biz-sent:not([hidden])")
    assert "139****0001" in page.inner_text("#biz-sent")
    assert re.fullmatch(r"\d+ 秒后可重发", page.inner_text("#biz-send"))
    _screenshot(page, artifacts / f"enforcement-public-signin-{run}.png")
    page.fill("#biz-code", "000000")
    page.click("#biz-signin")
    page.wait_for_selector("[data-error-for=biz_code]:not([hidden])")
    assert "验证码错误" in page.inner_text("[data-error-for=biz_code]")
    page.fill("#biz-code", _sms_code(sms, scenario.CAFE_PHONE))
    page.click("#biz-signin")
    page.wait_for_selector(".notice-card")
    assert page.inner_text("#biz-name") == "渝中区极速网咖"

    card = page.locator(".notice-card")
    assert story.notice_number in card.inner_text()
    assert "整改期限" in card.locator(".deadline").inner_text()
    assert card.locator(".deadline .days").inner_text() == "剩余 10 天"
    assert card.locator(".lines li").count() == 2
    assert "剩余 3 天" in card.locator(".lines").inner_text()
    assert "西侧安全出口被货架和纸箱堵塞" in card.locator(".lines").inner_text()
    decision = page.locator(".my-decision")
    assert "罚款人民币5,000元" in decision.inner_text() and "加处罚款" in decision.inner_text()
    _screenshot(page, artifacts / f"enforcement-public-business-{run}.png")

    with page.expect_download() as download:
        card.locator("button.pdf").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("综合检查整改通知书")

    proof = card.locator("form.proof")
    proof.locator("input[type=file]").set_input_files(str(_jpeg(tmp_path / "IMG_0002.jpg")))
    proof.locator(".thumbs img").wait_for()
    proof.locator("button[type=submit]").click()
    page.wait_for_selector("[data-error-for=note]:not([hidden])")  # the note is needed too
    proof.locator("textarea").fill("已清除安全出口处的货架和纸箱，营业时间已调整。")
    proof.locator("button[type=submit]").click()
    page.wait_for_selector(".proof-done")
    assert "1 张照片" in page.inner_text(".proof-done")
    _screenshot(page, artifacts / f"enforcement-public-proof-{run}.png")

    engine = create_engine(srv.database_url)
    with Session(engine) as session:
        notice = session.scalar(select(RectificationNotice).where(
            RectificationNotice.id == story.notice_id))  # fmt: skip
        inspection = session.get(Inspection, story.visit_id)
        assert notice is not None and inspection is not None
        assert len(notice.proof_keys) == 1 and "安全出口" in notice.proof_note
        assert inspection.state == "reinspection_due"
    engine.dispose()

    page.click("#signout")
    assert page.is_visible("#signin") and page.is_hidden("#mine")


def test_the_public_finds_a_decision_and_complains(
    entrance: tuple[ServerProcess, Path, scenario.Story],
    browser: Any,
    artifacts: Path,
    request: pytest.FixtureRequest,
) -> None:
    srv, _sms, story = entrance
    run = request.node.callspec.id
    page = _phone(browser)
    page.goto(f"{srv.url}/enforcement/public/")
    page.wait_for_selector(".decision")  # the latest published decisions, before any search
    page.fill("#q", "极速")
    page.click("#search button[type=submit]")
    page.wait_for_function("document.querySelectorAll('.decision').length === 1")
    decision = page.locator(".decision")
    assert decision.locator("h3").inner_text() == "渝中区极速网咖"
    text = decision.inner_text()
    assert story.decision_number in text and scenario.CAFE in text
    assert "罚款人民币5,000元" in text and "2026年11月1日" in text
    assert page.inner_text("#found") == "共 1 条"
    _screenshot(page, artifacts / f"enforcement-public-decision-{run}.png")

    page.fill("#q", "")
    page.click("#search button[type=submit]")
    page.wait_for_function("document.querySelectorAll('.decision').length === 2")
    assert "张**" in page.inner_text("#results") and scenario.CITIZEN_NAME not in page.content()

    page.click("#lang")  # the same page in English, and back
    assert page.inner_text("#tab-lookup") == "Look up" and "Penalty" in page.inner_text("#results")
    page.click("#lang")
    assert page.inner_text("#tab-lookup") == "公示查询"

    page.check("input[name=kind][value=plans]")
    page.wait_for_selector(".plan")
    plan = page.locator(".plan")
    assert "从 12 家中抽取 2 家" in plan.inner_text() and "20261116" in plan.inner_text()
    assert plan.locator(".badge.result-rectification").inner_text() == "责令整改"
    _screenshot(page, artifacts / f"enforcement-public-plans-{run}.png")

    page.click("#tab-complain")
    page.wait_for_selector("#complaint:visible")
    page.fill("#what", "执法人员检查时未出示执法证件，态度粗暴。")
    page.select_option("#c-agency", label="重庆市渝中区城市管理综合行政执法支队")
    page.fill("#happened", "2026-11-20T15:30")
    page.fill("#c-phone", "13912345678")
    page.click("#c-submit")
    page.wait_for_selector("[data-error-for=place]:not([hidden])")
    page.wait_for_selector("[data-error-for=code]:not([hidden])")
    assert page.inner_text("[data-error-for=place]") == "请填写发生地点"
    _screenshot(page, artifacts / f"enforcement-public-complaint-form-{run}.png")
    page.fill("#c-phone", "")
    page.fill("#place", "解放碑步行街八一路口")
    page.click("#c-submit")
    page.wait_for_selector("#c-done:not([hidden])")
    ticket = page.inner_text("#c-ticket")
    assert TICKET.match(ticket), ticket
    page.click("#follow button[type=submit]")
    page.wait_for_selector("#followed:not([hidden])")
    assert page.inner_text("#f-state") == "已受理，等待执法监督人员办理"
    assert page.inner_text("#f-agency") == "重庆市渝中区城市管理综合行政执法支队"
    _screenshot(page, artifacts / f"enforcement-public-complaint-{run}.png")

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    desk.goto(f"{srv.url}/enforcement/public/")
    desk.wait_for_selector(".decision")
    desk.screenshot(path=str(artifacts / f"enforcement-public-desktop-{run}.png"))
