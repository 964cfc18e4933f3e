"""Detections in: each checked (and its snapshot stored) before the transaction, then
stored once and judged against its camera's zones; a detection that satisfies a zone's
rule becomes a signal for intake (a case, through the automatic path where the class
allows it), with its snapshot and the object's box on it as evidence. The caller commits.
"""

from __future__ import annotations

import binascii
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal
from cityops.cases.intake import IntakeEnv, Signal, intake
from cityops.cases.models import Case
from cityops.cases.service import CaseEnv, Picture, SystemNote, add_system_notes
from cityops.cases.workflow import TERMINAL_STATES, Actor, State
from cityops.ingest.schemas import EventIn, Evidence, Location, SourceKind
from cityops.ingest.service import validation_problems
from cityops.kit.bus import collect
from cityops.kit.images import content_type_of
from cityops.kit.storage import BlobStorage, StoredBlob, new_key
from cityops.video.events import DetectionRecorded
from cityops.video.models import (
    Camera,
    CameraStatus,
    Detection,
    FalsePositive,
    Track,
    Verdict,
    Zone,
)
from cityops.video.rules import KnownFalsePositive, Sighting, ZoneRule, judge
from cityops.video.schemas import DetectionIn, DetectionResult

log = logging.getLogger(__name__)

# A camera's clock a little fast is common; further ahead is a bug in the source.
MAX_CLOCK_SKEW = timedelta(minutes=5)
ACTOR_NAME = "视频智能分析"
VIDEO_ACTOR = Actor.system(ACTOR_NAME)


@dataclass
class VideoEnv:
    """What the video services read: the clock, the district's zone, blob storage, and what
    intake and the case services need when a detection opens or joins a case."""

    now: datetime
    tz: tzinfo
    storage: BlobStorage
    intake_env: Callable[[], IntakeEnv]
    case_env: Callable[[], CaseEnv]
    # For sources that keep their snapshots (an NVR): fetch the one of a detection that
    # opens or joins a case and came without an image. Only then: most detections need none.
    fetch_snapshot: Callable[[DetectionIn], bytes | None] | None = None


def zone_rule(zone: Zone) -> ZoneRule:
    """The zone's rule. Built for each batch and used in its thread only: a GEOS prepared
    polygon must not be queried from two threads at once."""
    return ZoneRule(
        id=zone.id,
        code=zone.code,
        polygon=tuple((float(x), float(y)) for x, y in zone.polygon),
        labels=frozenset(zone.labels),
        min_score=zone.min_score,
        min_dwell_s=zone.min_dwell_s,
        active_hours=tuple(
            (time.fromisoformat(w["from"]), time.fromisoformat(w["to"])) for w in zone.active_hours
        ),
        class_code=zone.class_code,
        cooldown_s=zone.cooldown_s,
    )


@dataclass
class Checked:
    """A detection that passed the checks, with its image (sent inline or fetched by a
    consumer) and where that image was stored."""

    index: int
    detection: DetectionIn
    source: str
    image: bytes | None = None
    snapshot: StoredBlob | None = None

    @property
    def snapshot_key(self) -> str | None:
        return self.snapshot.key if self.snapshot is not None else None


@dataclass
class CheckedBatch:
    """A request's detections after the checks: those to store, and the results of those
    refused, by their index in the request."""

    size: int
    items: list[Checked]
    rejected: dict[int, DetectionResult]


def check_items(
    principal: Principal, items: Sequence[Any], now: datetime
) -> tuple[list[Checked], dict[int, DetectionResult]]:
    """Validate and authorise each item: those that pass, and a rejected result for the
    others, naming the field."""
    good: list[Checked] = []
    rejected: dict[int, DetectionResult] = {}
    for index, raw in enumerate(items):
        try:
            detection = DetectionIn.model_validate(raw)
        except ValidationError as exc:
            rejected[index] = DetectionResult(
                index=index, status="rejected", errors=validation_problems(exc)
            )
            continue
        problems = []
        if detection.time > now + MAX_CLOCK_SKEW:
            problems.append({"path": "time", "message": "is in the future"})
        if detection.source is None:
            problems.append({"path": "source", "message": "required"})
        elif detection.source not in principal.sources:
            problems.append(
                {"path": "source", "message": f"this API key may not post as {detection.source!r}"}
            )
        if problems:
            rejected[index] = DetectionResult(index=index, status="rejected", errors=problems)
            continue
        good.append(Checked(index, detection, detection.source or ""))
    return good, rejected


def check_batch(
    storage: BlobStorage,
    principal: Principal,
    items: Sequence[Any],
    now: datetime,
    snapshots: Sequence[bytes | None] | None = None,
) -> CheckedBatch:
    """Check a request's detections and store the snapshots of those that pass.

    Done before the transaction opens (no database is read), so that the fsyncs of a
    snapshot do not hold up the one transaction writing detections. `snapshots` (one per
    item, or None) carries images fetched by a consumer (from an NVR) rather than sent
    inline.
    Snapshots of detections that turn out to be repeats, or of unknown cameras, are
    removed again by `discard_unused`.
    """
    checked, rejected = check_items(principal, items, now)
    good: list[Checked] = []
    for item in checked:
        image = snapshots[item.index] if snapshots is not None else None
        if image is None and item.detection.snapshot_base64 is not None:
            try:
                # Strict: the whole picture is checked, not only its head (and it is
                # faster than base64.b64decode).
                image = binascii.a2b_base64(item.detection.snapshot_base64, strict_mode=True)
            except binascii.Error:
                rejected[item.index] = DetectionResult(
                    index=item.index,
                    status="rejected",
                    errors=[{"path": "snapshot_base64", "message": "not base64"}],
                )
                continue
        if image is not None:
            item.image = image
            item.snapshot = storage.put(
                new_key(f"video/{item.detection.camera}", "snapshot.jpg"),
                image,
                content_type_of(image),
            )
        good.append(item)
    return CheckedBatch(len(items), good, rejected)


def _box(detection: DetectionIn) -> list[float] | None:
    if detection.box is None:
        return None
    return [detection.box.x1, detection.box.y1, detection.box.x2, detection.box.y2]


def discard_unused(
    storage: BlobStorage, batches: Sequence[CheckedBatch], results: Sequence[Sequence[Any]] | None
) -> None:
    """Remove the snapshots stored for detections that were not recorded: repeats, unknown
    cameras, or every one of them when the transaction failed (`results` None)."""
    for n, batch in enumerate(batches):
        for item in batch.items:
            if item.snapshot_key is None:
                continue
            if results is None or results[n][item.index].status != "created":
                with contextlib.suppress(OSError):
                    storage.delete(item.snapshot_key)


def record_detections(
    session: Session, env: VideoEnv, batches: Sequence[CheckedBatch]
) -> list[list[DetectionResult]]:
    """Store and judge checked detections of one or more requests in the caller's
    transaction; for each request, a result per item in the order sent.

    A repeat of a `(source, detection_id)` changes nothing and is answered with what the
    first one became.
    """
    good = [(n, item) for n, batch in enumerate(batches) for item in batch.items]
    results: list[dict[int, DetectionResult]] = [dict(b.rejected) for b in batches]
    # Repeats, within the batch and of earlier batches.
    stored = _stored(session, {(i.source, i.detection.detection_id) for _, i in good})
    # Locked in the order of their ids (PostgreSQL; SQLite's write lock covers it): two
    # processes' batches that share cameras take turns instead of each locking some of
    # them by flushing updates in the order detections came, and deadlocking (a stall of
    # the deadlock timeout, then a retry). NO KEY UPDATE, as the updates to come would: a
    # detection's foreign key only takes a KEY SHARE lock on its camera.
    cameras = {
        c.code: c
        for c in session.scalars(
            select(Camera)
            .where(Camera.code.in_({i.detection.camera for _, i in good}))
            .order_by(Camera.id)
            .with_for_update(key_share=True)
        )
    }
    zones: dict[int, list[Zone]] = defaultdict(list)
    known: dict[int, list[KnownFalsePositive]] = defaultdict(list)
    camera_ids = [c.id for c in cameras.values()]
    if camera_ids:
        for zone in session.scalars(
            select(Zone).where(Zone.camera_id.in_(camera_ids), Zone.active.is_(True))
        ):
            zones[zone.camera_id].append(zone)
        for fp in session.scalars(
            select(FalsePositive).where(FalsePositive.camera_id.in_(camera_ids))
        ):
            x1, y1, x2, y2 = fp.box
            known[fp.camera_id].append(
                KnownFalsePositive(fp.label, (x1, y1, x2, y2), fp.min_overlap)
            )
    tracks = _tracks(session, {(i.source, i.detection.track_id or i.detection.detection_id)
                               for _, i in good})  # fmt: skip
    state = _BatchState(
        rules={z.id: zone_rule(z) for camera_zones in zones.values() for z in camera_zones},
        tracks=tracks,
    )
    taken: list[tuple[int, Checked, Camera, dict[str, Any]]] = []
    repeats: list[tuple[int, int, tuple[str, str]]] = []
    seen: set[tuple[str, str]] = set()
    # In time order: a batch may hold a track's updates out of order (several senders).
    for n, item in sorted(good, key=lambda g: g[1].detection.time):
        detection, index = item.detection, item.index
        key = (item.source, detection.detection_id)
        if key in stored or key in seen:
            repeats.append((n, index, key))
            continue
        camera = cameras.get(detection.camera)
        if camera is None:
            results[n][index] = DetectionResult(
                index=index,
                status="rejected",
                errors=[{"path": "camera", "message": f"no camera {detection.camera!r}"}],
            )
            continue
        seen.add(key)
        row = _take(session, env, item, camera, zones[camera.id], known[camera.id], state)
        taken.append((n, item, camera, row))
    _open_cases(session, env, state)
    if state.notes:
        add_system_notes(session, env.case_env(), env.storage, VIDEO_ACTOR, state.notes)
    # One INSERT for the batch's detections, after the tracks and cases they touched.
    ids = list(session.scalars(
        insert(Detection).returning(Detection.id, sort_by_parameter_order=True),
        [row for _, _, _, row in taken],
    )) if taken else []  # fmt: skip
    created: dict[tuple[str, str], DetectionResult] = {}
    for (n, item, camera, row), row_id in zip(taken, ids, strict=True):
        result = DetectionResult(
            index=item.index, status="created", id=row_id, verdicts=row["verdicts"]
        )
        results[n][item.index] = created[(item.source, row["detection_id"])] = result
        collect(session, DetectionRecorded(
            id=row_id, source=item.source, detection_id=row["detection_id"],
            camera_id=camera.id, camera_code=camera.code, grid_code=camera.grid_code,
            department_id=camera.department_id, time=row["time"], label=row["label"],
            score=row["score"], box=row["box"], phase=row["phase"], track_id=row["track_id"],
            stationary=row["stationary"], verdicts=row["verdicts"],
            has_snapshot=row["snapshot_key"] is not None, received_at=row["received_at"],
        ))  # fmt: skip
    for n, index, key in repeats:
        first = created.get(key) or _result_of(index, stored[key])
        results[n][index] = first.model_copy(update={"index": index, "status": "duplicate"})
    return [[r[i] for i in range(batch.size)] for r, batch in zip(results, batches, strict=True)]


def _result_of(index: int, row: Detection) -> DetectionResult:
    return DetectionResult(index=index, status="created", id=row.id, verdicts=row.verdicts)


def _by_source(keys: set[tuple[str, str]]) -> dict[str, list[str]]:
    # `source = ? AND key IN (…)` per source: SQLite scans a whole unique index for a
    # row-value IN of (source, key) pairs.
    grouped: dict[str, list[str]] = defaultdict(list)
    for source, key in sorted(keys):
        grouped[source].append(key)
    return grouped


def _stored(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Detection]:
    found = {}
    for source, ids in _by_source(keys).items():
        for start in range(0, len(ids), 5000):
            for row in session.scalars(
                select(Detection).where(
                    Detection.source == source,
                    Detection.detection_id.in_(ids[start : start + 5000]),
                )
            ):
                found[(row.source, row.detection_id)] = row
    return found


def _tracks(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str, int], Track]:
    found = {}
    for source, ids in _by_source(keys).items():
        for start in range(0, len(ids), 5000):
            for row in session.scalars(
                select(Track).where(
                    Track.source == source, Track.track_id.in_(ids[start : start + 5000])
                )
            ):
                found[(row.source, row.track_id, row.zone_id)] = row
    return found


def _zones_of(detection: DetectionIn, zones: list[Zone], rules: dict[int, ZoneRule]) -> list[Zone]:
    """The zones the detection is in: those the source names (none, if it judged zones and
    named none), else those holding the box's foot (where the object stands)."""
    if detection.zones or detection.zoned:
        named = set(detection.zones)
        return [z for z in zones if z.code in named]
    if detection.box is None:
        return []
    x, y = detection.box.foot
    return [z for z in zones if rules[z.id].contains(x, y)]


@dataclass
class _BatchState:
    """What judging a batch's detections, one after another, reads and keeps."""

    rules: dict[int, ZoneRule]  # by zone id
    tracks: dict[tuple[str, str, int], Track]  # by (source, track, zone id)
    # Each track's latest picture in the batch: its detections are inserted together at
    # the end, so a later one cannot find an earlier one's snapshot in the table yet.
    pictures: dict[tuple[str, str], bytes] = field(default_factory=dict)
    # Tracks that satisfied their zone's rule: intake takes their signals together once
    # the batch is judged (one call, a few queries, instead of a call each).
    openings: list[_Opening] = field(default_factory=list)
    opening_in_zone: dict[int, _Opening] = field(default_factory=dict)  # the zone's latest
    opening_of_track: dict[int, _Opening] = field(default_factory=dict)  # by id(track)
    attached: set[str] = field(default_factory=set)  # snapshots a case references
    notes: list[SystemNote] = field(default_factory=list)  # for the cases, in order


@dataclass
class _Opening:
    """A track's signal waiting for intake; what waits for its case: the verdicts to fill
    in, and the notes of tracks joining it and of its end, in the order they came."""

    detection: DetectionIn
    camera: Camera
    zone: Zone
    track: Track
    evidence: _Evidence | None
    last_at: datetime  # the zone's latest signal it stands for: the cool-down runs from it
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    then: list[Callable[[int], None]] = field(default_factory=list)


def _take(
    session: Session,
    env: VideoEnv,
    item: Checked,
    camera: Camera,
    zones: list[Zone],
    known: list[KnownFalsePositive],
    state: _BatchState,
) -> dict[str, Any]:
    """Judge a detection in its camera's zones, following its tracks and raising or joining
    cases; the detection's row to insert."""
    source, detection = item.source, item.detection
    rules, tracks = state.rules, state.tracks
    at = detection.time
    if camera.last_seen_at is None or at > camera.last_seen_at:
        camera.last_seen_at = at
    snapshot_key = item.snapshot_key
    if snapshot_key is not None and (
        camera.last_snapshot_at is None or at >= camera.last_snapshot_at
    ):
        camera.last_snapshot_key, camera.last_snapshot_at = snapshot_key, at
    box = _box(detection)
    verdicts: list[dict[str, Any]] = []
    track_id = detection.track_id or detection.detection_id
    if item.image is not None:
        state.pictures[(source, track_id)] = item.image
    targets = _zones_of(detection, zones, rules)
    if detection.phase == "end":
        # An object usually leaves a zone before its track ends, so the end names another
        # zone or none: it ends the track in every zone it was followed in.
        followed = {z for (s, t, z) in tracks if (s, t) == (source, track_id)}
        targets += [z for z in zones if z.id in followed and z not in targets]
    for zone in targets:
        if camera.status != CameraStatus.ONLINE.value:
            verdicts.append({"zone": zone.code, "verdict": Verdict.CAMERA_DOWN.value})
            continue
        track = tracks.get((source, track_id, zone.id))
        if track is None:
            if detection.phase == "end":
                # The end of an object never seen in this zone: nothing to follow.
                verdicts.append({"zone": zone.code, "verdict": Verdict.ENDED.value})
                continue
            track = Track(
                source=source,
                track_id=track_id,
                camera_id=camera.id,
                zone_id=zone.id,
                label=detection.label,
                first_seen_at=min(at, detection.track_started_at or at),
                last_seen_at=at,
                stationary_since=None,
                best_score=detection.score,
            )
            session.add(track)
            tracks[(source, track_id, zone.id)] = track
        verdict, case_id, opening = _judge_in_zone(
            session, env, item, camera, zone, rules[zone.id], track, box, known, state
        )
        entry = {"zone": zone.code, "verdict": verdict.value, "case_id": case_id}
        if opening is not None:  # its case is known once intake has taken the batch
            opening.verdicts.append(entry)
        verdicts.append(entry)
    if not verdicts:
        verdicts.append({"zone": None, "verdict": Verdict.OUTSIDE.value})
    return {
        "source": source, "detection_id": detection.detection_id, "camera_id": camera.id,
        "track_id": detection.track_id, "time": at, "label": detection.label,
        "score": detection.score, "box": box, "phase": detection.phase,
        "stationary": detection.stationary, "verdicts": verdicts, "snapshot_key": snapshot_key,
        "snapshot_url": str(detection.snapshot_url) if detection.snapshot_url else None,
        "received_at": env.now,
    }  # fmt: skip


def _judge_in_zone(
    session: Session,
    env: VideoEnv,
    item: Checked,
    camera: Camera,
    zone: Zone,
    rule: ZoneRule,
    track: Track,
    box: list[float] | None,
    known: list[KnownFalsePositive],
    state: _BatchState,
) -> tuple[Verdict, int | None, _Opening | None]:
    """The detection's verdict in the zone, and its case: known now, or to come from the
    batch's signal that the detection waits on."""
    detection = item.detection
    at = detection.time
    if at >= track.last_seen_at:
        track.last_seen_at = at
        if detection.stationary is True:
            track.stationary_since = track.stationary_since or at
        elif detection.stationary is False:
            track.stationary_since = None
    track.best_score = max(track.best_score, detection.score)
    waiting = state.opening_of_track.get(id(track))
    if detection.phase == "end":
        track.ended_at = at
        left = (
            f"目标离开：{_where(camera, zone)}，{detection.label}（轨迹 {track.track_id}）"
            f"{_clock(at, env.tz)} 离开画面区域。"
        )
        if waiting is not None:
            waiting.then.append(lambda case_id: _note(state, case_id, left))
        elif track.case_id is not None:
            _note(state, track.case_id, left)
        return Verdict.ENDED, track.case_id, waiting
    if waiting is not None or track.case_id is not None:
        return Verdict.TRACKED, track.case_id, waiting  # one track never opens a second case
    sighting = Sighting(
        label=track.label,
        best_score=track.best_score,
        first_seen_at=track.first_seen_at,
        at=at,
        stationary=detection.stationary,
        stationary_since=track.stationary_since,
    )
    verdict = judge(rule, sighting, box, known, env.tz)
    if verdict is not Verdict.SIGNALLED:
        return verdict, None, None
    image = item.image or _evidence_image(session, env, detection, track, state)
    evidence = _Evidence(image, item.snapshot if item.image is not None else None, box) if (
        image is not None) else None  # fmt: skip
    joined = (
        f"同一区域新目标：{_where(camera, zone)}，{detection.label}"
        f"（轨迹 {track.track_id}，置信度 {track.best_score:.2f}）{_clock(at, env.tz)}。"
    )
    open_case = _open_zone_case(session, zone, at)
    if open_case is not None:
        zone.last_signal_at = at
        _join(state, open_case, track, joined, evidence)
        return Verdict.ATTACHED, open_case, None
    opening = state.opening_in_zone.get(zone.id)
    if opening is not None and at - opening.last_at < timedelta(seconds=zone.cooldown_s):
        # The zone's case is being opened by this batch: join it once it is.
        opening.last_at = at
        opening.then.append(lambda case_id: _join(state, case_id, track, joined, evidence))
        state.opening_of_track[id(track)] = opening
        return Verdict.ATTACHED, None, opening
    opening = _Opening(detection, camera, zone, track, evidence, last_at=at)
    state.openings.append(opening)
    state.opening_in_zone[zone.id] = state.opening_of_track[id(track)] = opening
    return Verdict.SIGNALLED, None, opening


def _open_cases(session: Session, env: VideoEnv, state: _BatchState) -> None:
    """Hand intake the batch's signals together; give each its case (opened or merged
    into), with the snapshot noted on it, then what waited for it."""
    if not state.openings:
        return
    signals = [_signal(n, env, o.detection, o.camera, o.zone, o.track)
               for n, o in enumerate(state.openings)]  # fmt: skip
    results = {r.index: r for r in intake(session, env.intake_env(), signals)}
    for n, opening in enumerate(state.openings):
        result = results[n]
        if result.status == "rejected":
            log.warning("video signal refused by intake: %s", result.errors)
        case_id = result.case_id
        if case_id is None:
            for entry in opening.verdicts:
                if entry["verdict"] in (Verdict.SIGNALLED.value, Verdict.ATTACHED.value):
                    entry["verdict"] = Verdict.WATCHING.value
            continue
        opening.track.case_id = case_id
        zone = opening.zone
        zone.last_case_id, zone.last_signal_at = case_id, opening.last_at
        picture = _picture(state, opening.evidence)
        if picture is not None:
            at = _clock(opening.detection.time, env.tz)
            _note(state, case_id, f"视频抓拍：{_where(opening.camera, zone)}，{at}。", picture)
        for entry in opening.verdicts:
            entry["case_id"] = case_id
        for step in opening.then:
            step(case_id)


def _join(
    state: _BatchState, case_id: int, track: Track, text: str, evidence: _Evidence | None
) -> None:
    """A new track in a zone whose case is open: noted on the case with its snapshot."""
    track.case_id = case_id
    _note(state, case_id, text, _picture(state, evidence))


def _evidence_image(
    session: Session, env: VideoEnv, detection: DetectionIn, track: Track, state: _BatchState
) -> bytes | None:
    """A picture for a detection that reaches a case without one: the source's own (an NVR
    keeps them), else the track's latest stored snapshot (a detector sends one when the
    object appears and when it turns still, not with every update)."""
    if env.fetch_snapshot is not None:
        fetched = env.fetch_snapshot(detection)
        if fetched is not None:
            return fetched
    in_batch = state.pictures.get((track.source, track.track_id))
    if in_batch is not None:
        return in_batch
    # Detections are inserted at the end of the batch: nothing pending concerns this read.
    with session.no_autoflush:
        key = session.scalar(
            select(Detection.snapshot_key)
            .where(
                Detection.source == track.source,
                Detection.track_id == track.track_id,
                Detection.snapshot_key.is_not(None),
            )
            .order_by(Detection.time.desc(), Detection.id.desc())
            .limit(1)
        )
    return b"".join(env.storage.open(key)) if key is not None else None


def _open_zone_case(session: Session, zone: Zone, at: datetime) -> int | None:
    """The zone's latest case, if it is still open and the cool-down has not run out."""
    if zone.last_case_id is None or zone.last_signal_at is None:
        return None
    if at - zone.last_signal_at >= timedelta(seconds=zone.cooldown_s):
        return None
    state = session.scalar(select(Case.state).where(Case.id == zone.last_case_id))
    if state is None or State(state) in TERMINAL_STATES:
        return None
    return zone.last_case_id


def _signal(
    index: int,
    env: VideoEnv,
    detection: DetectionIn,
    camera: Camera,
    zone: Zone,
    track: Track,
) -> Signal:
    """The signal for intake of a track that satisfied the zone's rule."""
    stayed = int((detection.time - (track.stationary_since or track.first_seen_at)).total_seconds())
    description = (
        f"【视频智能分析】{_where(camera, zone)}发现{zone.purpose or zone.name}相关目标："
        f"{track.label}，置信度 {track.best_score:.2f}，停留约 {stayed} 秒"
        f"（{_clock(detection.time, env.tz)}）。"
    )
    evidence = [Evidence(url=detection.snapshot_url, kind="snapshot")] if (
        detection.snapshot_url is not None) else []  # fmt: skip
    event = EventIn(
        source="video",
        external_id=f"track-{track.source}-{track.track_id}-{zone.id}"[:120],
        kind=SourceKind.CAMERA,
        location=Location(lon=camera.lon, lat=camera.lat),
        occurred_at=detection.time,
        description=description[:2000],
        address=camera.address,
        class_code=zone.class_code,
        confidence=track.best_score,
        evidence=evidence,
    )
    return Signal(
        index=index,
        event=event,
        source="video",
        reporter_id=None,
        reporter_name=ACTOR_NAME,
        reporter_role="source",
    )


@dataclass(frozen=True)
class _Evidence:
    """A picture for a case: its bytes, where it is stored already (the detection's own
    snapshot) if it is, and the object's box on it."""

    image: bytes
    stored: StoredBlob | None
    box: list[float] | None


def _picture(state: _BatchState, evidence: _Evidence | None) -> Picture | None:
    """The snapshot for the case, the object's box marked on it (drawn when it is shown:
    that means decoding and encoding the picture, 10 ms for a 720p JPEG, and most are never
    opened). The detection's stored snapshot is referenced, not copied, unless another case
    of the batch references it already."""
    if evidence is None:
        return None
    data: bytes | StoredBlob = evidence.image
    if evidence.stored is not None and evidence.stored.key not in state.attached:
        state.attached.add(evidence.stored.key)
        data = evidence.stored
    return Picture(data, "snapshot.jpg", content_type_of(evidence.image), evidence.box)


def _note(state: _BatchState, case_id: int, text: str, picture: Picture | None = None) -> None:
    """Noted on the case once the batch is judged, with the batch's other notes in one go
    (in the order they came)."""
    state.notes.append(SystemNote(case_id, text, picture))


def _where(camera: Camera, zone: Zone) -> str:
    return f"{camera.name}「{zone.name}」"


def _clock(at: datetime, tz: tzinfo) -> str:
    return f"{at.astimezone(tz):%H:%M:%S}"
