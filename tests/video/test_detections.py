"""Detections verified against their zone's rule before they become cases."""

from __future__ import annotations

import hashlib
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.video.conftest import Video, detection, post

VENDOR_BOX = (0.3, 0.5, 0.5, 0.8)  # stands on the platform (foot at 0.4, 0.8)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    return [v["verdict"] for r in results for v in r["verdicts"]]


def case(client: TestClient, headers: dict[str, str], case_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_vendor_who_stays_opens_one_case_with_the_snapshot_and_leaving_is_noted(
    client: TestClient, login: Any, video: Video
) -> None:
    dp = login("dispatcher")
    first = post(client, video,
                 detection(0, phase="new", stationary=False, snapshot=True),
                 detection(5), detection(40))  # fmt: skip
    assert verdicts(first) == ["watching"] * 3  # still for 35 s of the 60 the zone asks
    (signalled,) = post(client, video, detection(70, snapshot=True))
    (verdict,) = signalled["verdicts"]
    assert verdict["verdict"] == "signalled"
    case_id = verdict["case_id"]
    opened = case(client, dp, case_id)
    assert (opened["class_code"], opened["source_kind"]) == ("E0502", "camera")
    # the class allows the automatic path: filed and dispatched to the grid worker on duty
    assert opened["state"] == "handling" and opened["assignee_id"] is not None
    assert "李子坝观景平台「观景平台」" in opened["description"]
    (attachment,) = opened["attachments"]
    image = client.get(attachment["url"], headers=dp)
    assert image.headers["content-type"] == "image/jpeg"
    frame = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    # the box is drawn in red at its left edge (x1 = 0.3 of 320 px), halfway down it
    b, g, r = frame[int(0.65 * 180), int(0.3 * 320)]
    assert r > 180 and g < 80 and b < 80
    # the stored picture is the camera's own, the box kept beside it
    assert attachment["box"] == [0.3, 0.5, 0.5, 0.8]
    original = client.get(attachment["url"], headers=dp, params={"original": "true"})
    assert hashlib.sha256(original.content).hexdigest() == attachment["sha256"]
    plain = cv2.imdecode(np.frombuffer(original.content, np.uint8), cv2.IMREAD_COLOR)
    b, g, r = plain[int(0.65 * 180), int(0.3 * 320)]
    assert abs(int(r) - int(g)) < 30  # grey there: nothing drawn

    # it walks off the platform (to the top right, in no zone) and the track ends there
    off = (0.85, 0.1, 0.95, 0.3)
    later = post(client, video, detection(100), detection(130, phase="end", box=off))
    assert verdicts(later) == ["tracked", "ended"]
    assert [v["case_id"] for r in later for v in r["verdicts"]] == [case_id, case_id]
    notes = [s["note"] for s in case(client, dp, case_id)["steps"] if s["action"] == "note"]
    assert any("目标离开" in n for n in notes)


def test_a_track_that_qualifies_later_in_the_same_batch_gets_its_earlier_snapshot(
    client: TestClient, login: Any, video: Video
) -> None:
    """The new track's message carries the picture, the one that satisfies the dwell does
    not; both come in one request (a detector's or gateway's batch)."""
    moved = (0.35, 0.5, 0.55, 0.8)
    results = post(client, video, detection(0, phase="new", stationary=True, snapshot=True),
                   detection(70, box=moved))  # fmt: skip
    assert verdicts(results) == ["watching", "signalled"]
    opened = case(client, login("dispatcher"), results[1]["verdicts"][0]["case_id"])
    (attachment,) = opened["attachments"]
    image = client.get(attachment["url"], headers=login("dispatcher"))
    frame = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    # the box drawn is the qualifying detection's (its left edge at 0.35 of 320 px)
    b, g, r = frame[int(0.65 * 180), int(0.35 * 320)]
    assert r > 180 and g < 80 and b < 80


def test_one_batch_opening_a_case_joining_it_and_ending_tells_the_case_in_order(
    client: TestClient, login: Any, video: Video
) -> None:
    """A gateway's batch: a vendor who has stayed long enough, a second one on the platform
    a little later, then the first leaves. One case; both snapshots on it."""
    results = post(
        client, video,
        detection(0, phase="new", stationary=True, snapshot=True),
        detection(70),
        detection(80, track="t2", phase="new", stationary=True, snapshot=True),
        detection(150, track="t2"),
        detection(160, phase="end"),
    )  # fmt: skip
    assert verdicts(results) == ["watching", "signalled", "watching", "attached", "ended"]
    case_ids = {v["case_id"] for r in results[1:] for v in r["verdicts"] if r is not results[2]}
    assert len(case_ids) == 1 and None not in case_ids
    (case_id,) = case_ids
    opened = case(client, login("dispatcher"), case_id)
    assert len(opened["attachments"]) == 2
    notes = [s["note"] for s in opened["steps"] if s["action"] == "note"]
    assert [n[:4] for n in notes] == ["视频抓拍", "同一区域", "目标离开"]
    # the track keeps its case: a later update is tracked, not signalled again
    (later,) = post(client, video, detection(170, track="t2"))
    assert later["verdicts"][0] == {"zone": "platform", "verdict": "tracked", "case_id": case_id}


def test_a_new_object_within_the_cool_down_joins_the_case_and_after_it_opens_another(
    client: TestClient, login: Any, video: Video, clock: Any
) -> None:
    dp = login("dispatcher")
    post(client, video, detection(0, phase="new"))
    (opened,) = post(client, video, detection(61))
    case_id = opened["verdicts"][0]["case_id"]
    # two vendors at once: the second track, also still for a minute, is more evidence
    post(client, video, detection(100, track="t2", phase="new", snapshot=True))
    (joined,) = post(client, video, detection(170, track="t2", snapshot=True))
    assert joined["verdicts"][0] == {"zone": "platform", "verdict": "attached",
                                      "case_id": case_id}  # fmt: skip
    steps = case(client, dp, case_id)["steps"]
    assert any("同一区域新目标" in s["note"] for s in steps if s["action"] == "note")
    # back after the cool-down ran out (it runs from the last join): a signal of its own,
    # which intake merges into the case while it is open within the class's merge window
    post(client, video, detection(900, track="t3", phase="new"))
    (back,) = post(client, video, detection(961, track="t3"))
    assert back["verdicts"][0] == {"zone": "platform", "verdict": "signalled",
                                    "case_id": case_id}  # fmt: skip
    # three hours later, past the window (E0502: 2 h), it is a case of its own
    clock.advance(hours=3)
    post(client, video, detection(3 * 3600, track="t4", phase="new"))
    (again,) = post(client, video, detection(3 * 3600 + 61, track="t4"))
    assert again["verdicts"][0]["verdict"] == "signalled"
    assert again["verdicts"][0]["case_id"] not in (None, case_id)


def test_what_the_rule_does_not_count_raises_nothing(
    client: TestClient, login: Any, video: Video
) -> None:
    results = post(
        client, video,
        detection(0, track="car", label="car", phase="new"),  # not a label the zone counts
        detection(0, track="weak", score=0.4, phase="new"),  # not sure enough
        detection(0, track="far", box=(0.85, 0.1, 0.95, 0.3), phase="new"),  # in no zone
        detection(0, track="walker", stationary=False, phase="new"),
        detection(120, track="walker", stationary=False),  # present long, never still
    )  # fmt: skip
    assert verdicts(results) == ["label", "low_score", "outside", "watching", "watching"]
    # garbage on the kerb counts in the daytime only (09:00 here); at 21:00 it is off hours
    kerb = (0.05, 0.6, 0.1, 0.7)
    night = post(client, video, detection(12 * 3600, track="bag", label="garbage", box=kerb,
                                           stationary=None, phase="new"))  # fmt: skip
    assert verdicts(night) == ["off_hours"]
    day = post(client, video, detection(10, track="bag2", label="garbage", box=kerb,
                                         stationary=None, phase="new"))  # fmt: skip
    (verdict,) = day[0]["verdicts"]
    assert verdict["verdict"] == "signalled"
    # no automation rule for garbage from cameras: the call-taker's queue verifies it
    assert case(client, login("call_taker"), verdict["case_id"])["state"] == "reported"


def test_a_detection_marked_false_is_not_counted_again(
    client: TestClient, login: Any, video: Video
) -> None:
    (first,) = post(client, video, detection(0, track="statue", phase="new"))
    r = client.post(
        "/api/v1/cameras/CAM-1/false-positives",
        headers=login("dispatcher"),
        json={"detection_id": first["id"], "note": "雕塑"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["label"] == "person"
    nearly_same_place = (0.31, 0.5, 0.51, 0.8)
    (again,) = post(client, video, detection(90, track="statue2", phase="new",
                                             box=nearly_same_place))  # fmt: skip
    assert again["verdicts"][0]["verdict"] == "false_positive"
    r = client.post("/api/v1/cameras/CAM-1/false-positives", headers=login("worker"),
                    json={"detection_id": first["id"]})  # fmt: skip
    assert r.status_code == 403


def test_bad_detections_are_refused_by_field_and_repeats_change_nothing(
    client: TestClient, login: Any, video: Video
) -> None:
    good = detection(0, phase="new")
    r = client.post("/api/v1/detections", headers=video.headers, json=[
        good,
        {**good, "detection_id": "b1", "score": 1.5},
        {**good, "detection_id": "b2", "camera": "NOPE"},
        {**good, "detection_id": "b3", "source": "other"},
        {**good, "detection_id": "b4", "box": {"x1": 0.5, "y1": 0.5, "x2": 0.2, "y2": 0.8}},
        {**good, "detection_id": "b5", "snapshot_base64": "bm90IGFuIGltYWdlIGF0IGFsbA=="},
        {**good, "detection_id": "b6", "time": "2030-01-01T00:00:00Z"},
        good,
    ])  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 6)
    paths = [[e["path"] for e in x["errors"]] for x in body["results"]]
    assert paths == [[], ["score"], ["camera"], ["source"], ["box"], ["snapshot_base64"],
                     ["time"], []]  # fmt: skip
    again = post(client, video, good)
    assert again[0]["status"] == "duplicate" and again[0]["id"] == body["results"][0]["id"]
    assert (
        client.post("/api/v1/detections", headers=login("dispatcher"), json=good).status_code == 403
    )
    assert client.post("/api/v1/detections", headers=video.headers, content=b"{").status_code == 422


@pytest.mark.usefixtures("video")
def test_the_stream_url_is_for_admins_and_zones_are_checked_on_save(
    client: TestClient, login: Any
) -> None:
    seen = client.get("/api/v1/cameras/CAM-1", headers=login("dispatcher")).json()
    assert seen["stream_url"] is None and seen["has_stream"] is True
    assert seen["grid_code"] is not None
    admin = login("admin")
    assert (
        client.get("/api/v1/cameras/CAM-1", headers=admin)
        .json()["stream_url"]
        .startswith("rtsp://")
    )
    assert client.get("/api/v1/cameras/CAM-1", headers=login("worker")).status_code == 404
    bow_tie = {"code": "x", "name": "x", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]],
               "labels": ["person"], "class_code": "E0502"}  # fmt: skip
    r = client.put("/api/v1/cameras/CAM-1/zones/x", headers=admin, json=bow_tie)
    assert r.status_code == 422 and "polygon" in r.text
    square = {**bow_tie, "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "class_code": "Z9999"}
    r = client.put("/api/v1/cameras/CAM-1/zones/x", headers=admin, json=square)
    assert r.status_code == 422 and "class_code" in r.text
    r = client.put("/api/v1/cameras/CAM-1/zones/x", headers=login("dispatcher"), json=square)
    assert r.status_code == 403
