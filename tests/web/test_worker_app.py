"""The grid worker's phone app in a real browser: a detection arrives without a reload, and
the worker reports it handled."""

from __future__ import annotations

import struct
import uuid
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.factories import GRID_A, PASSWORD, inside
from tests.serverproc import ServerProcess
from tests.web.helpers import case, department, login, sign_in

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


def _detect(server: ServerProcess, key: str) -> int:
    lon, lat = inside(GRID_A)
    r = httpx.post(f"{server.url}/api/v1/events", headers={"X-API-Key": key}, json={
        "source": "cam-gw", "external_id": uuid.uuid4().hex, "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "class_code": "E0502", "confidence": 0.93,
        "occurred_at": datetime.now(UTC).isoformat(), "description": "人行道上有流动摊贩",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["case_id"])


def _bearer(server: ServerProcess) -> dict[str, str]:
    """A dispatcher's login, to read any case of the district."""
    return login(server, "dispatcher")


def test_a_worker_sees_a_new_task_live_and_reports_it_handled(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    page = browser.new_page(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="UTC"
    )  # the deadline shows in the centre's zone
    sign_in(page, srv, "/app/", "worker")
    page.wait_for_selector("#status.online")
    assert page.inner_text("#empty") == "暂无任务"

    case_id = _detect(srv, key)
    card = page.wait_for_selector(f"#case-{case_id}", timeout=5000)  # no reload
    assert "占道经营" in card.inner_text()
    assert "人行道上有流动摊贩" in card.inner_text()
    assert card.query_selector(".light.green") is not None
    # The map draws the worker's two grids and the task, from our data alone (no tiles).
    assert page.locator("path.grid-outline").count() == 2
    assert page.locator("path.task-marker").count() == 1
    due = httpx.get(f"{srv.url}/api/v1/cases/{case_id}", headers=_bearer(srv)).json()[
        "stage_due_at"
    ]
    shanghai = datetime.fromisoformat(due).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{shanghai.hour}:{shanghai:%M}" in card.query_selector(".due").inner_text()
    shot = artifacts / f"worker-task-{request.node.callspec.id}.png"
    page.screenshot(path=str(shot), full_page=True)

    card.query_selector("input.note").fill("已劝离，恢复通行")
    card.query_selector("button.handled").click()
    page.wait_for_selector(f"#case-{case_id}", state="detached", timeout=5000)
    assert page.locator("path.task-marker").count() == 0
    token = httpx.post(
        f"{srv.url}/api/v1/auth/token", data={"username": "dispatcher", "password": PASSWORD}
    ).json()["access_token"]
    case = httpx.get(f"{srv.url}/api/v1/cases/{case_id}",
                     headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    assert case["state"] == "handled"
    assert case["steps"][-1]["note"] == "已劝离，恢复通行"
    assert page.is_visible("#empty")
    page.close()


def test_the_app_speaks_english_when_asked_and_refuses_a_wrong_password(
    server: tuple[ServerProcess, str], browser: Any
) -> None:
    srv, _ = server
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{srv.url}/app/?lang=en")
    assert page.inner_text("button[type=submit]") == "Log in"
    page.fill("input[name=username]", "worker")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.wait_for_selector("#login-error").inner_text() == "Wrong username or password"
    page.click("#lang")
    assert page.inner_text("button[type=submit]") == "登录"
    page.close()


def _png(width: int, height: int) -> bytes:
    """A plain PNG of the given size, as a phone camera's photo stands in for."""
    row = b"\x00" + bytes([200, 120, 40]) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from a JPEG's start-of-frame segment."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start of frame")


def test_a_worker_reports_a_problem_with_a_photo_shrunk_on_the_phone(
    server: tuple[ServerProcess, str],
    browser: Any,
    tmp_path: Path,
    artifacts: Path,
    request: pytest.FixtureRequest,
) -> None:
    srv, _ = server
    lon, lat = inside(GRID_A)
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN",
                                  geolocation={"longitude": lon, "latitude": lat},
                                  permissions=["geolocation"])  # fmt: skip
    page = context.new_page()
    sign_in(page, srv, "/app/", "worker")
    page.wait_for_selector("#status.online")
    photo = tmp_path / "IMG_0001.png"
    photo.write_bytes(_png(4000, 3000))

    page.click("#open-report")
    page.select_option("select[name=class_code]", "E0102")
    page.fill("textarea[name=description]", "垃圾桶旁堆放建筑垃圾")
    page.click("#locate")
    page.wait_for_function("document.querySelector('#location').textContent.includes(',')")
    page.set_input_files("input[name=photo]", str(photo))
    page.screenshot(path=str(artifacts / f"worker-report-{request.node.callspec.id}.png"),
                    full_page=True)  # fmt: skip
    page.click("#report button[type=submit]")
    done = page.wait_for_selector("#report-done[data-case-id]", timeout=10_000)
    case_id = int(done.get_attribute("data-case-id") or 0)

    headers = _bearer(srv)
    case = httpx.get(f"{srv.url}/api/v1/cases/{case_id}", headers=headers).json()
    assert (case["class_code"], case["source_kind"]) == ("E0102", "grid_worker")
    assert case["description"] == "垃圾桶旁堆放建筑垃圾"
    assert abs(case["lon"] - lon) < 1e-6 and case["grid_code"] == GRID_A
    (attachment,) = case["attachments"]
    assert attachment["content_type"] == "image/jpeg"
    image = httpx.get(f"{srv.url}{attachment['url']}", headers=headers, follow_redirects=True)
    assert _jpeg_size(image.content) == (1600, 1200)  # 4000 × 3000 scaled on the phone
    assert len(image.content) < photo.stat().st_size
    context.close()


def test_an_inspector_verifies_and_checks_on_site(
    server: tuple[ServerProcess, str], browser: Any
) -> None:
    srv, key = server
    page = browser.new_page(viewport=PHONE, is_mobile=True, locale="zh-CN")
    sign_in(page, srv, "/app/", "inspector")  # grid A's inspector
    page.wait_for_selector("#status.online")

    def act(username: str, case_id: int, action: str, **body: Any) -> None:
        r = httpx.post(f"{srv.url}/api/v1/cases/{case_id}/actions", headers=login(srv, username),
                       json={"action": action, **body})  # fmt: skip
        assert r.status_code == 200, r.text

    lon, lat = inside(GRID_A, 0.0015)
    r = httpx.post(f"{srv.url}/api/v1/events", headers={"X-API-Key": key}, json={
        "source": "cam-gw", "external_id": uuid.uuid4().hex, "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "class_code": "E0102", "confidence": 0.4,
        "occurred_at": datetime.now(UTC).isoformat(), "description": "疑似暴露垃圾",
    })  # fmt: skip
    case_id = int(r.json()["case_id"])
    act("call_taker", case_id, "send_verify")  # a camera's guess: is it there?
    card = page.wait_for_selector(f"#case-{case_id}", timeout=5000)
    assert card.query_selector("button[data-action=report_handled]").is_hidden()
    card.query_selector("button[data-outcome=confirmed]").click()
    page.wait_for_selector(f"#case-{case_id}", state="detached", timeout=5000)

    act("shift_leader", case_id, "file")
    act("dispatcher", case_id, "dispatch", department_id=department(srv, "HW"))
    act("handler", case_id, "report_handled", note="已清运")
    act("call_taker", case_id, "send_check")
    card = page.wait_for_selector(f"#case-{case_id}", timeout=5000)
    assert card.query_selector("button[data-outcome=pass]").inner_text() == "核查通过"
    card.query_selector("button[data-outcome=pass]").click()
    page.wait_for_selector(f"#case-{case_id}", state="detached", timeout=5000)
    case = httpx.get(f"{srv.url}/api/v1/cases/{case_id}", headers=_bearer(srv)).json()
    assert case["state"] == "checked"
    assert [s["action"] for s in case["steps"]][-2:] == ["send_check", "check"]
    assert case["steps"][-1]["actor_name"] == "inspector"
    page.close()


def test_a_worker_signs_for_a_task_then_reports_it_handled_offline_with_a_photo(
    server: tuple[ServerProcess, str], browser: Any, tmp_path: Path
) -> None:
    srv, key = server
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    sign_in(page, srv, "/app/", "worker")
    page.wait_for_selector("#status.online")
    case_id = _detect(srv, key)
    card = page.wait_for_selector(f"#case-{case_id}", timeout=5000)

    card.query_selector("button[data-action=sign_for]").click()  # 签收: accept the task
    page.wait_for_selector(f"#case-{case_id} button[data-action=sign_for]", state="hidden")
    signed = case(srv, case_id)
    assert signed["signed_for_at"] is not None
    assert signed["steps"][-1]["action"] == "sign_for"

    # No signal: the report waits on the phone, photo and all, and says so.
    context.set_offline(True)
    photo = tmp_path / "IMG_0002.png"
    photo.write_bytes(_png(3000, 2000))
    card.query_selector(".shot input").set_input_files(str(photo))
    card.query_selector("input.note").fill("摊贩已劝离")
    card.query_selector("button.handled").click()
    page.wait_for_selector(f"#case-{case_id}.pending .waiting:not([hidden])")
    assert page.inner_text("#outbox") == "待发送 1 项"
    assert case(srv, case_id)["state"] == "handling"

    # Back online: it is sent by itself, once.
    context.set_offline(False)
    page.wait_for_selector(f"#case-{case_id}", state="detached", timeout=30_000)
    page.wait_for_selector("#outbox", state="hidden")
    done = case(srv, case_id)
    assert done["state"] == "handled"
    assert [s["action"] for s in done["steps"]].count("report_handled") == 1
    assert done["steps"][-1]["note"] == "摊贩已劝离"
    (attachment,) = done["attachments"]
    assert done["steps"][-1]["attachments"] == [attachment["id"]]
    context.close()
