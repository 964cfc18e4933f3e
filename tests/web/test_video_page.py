"""The video wall in a real browser: a camera's tile with its snapshot and zones, detections
arriving live with their verdicts (and the snapshot following them), the case a detection
raised, a false positive marked from the page; an admin drawing a zone on the snapshot, the
field the API refuses named under it, and retiring it; the editor shown to admins only; the
page in Chinese and in English."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from tests.factories import GRID_A, PASSWORD, inside
from tests.serverproc import ServerProcess
from tests.web.helpers import case, login, sign_in

pytestmark = pytest.mark.slow

WIDE = {"width": 1600, "height": 1000}  # the wall's three columns
TILE = "#tiles .tile[data-camera='CAM-1']"
MARKER = "#camera-map path.camera-marker[data-camera='CAM-1']"
PLATFORM = [[0.2, 0.4], [0.8, 0.4], [0.8, 1.0], [0.2, 1.0]]


def _jpeg(shade: int) -> str:
    """A 640×360 street scene in grey with a dark stall on the platform, base64."""
    frame = np.full((360, 640, 3), shade, np.uint8)
    cv2.rectangle(frame, (200, 180), (320, 290), (40, 40, 40), -1)
    ok, data = cv2.imencode(".jpg", frame)
    assert ok
    return base64.b64encode(bytes(data)).decode()


def _camera(server: ServerProcess) -> None:
    """A camera over grid A looking east, with a no-vending zone on its platform."""
    admin = login(server, "admin")
    lon, lat = inside(GRID_A)
    camera = {"code": "CAM-1", "name": "李子坝观景平台", "lon": lon, "lat": lat,
              "direction_deg": 90, "image_width": 640, "image_height": 360}  # fmt: skip
    r = httpx.post(f"{server.url}/api/v1/cameras", headers=admin, json=camera)
    assert r.status_code == 201, r.text
    zone = {"code": "platform", "name": "观景平台", "purpose": "禁止占道经营", "polygon": PLATFORM,
            "labels": ["person", "table"], "min_score": 0.7, "min_dwell_s": 60,
            "class_code": "E0502", "cooldown_s": 600}  # fmt: skip
    r = httpx.put(f"{server.url}/api/v1/cameras/CAM-1/zones/platform", headers=admin, json=zone)
    assert r.status_code == 201, r.text


def _detect(
    server: ServerProcess, key: str, track: str, phase: str, ago: float, shade: int | None = None
) -> Any:
    """A person standing still on the platform, `ago` seconds ago; its result."""
    body: dict[str, Any] = {
        "source": "cam-gw", "detection_id": uuid.uuid4().hex, "camera": "CAM-1",
        "time": (datetime.now(UTC) - timedelta(seconds=ago)).isoformat(), "label": "person",
        "score": 0.91, "box": {"x1": 0.35, "y1": 0.5, "x2": 0.5, "y2": 0.8}, "track_id": track,
        "phase": phase, "stationary": True,
    }  # fmt: skip
    if shade is not None:
        body["snapshot_base64"] = _jpeg(shade)
    r = httpx.post(f"{server.url}/api/v1/detections", headers={"X-API-Key": key}, json=body)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    return r.json()["results"][0]


def _zones(server: ServerProcess) -> dict[str, Any]:
    r = httpx.get(f"{server.url}/api/v1/cameras/CAM-1/zones", headers=login(server, "admin"))
    assert r.status_code == 200, r.text
    return {z["code"]: z for z in r.json()}


def _shot(page: Any, selector: str) -> Any:
    """The snapshot image a box shows: its object URL and its size as the browser drew it."""
    return page.eval_on_selector(
        f"{selector} img", "img => [img.getAttribute('src'), img.naturalWidth, img.naturalHeight]"
    )


def test_a_dispatcher_watches_detections_arrive_live_on_the_wall(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    _camera(srv)
    first = _detect(srv, key, "t1", "new", ago=90, shade=150)
    page = browser.new_page(viewport=WIDE, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, srv, "/video/", "dispatcher")
    page.wait_for_selector("#status.online")
    assert page.inner_text("header.bar h1") == "视频监控墙"

    # The tile: the latest snapshot, fetched with the token, with the zone drawn over it.
    page.wait_for_selector(f"{TILE} .shot[data-has-shot=true]")
    old_url, width, height = _shot(page, TILE)
    assert old_url.startswith("blob:") and (width, height) == (640, 360)
    assert page.text_content(f"{TILE} svg g.zone[data-zone=platform] text") == "观景平台"
    assert "在线" in page.inner_text(f"{TILE} footer")
    # The map: the camera coloured by its status and by the person it is watching, and the
    # direction it looks.
    page.wait_for_selector(f"{MARKER}[data-status=online][data-activity=watching]")
    assert page.locator("#camera-map path.camera-cone[data-camera='CAM-1']").count() == 1
    item = f"#detection-list li[data-detection-id='{first['id']}']"
    page.wait_for_selector(item)
    assert "观景平台观察中" in page.text_content(f"{item} .verdict[data-verdict=watching]")
    assert "人员" in page.inner_text(item) and "0.91" in page.inner_text(item)

    # A dispatcher sees the camera and its zones, and no editor.
    page.click(TILE)
    page.wait_for_selector("#camera[data-camera='CAM-1'] #view[data-has-shot=true]")
    page.wait_for_selector("#view svg g.zone[data-zone=platform]")
    page.wait_for_selector("#view svg g.box")  # where the person stands
    assert "禁止占道经营" in page.inner_text("#zone-list li[data-zone=platform]")
    assert page.is_hidden("#new-zone") and page.is_hidden("#zone-editor")
    assert page.locator("#zone-list button").count() == 0

    # A second person, live: in the list at once, and the tile shows the new snapshot.
    page.evaluate("window.notReloaded = true")
    second = _detect(srv, key, "t2", "new", ago=5, shade=90)
    item2 = f"#detection-list li[data-detection-id='{second['id']}']"
    page.wait_for_selector(f"{item2} .verdict[data-verdict=watching]", timeout=5000)
    assert page.locator("#detection-list > li").first.get_attribute("data-detection-id") == str(
        second["id"]
    )
    page.wait_for_function(
        f"document.querySelector(\"{TILE} img\").getAttribute('src') !== '{old_url}'"
    )
    assert _shot(page, TILE)[1:] == [640, 360]

    # The first person has stood for 90 s of the 60 the zone asks: a case, linked from the list.
    third = _detect(srv, key, "t1", "update", ago=0)
    (verdict,) = third["verdicts"]
    assert verdict["verdict"] == "signalled"
    item3 = f"#detection-list li[data-detection-id='{third['id']}']"
    chip = f"{item3} .verdict[data-verdict=signalled]"
    page.wait_for_selector(chip, timeout=5000)
    assert "已上报" in page.inner_text(chip)
    page.wait_for_selector(f"{MARKER}[data-activity=signalled]")
    page.click(f"{chip} a.case-link")
    page.wait_for_selector(f"#case-dialog[open][data-case-id='{verdict['case_id']}']")
    number = case(srv, verdict["case_id"])["number"]
    page.wait_for_function(
        f"document.querySelector('#case-number').textContent.includes('{number}')"
    )
    page.wait_for_selector("#case-evidence img")  # the snapshot, the box drawn on it
    page.click("#close-case")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(artifacts / f"video-wall-{request.node.callspec.id}.png"))

    # The second person turns out to be a statue: marked from the page, remembered by the API.
    page.click(f"{item2} button[data-action=false-positive]")
    page.wait_for_selector(f"{item2} .fp .done")
    r = httpx.get(f"{srv.url}/api/v1/cameras/CAM-1/false-positives",
                  headers=login(srv, "dispatcher"))  # fmt: skip
    (known,) = r.json()
    assert (known["label"], known["box"]) == ("person", [0.35, 0.5, 0.5, 0.8])

    # English, without reloading.
    page.click("#lang")
    assert page.inner_text("header.bar h1") == "Video wall"
    assert "Watching" in page.inner_text(f"{item2} .verdict[data-verdict=watching]")
    assert "Signalled" in page.inner_text(chip)
    assert "Online" in page.inner_text(f"{TILE} footer")
    assert page.inner_text(".legend [data-legend=status-maintenance]") == "Maintenance"

    # The dispatcher of another street takes over the screen: nothing of this camera stays.
    page.click("#logout")
    page.fill("input[name=username]", "street_dispatcher")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#no-cameras:not([hidden])")
    page.wait_for_selector("#detections-empty:not([hidden])")
    assert page.locator("#tiles .tile, #camera-map path, #detection-list > li").count() == 0
    assert page.is_hidden("#camera-body")
    assert errors == []
    page.close()


def test_an_admin_draws_a_zone_on_the_snapshot_and_retires_it(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, key = server
    _camera(srv)
    _detect(srv, key, "t1", "new", ago=30, shade=150)
    page = browser.new_page(viewport=WIDE, locale="en-GB")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, srv, "/video/", "admin")
    page.wait_for_selector(f"{TILE} .shot[data-has-shot=true]")
    assert page.inner_text("header.bar h1") == "Video wall"
    page.click(TILE)
    page.wait_for_selector("#view[data-has-shot=true]")
    assert page.locator("#zone-list li[data-zone=platform] button[data-action=edit]").count() == 1

    page.click("#new-zone")
    page.wait_for_selector("#zone-editor:not([hidden])")
    page.fill("#zone-editor input[name=code]", "kerb")
    page.fill("#zone-editor input[name=name]", "路沿")
    page.fill("#zone-editor input[name=purpose]", "暴露垃圾")
    view = page.locator("#view svg").bounding_box()
    kerb = [(0.02, 0.5), (0.16, 0.5), (0.16, 0.96), (0.02, 0.96)]
    for x, y in kerb:
        page.click("#view svg", position={"x": x * view["width"], "y": y * view["height"]})
    assert page.locator("#view svg g.draft circle").count() == 4
    assert "4" in page.inner_text("#point-count")
    page.screenshot(path=str(artifacts / f"video-zone-editor-{request.node.callspec.id}.png"))

    # No label: the API refuses and names the field; the message is under it.
    page.fill("#zone-editor input[name=labels]", "")
    page.click("#zone-editor button[type=submit]")
    page.wait_for_selector("[data-error-for=labels]:not([hidden])")
    assert page.locator("[data-field=labels][data-invalid]").count() == 1
    assert page.is_hidden("[data-error-for=name]")
    assert "kerb" not in _zones(srv)

    page.fill("#zone-editor input[name=labels]", "garbage")
    page.select_option("#zone-editor select[name=class_code]", "E0102")
    page.click("#add-hours")
    page.fill("#hours .hours-row input[name=from]", "07:00")
    page.fill("#hours .hours-row input[name=to]", "19:00")
    page.click("#zone-editor button[type=submit]")
    page.wait_for_selector("#saved:not([hidden])")
    page.wait_for_selector("#view svg g.zone[data-zone=kerb]")
    assert page.is_hidden("#zone-editor")
    saved = _zones(srv)["kerb"]
    assert (saved["name"], saved["purpose"], saved["labels"], saved["class_code"]) == (
        "路沿", "暴露垃圾", ["garbage"], "E0102",
    )  # fmt: skip
    assert saved["active_hours"] == [{"from": "07:00", "to": "19:00"}]
    assert (saved["min_score"], saved["min_dwell_s"], saved["cooldown_s"]) == (0.6, 0, 600)
    assert len(saved["polygon"]) == 4
    for (x, y), (sx, sy) in zip(kerb, saved["polygon"], strict=True):
        assert abs(x - sx) < 0.01 and abs(y - sy) < 0.01, saved["polygon"]
    # The zone's rule as the list shows it.
    assert "07:00–19:00" in page.inner_text("#zone-list li[data-zone=kerb]")

    # Retired (a second click confirms): it stops judging and leaves the picture.
    page.click("#zone-list li[data-zone=kerb] button[data-action=edit]")
    page.click("#retire-zone")
    page.click("#retire-zone.confirming")
    page.wait_for_selector("#zone-list li[data-zone=kerb].retired")
    assert page.locator("#view svg g.zone[data-zone=kerb]").count() == 0
    assert _zones(srv)["kerb"]["active"] is False
    assert _zones(srv)["platform"]["active"] is True
    assert errors == []
    page.close()
