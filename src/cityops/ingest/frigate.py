"""The Frigate NVR adapter: Frigate's MQTT event messages as `DetectionIn`, and its snapshots.

Frigate (https://frigate.video) publishes on `<prefix>/events` one JSON message per change
of a tracked object: `{"type": "new"|"update"|"end", "before": {…}, "after": {…}}`, where
`before` is the object as last published and `after` as it is now (id, camera, label,
frame_time, start_time, score, top_score, false_positive, box in detect-resolution pixels,
current_zones, stationary, …). Frigate sends `new` when an object first becomes a true
positive, `update` on a zone change, a move, a better snapshot or at least once a minute,
and `end` when it leaves the view.

`parse_event` turns one message into one `DetectionIn`, or says why it does not, without
raising on any input:

- `track_id` is Frigate's event id, `phase` the message type, `time` the frame the message
  describes (`after.frame_time`), `track_started_at` Frigate's `start_time`.
- `detection_id` is `"{id}:{type}:{frame_time}"`: Frigate publishes an object at most once a
  frame, and a redelivered message has the same three values, so the same key.
- `score` is `after.top_score` (after.score where a source omits it): the best median of ten
  consecutive frame scores, the value Frigate itself judges false positives by. A frame's
  own score jumps with occlusion and pose; verification keeps the best score a track
  reached, so one lucky frame would count as much as a steady detection.
- The box is normalised by the camera's detect resolution from the mapping; a box outside
  that resolution is rejected, as it means the mapping does not match Frigate's config.
- `zones` are `after.current_zones` translated by the camera's zone map; Frigate zones
  without a code of ours are dropped. The detection is `zoned`: an empty list means in none
  of our zones (verification does not place the object by its box).
- False positives: a `new` or `update` whose `after.false_positive` is true is ignored, so
  verification never sees it. An `end` is ignored only when both `before` and `after` are
  false positives: Frigate never demotes a true positive, so an `end` whose `before` was a
  true positive closes a track that was forwarded, and must be forwarded too.
- Messages of cameras the mapping does not name are ignored; malformed messages are
  rejected with a cause naming the offending field (`payload`, `type`, `after.box` …).

`SnapshotFetcher` fetches `/api/events/{id}/snapshot.jpg` from Frigate's HTTP API, with an
optional bearer token (Frigate ≥ 0.14 on its authenticated port) or basic credentials (a
proxy in front of the unauthenticated port), and gives None, with the reason logged, for
anything that is not a JPEG within the size limit.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Annotated, Any, Final, Literal, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from cityops.video.schemas import MAX_SNAPSHOT_BYTES, Box, Code, DetectionIn

log = logging.getLogger(__name__)

# A Frigate event message is 2–5 kB; `path_data` grows with long tracks. Anything far larger
# is not an event message, and decoding it would only cost memory.
MAX_PAYLOAD_BYTES: Final = 256 * 1024
# Frame times are epoch seconds; outside these bounds a value is not one (milliseconds, a
# frame counter), and turning it into a datetime would mislead or overflow.
EARLIEST_EPOCH_S: Final = 946_684_800.0  # 2000-01-01
LATEST_EPOCH_S: Final = 4_102_444_800.0  # 2100-01-01
# Frigate's ids are "<start epoch>.<micro>-<6 random chars>"; anything else in a URL path
# is refused rather than escaped, so an id can never climb out of /api/events/.
EVENT_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,119}$")
JPEG_MAGIC: Final = b"\xff\xd8\xff"

Phase = Literal["new", "update", "end"]
Outcome = Literal["detection", "ignored", "rejected"]
_PHASES: Final[dict[str, Phase]] = {"new": "new", "update": "update", "end": "end"}

SourceName = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)
]


class CameraMap(BaseModel):
    """One Frigate camera as we know it: our camera code, the resolution Frigate detects
    at (its `detect.width` and `detect.height`, the frame its boxes are in pixels of), and
    its Frigate zone names with our zone codes."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    code: Code
    width: int = Field(gt=0, le=16_384)
    height: int = Field(gt=0, le=16_384)
    zones: dict[str, Code] = Field(default_factory=dict)


class FrigateMapping(BaseModel):
    """How one Frigate instance's names translate to ours.

    `source` is what detections are recorded as sent by (one of the API key's sources);
    `cameras` is keyed by Frigate camera name; `labels` renames Frigate labels (its COCO
    model says "dining table" where our zones count "table"); others pass unchanged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    source: SourceName
    cameras: dict[str, CameraMap]
    labels: dict[str, Label] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What became of one message: a detection, or ignored or rejected with a reason.

    `cause` is short and stable, for tests and counters: for a rejection, the path of the
    offending field (`payload`, `type`, `after`, `after.box` …); for an ignored message,
    `camera_not_mapped` or `false_positive`. `reason` is a sentence for the log, starting
    with the cause. `event_id` is Frigate's id when the message got far enough to name it.
    """

    outcome: Outcome
    detection: DetectionIn | None = None
    cause: str | None = None
    reason: str | None = None
    event_id: str | None = None


class _Rejected(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def topic_filter(prefix: str = "frigate") -> str:
    """The topic Frigate publishes event messages on, for its `mqtt.topic_prefix`."""
    if not prefix or prefix.endswith("/") or any(c in prefix for c in "+#\x00"):
        raise ValueError(f"Frigate topic prefix {prefix!r}: a plain topic, no wildcards")
    return f"{prefix}/events"


def parse_event(payload: bytes, mapping: FrigateMapping) -> ParseResult:
    """One `frigate/events` message as a detection, or why it is ignored or rejected.

    Never raises on bad input: every problem with the payload is a `rejected` result whose
    cause names the field. See the module docstring for the rules.
    """
    event_id: str | None = None
    try:
        message = _decode(payload)
        phase = _phase(message)
        after = _object(message, "after")
        before = _object(message, "before") if message.get("before") is not None else None
        if isinstance(after.get("id"), str):
            event_id = after["id"]
        camera_name = _string(after, "camera", "after.camera")
        camera = mapping.cameras.get(camera_name)
        if camera is None:
            # Another camera on the same Frigate is none of ours: not an error.
            return ParseResult(
                outcome="ignored",
                cause="camera_not_mapped",
                reason=f"camera_not_mapped: Frigate camera {camera_name!r} is not in the mapping",
                event_id=event_id,
            )
        event_id = _string(after, "id", "after.id")
        if before is not None and "id" in before and before["id"] != event_id:
            raise _Rejected("before.id", f"{before['id']!r} is not after.id {event_id!r}")
        detection = _detection(phase, event_id, after, camera, mapping)
        false_positive = _flag(after, "false_positive", "after.false_positive")
        # A missing `before` tells nothing of what was forwarded: taken as a false positive.
        was_false_positive = (
            True if before is None else _flag(before, "false_positive", "before.false_positive")
        )
    except _Rejected as exc:
        return ParseResult(outcome="rejected", cause=exc.path, reason=str(exc), event_id=event_id)
    if false_positive and (phase != "end" or was_false_positive is not False):
        return ParseResult(
            outcome="ignored",
            cause="false_positive",
            reason=f"false_positive: Frigate marks event {event_id} as a false positive",
            event_id=event_id,
        )
    return ParseResult(outcome="detection", detection=detection, event_id=event_id)


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Rejected("payload", f"{len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Rejected("payload", f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _Rejected("payload", "not JSON (nested too deep)") from None
    except ValueError as exc:
        raise _Rejected("payload", f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Rejected("payload", f"a JSON object expected, got {_kind(value)}")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; which one Frigate meant is anyone's guess,
    # so such a message is refused instead.
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise ValueError(f"key {key!r} repeated")
        value[key] = item
    return value


def _phase(message: dict[str, Any]) -> Phase:
    if "type" not in message:
        raise _Rejected("type", "missing")
    kind = message["type"]
    if not isinstance(kind, str):
        raise _Rejected("type", f"a string expected, got {_kind(kind)}")
    phase = _PHASES.get(kind)
    if phase is None:
        raise _Rejected("type", f"unknown {kind!r}, expected new, update or end")
    return phase


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if value is None:
        raise _Rejected(key, "missing" if key not in message else "null")
    if not isinstance(value, dict):
        raise _Rejected(key, f"an object expected, got {_kind(value)}")
    return value


def _detection(
    phase: Phase, event_id: str, after: dict[str, Any], camera: CameraMap, mapping: FrigateMapping
) -> DetectionIn:
    label = _string(after, "label", "after.label")
    frame_time = _epoch(after, "frame_time", "after.frame_time")
    start_time = (
        _epoch(after, "start_time", "after.start_time")
        if after.get("start_time") is not None
        else None
    )
    if after.get("top_score") is not None:
        score_path, score = "after.top_score", _number(after, "top_score", "after.top_score")
    else:
        score_path, score = "after.score", _number(after, "score", "after.score")
    if not 0 <= score <= 1:
        raise _Rejected(score_path, f"{score} is outside 0…1")
    box = _box(after, camera)
    zones = _zones(after, camera)
    stationary = after.get("stationary")
    if stationary is not None and not isinstance(stationary, bool):
        raise _Rejected("after.stationary", f"true or false expected, got {_kind(stationary)}")
    try:
        return DetectionIn(
            source=mapping.source,
            detection_id=f"{event_id}:{phase}:{frame_time!r}",
            camera=camera.code,
            time=datetime.fromtimestamp(frame_time, UTC),
            label=mapping.labels.get(label, label),
            score=score,
            box=box,
            zones=zones,
            # Frigate judges zones itself: none named is in none of ours.
            zoned=True,
            track_id=event_id,
            phase=phase,
            stationary=stationary,
            track_started_at=(
                datetime.fromtimestamp(start_time, UTC) if start_time is not None else None
            ),
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        raise _Rejected(_FRIGATE_FIELD.get(field, "after"), error["msg"]) from None


# Which Frigate field each DetectionIn field is made of, to name it when validation fails.
_FRIGATE_FIELD: Final = {
    "detection_id": "after.id",
    "track_id": "after.id",
    "label": "after.label",
    "score": "after.top_score",
    "box": "after.box",
    "zones": "after.current_zones",
    "time": "after.frame_time",
    "track_started_at": "after.start_time",
    "stationary": "after.stationary",
}


def _box(after: dict[str, Any], camera: CameraMap) -> Box:
    if "box" not in after or after["box"] is None:
        raise _Rejected("after.box", "missing")
    raw = after["box"]
    if not isinstance(raw, list) or len(raw) != 4:
        size = f"{len(raw)} items" if isinstance(raw, list) else _kind(raw)
        raise _Rejected("after.box", f"[x_min, y_min, x_max, y_max] expected, got {size}")
    x1, y1, x2, y2 = (_finite(v, "after.box") for v in raw)
    if min(x1, y1, x2, y2) < 0 or max(x1, x2) > camera.width or max(y1, y2) > camera.height:
        raise _Rejected(
            "after.box",
            f"{raw} is outside the detect resolution {camera.width}x{camera.height} "
            f"of camera {camera.code}",
        )
    if x2 < x1 or y2 < y1:
        raise _Rejected("after.box", f"{raw}: x_max ≥ x_min and y_max ≥ y_min expected")
    width, height = camera.width, camera.height
    return Box(x1=x1 / width, y1=y1 / height, x2=x2 / width, y2=y2 / height)


def _zones(after: dict[str, Any], camera: CameraMap) -> list[str]:
    raw = after.get("current_zones")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Rejected("after.current_zones", f"a list expected, got {_kind(raw)}")
    zones: list[str] = []
    for name in raw:
        if not isinstance(name, str):
            raise _Rejected("after.current_zones", f"zone names expected, got {_kind(name)}")
        code = camera.zones.get(name)
        if code is not None and code not in zones:
            zones.append(code)
    return zones


def _string(obj: dict[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if value is None:
        raise _Rejected(path, "missing" if key not in obj else "null")
    if not isinstance(value, str):
        raise _Rejected(path, f"a string expected, got {_kind(value)}")
    if not value.strip():
        raise _Rejected(path, "empty")
    return value


def _flag(obj: dict[str, Any], key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Rejected(path, f"true or false expected, got {_kind(value)}")
    return value


def _number(obj: dict[str, Any], key: str, path: str) -> float:
    value = obj.get(key)
    if value is None:
        raise _Rejected(path, "missing" if key not in obj else "null")
    return _finite(value, path)


def _finite(value: Any, path: str) -> float:
    # bool is an int to Python, but `true` is not a number to anyone reading the message.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Rejected(path, f"a number expected, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise _Rejected(path, "a number too large") from None
    if not math.isfinite(number):
        raise _Rejected(path, f"a finite number expected, got {number}")
    return number


def _epoch(obj: dict[str, Any], key: str, path: str) -> float:
    value = _number(obj, key, path)
    if not EARLIEST_EPOCH_S <= value <= LATEST_EPOCH_S:
        raise _Rejected(path, f"{value} is not epoch seconds between 2000 and 2100")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def attach_snapshot(detection: DetectionIn, image: bytes) -> DetectionIn:
    """The detection with `image` (a JPEG, e.g. from `SnapshotFetcher.fetch`) inlined as its
    snapshot, validated again: raises `pydantic.ValidationError` for what is not a JPEG or
    PNG within `MAX_SNAPSHOT_BYTES`."""
    data = detection.model_dump()
    data["snapshot_base64"] = base64.b64encode(image).decode("ascii")
    return DetectionIn.model_validate(data)


class SnapshotFetcher:
    """Fetches event snapshots from Frigate's HTTP API over one pooled connection.

    `base_url` is Frigate's address including any proxy path (`http://nvr:5000`,
    `https://nvr.example:8971`, `https://proxy/frigate`). `token` is sent as a bearer
    token (Frigate ≥ 0.14 takes its JWT so on the authenticated port 8971); `basic_auth`
    as HTTP basic credentials, for a proxy in front of the unauthenticated port. `bbox`
    asks Frigate to draw the object's box, `crop` to crop to it; Frigate applies these only
    while the event is in progress, and its snapshot settings once the event has ended.
    `timeout` bounds each fetch as a whole, in seconds. Safe to share between threads.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        basic_auth: tuple[str, str] | None = None,
        timeout: float = 5.0,
        bbox: bool = False,
        crop: bool = False,
        quality: int | None = None,
        max_bytes: int = MAX_SNAPSHOT_BYTES,
    ) -> None:
        if token is not None and basic_auth is not None:
            raise ValueError("a bearer token or basic credentials, not both")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if quality is not None and not 1 <= quality <= 100:
            raise ValueError("quality is 1…100")
        headers = {"Accept": "image/jpeg"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._params: dict[str, str] = {}
        if bbox:
            self._params["bbox"] = "1"
        if crop:
            self._params["crop"] = "1"
        if quality is not None:
            self._params["quality"] = str(quality)
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            auth=httpx.BasicAuth(*basic_auth) if basic_auth is not None else None,
            timeout=httpx.Timeout(timeout),
            # A redirect from Frigate is to its login page: a missing or expired token.
            follow_redirects=False,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        )

    def fetch(self, event_id: str) -> bytes | None:
        """The JPEG snapshot of an event, or None (logged with the reason) when Frigate has
        none (404), answers with something else, is too slow or cannot be reached."""
        if not EVENT_ID_PATTERN.fullmatch(event_id):
            log.warning("Frigate snapshot not fetched: %r is not a Frigate event id", event_id)
            return None
        image, reason = self._get(f"api/events/{quote(event_id, safe='')}/snapshot.jpg")
        if image is None:
            # A 404 is common (an event without a snapshot, or already deleted): not alarming.
            level = logging.INFO if reason.startswith("HTTP 404") else logging.WARNING
            log.log(level, "Frigate snapshot of event %s not fetched: %s", event_id, reason)
        return image

    def _get(self, path: str) -> tuple[bytes | None, str]:
        deadline = clock.monotonic() + self.timeout
        try:
            with self._client.stream("GET", path, params=self._params) as response:
                if response.status_code != httpx.codes.OK:
                    return None, f"HTTP {response.status_code}"
                media_type = response.headers.get("content-type", "").split(";")[0]
                if media_type.strip().lower() not in ("image/jpeg", "image/jpg"):
                    return None, f"not an image: content type {media_type or 'missing'!r}"
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        return None, f"over {self.max_bytes} bytes"
                    # httpx's timeout is per read; a server dribbling bytes would pass it.
                    if clock.monotonic() > deadline:
                        return None, f"timed out after {self.timeout} s"
        except httpx.TimeoutException:
            return None, f"timed out after {self.timeout} s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if not body.startswith(JPEG_MAGIC):
            return None, "the body is not a JPEG"
        return bytes(body), "ok"

    def close(self) -> None:
        """Closes the pooled connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
