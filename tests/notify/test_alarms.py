"""Alarm frames: pushed through the hub after the commit to the people who may see the device
(never to a grid worker's phone), with what colours the device, and moving no resume cursor."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import orjson
import pytest
from fastapi.testclient import TestClient
from tests.factories import DISTRICT, GRID_A
from tests.sensing.conftest import Sensors
from tests.sensing.test_api import gas, post

from cityops.auth.service import actor_of
from cityops.cases.workflow import Actor
from cityops.notify.hub import Subscription
from cityops.notify.service import alarm_frames, receives
from cityops.sensing.events import AlarmChanged

T = TypeVar("T")


class Clients:
    """Clients connected to the context's hub, as the WebSocket route subscribes them, on an
    event loop of the test's own in a thread (as the server's loop is to the threads that
    commit)."""

    def __init__(self, context: Any, district: Any) -> None:
        self.hub = context.hub
        self.district = district
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.hub.attach(self.loop)
        self.subs: dict[str, Subscription] = {}

    def connect(self, *usernames: str) -> None:
        for name in usernames:
            actor = actor_of(self.district.people[name])
            self.subs[name] = self._on_loop(self._subscribe(actor))

    async def _subscribe(self, actor: Actor) -> Subscription:
        sub: Subscription = self.hub.subscribe(actor)
        return sub

    def frames(self, username: str, kind: str | None = "alarm") -> list[dict[str, Any]]:
        """What `username` was sent since last asked (of one kind, or all)."""
        got = []
        for frame_id, data in self._on_loop(self._drain(self.subs[username])):
            body = orjson.loads(data)
            assert frame_id == 0 or body["type"] != "alarm"
            if kind is None or body["type"] == kind:
                got.append(body)
        return got

    @staticmethod
    async def _drain(sub: Subscription) -> list[tuple[int, bytes]]:
        # Runs after the fan-out the commit scheduled on the loop: callbacks run in order.
        out = []
        while not sub.queue.empty():
            out.append(sub.queue.get_nowait())
        return out

    def _on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=5)

    def close(self) -> None:
        for sub in self.subs.values():
            self.hub.unsubscribe(sub)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def clients(context: Any, district: Any, request: pytest.FixtureRequest) -> Iterator[Clients]:
    # After the app has started (and attached its own loop to the hub), not before.
    request.getfixturevalue("client")
    connected = Clients(context, district)
    yield connected
    connected.close()


def test_an_alarm_reaches_who_may_see_the_device_and_no_grid_worker_phone(
    client: TestClient, sensors: Sensors, clients: Clients
) -> None:
    everyone = ["dispatcher", "handler", "inspector", "admin", "worker", "handler_sz",
                "inspector_b", "street_dispatcher"]  # fmt: skip
    clients.connect(*everyone)
    post(client, sensors.key, [gas(0, 5), gas(60, 30)])
    (frame,) = clients.frames("dispatcher")
    assert frame["changes"] == ["raised"]
    assert "id" not in frame  # an alarm is not a step: no cursor to resume from
    alarm = frame["alarm"]
    assert (alarm["device_id"], alarm["severity"], alarm["state"]) == (
        sensors.device_id,
        "warning",
        "active",
    )
    assert alarm["device_name"] == "1号化粪池"
    assert frame["device"] == {
        "id": sensors.device_id,
        "open_alarms": 1,
        "alarm_severity": "warning",
        "fault": False,
    }
    # The district's centre, the owner department, grid A's inspector and admins, as the
    # alarms API lets them see the device; grid A lies in a grid worker's community, and
    # still their phone stays quiet.
    for name in ("handler", "inspector", "admin"):
        assert clients.frames(name) == [frame], name
    for name in ("worker", "handler_sz", "inspector_b", "street_dispatcher"):
        assert clients.frames(name, kind=None) == [], name
    assert all(sub.last_id == 0 for sub in clients.subs.values())  # no cursor moved


def test_each_change_of_an_alarm_is_pushed_with_its_device_colour(
    client: TestClient, login: Any, sensors: Sensors, clients: Clients
) -> None:
    clients.connect("dispatcher")
    post(client, sensors.key, [gas(0, 30)])
    (raised,) = clients.frames("dispatcher")
    alarm_id = raised["alarm"]["id"]
    post(client, sensors.key, [gas(60, 62)])  # major: the rule opens a case for the owner
    (escalated,) = clients.frames("dispatcher")
    assert escalated["changes"] == ["escalated", "case"]
    assert escalated["alarm"]["severity"] == "major"
    assert escalated["alarm"]["case_id"] is not None
    assert escalated["device"]["alarm_severity"] == "major"

    url = f"/api/v1/alarms/{alarm_id}"
    r = client.post(f"{url}/acknowledge", json={"note": "已电话通知"}, headers=login("handler"))
    assert r.status_code == 200, r.text
    (acknowledged,) = clients.frames("dispatcher")
    assert (acknowledged["changes"], acknowledged["alarm"]["state"]) == (
        ["acknowledged"],
        "acknowledged",
    )
    assert acknowledged["device"]["open_alarms"] == 1  # acknowledged is still open

    r = client.post(f"{url}/clear", json={"note": "现场检测正常"}, headers=login("shift_leader"))
    assert r.status_code == 200, r.text
    (cleared,) = clients.frames("dispatcher")
    assert (cleared["changes"], cleared["alarm"]["state"]) == (["cleared"], "cleared")
    assert cleared["alarm"]["clear_reason"] == "manual"
    assert cleared["device"] == {
        "id": sensors.device_id,
        "open_alarms": 0,
        "alarm_severity": None,
        "fault": False,
    }


def test_a_faulty_sensor_colours_its_device_as_a_fault_not_an_alarm(
    client: TestClient, sensors: Sensors, clients: Clients
) -> None:
    clients.connect("dispatcher")
    post(client, sensors.key, [gas(0, 5), gas(60, 140)])
    (frame,) = clients.frames("dispatcher")
    assert (frame["alarm"]["kind"], frame["alarm"]["severity"]) == ("fault", "warning")
    assert frame["device"]["fault"] is True
    assert frame["device"]["alarm_severity"] is None


def test_nothing_is_built_while_no_client_listens(
    sensors: Sensors, context: Any, session: Any
) -> None:
    assert not context.hub.listening
    prepared = context.alarm_publisher.prepare(
        session, [AlarmChanged(1, sensors.device_id, "raised", 1, "active", GRID_A, None)]
    )
    assert prepared is None


@pytest.mark.usefixtures("session")
def test_past_the_limit_each_grid_and_department_is_told_to_reload(district: Any) -> None:
    hw = district.departments["HW"].id
    changes = [
        AlarmChanged(1, 10, "raised", 2, "active", GRID_A, hw),
        AlarmChanged(2, 11, "raised", 2, "active", GRID_A, hw),
        AlarmChanged(1, 10, "escalated", 3, "active", GRID_A, hw),  # the same alarm again
        AlarmChanged(3, 12, "raised", 1, "active", None, None),  # a device with no grid
    ]
    frames = alarm_frames(None, changes, district_code=DISTRICT, detail_limit=1)  # type: ignore[arg-type]
    bodies = [orjson.loads(f.data) for f in frames]
    assert bodies == [
        {"type": "alarm", "reload": True, "region_code": DISTRICT, "count": 1},
        {"type": "alarm", "reload": True, "region_code": GRID_A, "count": 2},
    ]
    assert all(f.id == 0 for f in frames)

    def told(username: str) -> list[str]:
        actor = actor_of(district.people[username])
        return [f.facts.region_code for f in frames if receives(actor, f.facts)]

    assert told("dispatcher") == [DISTRICT, GRID_A]
    assert told("handler") == [GRID_A]  # the owner department's devices only
    assert told("inspector") == [GRID_A]
    assert told("worker") == []
    assert told("handler_sz") == []
