"""The sensors page in a real browser: a device on the map, its chart against the rule's
thresholds, an alarm arriving live, acknowledged and cleared from the page, and the buttons
shown only to those who may press them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.factories import GRID_A, inside
from tests.serverproc import ServerProcess
from tests.web.helpers import department, login, sign_in

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
# The page's colours of the levels (sensors.js COLOURS) and of the clear line.
WARNING, MAJOR, CLEAR = "#d69e2e", "#c53030", "#4a5568"


def _gas_sensor(server: ServerProcess, key: str) -> int:
    """A septic-tank gas sensor of the sanitation department in grid A, a two-level rule,
    and a few quiet readings over the last minutes; returns the device's id."""
    admin = login(server, "admin")
    lon, lat = inside(GRID_A)
    for path, body in [
        ("observed-properties", {"code": "ch4", "name": "可燃气体浓度"}),
        ("device-types", {"code": "septic-gas", "name": "化粪池可燃气体监测仪", "properties": [
            {"property": "ch4", "unit_symbol": "%LEL", "min_value": 0, "max_value": 100}]}),
        ("devices", {"code": "GAS-1", "name": "1号化粪池", "device_type": "septic-gas",
                     "lon": lon, "lat": lat, "department_id": department(server, "HW")}),
        ("alarm-rules", {"name": "化粪池可燃气体超限", "kind": "threshold",
                         "device_type": "septic-gas", "property": "ch4", "clear_at": 20,
                         "levels": [{"severity": "warning", "raise": 25},
                                    {"severity": "major", "raise": 50}]}),
    ]:  # fmt: skip
        r = httpx.post(f"{server.url}/api/v1/{path}", headers=admin, json=body)
        assert r.status_code == 201, r.text
    (device,) = httpx.get(f"{server.url}/api/v1/devices", headers=admin).json()["items"]
    device_id = int(device["id"])
    now = datetime.now(UTC)
    _read(server, key, *[(now - timedelta(minutes=m), v) for m, v in [(6, 5), (4, 6), (2, 5)]])
    return device_id


def _read(server: ServerProcess, key: str, *readings: tuple[datetime, float]) -> None:
    body = [{"device": "GAS-1", "property": "ch4", "time": t.isoformat(), "value": v}
            for t, v in readings]  # fmt: skip
    r = httpx.post(f"{server.url}/api/v1/readings", headers={"X-API-Key": key}, json=body)
    assert r.status_code == 200 and r.json()["accepted"] == len(body), r.text


def _alarm(server: ServerProcess, alarm_id: int) -> Any:
    r = httpx.get(f"{server.url}/api/v1/alarms/{alarm_id}", headers=login(server, "dispatcher"))
    assert r.status_code == 200, r.text
    return r.json()


def _chart(page: Any) -> Any:
    """The chart's option as ECharts holds it, once it has drawn some readings."""
    script = "() => echarts.getInstanceByDom(document.getElementById('chart'))"
    page.wait_for_function(f"() => ({script})()?.getOption().series[0].data.length > 0")
    return page.evaluate(f"() => ({script})().getOption()")


def test_a_dispatcher_watches_a_sensor_and_works_its_alarm_live(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    device_id = _gas_sensor(srv, key)
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, srv, "/sensors", "dispatcher")
    page.wait_for_selector("#status.online")
    marker = f"#device-map path[data-device-id='{device_id}']"
    page.wait_for_selector(f"{marker}[data-state=normal]")
    assert page.locator(".legend div[data-state]").count() == 9
    page.wait_for_selector("#alarms-empty", state="visible")  # no alarm yet

    page.click(marker)
    page.wait_for_selector(f"#device[data-device-id='{device_id}'] #latest tr[data-property=ch4]")
    assert "5 %LEL" in page.inner_text("#latest")
    assert page.inner_text("#device dd[data-fact=status]") == "在线"
    option = _chart(page)
    assert [point[1] for point in option["series"][0]["data"]] == [5, 6, 5]
    lines = [(d["yAxis"], d["lineStyle"]["type"], d["lineStyle"]["color"])
             for d in option["series"][0]["markLine"]["data"]]  # fmt: skip
    assert lines == [(25, "solid", WARNING), (50, "solid", MAJOR), (20, "dashed", CLEAR)]
    assert option["yAxis"][0]["name"] == "%LEL"

    # A reading past the first level: the alarm is in the list and the map at once.
    _read(srv, key, (datetime.now(UTC), 31))
    row = page.wait_for_selector("#alarm-rows tr[data-state=active]", timeout=5000)
    alarm_id = int(row.get_attribute("data-alarm-id"))
    assert "提示" in row.inner_text() and "1号化粪池" in row.inner_text()
    page.wait_for_selector(f"{marker}[data-state=warning]")
    # The device's values and chart follow: the reading that raised the alarm is in them.
    page.wait_for_function("document.querySelector('#latest td.value').textContent === '31 %LEL'")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart'))"
                           ".getOption().series[0].data.some((p) => p[1] === 31)")  # fmt: skip
    page.screenshot(path=str(artifacts / f"sensors-alarm-{request.node.callspec.id}.png"))

    row_selector = f"#alarm-rows tr[data-alarm-id='{alarm_id}']"
    page.click(f"{row_selector} button[data-action=acknowledge]")
    page.wait_for_selector(f"{row_selector}[data-state=acknowledged]")
    assert page.locator(f"{row_selector} button[data-action=acknowledge]").count() == 0
    assert _alarm(srv, alarm_id)["state"] == "acknowledged"

    page.click(f"{row_selector} button[data-action=clear]")
    page.fill("#alarm-rows tr.clear-form input[name=note]", "现场检测正常")
    page.click("#alarm-rows tr.clear-form button[type=submit]")
    page.wait_for_selector(row_selector, state="detached")  # the list shows open alarms
    page.wait_for_selector(f"{marker}[data-state=normal]")
    cleared = _alarm(srv, alarm_id)
    assert (cleared["state"], cleared["clear_reason"]) == ("cleared", "manual")
    assert cleared["events"][-1]["note"] == "现场检测正常"
    page.select_option("#filter-state", "cleared")
    page.wait_for_selector(f"{row_selector}[data-state=cleared]")
    assert page.locator(f"{row_selector} button").count() == 0

    # Longer ranges chart the minute rollups, thresholds still drawn.
    page.click(".ranges button[data-range='24h']")
    page.wait_for_selector("#chart[data-resolution='1m']")
    assert len(_chart(page)["series"][0]["markLine"]["data"]) == 3
    assert errors == []
    page.close()


def test_who_may_not_work_alarms_sees_them_without_the_buttons(
    server: tuple[ServerProcess, str], browser: Any
) -> None:
    srv, key = server
    device_id = _gas_sensor(srv, key)
    _read(srv, key, (datetime.now(UTC), 55))  # straight to major
    page = browser.new_page(viewport=DESKTOP, locale="en-GB")
    sign_in(page, srv, "/sensors/", "inspector")  # grid A's inspector: sees, may not act
    row = page.wait_for_selector("#alarm-rows tr[data-state=active]")
    assert "Major" in row.inner_text()
    page.wait_for_selector(f"#device-map path[data-device-id='{device_id}'][data-state=major]")
    assert page.locator("#alarm-rows button").count() == 0
    row.click()  # a row opens its device
    page.wait_for_selector(f"#device[data-device-id='{device_id}'][data-state=major]")
    page.close()
