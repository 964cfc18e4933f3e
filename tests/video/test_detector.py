"""The built-in detector on synthetic video made here: stalls, walkers, caps, an ONNX model."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cityops.video.detector import (
    CameraWorker,
    DetectorConfig,
    Frame,
    FrameSource,
    HogPeople,
    MotionModel,
    OnnxModel,
    default_people_finder,
    make_box,
    run_file,
)
from cityops.video.schemas import Box, DetectionIn

START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
WIDTH, HEIGHT, FPS = 640, 360, 10
# A stall: a red table under a yellow awning; its box in pixels, awning included.
STALL = (380, 200, 500, 300)
STALL_BOX = ((380 - 20) / WIDTH, (200 - 30) / HEIGHT, (500 + 20) / WIDTH, 300 / HEIGHT)
# Pure green: the background (40…205 in each channel) never comes near it.
WALKER_COLOUR = (0, 255, 0)


def _background(seed: int = 1) -> Frame:
    # Coarse noise, smoothly enlarged: texture for MOG2 to model, as a street has.
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 200, (HEIGHT // 8, WIDTH // 8, 3)).astype(np.uint8)
    return np.asarray(cv2.resize(coarse, (WIDTH, HEIGHT)), dtype=np.uint8)


def _draw_stall(frame: Frame) -> None:
    x1, y1, x2, y2 = STALL
    cv2.rectangle(frame, (x1, y1), (x2, y2), (30, 60, 200), -1)
    cv2.rectangle(frame, (x1 - 20, y1 - 30), (x2 + 20, y1), (200, 200, 40), -1)


def _draw_walker(frame: Frame, progress: float, y: int = 60) -> None:
    x = int(-40 + progress * (WIDTH + 80))
    cv2.rectangle(frame, (x, y), (x + 30, y + 80), WALKER_COLOUR, -1)


def _scene(
    stall: tuple[float, float] | None = None, walker: tuple[float, float] | None = None
) -> Callable[[Frame, float], None]:
    """Draws a stall standing from stall[0] to stall[1] seconds and a walker crossing the
    frame left to right from walker[0] to walker[1] seconds."""

    def draw(frame: Frame, t: float) -> None:
        if stall is not None and stall[0] <= t < stall[1]:
            _draw_stall(frame)
        if walker is not None and walker[0] <= t < walker[1]:
            _draw_walker(frame, (t - walker[0]) / (walker[1] - walker[0]))

    return draw


def _write_video(
    path: Path,
    seconds: float,
    draw: Callable[[Frame, float], None],
    fps: int = FPS,
) -> Path:
    rng = np.random.default_rng(7)
    background = _background()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for index in range(round(seconds * fps)):
        frame = background.copy()
        draw(frame, index / fps)
        # Sensor noise on top of MJPG's own artefacts.
        noise = rng.integers(0, 6, frame.shape).astype(np.uint8)
        writer.write(np.asarray(cv2.add(frame, noise), dtype=np.uint8))
    writer.release()
    return path


class GreenPeople:
    """A people finder that knows people by their green coat: the walker, never the stall."""

    def find(self, frame: Frame, regions: Sequence[Box]) -> list[tuple[float, Box]]:
        mask = cv2.inRange(frame, (0, 220, 0), (30, 255, 30))
        if cv2.countNonZero(mask) == 0:
            return []
        x, y, w, h = cv2.boundingRect(cv2.findNonZero(mask))
        height, width = frame.shape[:2]
        return [(0.9, make_box(x / width, y / height, (x + w) / width, (y + h) / height))]


def _config(**changes: object) -> DetectorConfig:
    settings: dict[str, object] = {
        "max_fps": 5,
        "stationary_seconds": 4,
        "lost_frames": 5,
        "update_seconds": 1,
        "model": lambda: MotionModel(min_area=0.002, history=150, people=GreenPeople()),
    }
    settings.update(changes)
    return DetectorConfig(**settings)  # type: ignore[arg-type]


def _tracks(detections: list[DetectionIn]) -> dict[str, list[DetectionIn]]:
    tracks: dict[str, list[DetectionIn]] = {}
    for detection in detections:
        assert detection.track_id is not None
        tracks.setdefault(detection.track_id, []).append(detection)
    return tracks


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def _box(detection: DetectionIn) -> tuple[float, float, float, float]:
    assert detection.box is not None
    return detection.box.x1, detection.box.y1, detection.box.x2, detection.box.y2


def _jpeg_shape(snapshot: str | None) -> tuple[int, ...]:
    assert snapshot is not None
    data = np.frombuffer(base64.b64decode(snapshot), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert image is not None
    return tuple(image.shape)


def test_a_stall_that_stays_turns_stationary(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "stall.avi", 12, _scene(stall=(2, 99)))

    detections = run_file(video, "cam-1", START, _config())

    assert len({d.detection_id for d in detections}) == len(detections)
    (track,) = _tracks(detections).values()
    assert [d.phase for d in track] == ["new"] + ["update"] * (len(track) - 2) + ["end"]
    new = track[0]
    assert new.label == "object"
    assert new.score == 0.5
    assert new.source == "builtin"
    assert new.camera == "cam-1"
    assert new.stationary is False
    assert new.track_started_at == _at(2)
    assert _box(new) == pytest.approx(STALL_BOX, abs=0.02)
    assert _jpeg_shape(new.snapshot_base64) == (HEIGHT, WIDTH, 3)
    # Still for stationary_seconds (4) from 2 s on: the first frame at or after 6 s says so,
    # with a snapshot; every message after it says so too, without one.
    first = next(i for i, d in enumerate(track) if d.stationary)
    assert track[first].time == _at(6)
    assert _jpeg_shape(track[first].snapshot_base64) == (HEIGHT, WIDTH, 3)
    assert all(d.stationary for d in track[first:])
    assert [d.snapshot_base64 is not None for d in track] == [
        i in (0, first) for i in range(len(track))
    ]
    for detection in track:
        assert _box(detection) == pytest.approx(STALL_BOX, abs=0.02)
    # MOG2 would have learned the stall into the background within about 3 s (a tenth of
    # its 30 s history); the track is seen to the end of the file all the same.
    assert track[-2].time >= _at(11)
    assert track[-1].time == _at(11.8)


def test_a_stall_that_leaves_ends_and_leaves_no_ghost(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "stall.avi", 14, _scene(stall=(1, 9)))

    detections = run_file(video, "cam-1", START, _config())

    (track,) = _tracks(detections).values()
    assert track[-1].phase == "end"
    assert track[-1].time == _at(8.8)
    assert track[-1].stationary is True
    assert track[-2].time >= _at(8)
    # Nothing after it: when the stall went, the background it uncovered was not taken for
    # a new object.
    assert detections[-1] is track[-1]


def test_motion_model_loses_a_still_object_unless_held() -> None:
    rng = np.random.default_rng(3)
    background = _background()

    def frame(with_stall: bool) -> Frame:
        image = background.copy()
        if with_stall:
            _draw_stall(image)
        return np.asarray(cv2.add(image, rng.integers(0, 6, image.shape).astype(np.uint8)))

    plain = MotionModel(history=50)
    plain.detect(frame(False))
    seen = [len(plain.detect(frame(True))) == 1 for _ in range(20)]
    # Learned into the background after about a tenth of the history.
    assert seen[:3] == [True, True, True]
    assert seen[-5:] == [False] * 5

    held = MotionModel(history=50)
    held.detect(frame(False))
    (stall,) = held.detect(frame(True))
    held.hold("stall", stall.box)
    for _ in range(30):
        assert held.detect(frame(True)) == []
        assert held.present("stall", frame(True))
    assert not held.present("stall", frame(False))
    held.release("stall")
    # The model never learned the stall, so the uncovered background is no ghost.
    assert all(held.detect(frame(False)) == [] for _ in range(5))


def test_a_walker_passes_never_stationary_and_its_track_ends(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "walker.avi", 12, _scene(walker=(1, 8)))

    detections = run_file(video, "cam-1", START, _config(stationary_seconds=2))

    (track,) = _tracks(detections).values()
    assert track[0].phase == "new"
    assert track[-1].phase == "end"
    assert all(d.phase == "update" for d in track[1:-1])
    assert all(d.stationary is False for d in track)
    assert {d.label for d in track} == {"person"}
    assert track[0].score == pytest.approx(0.9)
    # It ended because it left, at about 8 s, not because the file ended at 12 s.
    assert _at(7.4) <= track[-1].time <= _at(8)
    lefts = [_box(d)[0] for d in track]
    assert lefts == sorted(lefts)
    assert lefts[-1] > 0.8


def test_a_slow_walker_stays_one_track(tmp_path: Path) -> None:
    def draw(frame: Frame, t: float) -> None:
        # 30 px/s: 6 px between processed frames, a third of the tolerance (19 px), so it is
        # "still" for three frames at a time; holding it then would split it into pieces.
        _draw_walker(frame, 30 * t / (WIDTH + 80))

    video = _write_video(tmp_path / "slow.avi", 10, draw)

    detections = run_file(video, "cam-1", START, _config())

    (track,) = _tracks(detections).values()
    assert not any(d.stationary for d in track)
    assert track[-1].time == _at(9.8)


def test_of_a_stall_and_a_walker_only_the_stall_is_raised(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "both.avi", 12, _scene(stall=(1, 99), walker=(2, 9)))

    detections = run_file(video, "cam-1", START, _config())

    tracks = _tracks(detections)
    assert len(tracks) == 2
    stationary = {d.track_id for d in detections if d.stationary and d.track_id}
    (stall_id,) = stationary
    stall = tracks[stall_id]
    assert {d.label for d in stall} == {"object"}
    assert all(_box(d) == pytest.approx(STALL_BOX, abs=0.02) for d in stall)
    (walker,) = (track for track_id, track in tracks.items() if track_id != stall_id)
    assert {d.label for d in walker} == {"person"}
    assert walker[-1].phase == "end"
    assert walker[-1].time < _at(9.5)

    people_only = run_file(video, "cam-1", START, _config(labels=frozenset({"Person"})))

    assert {d.label for d in people_only} == {"person"}
    assert len(_tracks(people_only)) == 1


def test_frame_rate_and_resolution_caps(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "plain.avi", 4, _scene())

    with FrameSource(video, max_fps=4, max_width=320, max_height=240, start_time=START) as source:
        frames = list(source.frames())
        assert source.frames_read == 40

    # 10 fps down to 4: picked by the file's own timestamps, the same on every replay.
    assert [f.index for f in frames] == [i + j for i in range(0, 40, 10) for j in (0, 3, 5, 8)]
    assert [f.time for f in frames] == [_at(f.index / FPS) for f in frames]
    # 640×360 into 320×240 keeps the aspect ratio: 320×180.
    assert {f.image.shape for f in frames} == {(180, 320, 3)}

    with FrameSource(video, max_fps=30, max_width=1920, max_height=1080) as source:
        frames = list(source.frames())
    assert len(frames) == 40
    assert {f.image.shape for f in frames} == {(HEIGHT, WIDTH, 3)}

    worker = CameraWorker("cam-1", video, lambda _: None, _config(max_fps=2), start_time=START)
    worker.run()
    assert worker.frames_processed == 8


def test_a_worker_stops_when_asked_from_another_thread(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "stall.avi", 12, _scene(stall=(1, 99)))
    batches: list[list[DetectionIn]] = []

    def emit(batch: list[DetectionIn]) -> None:
        batches.append(batch)
        worker.stop()

    worker = CameraWorker("cam-1", video, emit, _config(), start_time=START)
    thread = threading.Thread(target=worker.run)
    thread.start()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert worker.frames_processed < 20
    assert [[d.phase for d in batch] for batch in batches] == [["new"], ["end"]]
    assert batches[0][0].track_id == batches[1][0].track_id


def test_a_failing_emit_does_not_stop_detection(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "stall.avi", 6, _scene(stall=(1, 99)))
    calls: list[int] = []

    def emit(batch: list[DetectionIn]) -> None:
        calls.append(len(batch))
        raise ConnectionError("ingest is down")

    worker = CameraWorker("cam-1", video, emit, _config(), start_time=START)
    worker.run()

    assert worker.frames_processed == 30
    assert len(calls) > 2


def test_people_finder_follows_what_opencv_ships() -> None:
    finder = default_people_finder()
    if hasattr(cv2, "HOGDescriptor"):
        assert isinstance(finder, HogPeople)
        assert finder.find(_background(), [make_box(0.4, 0.2, 0.5, 0.8)]) == []
    else:
        # OpenCV 5's main wheel moved HOG to contrib: blobs are then labelled "object".
        assert finder is None
        assert not HogPeople.available()
        with pytest.raises(RuntimeError, match="HOGDescriptor"):
            HogPeople()


def test_config_refuses_a_background_that_learns_before_holding() -> None:
    with pytest.raises(ValueError, match="background_seconds"):
        DetectorConfig(max_fps=1, background_seconds=20)
    with pytest.raises(ValueError, match="max_fps"):
        DetectorConfig(max_fps=0)


# The ONNX model's rows, in its 320×320 input's pixels: x1, y1, x2, y2, score, class. A
# 640×360 frame is letterboxed into it at scale 0.5 with 70 px of padding above and below.
ROWS = [
    [32, 79, 96, 115, 0.9, 0],  # a person: frame (64, 18, 192, 90)
    [36, 81, 100, 117, 0.8, 0],  # the same person again, weaker: NMS drops it
    [160, 150, 288, 230, 0.7, 1],  # a table: frame (320, 160, 576, 320)
    [34, 80, 98, 116, 0.6, 1],  # a table over the person: another class, kept
    [200, 100, 260, 140, 0.2, 0],  # too weak
    [200, 240, 240, 250, 0.5, 5],  # a class without a label, at the bottom edge
]
PERSON = (0.1, 0.05, 0.3, 0.25)
TABLE = (0.5, 160 / 360, 0.9, 320 / 360)


def _onnx_model(path: Path, rows: list[list[float]], size: int = 320) -> Path:
    """A model whose output is `rows` with the score column times the input's brightest
    value: what it outputs depends on the input reaching it as 0…1."""
    table = np.array(rows, dtype=np.float32)
    mask = np.zeros_like(table)
    mask[:, 4] = 1.0
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMax", ["images"], ["peak"], keepdims=0),
            helper.make_node("Sub", ["peak", "one"], ["peak_less_one"]),
            helper.make_node("Mul", ["mask", "peak_less_one"], ["change"]),
            helper.make_node("Add", ["change", "one"], ["factor"]),
            helper.make_node("Mul", ["table", "factor"], ["detections"]),
        ],
        "fixed_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [len(rows), 6])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(mask, "mask"),
            numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_model_decodes_letterboxed_detections(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "model.onnx", ROWS)
    model = OnnxModel(path, ["Person", "table"], input_size=320, score_threshold=0.3)
    bright = _background()
    bright[:16, :16] = 255

    found = model.detect(bright)

    assert [f.label for f in found] == ["person", "table", "table", "class5"]
    assert [f.score for f in found] == pytest.approx([0.9, 0.7, 0.6, 0.5])
    boxes = [(f.box.x1, f.box.y1, f.box.x2, f.box.y2) for f in found]
    assert boxes[0] == pytest.approx(PERSON, abs=1e-4)
    assert boxes[1] == pytest.approx(TABLE, abs=1e-4)
    assert boxes[2] == pytest.approx((68 / 640, 20 / 360, 196 / 640, 92 / 360), abs=1e-4)
    assert boxes[3] == pytest.approx((0.625, 340 / 360, 0.75, 1.0), abs=1e-4)

    # A black frame: the brightest input is the letterbox's grey, 114/255, and so are the
    # scores scaled; the table over the person (0.27) and the unlabelled class fall below 0.3.
    dark = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    found = model.detect(dark)
    assert [f.label for f in found] == ["person", "table"]
    assert [f.score for f in found] == pytest.approx([0.9 * 114 / 255, 0.7 * 114 / 255], abs=1e-4)
    assert (found[0].box.x1, found[0].box.y1) == pytest.approx(PERSON[:2], abs=1e-4)


def test_onnx_model_refuses_an_input_size_it_was_not_built_for(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "model.onnx", ROWS)
    with pytest.raises(ValueError, match="input_size"):
        OnnxModel(path, ["person"], input_size=640)


def test_a_worker_with_an_onnx_model_emits_its_detections(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "model.onnx", ROWS)

    def lit(frame: Frame, _: float) -> None:
        frame[:32, :32] = 255

    video = _write_video(tmp_path / "scene.avi", 5, lit)
    config = _config(
        model=lambda: OnnxModel(path, ["person", "table"], 320, score_threshold=0.3),
        stationary_seconds=2,
        labels=frozenset({"person", "table"}),
    )

    detections = run_file(video, "cam-2", START, config)

    tracks = _tracks(detections)
    assert sorted(track[0].label for track in tracks.values()) == ["person", "table", "table"]
    for track in tracks.values():
        assert track[0].phase == "new"
        assert track[0].snapshot_base64 is not None
        assert track[0].track_started_at == START
        assert track[-1].phase == "end"
        assert next(d.time for d in track if d.stationary) == _at(2)
    (person,) = (track for track in tracks.values() if track[0].label == "person")
    assert _box(person[0]) == pytest.approx(PERSON, abs=1e-3)
    assert person[0].score == pytest.approx(0.9)
