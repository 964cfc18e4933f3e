"""The Frigate adapter: recorded event sequences parsed message by message, the mapping rules
(boxes, zones, labels, false positives, idempotency keys), every kind of malformed message
rejected naming its field, and snapshots fetched from a real local HTTP server.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.fakes import JPEG, FakeFrigate

from cityops.ingest.frigate import (
    MAX_PAYLOAD_BYTES,
    CameraMap,
    FrigateMapping,
    ParseResult,
    SnapshotFetcher,
    attach_snapshot,
    parse_event,
    topic_filter,
)
from cityops.video.schemas import Box, DetectionIn

RECORDED = Path(__file__).resolve().parents[1] / "video" / "frigate"
SEQUENCES = sorted(RECORDED.glob("*.json"))
EVENT_ID = "1732410000.123456-abc123"

MAPPING = FrigateMapping(
    source="frigate-1",
    cameras={
        "market_east": CameraMap(
            code="CAM-MKT-E01",
            width=1280,
            height=720,
            zones={"platform": "MKT-E01-PLATFORM", "crosswalk": "MKT-E01-CROSSWALK"},
        ),
        "bus_stop_7": CameraMap(
            code="CAM-BUS-07", width=640, height=480, zones={"platform": "BUS07-PLATFORM"}
        ),
    },
    labels={"dining table": "table"},
)


def _event(**after: Any) -> dict[str, Any]:
    """An `update` message of a true positive, with `after` fields replaced."""
    state: dict[str, Any] = {
        "id": EVENT_ID,
        "camera": "market_east",
        "frame_time": 1732410030.5,
        "snapshot": None,
        "label": "person",
        "sub_label": None,
        "top_score": 0.84765625,
        "false_positive": False,
        "start_time": 1732410000.123456,
        "end_time": None,
        "score": 0.8203125,
        "box": [320, 180, 960, 720],
        "area": 345600,
        "ratio": 1.1851851851851851,
        "region": [320, 130, 960, 720],
        "active": False,
        "stationary": True,
        "motionless_count": 60,
        "position_changes": 1,
        "current_zones": ["platform"],
        "entered_zones": ["platform"],
        "has_clip": True,
        "has_snapshot": True,
        "attributes": {},
        "current_attributes": [],
    }
    before = copy.deepcopy(state) | {"frame_time": 1732410020.25, "stationary": False}
    state.update(after)
    return {"before": before, "after": state, "type": "update"}


def _bytes(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def _parse(message: dict[str, Any]) -> ParseResult:
    return parse_event(_bytes(message), MAPPING)


def _detection(message: dict[str, Any]) -> DetectionIn:
    result = _parse(message)
    assert result.outcome == "detection", result.reason
    assert result.detection is not None
    assert result.cause is None
    return result.detection


def _recorded_payload(message: dict[str, Any]) -> bytes:
    kinds = {"payload", "payload_text", "payload_base64"} & message.keys()
    assert len(kinds) == 1, message
    if "payload_text" in message:
        return str(message["payload_text"]).encode()
    if "payload_base64" in message:
        return base64.b64decode(message["payload_base64"])
    return _bytes(message["payload"])


# Recorded sequences ---------------------------------------------------------------------


def test_the_recorded_sequences_cover_every_scenario() -> None:
    names = {path.name for path in SEQUENCES}
    assert names >= {
        "street_vendor.json",
        "false_positive.json",
        "vendor_returns.json",
        "two_vendors.json",
        "malformed.json",
    }
    outcomes: set[tuple[str, str | None]] = set()
    for path in SEQUENCES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        outcomes |= {(e["outcome"], e.get("cause")) for e in doc["expected"]["parse"]}
    assert ("detection", None) in outcomes
    assert ("ignored", "false_positive") in outcomes
    assert ("ignored", "camera_not_mapped") in outcomes
    rejected = {cause for outcome, cause in outcomes if outcome == "rejected"}
    assert rejected >= {"payload", "after", "type", "after.box"}


@pytest.mark.parametrize("path", SEQUENCES, ids=lambda p: p.stem)
def test_a_recorded_sequence_parses_as_expected(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    mapping = FrigateMapping.model_validate(doc["mapping"])
    messages, expected = doc["messages"], doc["expected"]["parse"]
    assert len(messages) == len(expected)
    keys: dict[str, bytes] = {}
    for index, (message, expect) in enumerate(zip(messages, expected, strict=True)):
        where = f"{path.name} message {index}"
        assert message["topic"] == topic_filter(), where
        payload = _recorded_payload(message)
        result = parse_event(payload, mapping)
        assert result.outcome == expect["outcome"], f"{where}: {result.reason}"
        if result.outcome != "detection":
            assert result.detection is None
            assert result.cause == expect["cause"], f"{where}: {result.reason}"
            assert result.reason is not None
            assert result.reason.startswith(f"{result.cause}: ")
            continue
        assert result.detection is not None
        dumped = result.detection.model_dump(mode="json")
        for key, value in expect.items():
            if key != "outcome":
                assert dumped[key] == value, f"{where}: {key}"
        # What every detection of a recording must be, whatever the sequence.
        after = message["payload"]["after"]
        camera = mapping.cameras[after["camera"]]
        assert dumped["source"] == mapping.source
        assert dumped["camera"] == camera.code
        assert dumped["score"] == after["top_score"]
        assert result.detection.time == datetime.fromtimestamp(after["frame_time"], UTC)
        assert result.detection.box == Box(
            x1=after["box"][0] / camera.width,
            y1=after["box"][1] / camera.height,
            x2=after["box"][2] / camera.width,
            y2=after["box"][3] / camera.height,
        )
        # The same key only for the very same message (a redelivery).
        key = result.detection.detection_id
        assert keys.setdefault(key, payload) == payload, f"{where}: {key} reused"


def test_a_recorded_track_keeps_its_id_and_ends_once() -> None:
    doc = json.loads((RECORDED / "vendor_returns.json").read_text(encoding="utf-8"))
    mapping = FrigateMapping.model_validate(doc["mapping"])
    phases: dict[str, list[str]] = {}
    for message in doc["messages"]:
        detection = parse_event(_recorded_payload(message), mapping).detection
        assert detection is not None and detection.track_id is not None
        phases.setdefault(detection.track_id, []).append(detection.phase)
    assert len(phases) == 2  # the vendor who came back is a new Frigate event
    for track in phases.values():
        assert track[0] == "new" and track[-1] == "end"
        assert set(track[1:-1]) == {"update"}


# Mapping rules --------------------------------------------------------------------------


def test_a_detection_carries_the_frigate_event() -> None:
    detection = _detection(_event())
    assert detection.source == "frigate-1"
    assert detection.camera == "CAM-MKT-E01"
    assert detection.track_id == EVENT_ID
    assert detection.phase == "update"
    assert detection.label == "person"
    assert detection.time == datetime(2024, 11, 24, 1, 0, 30, 500000, tzinfo=UTC)
    assert detection.track_started_at == datetime(2024, 11, 24, 1, 0, 0, 123456, tzinfo=UTC)
    assert detection.stationary is True
    assert detection.detection_id == f"{EVENT_ID}:update:1732410030.5"
    assert detection.snapshot_url is None and detection.snapshot_base64 is None


@pytest.mark.parametrize(
    ("camera", "box", "expected"),
    [
        ("market_east", [320, 180, 960, 720], (0.25, 0.25, 0.75, 1.0)),
        ("market_east", [0, 0, 1280, 720], (0.0, 0.0, 1.0, 1.0)),
        ("market_east", [1, 1, 1279, 719], (1 / 1280, 1 / 720, 1279 / 1280, 719 / 720)),
        ("market_east", [100, 50, 100, 50], (100 / 1280, 50 / 720, 100 / 1280, 50 / 720)),
        ("bus_stop_7", [160, 120, 480, 480], (0.25, 0.25, 0.75, 1.0)),
        ("bus_stop_7", [64.5, 48.25, 128, 96], (64.5 / 640, 48.25 / 480, 0.2, 0.2)),
    ],
)
def test_boxes_are_normalised_by_the_camera_detect_resolution(
    camera: str, box: list[float], expected: tuple[float, float, float, float]
) -> None:
    detection = _detection(_event(camera=camera, box=box))
    assert detection.box is not None
    assert (detection.box.x1, detection.box.y1, detection.box.x2, detection.box.y2) == expected


def test_zones_are_translated_per_camera_and_unmapped_ones_dropped() -> None:
    zones = ["entrance", "platform", "crosswalk", "platform"]
    assert _detection(_event(current_zones=zones)).zones == [
        "MKT-E01-PLATFORM",
        "MKT-E01-CROSSWALK",
    ]
    # The same Frigate zone name on another camera is another zone of ours.
    on_bus_stop = _event(camera="bus_stop_7", box=[10, 10, 20, 20], current_zones=zones)
    assert _detection(on_bus_stop).zones == ["BUS07-PLATFORM"]
    # entered_zones is history, not where the object is.
    assert _detection(_event(current_zones=[], entered_zones=["platform"])).zones == []
    assert _detection(_event(current_zones=["entrance"])).zones == []
    assert _detection(_event(current_zones=None)).zones == []


def test_labels_are_renamed_by_the_mapping_others_pass() -> None:
    assert _detection(_event(label="dining table")).label == "table"
    assert _detection(_event(label="umbrella")).label == "umbrella"


def test_the_score_is_the_top_score_else_the_frame_score() -> None:
    assert _detection(_event(score=0.55, top_score=0.9)).score == 0.9
    assert _detection(_event(score=0.55, top_score=None)).score == 0.55
    message = _event(score=0.6)
    del message["after"]["top_score"]
    assert _detection(message).score == 0.6


def test_optional_fields_may_be_missing() -> None:
    message = _event()
    for key in ("start_time", "stationary", "current_zones", "false_positive"):
        del message["after"][key]
    del message["before"]
    detection = _detection(message)
    assert detection.track_started_at is None
    assert detection.stationary is None
    assert detection.zones == []


def test_a_message_delivered_twice_gives_the_same_detection() -> None:
    payload = _bytes(_event())
    first, second = parse_event(payload, MAPPING), parse_event(payload, MAPPING)
    assert first.detection is not None
    assert first.detection == second.detection
    # Another message of the same track differs in its frame or its type, so in its key.
    later = _detection(_event(frame_time=1732410031.5)).detection_id
    ended = _detection(_event() | {"type": "end"}).detection_id
    assert len({first.detection.detection_id, later, ended}) == 3


def test_an_unmapped_camera_is_ignored_not_rejected() -> None:
    result = _parse(_event(camera="garage", box=[0, 0, 1920, 1080]))
    assert result.outcome == "ignored"
    assert result.cause == "camera_not_mapped"
    assert result.reason is not None and "garage" in result.reason
    assert result.event_id == EVENT_ID
    assert result.detection is None


@pytest.mark.parametrize("kind", ["new", "update"])
def test_a_false_positive_is_ignored(kind: str) -> None:
    message = _event(false_positive=True, top_score=0.55) | {"type": kind}
    message["before"]["false_positive"] = True
    result = _parse(message)
    assert (result.outcome, result.cause) == ("ignored", "false_positive")
    assert result.detection is None


def test_the_end_of_a_forwarded_track_is_forwarded_even_if_marked_false() -> None:
    # before is what was last published: a true positive, forwarded; its end must follow.
    message = _event(false_positive=True) | {"type": "end"}
    message["before"]["false_positive"] = False
    assert _detection(message).phase == "end"
    # A track that was never a true positive was never forwarded: nothing to close.
    message["before"]["false_positive"] = True
    assert _parse(message).cause == "false_positive"
    del message["before"]
    assert _parse(message).cause == "false_positive"
    # The usual end: a true positive throughout.
    assert _detection(_event() | {"type": "end"}).phase == "end"


def test_new_is_forwarded_although_before_was_a_false_positive() -> None:
    # Frigate's first message of an object: before is its state before it qualified.
    message = _event() | {"type": "new"}
    message["before"].update(false_positive=True, top_score=0.0, snapshot=None)
    assert _detection(message).phase == "new"


# Malformed messages ---------------------------------------------------------------------


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(message: dict[str, Any]) -> None:
        message["after"][key] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def change(message: dict[str, Any]) -> None:
        del message["after"][key]

    return change


MALFORMED_JSON: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("no type", lambda m: m.pop("type"), "type"),
    ("type not a string", lambda m: m.update(type=1), "type"),
    ("unknown type", lambda m: m.update(type="delete"), "type"),
    ("type in capitals", lambda m: m.update(type="NEW"), "type"),
    ("no after", lambda m: m.pop("after"), "after"),
    ("after null", lambda m: m.update(after=None), "after"),
    ("after a list", lambda m: m.update(after=[1, 2]), "after"),
    ("before a string", lambda m: m.update(before="x"), "before"),
    ("before of another event", lambda m: m["before"].update(id="other"), "before.id"),
    (
        "before.false_positive a string",
        lambda m: m["before"].update(false_positive="no"),
        "before.false_positive",
    ),
    ("no camera", _drop("camera"), "after.camera"),
    ("camera a number", _set("camera", 7), "after.camera"),
    ("no id", _drop("id"), "after.id"),
    ("id empty", lambda m: (m["before"].pop("id"), m["after"].update(id="  ")), "after.id"),
    ("id too long", lambda m: [m[k].update(id="9" * 121) for k in ("before", "after")], "after.id"),
    ("no label", _drop("label"), "after.label"),
    ("label a list", _set("label", ["person"]), "after.label"),
    ("label too long", _set("label", "l" * 41), "after.label"),
    ("no frame_time", _drop("frame_time"), "after.frame_time"),
    ("frame_time a string", _set("frame_time", "1732410030.5"), "after.frame_time"),
    ("frame_time a boolean", _set("frame_time", True), "after.frame_time"),
    ("frame_time in milliseconds", _set("frame_time", 1732410030500), "after.frame_time"),
    ("frame_time negative", _set("frame_time", -1.0), "after.frame_time"),
    ("frame_time enormous", _set("frame_time", 10**400), "after.frame_time"),
    ("start_time a string", _set("start_time", "yesterday"), "after.start_time"),
    ("top_score above 1", _set("top_score", 87.5), "after.top_score"),
    ("top_score negative", _set("top_score", -0.1), "after.top_score"),
    ("top_score a string", _set("top_score", "0.9"), "after.top_score"),
    (
        "score missing without top_score",
        lambda m: [m["after"].pop(k) for k in ("score", "top_score")],
        "after.score",
    ),
    ("no box", _drop("box"), "after.box"),
    ("box null", _set("box", None), "after.box"),
    ("box of three", _set("box", [320, 180, 960]), "after.box"),
    ("box of five", _set("box", [320, 180, 960, 720, 1]), "after.box"),
    ("box an object", _set("box", {"x1": 1}), "after.box"),
    ("box with a string", _set("box", [320, "180", 960, 720]), "after.box"),
    ("box with a boolean", _set("box", [320, 180, True, 720]), "after.box"),
    ("box negative", _set("box", [-1, 180, 960, 720]), "after.box"),
    ("box wider than the frame", _set("box", [320, 180, 1281, 720]), "after.box"),
    ("box taller than the frame", _set("box", [320, 180, 960, 1080]), "after.box"),
    ("box inverted", _set("box", [960, 180, 320, 720]), "after.box"),
    ("current_zones a string", _set("current_zones", "platform"), "after.current_zones"),
    ("current_zones with a number", _set("current_zones", ["platform", 3]), "after.current_zones"),
    ("stationary a string", _set("stationary", "yes"), "after.stationary"),
    ("false_positive a number", _set("false_positive", 0), "after.false_positive"),
]


@pytest.mark.parametrize(
    ("change", "cause"),
    [pytest.param(change, cause, id=name) for name, change, cause in MALFORMED_JSON],
)
def test_a_malformed_message_is_rejected_naming_the_field(
    change: Callable[[dict[str, Any]], object], cause: str
) -> None:
    message = _event()
    change(message)
    result = _parse(message)
    assert result.outcome == "rejected", result.reason
    assert result.cause == cause
    assert result.reason is not None and result.reason.startswith(f"{cause}: ")
    assert result.detection is None


def test_more_zones_than_a_detection_holds_is_rejected_naming_the_zones() -> None:
    zones = {f"z{i}": f"ZONE-{i}" for i in range(21)}
    mapping = FrigateMapping(
        source="frigate-1",
        cameras={"market_east": CameraMap(code="CAM-MKT-E01", width=1280, height=720, zones=zones)},
    )
    result = parse_event(_bytes(_event(current_zones=list(zones))), mapping)
    assert (result.outcome, result.cause) == ("rejected", "after.current_zones")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"online", id="not JSON"),
        pytest.param(b'{"type": "update", "before": {', id="truncated"),
        pytest.param(b'{"type": "new"} trailing', id="trailing data"),
        pytest.param(b"\xff\xfe{}", id="not UTF-8"),
        pytest.param(b"\xef\xbb\xbf{}", id="byte order mark"),
        pytest.param(b"[1, 2]", id="an array"),
        pytest.param(b"null", id="null"),
        pytest.param(b'"frigate"', id="a string"),
        pytest.param(b'{"type": "new", "type": "end", "after": {}}', id="repeated key"),
        pytest.param(b"[" * 100_000, id="nested too deep"),
        pytest.param(b" " * (MAX_PAYLOAD_BYTES + 1), id="too large"),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_rejected(payload: bytes) -> None:
    result = parse_event(payload, MAPPING)
    assert (result.outcome, result.cause) == ("rejected", "payload")
    assert result.reason is not None and result.reason.startswith("payload: ")


def test_non_finite_numbers_are_rejected_where_they_are_used() -> None:
    text = _bytes(_event()).replace(b'"frame_time": 1732410030.5', b'"frame_time": NaN')
    result = parse_event(text, MAPPING)
    assert (result.outcome, result.cause) == ("rejected", "after.frame_time")
    # Where Frigate writes NaN in a field we do not read, the message still counts.
    text = _bytes(_event()).replace(b'"ratio": 1.1851851851851851', b'"ratio": NaN')
    assert parse_event(text, MAPPING).outcome == "detection"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    assert parse_event(payload, MAPPING).outcome in ("rejected", "ignored", "detection")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(_event()["after"])), value=JSON_VALUES)
def test_any_value_in_any_field_never_raises(key: str, value: Any) -> None:
    result = _parse(_event(**{key: value}))
    if result.outcome == "rejected":
        assert result.cause is not None and result.cause.startswith(("after.", "before."))


# Topic and mapping ----------------------------------------------------------------------


def test_the_topic_follows_frigate_topic_prefix() -> None:
    assert topic_filter() == "frigate/events"
    assert topic_filter("site-a/frigate") == "site-a/frigate/events"
    for bad in ("", "frigate/", "frigate/#", "+"):
        with pytest.raises(ValueError, match="topic prefix"):
            topic_filter(bad)


def test_a_mapping_is_validated_strictly() -> None:
    camera = {"code": "CAM-1", "width": 1280, "height": 720}
    FrigateMapping.model_validate({"source": "frigate-1", "cameras": {"c": camera}})
    for bad in (
        {"width": 0},
        {"width": "1280"},
        {"code": "camera one"},
        {"zones": {"platform": "no spaces"}},
        {"fps": 5},
    ):
        with pytest.raises(ValidationError):
            FrigateMapping.model_validate({"source": "frigate-1", "cameras": {"c": camera | bad}})
    with pytest.raises(ValidationError):
        FrigateMapping.model_validate({"source": "frigate 1", "cameras": {}})


def test_a_snapshot_is_attached_and_validated() -> None:
    detection = _detection(_event())
    with_image = attach_snapshot(detection, JPEG)
    assert with_image.snapshot_base64 is not None
    assert base64.b64decode(with_image.snapshot_base64) == JPEG
    assert with_image.model_dump(exclude={"snapshot_base64"}) == detection.model_dump(
        exclude={"snapshot_base64"}
    )
    with pytest.raises(ValidationError, match="JPEG or PNG"):
        attach_snapshot(detection, b"<html>login</html>")


# Snapshot fetching ----------------------------------------------------------------------


def test_a_snapshot_is_fetched_over_one_pooled_connection(frigate: FakeFrigate) -> None:
    with SnapshotFetcher(frigate.base_url) as fetcher:
        assert fetcher.fetch(EVENT_ID) == JPEG
        assert fetcher.fetch(EVENT_ID) == JPEG
    assert [r["path"] for r in frigate.requests] == [f"/api/events/{EVENT_ID}/snapshot.jpg"] * 2
    assert frigate.requests[0]["query"] == ""
    assert frigate.requests[0]["authorization"] is None
    assert frigate.requests[0]["port"] == frigate.requests[1]["port"]


def test_options_and_a_proxy_path_are_passed_on(frigate: FakeFrigate) -> None:
    with SnapshotFetcher(
        f"{frigate.base_url}/frigate", bbox=True, crop=True, quality=80
    ) as fetcher:
        assert fetcher.fetch(EVENT_ID) == JPEG
    assert frigate.requests[0]["path"] == f"/frigate/api/events/{EVENT_ID}/snapshot.jpg"
    assert frigate.requests[0]["query"] == "bbox=1&crop=1&quality=80"


def test_a_bearer_token_or_basic_credentials_are_sent(frigate: FakeFrigate) -> None:
    with SnapshotFetcher(frigate.base_url, token="eyJhbGciOi.jwt") as fetcher:
        assert fetcher.fetch(EVENT_ID) == JPEG
    with SnapshotFetcher(frigate.base_url, basic_auth=("cityops", "s3cret")) as fetcher:
        assert fetcher.fetch(EVENT_ID) == JPEG
    basic = base64.b64encode(b"cityops:s3cret").decode()
    assert [r["authorization"] for r in frigate.requests] == [
        "Bearer eyJhbGciOi.jwt",
        f"Basic {basic}",
    ]
    with pytest.raises(ValueError, match="not both"):
        SnapshotFetcher(frigate.base_url, token="t", basic_auth=("u", "p"))


@pytest.mark.parametrize(
    ("event", "reason", "level"),
    [
        ("missing", "HTTP 404", logging.INFO),
        ("login", "HTTP 302", logging.WARNING),
        ("html", "content type 'text/html'", logging.WARNING),
        ("fake", "not a JPEG", logging.WARNING),
        ("huge", "over 1000 bytes", logging.WARNING),
    ],
)
def test_anything_but_a_jpeg_gives_none_with_the_reason_logged(
    frigate: FakeFrigate, caplog: pytest.LogCaptureFixture, event: str, reason: str, level: int
) -> None:
    caplog.set_level(logging.INFO, logger="cityops.ingest.frigate")
    with SnapshotFetcher(frigate.base_url, max_bytes=1000) as fetcher:
        assert fetcher.fetch(event) is None
    [record] = caplog.records
    assert record.levelno == level
    assert event in record.getMessage() and reason in record.getMessage()


def test_a_slow_frigate_times_out(frigate: FakeFrigate, caplog: pytest.LogCaptureFixture) -> None:
    with SnapshotFetcher(frigate.base_url, timeout=0.2) as fetcher:
        started = time.monotonic()
        assert fetcher.fetch("slow") is None
        assert time.monotonic() - started < 2
    assert "timed out after 0.2 s" in caplog.text


def test_an_unreachable_frigate_gives_none(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with SnapshotFetcher(f"http://127.0.0.1:{port}", timeout=1) as fetcher:
        assert fetcher.fetch(EVENT_ID) is None
    assert "ConnectError" in caplog.text


def test_an_event_id_that_is_not_frigate_s_is_not_requested(
    frigate: FakeFrigate, caplog: pytest.LogCaptureFixture
) -> None:
    with SnapshotFetcher(frigate.base_url) as fetcher:
        for bad in ("../config", "..", "", "a/b", "id?x=1", "x" * 121):
            assert fetcher.fetch(bad) is None
    assert frigate.requests == []
    assert "not a Frigate event id" in caplog.text
