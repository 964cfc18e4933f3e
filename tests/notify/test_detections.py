"""Detection frames: pushed through the hub after the commit to those who may see the camera
(the centre's staff of its scope and admins; never a field worker's phone or a department),
moving no resume cursor; a backlog in one transaction is summed up per camera."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from tests.factories import DISTRICT, GRID_A, GRID_B, inside
from tests.notify.test_alarms import Clients
from tests.video.conftest import Video, at, detection, post
from tests.video.conftest import video as video

from cityops.auth.service import actor_of
from cityops.notify.hub import decode, encode
from cityops.notify.service import DETECTION_FRAME_CASE, detection_frames
from cityops.video.events import DetectionRecorded

EVERYONE = ["dispatcher", "call_taker", "shift_leader", "supervisor", "admin", "street_dispatcher",
            "inspector", "inspector_b", "worker", "worker_b", "handler", "handler_sz"]  # fmt: skip
# Who may see a camera over grid A (`video.repository.visible_cameras`).
CENTRE = ["dispatcher", "call_taker", "shift_leader", "supervisor", "admin"]


@pytest.fixture
def clients(context: Any, district: Any, request: pytest.FixtureRequest) -> Iterator[Clients]:
    # After the app has started (and attached its own loop to the hub), not before.
    request.getfixturevalue("client")
    connected = Clients(context, district)
    yield connected
    connected.close()


def _camera(
    client: TestClient, login: Any, code: str, lon: float, lat: float, **extra: Any
) -> None:
    body = {"code": code, "name": f"{code} 路口", "lon": lon, "lat": lat, **extra}
    r = client.post("/api/v1/cameras", headers=login("admin"), json=body)
    assert r.status_code == 201, r.text


def test_a_detection_reaches_the_centre_staff_of_the_camera_and_no_phone_or_department(
    client: TestClient, login: Any, district: Any, video: Video, clients: Clients
) -> None:
    # The camera belongs to the sanitation department: its handlers still get the cases only.
    r = client.patch("/api/v1/cameras/CAM-1", headers=login("admin"),
                     json={"department_id": district.departments["HW"].id})  # fmt: skip
    assert r.status_code == 200, r.text
    clients.connect(*EVERYONE)
    (result,) = post(client, video, detection(0, phase="new", snapshot=True))
    (frame,) = clients.frames("dispatcher", kind="detection")
    assert "id" not in frame  # a detection is not a step: no cursor to resume from
    assert frame["camera"] == {"id": frame["detection"]["camera_id"], "code": "CAM-1"}
    seen = frame["detection"]
    assert (seen["id"], seen["source"], seen["label"], seen["score"], seen["phase"]) == (
        result["id"], "cam-gw", "person", 0.9, "new",
    )  # fmt: skip
    assert (
        seen["verdicts"]
        == result["verdicts"]
        == [{"zone": "platform", "verdict": "watching", "case_id": None}]
    )
    assert seen["has_snapshot"] is True
    assert seen["box"] == [0.3, 0.5, 0.5, 0.8]
    # The same frame to everyone who may see the camera, and nothing to anyone else: not
    # the street centre of another street, not grid A's inspector or worker, not the
    # department that owns the camera.
    for name in set(CENTRE) - {"dispatcher"}:
        assert clients.frames(name, kind=None) == [frame], name
    for name in set(EVERYONE) - set(CENTRE):
        assert clients.frames(name, kind=None) == [], name
    assert all(sub.last_id == 0 for sub in clients.subs.values())  # no cursor moved


def test_a_signal_and_a_case_show_in_the_frame_as_the_api_gives_them(
    client: TestClient, login: Any, video: Video, clients: Clients
) -> None:
    clients.connect("call_taker")
    post(client, video, detection(0, phase="new"))
    clients.frames("call_taker", kind="detection")
    (signalled,) = post(client, video, detection(70, snapshot=True))
    (frame,) = clients.frames("call_taker", kind="detection")
    (verdict,) = frame["detection"]["verdicts"]
    assert verdict == signalled["verdicts"][0]
    assert verdict["verdict"] == "signalled" and verdict["case_id"] is not None
    r = client.get("/api/v1/detections?camera=CAM-1&limit=1", headers=login("call_taker"))
    (logged,) = r.json()["items"]
    assert frame["detection"] == logged  # the live frame is the log's row


def test_a_camera_in_no_grid_is_the_district_centres(
    client: TestClient, login: Any, video: Video, clients: Clients
) -> None:
    _camera(client, login, "CAM-OUT", 106.60, 29.60)  # outside every grid of the district
    clients.connect("dispatcher", "street_dispatcher", "admin", "inspector")
    post(client, video, detection(0, camera="CAM-OUT", phase="new"))
    (frame,) = clients.frames("dispatcher", kind="detection")
    assert frame["camera"]["code"] == "CAM-OUT"
    assert frame["detection"]["verdicts"] == [{"zone": None, "verdict": "outside"}]
    assert clients.frames("admin", kind="detection") == [frame]
    assert clients.frames("street_dispatcher", kind=None) == []
    assert clients.frames("inspector", kind=None) == []


def test_a_backlog_past_the_limit_is_summed_up_per_camera(
    client: TestClient, login: Any, video: Video, clients: Clients
) -> None:
    from cityops.notify.handlers import DETECTION_DETAIL_LIMIT

    _camera(client, login, "CAM-B", *inside(GRID_B))
    clients.connect("dispatcher", "street_dispatcher", "inspector")
    backlog = [detection(i, track=f"a{i}", phase="new", snapshot=i == 3)
               for i in range(DETECTION_DETAIL_LIMIT)]  # fmt: skip
    backlog += [detection(5, track="b", camera="CAM-B", phase="new", stationary=None)]
    post(client, video, *backlog)
    frames = clients.frames("dispatcher", kind="detection")
    assert [f["camera"]["code"] for f in frames] == ["CAM-1", "CAM-B"]
    cam1, cam_b = frames
    assert cam1["reload"] is True and "id" not in cam1
    assert (cam1["count"], cam1["verdicts"], cam1["has_snapshot"]) == (
        DETECTION_DETAIL_LIMIT, {"watching": DETECTION_DETAIL_LIMIT}, True,
    )  # fmt: skip
    assert cam1["latest"] == at(DETECTION_DETAIL_LIMIT - 1).isoformat()
    assert (cam_b["count"], cam_b["verdicts"], cam_b["has_snapshot"]) == (
        1, {"outside": 1}, False,
    )  # fmt: skip
    # A summary reaches exactly those who may see that camera: grid B is the street's.
    assert clients.frames("street_dispatcher", kind="detection") == [cam_b]
    assert clients.frames("inspector", kind=None) == []


def test_the_routing_holds_in_every_process(district: Any) -> None:
    """A frame sent to another process travels as its ids, facts and JSON: the camera's
    audience must survive the trip, not fall back to a case's (which takes in inspectors)."""
    recorded = [
        DetectionRecorded(id=1, source="gw", detection_id="d1", camera_id=7,
                          camera_code="CAM-1", grid_code=GRID_A,
                          department_id=district.departments["HW"].id, time=at(0),
                          label="person", score=0.9, box=None, phase="new", track_id="t",
                          stationary=None, received_at=at(0),
                          verdicts=[{"zone": "platform", "verdict": "watching"}],
                          has_snapshot=False),
        DetectionRecorded(id=2, source="gw", detection_id="d2", camera_id=8,
                          camera_code="CAM-X", grid_code=None,
                          department_id=None, time=at(1), label="car", score=0.5, box=None,
                          phase="new", track_id=None, stationary=None, received_at=at(1),
                          verdicts=[], has_snapshot=True),
    ]  # fmt: skip
    frames = detection_frames(recorded, district_code=DISTRICT, detail_limit=1)
    received = decode(encode(frames, "another"), "this one")
    assert [f.case_id for f in received] == [DETECTION_FRAME_CASE] * 2
    assert [f.id for f in received] == [0, 0]

    def told(username: str) -> list[str]:
        actor = actor_of(district.people[username])
        return [orjson.loads(f.data)["camera"]["code"] for f in received if f.visible_to(actor)]

    assert told("dispatcher") == ["CAM-1", "CAM-X"]
    assert told("admin") == ["CAM-1", "CAM-X"]
    assert told("street_dispatcher") == []  # neither grid A nor the district is street B's
    for name in ("inspector", "worker", "handler", "handler_sz"):
        assert told(name) == [], name


def test_nothing_is_built_while_no_client_listens(context: Any, session: Any) -> None:
    assert not context.hub.listening
    event = DetectionRecorded(id=1, source="gw", detection_id="d1", camera_id=1,
                              camera_code="CAM-1", grid_code=GRID_A,
                              department_id=None, time=at(0), label="person", score=0.9,
                              box=None, phase="new", track_id=None, stationary=None,
                              verdicts=[], has_snapshot=False, received_at=at(0))  # fmt: skip
    assert context.detection_publisher.prepare(session, [event]) is None
