"""Recorded Frigate event sequences replayed through the consumer: exactly the expected
cases, verdicts and dead letters; and once through a real broker."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import GRID_A, GRID_B, inside
from tests.fakes import FakeFrigate
from tests.ingest.test_mqtt import HOST, PORT, needs_broker

from cityops.cases.models import Case, CaseAttachment
from cityops.ingest.frigate import FrigateMapping, SnapshotFetcher
from cityops.ingest.frigate_consumer import FrigateConsumer, _Raw
from cityops.sensing.models import DeadLetter
from cityops.video.models import Camera, Detection, Track

RECORDED = Path(__file__).parent / "frigate"
VENDING = {"labels": ["person", "table", "umbrella"], "min_score": 0.7, "min_dwell_s": 60,
           "class_code": "E0502", "cooldown_s": 600}  # fmt: skip
# Our zones match Frigate's by name (the mapping), so their polygons only matter for
# sources that give boxes alone; these cover where Frigate draws them, roughly.
CAMERAS = {
    "CAM-MKT-E01": (GRID_A, [
        {"code": "MKT-E01-PLATFORM", "name": "观景平台", "purpose": "禁止占道经营",
         "polygon": [[0.3, 0.3], [0.8, 0.3], [0.8, 0.9], [0.3, 0.9]], **VENDING},
        {"code": "MKT-E01-CROSSWALK", "name": "人行横道", "purpose": "暴露垃圾",
         "polygon": [[0.0, 0.6], [0.3, 0.6], [0.3, 1.0], [0.0, 1.0]], "labels": ["garbage"],
         "class_code": "E0102"},
    ]),
    "CAM-BUS-07": (GRID_B, [
        {"code": "BUS07-PLATFORM", "name": "公交站台", "purpose": "禁止占道经营",
         "polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]], **VENDING},
        {"code": "BUS07-SHELTER", "name": "候车亭", "purpose": "禁止占道经营",
         "polygon": [[0.5, 0.3], [0.9, 0.3], [0.9, 0.8], [0.5, 0.8]],
         **{**VENDING, "labels": ["umbrella", "table"]}},
    ]),
}  # fmt: skip


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / f"{name}.json").read_text()))


def payload(message: dict[str, Any]) -> bytes:
    if "payload" in message:
        return json.dumps(message["payload"]).encode()
    if "payload_text" in message:
        return str(message["payload_text"]).encode()
    return base64.b64decode(message["payload_base64"])


@pytest.fixture
def cameras(client: TestClient, login: Any) -> None:
    admin = login("admin")
    for code, (grid, zones) in CAMERAS.items():
        lon, lat = inside(grid, 0.001, 0.001)
        r = client.post("/api/v1/cameras", headers=admin,
                        json={"code": code, "name": code, "lon": lon, "lat": lat})  # fmt: skip
        assert r.status_code == 201, r.text
        for zone in zones:
            r = client.put(f"/api/v1/cameras/{code}/zones/{zone['code']}", headers=admin,
                           json=zone)  # fmt: skip
            assert r.status_code == 201, r.text


def replay(context: Any, name: str) -> FrigateConsumer:
    """Each message of the sequence as a batch of its own, as they come one by one."""
    doc = recorded(name)
    consumer = FrigateConsumer(context, FrigateMapping.model_validate(doc["mapping"]))
    for message in doc["messages"]:
        consumer.take_in([_Raw(message["topic"], payload(message), context.clock.now())])
    return consumer


def verdicts(session: Session) -> list[tuple[str, str, str | None, int | None]]:
    """(track, verdict, zone, case) of every detection, in the order taken in."""
    session.expire_all()
    return [
        (d.track_id[-6:] if d.track_id else "", v["verdict"], v["zone"], v.get("case_id"))
        for d in session.scalars(select(Detection).order_by(Detection.id))
        for v in d.verdicts
    ]


def cases(session: Session) -> list[tuple[int, str, str]]:
    return [(c.id, c.class_code or "", c.state) for c in session.scalars(select(Case))]


@pytest.mark.usefixtures("cameras")
def test_a_vendor_who_stays_opens_one_case_and_the_table_beside_joins_it(
    context: Any, session: Session
) -> None:
    consumer = replay(context, "street_vendor")
    ((case_id, class_code, state),) = cases(session)
    assert (class_code, state) == ("E0502", "handling")  # to the grid worker on duty
    seen = verdicts(session)
    person = [(v, z) for t, v, z, _ in seen if t == "k3v9qa"]
    table = [(v, z) for t, v, z, _ in seen if t == "7hq2mz"]
    platform = "MKT-E01-PLATFORM"
    # in the entrance (no zone of ours), then on the platform: still from 27 s, so at 88 s
    # it has stayed the zone's 60 s
    assert person[:6] == [("outside", None)] * 2 + [("watching", platform)] * 4
    assert person[6] == ("signalled", platform)
    assert set(person[7:-3]) == {("tracked", platform)}
    # it packs up, leaves through the entrance, and its track ends on the platform too
    assert person[-3:] == [("tracked", platform), ("outside", None), ("ended", platform)]
    # the table, still from 44 s, qualifies at 105 s within the platform's cool-down
    assert table[:2] == [("watching", platform)] * 2
    assert table[2] == ("attached", platform)
    assert table[-1] == ("ended", platform)
    assert {c for *_, c in seen if c is not None} == {case_id}
    assert consumer.stats.dead_letters == 0 and consumer.stats.ignored == 0
    open_tracks = session.scalars(select(Track.id).where(Track.ended_at.is_(None))).all()
    assert open_tracks == []  # every track followed has ended


@pytest.mark.usefixtures("cameras")
def test_a_false_positive_and_a_passer_by_open_nothing(context: Any, session: Session) -> None:
    consumer = replay(context, "false_positive")
    assert cases(session) == []
    assert consumer.stats.ignored == 5  # the poster, every message of it
    # the passer-by crosses the crosswalk, which only counts garbage, leaves every zone, and
    # its track, followed in the crosswalk, ends there
    assert [(v, z) for _, v, z, _ in verdicts(session)] == [
        ("label", "MKT-E01-CROSSWALK"), ("label", "MKT-E01-CROSSWALK"), ("outside", None),
        ("ended", "MKT-E01-CROSSWALK"),
    ]  # fmt: skip


@pytest.mark.usefixtures("cameras")
def test_a_vendor_who_comes_back_joins_the_case_still_open(context: Any, session: Session) -> None:
    replay(context, "vendor_returns")
    ((case_id, _, _),) = cases(session)
    signalled = [(t, c) for t, v, _, c in verdicts(session) if v == "signalled"]
    # back 11 minutes after the first signal, past the 10-minute cool-down: a signal of its
    # own, which intake merges into the open case of the same problem at the same place
    assert signalled == [("q4n8ze", case_id), ("b9w3kd", case_id)]
    merged = session.scalar(select(Case.signal_count).where(Case.id == case_id))
    assert merged == 2


@pytest.mark.usefixtures("cameras")
def test_two_vendors_at_once_make_one_case_and_a_redelivered_message_changes_nothing(
    context: Any, session: Session
) -> None:
    replay(context, "two_vendors")
    ((case_id, _, _),) = cases(session)
    seen = verdicts(session)
    first = {(t, v, z) for t, v, z, _ in seen if v in ("signalled", "attached")}
    assert first == {
        ("a5t0vh", "signalled", "BUS07-PLATFORM"),
        ("n2g6pc", "attached", "BUS07-PLATFORM"),
        # the shelter counts parasols, not people; its own first signal joins the case
        ("u7e1jr", "signalled", "BUS07-SHELTER"),
    }
    assert ("n2g6pc", "label", "BUS07-SHELTER", None) in seen
    assert {c for *_, c in seen if c is not None} == {case_id}
    # one message was delivered twice: stored once
    sent = len(recorded("two_vendors")["messages"])
    assert session.scalar(select(func.count()).select_from(Detection)) == sent - 1


@pytest.mark.usefixtures("cameras")
def test_malformed_messages_are_dead_letters_with_the_reason_and_the_good_ones_count(
    context: Any, session: Session
) -> None:
    consumer = replay(context, "malformed")
    doc = recorded("malformed")
    rejected = [e["cause"] for e in doc["expected"]["parse"] if e["outcome"] == "rejected"]
    letters = session.scalars(
        select(DeadLetter).where(DeadLetter.channel == "frigate").order_by(DeadLetter.id)
    ).all()
    assert [letter.reason.split(":")[0] for letter in letters] == rejected
    assert all(letter.topic == "frigate/events" for letter in letters)
    assert consumer.stats.ignored == 1  # the garage camera, not mapped
    assert len(cases(session)) == 1  # the person between them still stayed a minute


@pytest.mark.usefixtures("cameras")
def test_frigate_events_through_the_broker_open_the_case(context: Any, session: Session) -> None:
    needs_broker()
    doc = recorded("street_vendor")
    prefix = f"test-{uuid.uuid4().hex[:8]}/frigate"
    mapping = FrigateMapping.model_validate(doc["mapping"])
    tag = prefix[5:13]
    consumer = FrigateConsumer(context, mapping, prefix=prefix, client_id=f"cityops-frigate-{tag}")
    consumer.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{tag}")
    publisher.connect(HOST, PORT)
    publisher.loop_start()
    try:
        assert consumer.subscribed.wait(5)
        for message in doc["messages"]:
            publisher.publish(f"{prefix}/events", payload(message), qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while consumer.stats.messages < len(doc["messages"]) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        consumer.stop()
    assert consumer.stats.messages == len(doc["messages"])
    assert [(k, s) for _, k, s in cases(session)] == [("E0502", "handling")]


@pytest.mark.usefixtures("cameras")
def test_snapshots_are_fetched_for_a_track_s_start_and_for_the_case(
    context: Any, session: Session, frigate: FakeFrigate
) -> None:
    doc = recorded("street_vendor")
    consumer = FrigateConsumer(context, FrigateMapping.model_validate(doc["mapping"]),
                               fetcher=SnapshotFetcher(frigate.base_url))  # fmt: skip
    for message in doc["messages"]:
        consumer.take_in([_Raw(message["topic"], payload(message), context.clock.now())])
    consumer.fetcher.close()  # type: ignore[union-attr]
    fetched = [r["path"].split("/")[3][-6:] for r in frigate.requests]
    # each track's first message (the wall's picture), the signal and the table joining
    assert fetched == ["k3v9qa", "7hq2mz", "k3v9qa", "7hq2mz"]
    ((case_id, _, _),) = cases(session)
    attached = session.scalars(
        select(CaseAttachment.content_type).where(CaseAttachment.case_id == case_id)
    ).all()
    assert len(attached) == 2
    camera = session.scalar(select(Camera).where(Camera.code == "CAM-MKT-E01"))
    assert camera is not None and camera.last_snapshot_key is not None
