"""The grid worker's phone app in a real browser: a detection arrives without a reload, and
the worker reports it handled."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.factories import GRID_A, PASSWORD, inside, migrated_district
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    key = migrated_district(fresh_database_url)
    proc = ServerProcess(fresh_database_url, tmp_path)
    proc.start()
    yield proc, key
    proc.stop()


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
    r = httpx.post(f"{server.url}/api/v1/auth/token",
                   data={"username": "dispatcher", "password": PASSWORD})  # fmt: skip
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_worker_sees_a_new_task_live_and_reports_it_handled(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    page = browser.new_page(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="UTC"
    )  # the deadline shows in the centre's zone
    page.goto(f"{srv.url}/app/")
    page.fill("input[name=username]", "worker")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#status.online")
    assert page.inner_text("#empty") == "暂无待处置任务"

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
