"""The dispatcher's console in a real browser: cases move through the queues live, and the
dispatcher works them from the keyboard and in bulk."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.factories import GRID_A, inside
from tests.serverproc import ServerProcess
from tests.web.helpers import act, case, department, sign_in

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}


def _call(server: ServerProcess, key: str, n: int, description: str) -> int:
    """A camera's unsure sighting of rubbish in grid A, to be verified on site first."""
    lon, lat = inside(GRID_A, 0.0006 * n, 0.0012)  # 58 m apart: not merged
    r = httpx.post(f"{server.url}/api/v1/events", headers={"X-API-Key": key}, json={
        "source": "cam-gw", "external_id": uuid.uuid4().hex, "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "class_code": "E0102", "confidence": 0.5,
        "occurred_at": datetime.now(UTC).isoformat(), "description": description,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["case_id"])


def _filed(server: ServerProcess, case_id: int) -> None:
    act(server, "call_taker", case_id, "send_verify")
    act(server, "inspector", case_id, "verify", outcome="confirmed")
    act(server, "shift_leader", case_id, "file")


def _count(page: Any, queue: str) -> str:
    return str(page.inner_text(f"button[data-queue={queue}] .count"))


def _wait_count(page: Any, queue: str, n: int) -> None:
    """Wait for a queue's count to become `n`, as the live channel updates it."""
    page.wait_for_function(
        f"document.querySelector('[data-queue={queue}] .count').textContent === '{n}'",
        timeout=5000,
    )


def test_a_dispatcher_sees_a_case_move_through_the_queues_and_dispatches_it_by_keyboard(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/console/", "dispatcher")
    page.wait_for_selector("#status.online")
    assert page.inner_text("#queue-title") == "待派遣"  # a dispatcher's own desk first
    # the live channel may be up before the queue's first page arrives: wait for the page
    page.wait_for_selector("#empty", state="visible", timeout=5000)

    case_id = _call(srv, key, 1, "路口暴露垃圾")
    _wait_count(page, "to_accept", 1)
    act(srv, "call_taker", case_id, "send_verify")
    _wait_count(page, "verifying", 1)
    assert _count(page, "to_accept") == "0"
    act(srv, "inspector", case_id, "verify", outcome="confirmed")
    act(srv, "shift_leader", case_id, "file")
    row = page.wait_for_selector(f"#rows tr[data-case-id='{case_id}']", timeout=5000)  # no reload
    assert "暴露垃圾" in row.inner_text()
    _wait_count(page, "to_dispatch", 1)  # the counts arrive on their own request

    # j selects the row, Enter opens it, d opens dispatch with the suggestions, Enter confirms
    # the first: the class's responsible department.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#detail[data-case-id='{case_id}'] #timeline li")
    assert page.locator("#timeline li").count() == 4  # report, send_verify, verify, file
    page.wait_for_function("document.querySelectorAll('#case-map path').length === 2")  # grid, case
    page.keyboard.press("d")
    first = page.wait_for_selector("fieldset.suggestions label")
    assert first.inner_text().startswith("区环卫所")
    assert "类别责任部门" in first.inner_text()
    page.screenshot(path=str(artifacts / f"console-dispatch-{request.node.callspec.id}.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#detail[data-state=handling][data-case-id='{case_id}']")
    page.wait_for_selector(f"#rows tr[data-case-id='{case_id}']", state="detached")
    _wait_count(page, "handling", 1)
    assert page.locator("#timeline li").first.inner_text().startswith("派遣")
    assert "区环卫所" in page.inner_text("#detail .facts")  # who has it now
    dispatched = case(srv, case_id)
    assert dispatched["state"] == "handling"
    assert dispatched["steps"][-1]["actor_name"] == "dispatcher"

    # A handler asks for more time: the request waits in the dispatcher's approval queue.
    act(srv, "handler", case_id, "request_extension", extension_value=2, note="需调用吊车")
    _wait_count(page, "awaiting_approval", 1)
    page.keyboard.press("5")
    page.wait_for_selector(f"#rows tr[data-case-id='{case_id}']")
    assert "申请延时" in page.inner_text(f"#rows tr[data-case-id='{case_id}']")
    page.close()


def test_a_dispatcher_dispatches_a_queue_in_bulk_as_suggested(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    ids = [_call(srv, key, n, f"暴露垃圾 {n}") for n in (1, 2, 3)]
    for case_id in ids:
        _filed(srv, case_id)
    page = browser.new_page(viewport=DESKTOP, locale="en-GB")
    sign_in(page, srv, "/console/", "dispatcher")
    page.wait_for_selector("#rows tr:nth-child(3)")
    assert page.inner_text("#queue-title") == "To dispatch"
    assert page.is_hidden("#bulk")
    page.check("#select-all")
    assert page.inner_text("#bulk-count") == "3 selected"
    page.screenshot(path=str(artifacts / f"console-bulk-{request.node.callspec.id}.png"))
    page.click("#bulk-actions button[data-action=dispatch]")
    page.wait_for_selector("#bulk-progress:text('3 done, 0 failed')")
    page.wait_for_selector("#empty", state="visible")
    _wait_count(page, "handling", 3)
    hw = department(srv, "HW")  # the responsible department of 暴露垃圾
    for case_id in ids:
        c = case(srv, case_id)
        assert (c["state"], c["department_id"]) == ("handling", hw)

    # The handling queue, narrowed to one department and then to another.
    page.keyboard.press("6")
    page.wait_for_selector("#rows tr:nth-child(3)")
    page.select_option("#filter-department", str(department(srv, "SZ")))
    page.wait_for_selector("#empty", state="visible")
    page.select_option("#filter-department", str(hw))
    page.wait_for_selector("#rows tr:nth-child(3)")
    _wait_count(page, "handling", 3)
    page.close()


def test_a_call_taker_classifies_an_unclassified_report_from_the_suggestions(
    server: tuple[ServerProcess, str], browser: Any
) -> None:
    srv, key = server
    lon, lat = inside(GRID_A)
    r = httpx.post(f"{srv.url}/api/v1/events", headers={"X-API-Key": key}, json={
        "source": "cam-gw", "external_id": uuid.uuid4().hex, "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "occurred_at": datetime.now(UTC).isoformat(),
        "description": "人行道上有人摆摊卖水果，占了半条道",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    case_id = int(r.json()["case_id"])
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/console/", "call_taker")
    page.click(f"#rows tr[data-case-id='{case_id}']")
    page.wait_for_selector(f"#detail[data-case-id='{case_id}']")
    page.click("#actions button[data-action=send_verify]")
    chip = page.wait_for_selector(".class-suggestions .chip")
    assert chip.get_attribute("data-class-code") == "E0502"
    assert page.input_value("#action-form select[name=class_code]") == "E0502"
    page.click("#action-form button[type=submit]")
    page.wait_for_selector(f"#detail[data-state=verifying][data-case-id='{case_id}']")
    assert case(srv, case_id)["class_code"] == "E0502"
    page.close()
