"""Hotline intake and call-backs (回访) on the dispatcher's console, in a real browser: a
call-taker takes a call with the classifier's help and a click on the map, the case goes round
the loop, and a dissatisfied resident's call-back reopens it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from tests.factories import GRID_A, GRIDS, migrated_district
from tests.serverproc import ServerProcess
from tests.web.helpers import act, case, department, sign_in

from cityops.citizens.service import load_services

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
# The test district's outline, as the intake map draws it (the call-taker's scope).
DISTRICT_BOX = (106.570, 29.560, 106.578, 29.562)
CALL = "解放碑路口垃圾桶旁边堆了一大堆生活垃圾，好几天没人清理，很臭"


@pytest.fixture
def hotline_server(fresh_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """The test district with the residents' services of its classes, which teach the
    classifier the residents' words; served by a real `cityops serve`."""
    migrated_district(fresh_database_url)
    engine = create_engine(fresh_database_url)
    with Session(engine) as session:
        load_services(session, datetime.now(UTC))
        session.commit()
    engine.dispose()
    env = {"CITYOPS_SMS_BACKEND": "file", "CITYOPS_SMS_FILE": str(tmp_path / "sms.jsonl")}
    proc = ServerProcess(fresh_database_url, tmp_path, extra_env=env)
    proc.start()
    yield proc
    proc.stop()


def _click_on_map(page: Any, lon: float, lat: float) -> None:
    """Click the intake map at (lon, lat), placed by the district outline the map shows;
    at this size the map's projection is linear to well under a pixel."""
    box = page.locator("#call-map path").first.bounding_box()
    west, south, east, north = DISTRICT_BOX
    x = box["x"] + (lon - west) / (east - west) * box["width"]
    y = box["y"] + (north - lat) / (north - south) * box["height"]
    page.mouse.click(x, y)


def _close(server: ServerProcess, case_id: int) -> None:
    """Take the case round the loop to closed, each step by the role whose step it is."""
    hw = department(server, "HW")
    steps = {
        # a caller's report is checked on site first, like every report not made by staff
        "reported": ("call_taker", "send_verify", {}),
        "verifying": ("inspector", "verify", {"outcome": "confirmed"}),
        "accepted": ("shift_leader", "file", {}),
        "filed": ("dispatcher", "dispatch", {"department_id": hw}),
        "handling": ("handler", "report_handled", {"note": "已清运"}),
        "handled": ("call_taker", "send_check", {}),
        "checking": ("inspector", "check", {"outcome": "pass"}),
        "checked": ("shift_leader", "close", {}),
    }
    state = case(server, case_id)["state"]
    for _ in range(len(steps)):
        if state == "closed":
            return
        username, action, body = steps[state]
        state = act(server, username, case_id, action, **body)["state"]
    assert state == "closed"


def test_a_call_taker_takes_a_call_and_a_dissatisfied_call_back_reopens_the_case(
    hotline_server: ServerProcess, browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv = hotline_server
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/console/", "call_taker")
    page.wait_for_selector("#status.online")
    assert page.is_visible("#desks")  # a call-taker's desks: intake and call-backs

    # n opens the intake; the classifier's guesses follow the typing.
    page.keyboard.press("n")
    page.wait_for_selector("#hotline-form", state="visible")
    page.type("#call-text", CALL, delay=5)
    # Sure enough to route by itself: the first class comes preselected, and the hint says so.
    page.wait_for_selector("#call-routing:has-text('自动分类')")
    first = page.locator("#call-suggestions label.suggestion").first
    assert first.inner_text().startswith("暴露垃圾")
    assert re.search(r"\d+%", first.inner_text())
    assert page.is_checked("#call-suggestions input[value=E0102]")
    page.click("#call-suggestions input[value=E0102]")  # confirmed: the call-taker's choice
    assert page.inner_text("#call-routing") == "已选类别：暴露垃圾"

    page.wait_for_selector("#call-map path")  # the district drawn, to click in
    grid_lon, grid_lat = GRIDS[GRID_A]
    _click_on_map(page, grid_lon + 0.001, grid_lat + 0.001)
    lat, lon = float(page.input_value("#call-lat")), float(page.input_value("#call-lon"))
    assert grid_lon < lon < grid_lon + 0.002
    assert grid_lat < lat < grid_lat + 0.002
    page.fill("#call-address", "解放碑步行街 8 号")
    page.fill("#call-name", "王先生")
    page.fill("#call-phone", "13800138000")
    page.keyboard.press("Control+Enter")

    outcome = page.wait_for_selector("#call-outcome:visible")
    ticket = page.inner_text("#call-outcome .ticket")
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", ticket)
    assert "已选类别" in outcome.inner_text()
    assert "已并入" not in outcome.inner_text()  # the first report of this problem
    detail = page.wait_for_selector("#detail[data-case-id]")
    case_id = int(detail.get_attribute("data-case-id"))
    assert page.inner_text("#call-outcome .case-link") == case(srv, case_id)["number"]
    assert CALL in page.inner_text("#detail .description")
    requests = page.wait_for_selector("#case-requests li")
    assert "热线" in requests.inner_text()
    assert "13800138000" in requests.inner_text()  # in full: a call-taker calls back
    assert page.input_value("#call-text") == ""  # ready for the next call
    page.screenshot(path=str(artifacts / f"console-hotline-{request.node.callspec.id}.png"))

    # The case goes round the loop and closes; it is now due for a call-back.
    _close(srv, case_id)
    page.keyboard.press("Escape")  # out of the intake's text, which is ready for the next call
    page.keyboard.press("c")
    card = page.wait_for_selector(f"#callback-list li[data-request-id]:has-text('{ticket}')")
    assert "13800138000" in card.inner_text()
    assert "王先生" in card.inner_text()
    card.query_selector("input[name=reached][value=yes]").check()
    card.query_selector("input[name=rating][value=dissatisfied]").check()
    card.query_selector("textarea[name=note]").fill("市民称垃圾仍未清理干净")
    page.screenshot(path=str(artifacts / f"console-callback-{request.node.callspec.id}.png"))
    card.query_selector("button[type=submit]").click()

    notice = page.wait_for_selector("#callback-notice:visible")
    assert "不满意" in notice.inner_text()
    assert "重新打开" in notice.inner_text()
    page.wait_for_selector(f"#callback-list li:has-text('{ticket}')", state="detached")
    reopened = case(srv, case_id)
    assert reopened["state"] == "reported"

    # Back in the call-taker's to-accept queue, the case shows what the resident said.
    page.keyboard.press("1")
    page.click(f"#rows tr[data-case-id='{case_id}']")  # found afresh: the list reloads live
    page.wait_for_selector("#detail[data-state=reported]")
    calls = page.wait_for_selector("#case-requests .calls li")
    assert "不满意" in calls.inner_text()
    assert "市民称垃圾仍未清理干净" in calls.inner_text()
    page.screenshot(path=str(artifacts / f"console-reopened-{request.node.callspec.id}.png"))
    page.close()

    # A dispatcher neither takes calls nor calls residents back: no such desks, no such keys.
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/console/", "dispatcher")
    page.wait_for_selector("#status.online")
    page.keyboard.press("n")
    assert page.is_hidden("#desks")
    assert page.is_hidden("#hotline")
    assert page.is_visible("#list")
    page.close()
