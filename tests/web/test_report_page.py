"""The residents' pages in a real browser on a phone-sized screen: a resident reports a
problem without an account (category suggested from the text, a photo, a point on the map, a
phone number confirmed by SMS), follows it by its ticket, and rates it once it is closed."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from tests.factories import GRID_A, inside, migrated_district
from tests.serverproc import ServerProcess
from tests.web.helpers import act, department, login

from cityops.citizens.service import load_services

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
MOBILE = "13800138000"
TICKET = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


@pytest.fixture
def resident_server(
    fresh_database_url: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, Path]]:
    """The test district with the residents' services of its catalog, served by a real
    `cityops serve` whose text messages land in a file; and that file."""
    migrated_district(fresh_database_url)
    # The test district is built without residents' services (the migrations add none): load
    # the shipped ones its catalog has classes for, E0102 暴露垃圾 and E0502 占道经营.
    engine = create_engine(fresh_database_url)
    with Session(engine) as session:
        load_services(session, datetime.now(UTC))
        session.commit()
    engine.dispose()
    sms = tmp_path / "sms.jsonl"
    env = {"CITYOPS_SMS_BACKEND": "file", "CITYOPS_SMS_FILE": str(sms)}
    proc = ServerProcess(fresh_database_url, tmp_path, extra_env=env)
    proc.start()
    yield proc, sms
    proc.stop()


def _jpeg(path: Path) -> Path:
    """A small photo of something orange on grey, as a phone's camera stands in for."""
    image = np.full((240, 320, 3), 128, dtype=np.uint8)
    cv2.rectangle(image, (80, 60), (240, 180), (40, 120, 200), thickness=-1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def _sms_code(sms: Path, phone: str, timeout: float = 5.0) -> str:
    """The six digits of the last code sent to `phone`, as the resident reads them."""
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


def _world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel coordinates at `zoom`, as Leaflet places the map's tiles."""
    scale = 256 * 2**zoom
    sin = math.sin(math.radians(lat))
    x = (lon + 180) / 360 * scale
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


def _tap_map_at(page: Any, lon: float, lat: float) -> None:
    """Tap the report map where (`lon`, `lat`) is, from the view the page says it opens at."""
    box = page.locator("#map")
    view = box.evaluate("el => [+el.dataset.lon, +el.dataset.lat, +el.dataset.zoom]")
    size = box.bounding_box()
    cx, cy = _world_px(view[0], view[1], int(view[2]))
    x, y = _world_px(lon, lat, int(view[2]))
    box.click(position={"x": size["width"] / 2 + x - cx, "y": size["height"] / 2 + y - cy})


def _screenshot(page: Any, path: Path) -> None:
    """The whole page from its top, where the sticky header belongs."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def _case_of(server: ServerProcess, description: str) -> int:
    """The case the resident's report opened, found as the call-taker finds it."""
    r = httpx.get(f"{server.url}/api/v1/cases", params={"limit": 50},
                  headers=login(server, "call_taker"))  # fmt: skip
    assert r.status_code == 200, r.text
    # The case's description carries the service's name in front: 【暴露垃圾】...
    (found,) = [c for c in r.json()["items"] if description in c["description"]]
    return int(found["id"])


def _close(server: ServerProcess, case_id: int, answer: str) -> None:
    """The centre works the case to its end: verified, filed, dispatched, handled, checked
    and closed with an answer for the resident."""
    act(server, "call_taker", case_id, "send_verify")
    act(server, "inspector", case_id, "verify", outcome="confirmed", note="现场属实")
    act(server, "shift_leader", case_id, "file")
    act(server, "dispatcher", case_id, "dispatch", department_id=department(server, "HW"))
    act(server, "handler", case_id, "report_handled", note="已清运")
    act(server, "call_taker", case_id, "send_check")
    act(server, "inspector", case_id, "check", outcome="pass")
    act(server, "shift_leader", case_id, "close", note=answer)


def test_a_resident_reports_follows_and_rates_a_problem(
    resident_server: tuple[ServerProcess, Path],
    browser: Any,
    tmp_path: Path,
    artifacts: Path,
    request: pytest.FixtureRequest,
) -> None:
    srv, sms = resident_server
    run = request.node.callspec.id
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
    page = context.new_page()
    page.goto(f"{srv.url}/report/")
    assert page.inner_text("h1") == "我要反映"
    page.wait_for_selector("#services label.service >> nth=2")  # 不确定 and the two services

    # The list is searched on the phone, over names and keywords.
    page.fill("#service-search", "摆摊")
    assert page.locator("#services .service-name").all_inner_texts() == ["不确定，由中心判断",
                                                                         "占道经营"]  # fmt: skip
    page.fill("#service-search", "")

    # Typing the description brings suggestions; the resident taps one.
    description = "小区门口垃圾堆了好几天没人清运，很臭"
    page.fill("#description", description)
    chip = page.locator("#suggestions .chip", has_text="暴露垃圾")
    chip.click()
    assert chip.get_attribute("aria-pressed") == "true"
    assert page.inner_text("#chosen") == "已选：暴露垃圾"

    page.set_input_files("#photo-input", str(_jpeg(tmp_path / "IMG_0001.jpg")))
    page.wait_for_selector("#thumbs img")
    assert page.get_attribute("#thumbs .remove", "aria-label") == "删除第 1 张照片"

    lon, lat = inside(GRID_A)
    _tap_map_at(page, lon, lat)
    point = page.inner_text("#point")
    assert point.startswith("已选位置：")
    shown_lon, shown_lat = (float(v) for v in point.removeprefix("已选位置：").split(", "))
    assert abs(shown_lon - lon) < 0.0002 and abs(shown_lat - lat) < 0.0002
    page.fill("input[name=address]", "解放碑街道某小区东门")

    page.fill("#phone", MOBILE)
    page.click("#send-code")
    page.wait_for_selector("#code-sent:not([hidden])")
    assert re.fullmatch(r"\d+ 秒后可重发", page.inner_text("#send-code"))
    assert page.is_disabled("#send-code")
    page.fill("input[name=code]", _sms_code(sms, MOBILE))
    _screenshot(page, artifacts / f"report-form-{run}.png")

    page.click("#submit")
    page.wait_for_selector("#done:not([hidden])", timeout=10_000)
    ticket = page.inner_text("#ticket")
    assert TICKET.match(ticket), ticket
    assert ticket in page.inner_text("#done-notice")
    assert page.is_hidden("#report")
    assert ticket in page.inner_text("#my-tickets")  # remembered on this phone
    _screenshot(page, artifacts / f"report-ticket-{run}.png")

    page.click("#track-link")
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#r-ticket") == ticket
    assert page.inner_text("#r-status") == "办理中"
    assert page.inner_text("#r-note") == "已收到您的诉求，等待受理。"
    assert page.inner_text("#r-category") == "暴露垃圾"
    assert page.inner_text("#r-place") == "解放碑街道某小区东门"
    assert page.locator("#r-photos img").count() == 1
    assert page.locator("#r-photos img").evaluate("img => img.naturalWidth") > 0  # it loads
    assert page.is_hidden("#rate")

    answer = "已安排环卫清运，并加密该点位巡查频次。"
    case_id = _case_of(srv, description)
    _close(srv, case_id, answer)

    page.reload()
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#r-status") == "已办结"
    assert page.inner_text("#r-answer") == answer
    assert page.locator("#r-notes li").count() >= 2
    page.check("#rate input[value=dissatisfied]")
    page.fill("#rate textarea[name=comment]", "垃圾还在，没有清理干净")
    page.click("#rate button[type=submit]")
    page.wait_for_selector("#r-reopened:not([hidden])")
    assert page.inner_text("#r-reopened") == "您的不满意评价已收到，诉求已重新交办处理。"
    assert page.inner_text("#r-rating-value") == "不满意"
    assert page.inner_text("#r-rating-comment") == "垃圾还在，没有清理干净"
    assert page.inner_text("#r-status") == "办理中"
    assert page.is_hidden("#rate")
    _screenshot(page, artifacts / f"report-track-{run}.png")

    reopened = httpx.get(f"{srv.url}/api/v1/cases/{case_id}", headers=login(srv, "call_taker"))
    assert reopened.json()["state"] == "reported"
    context.close()


def test_the_form_says_what_is_missing_or_wrong_next_to_the_field(
    resident_server: tuple[ServerProcess, Path], browser: Any, tmp_path: Path
) -> None:
    srv, _ = resident_server
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page.goto(f"{srv.url}/report/")
    page.wait_for_selector("#services label.service >> nth=2")

    # Nothing filled in: the page says what is missing before anything is sent.
    page.click("#submit")
    assert page.inner_text("[data-error-for=description]") == "请描述问题"
    assert page.inner_text("[data-error-for=location]") == "请在地图上点选问题位置"

    # Four photos at once: three are kept, the fourth refused.
    files = [str(_jpeg(tmp_path / f"IMG_{i}.jpg")) for i in range(4)]
    page.set_input_files("#photo-input", files)
    page.wait_for_selector("#thumbs figure >> nth=2")
    assert page.locator("#thumbs figure").count() == 3
    assert page.inner_text("[data-error-for=photos]") == "最多 3 张照片"
    assert page.is_hidden("#add-photo")
    page.click("#thumbs .remove >> nth=0")
    assert page.locator("#thumbs figure").count() == 2
    assert page.is_visible("#add-photo")

    # A code asked for a moment ago (on another tab, say): asked again too soon, the server
    # refuses, and the page says so and counts down.
    sent = httpx.post(f"{srv.url}/api/v1/public/phone-codes", json={"phone": MOBILE})
    assert sent.status_code == 202, sent.text
    page.fill("#phone", MOBILE)
    page.click("#send-code")
    too_soon = page.wait_for_selector("[data-error-for=phone]:not([hidden])")
    assert too_soon.inner_text().startswith("验证码已发送，请稍后再获取")
    assert re.fullmatch(r"\d+ 秒后可重发", page.inner_text("#send-code"))

    # A wrong SMS code: the server refuses it, and the page says so beside the code field.
    page.fill("#description", "路边有人摆摊卖水果")
    _tap_map_at(page, *inside(GRID_A))
    page.fill("input[name=code]", "000000")
    page.click("#submit")
    error = page.wait_for_selector("[data-error-for=code]:not([hidden])")
    assert error.get_attribute("role") == "alert"
    assert error.inner_text().startswith("验证码错误或已过期")
    assert page.is_hidden("#done")

    # And in English on request.
    page.click("#lang")
    assert page.inner_text("h1") == "Report a problem"
    assert page.inner_text("#submit") == "Send"

    # A ticket nobody was given: the tracking page says so (in the language chosen).
    page.goto(f"{srv.url}/report/track?ticket=AAAA-BBBB-CCCC")
    missing = page.wait_for_selector("#lookup-error:not([hidden])")
    assert missing.inner_text() == "No report has this ticket; check it and try again"
    assert page.is_hidden("#result")
    page.close()
