"""The built-in detector (内置视频检测) for cameras that have no analytics of their own."""

from __future__ import annotations

import base64
import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from cityops.video.schemas import Box, DetectionIn

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
"""A BGR image, height × width × 3, as OpenCV decodes it."""
Phase = Literal["new", "update", "end"]

# A foreground blob says that something is there, not what it is nor how sure: every blob
# gets this score, halfway, so that a reader can tell it from a model's calibrated score.
BLOB_SCORE = 0.5
# The label of a blob that no people finder claimed.
OBJECT_LABEL = "object"
# Stream positions closer than this count as equal: container timestamps carry float noise
# (0.30000000000000004 s), which must not drop a frame that is exactly on time.
_TIME_EPSILON = 1e-3
# A source that does not say its frame rate is taken to run at this one (for positions only).
_FALLBACK_FPS = 25.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_frame(image: Any) -> Frame:
    return np.asarray(image, dtype=np.uint8)


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, value))


def make_box(x1: float, y1: float, x2: float, y2: float) -> Box:
    """A normalised box from corners that may lie outside the frame or be swapped."""
    x1, x2 = sorted((_clip01(x1), _clip01(x2)))
    y1, y2 = sorted((_clip01(y1), _clip01(y2)))
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


def box_area(box: Box) -> float:
    """The box's area as a fraction of the frame's."""
    return (box.x2 - box.x1) * (box.y2 - box.y1)


def _intersection(a: Box, b: Box) -> float:
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    return w * h if w > 0 and h > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not touch)."""
    inter = _intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def _pixels(box: Box, width: int, height: int, pad: float = 0.0) -> tuple[int, int, int, int]:
    """The box in whole pixels inside the frame, grown by `pad` of its size on each side."""
    dx = (box.x2 - box.x1) * width * pad
    dy = (box.y2 - box.y1) * height * pad
    x1 = max(0, math.floor(box.x1 * width - dx))
    y1 = max(0, math.floor(box.y1 * height - dy))
    x2 = min(width, math.ceil(box.x2 * width + dx))
    y2 = min(height, math.ceil(box.y2 * height + dy))
    return x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)


def _moved(a: Box, b: Box) -> float:
    return max(abs(a.x1 - b.x1), abs(a.y1 - b.y1), abs(a.x2 - b.x2), abs(a.y2 - b.y2))


def _centre(box: Box) -> tuple[float, float]:
    return (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2


class Found(NamedTuple):
    """One object a model found in one frame: what, how sure (0…1), where (normalised)."""

    label: str
    score: float
    box: Box


class ObjectModel(Protocol):
    """Finds objects in a frame. Called once per processed frame, in order, from one thread."""

    def detect(self, frame: Frame) -> list[Found]:
        """The objects in `frame` (BGR), with boxes normalised to the frame."""
        ...


@runtime_checkable
class HoldingModel(ObjectModel, Protocol):
    """A model that loses still objects over time (background subtraction) and can instead be
    told to hold them: the tracker then asks it whether a held object is still there."""

    def hold(self, key: str, box: Box) -> None:
        """Keep the object in `box` out of the background; `key` names it."""
        ...

    def release(self, key: str) -> None:
        """Stop holding `key` (its track ended)."""
        ...

    def present(self, key: str, frame: Frame) -> bool:
        """Whether the held object `key` is still visible in `frame`."""
        ...


class PeopleFinder(Protocol):
    """Finds people in given regions of a frame: the labeller of the motion model."""

    def find(self, frame: Frame, regions: Sequence[Box]) -> list[tuple[float, Box]]:
        """(score 0…1, box normalised to the frame) for each person found in `regions`."""
        ...


class HogPeople:
    """OpenCV's HOG + linear SVM people detector (Dalal–Triggs, 行人检测), run on crops
    around the given regions rather than the whole frame, which keeps it cheap.

    OpenCV 5 moved `HOGDescriptor` out of the main wheel (`opencv-python-headless`) into
    opencv-contrib; `available()` says whether the installed OpenCV has it.
    """

    # The default detector's window is 64×128 with the person about 96 px tall inside it;
    # a region is scaled so that its height is a little more than that.
    _TARGET_HEIGHT = 112
    # Regions smaller than this (pixels) hold too little detail for HOG: upscaling invents none.
    _MIN_HEIGHT = 32
    # People stand upright: a region much wider than tall (a car, a stall) is not searched.
    _MIN_ASPECT = 0.8

    def __init__(self) -> None:
        hog_class = getattr(cv2, "HOGDescriptor", None)
        if hog_class is None:
            raise RuntimeError("this OpenCV has no HOGDescriptor (install opencv-contrib)")
        self._hog = hog_class()
        self._hog.setSVMDetector(np.asarray(hog_class.getDefaultPeopleDetector()))

    @staticmethod
    def available() -> bool:
        """Whether the installed OpenCV ships the HOG people detector."""
        return hasattr(cv2, "HOGDescriptor")

    def find(self, frame: Frame, regions: Sequence[Box]) -> list[tuple[float, Box]]:
        """People found in crops around `regions`; the score is the SVM margin through a
        logistic (a margin of 0, the detector's threshold, is 0.5)."""
        height, width = frame.shape[:2]
        people: list[tuple[float, Box]] = []
        for region in regions:
            rw = (region.x2 - region.x1) * width
            rh = (region.y2 - region.y1) * height
            if rh < self._MIN_HEIGHT or rh < rw * self._MIN_ASPECT:
                continue
            x1, y1, x2, y2 = _pixels(region, width, height, pad=0.25)
            scale = self._TARGET_HEIGHT / rh
            crop = cv2.resize(frame[y1:y2, x1:x2], None, fx=scale, fy=scale)
            # The crop must hold at least one detection window.
            ch, cw = crop.shape[:2]
            bottom, right = max(0, 136 - ch), max(0, 72 - cw)
            if bottom or right:
                crop = cv2.copyMakeBorder(crop, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
            rects, weights = self._hog.detectMultiScale(
                crop, winStride=(8, 8), padding=(8, 8), scale=1.05
            )
            for (px, py, pw, ph), weight in zip(rects, np.ravel(weights), strict=True):
                box = make_box(
                    (x1 + px / scale) / width,
                    (y1 + py / scale) / height,
                    (x1 + (px + pw) / scale) / width,
                    (y1 + (py + ph) / scale) / height,
                )
                people.append((1.0 / (1.0 + math.exp(-float(weight))), box))
        return people


def default_people_finder() -> PeopleFinder | None:
    """The HOG people finder if this OpenCV has it, else None (blobs stay "object")."""
    if HogPeople.available():
        return HogPeople()
    log.warning("OpenCV has no HOG people detector: built-in detections are labelled object")
    return None


@dataclass
class _Hold:
    rect: tuple[int, int, int, int]  # the padded region pasted into the model's input
    inner: tuple[int, int, int, int]  # the object's own box, what presence is judged on
    patch: Frame  # the background of `rect` before the object came


class MotionModel:
    """Background subtraction (MOG2) → cleaned foreground blobs → labels ("person" where the
    people finder finds one overlapping the blob, else "object").

    MOG2 learns whatever stands still into the background: a stall left in place would fade
    from the foreground after roughly a tenth of `history` frames, and leave a "ghost" blob
    when it goes. A slow learning rate only postpones that, and makes every change of light
    a blob for longer. Instead the tracker tells this model to *hold* a still object soon
    after it stops (`hold`): its region in the model's input is then replaced by the
    background as it was before the object came, so MOG2 never learns the object, and the
    object's presence is judged by comparing the live frame with that background
    (`present`). When the object leaves, the region matches the background again: the
    track ends and no ghost is left, because the model never saw the object.
    """

    # Shadows come out of MOG2 as 127 and moving objects as 255: only the latter count.
    _FOREGROUND = 200
    # A held region counts as occupied while this share of its pixels differs from the
    # background by more than `_DIFFERENCE` grey levels (in any channel).
    _PRESENT_SHARE = 0.2
    _DIFFERENCE = 30
    # Holds cover a margin around the object: blob boxes are a little tight, and an edge
    # left out would be learned into the background and come back as a ghost.
    _HOLD_PAD = 0.15
    # A person is the blob's label when a person box covers this share of the smaller box.
    _PERSON_OVERLAP = 0.5

    def __init__(
        self,
        *,
        min_area: float = 0.002,
        history: int = 150,
        var_threshold: float = 25.0,
        people: PeopleFinder | None = None,
    ) -> None:
        self.min_area = min_area
        self.history = history
        self.var_threshold = var_threshold
        self.people = people
        self._subtractor = cv2.createBackgroundSubtractorMOG2(history, var_threshold, True)
        self._shape: tuple[int, ...] | None = None
        self._holds: dict[str, _Hold] = {}
        self._opening: Any = None
        self._closing: Any = None

    def _reset(self, shape: tuple[int, ...]) -> None:
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            self.history, self.var_threshold, True
        )
        self._shape = shape
        self._holds.clear()
        # Kernels scale with the frame, so that clean-up does the same at any resolution.
        side = min(shape[0], shape[1])
        small = max(3, side // 120 * 2 + 1)
        large = max(5, side // 40 * 2 + 1)
        self._opening = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (small, small))
        # A rectangle for the large one: it is separable, so it costs a millisecond at 720p
        # where an ellipse of the same size costs ten; only the blobs' boxes are used anyway.
        self._closing = cv2.getStructuringElement(cv2.MORPH_RECT, (large, large))

    def detect(self, frame: Frame) -> list[Found]:
        """Foreground blobs of at least `min_area` of the frame, labelled."""
        first = self._shape != frame.shape
        if first:
            self._reset(frame.shape)
        feed = frame
        if self._holds:
            feed = frame.copy()
            for held in self._holds.values():
                x1, y1, x2, y2 = held.rect
                feed[y1:y2, x1:x2] = held.patch
        # The first frame is the background (rate 1); after it a fixed 1/history, rather
        # than MOG2's default of 1/min(2 × frames seen, history), which learns fast early in
        # a stream and would absorb an object stopping then before the tracker can hold it.
        # (Whatever moves in the first frame leaves a ghost for a tenth of the history.)
        rate = 1.0 if first else 1.0 / self.history
        mask = self._subtractor.apply(feed, learningRate=rate)
        _, mask = cv2.threshold(mask, self._FOREGROUND, 255, cv2.THRESH_BINARY)
        # Opening removes speckle (noise, compression); closing joins the pieces of one
        # object (a person's legs, a stall's parts) into one blob.
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._opening)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._closing)
        # Outer contours rather than connected components: the same blobs for boxes, at a
        # fiftieth of the cost on a 720p mask (0.1 ms against 5).
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        height, width = frame.shape[:2]
        least = self.min_area * width * height
        boxes: list[Box] = []
        for contour in contours:
            if cv2.contourArea(contour) < least:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append(make_box(x / width, y / height, (x + w) / width, (y + h) / height))
        if not boxes:
            return []
        people = self.people.find(frame, boxes) if self.people is not None else []
        found: list[Found] = []
        for box in boxes:
            best: float | None = None
            for score, person in people:
                smaller = min(box_area(box), box_area(person))
                overlaps = (
                    smaller > 0 and _intersection(box, person) / smaller >= self._PERSON_OVERLAP
                )
                if overlaps and (best is None or score > best):
                    best = score
            if best is None:
                found.append(Found(OBJECT_LABEL, BLOB_SCORE, box))
            else:
                found.append(Found("person", best, box))
        return found

    def hold(self, key: str, box: Box) -> None:
        """Paste the current background over `box` from now on (see the class notes)."""
        if key in self._holds or self._shape is None:
            return
        height, width = self._shape[:2]
        rect = _pixels(box, width, height, pad=self._HOLD_PAD)
        x1, y1, x2, y2 = rect
        background = _as_frame(self._subtractor.getBackgroundImage())
        ix1, iy1, ix2, iy2 = _pixels(box, width, height)
        self._holds[key] = _Hold(
            rect=rect,
            inner=(ix1 - x1, iy1 - y1, ix2 - x1, iy2 - y1),
            patch=background[y1:y2, x1:x2].copy(),
        )

    def release(self, key: str) -> None:
        """Let the model see the region again."""
        self._holds.pop(key, None)

    def present(self, key: str, frame: Frame) -> bool:
        """Whether the held region still differs from the background it hides."""
        held = self._holds.get(key)
        if held is None or frame.shape != self._shape:
            return False
        x1, y1, _, _ = held.rect
        ix1, iy1, ix2, iy2 = held.inner
        live = frame[y1 + iy1 : y1 + iy2, x1 + ix1 : x1 + ix2]
        background = held.patch[iy1:iy2, ix1:ix2]
        difference = np.asarray(cv2.absdiff(live, background)).max(axis=2)
        return float(np.mean(difference > self._DIFFERENCE)) >= self._PRESENT_SHARE


def letterbox(frame: Frame, size: tuple[int, int]) -> tuple[Frame, float, float, int, int]:
    """`frame` scaled to fit `size` (width, height) keeping its aspect ratio, centred on grey
    (114, as YOLO pads); returns the image, the x and y scales, and the left and top pads."""
    width, height = size
    fh, fw = frame.shape[:2]
    scale = min(width / fw, height / fh)
    nw, nh = max(1, round(fw * scale)), max(1, round(fh * scale))
    canvas = np.full((height, width, 3), 114, dtype=np.uint8)
    left, top = (width - nw) // 2, (height - nh) // 2
    canvas[top : top + nh, left : left + nw] = cv2.resize(
        frame, (nw, nh), interpolation=cv2.INTER_LINEAR
    )
    return canvas, nw / fw, nh / fh, left, top


class OnnxModel:
    """A user-supplied ONNX object detector, run with onnxruntime on the CPU.

    Input: the model's first input, NCHW float32 RGB in 0…1, the frame letterboxed to
    `input_size` (width, height). Output: the model's first output, shape [N, 6] or [1, N, 6],
    each row x1, y1, x2, y2, score, class in input pixels — the layout of detectors exported
    with their post-processing ("end-to-end", e.g. YOLOv10, or YOLOv8 exported with nms=True).
    Rows under `score_threshold` are dropped; overlapping rows of one class are reduced by
    non-maximum suppression (`cv2.dnn.NMSBoxes`). A class outside `labels` is "class<n>".
    """

    def __init__(
        self,
        path: str | Path,
        labels: Sequence[str],
        input_size: int | tuple[int, int] = 640,
        score_threshold: float = 0.25,
        nms_threshold: float = 0.45,
        threads: int = 1,
    ) -> None:
        # Imported here: onnxruntime is heavy to load, and a process that only runs the
        # motion model (or only imports this module) need not pay for it.
        import onnxruntime

        self.labels = [label.strip().lower() for label in labels]
        self.input_size: tuple[int, int] = (
            (input_size, input_size)
            if isinstance(input_size, int)
            else (int(input_size[0]), int(input_size[1]))
        )
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        options = onnxruntime.SessionOptions()
        # One camera, one core by default: a machine runs several cameras side by side,
        # and onnxruntime would otherwise start a thread per core for each of them.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        model_input = self._session.get_inputs()[0]
        self._input_name: str = model_input.name
        shape = list(model_input.shape)
        if len(shape) != 4:
            raise ValueError(f"the model's input is {shape}: expected [1, 3, height, width]")
        expected = [1, 3, self.input_size[1], self.input_size[0]]
        for have, want in zip(shape, expected, strict=True):
            if isinstance(have, int) and have != want:
                raise ValueError(f"the model's input is {shape}: input_size gives {expected}")

    def _label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class{index}"

    def detect(self, frame: Frame) -> list[Found]:
        """The model's detections in `frame`, mapped back to normalised frame coordinates."""
        image, sx, sy, left, top = letterbox(frame, self.input_size)
        tensor = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)[None], np.float32)
        tensor /= 255.0
        output = np.asarray(
            self._session.run(None, {self._input_name: tensor})[0], dtype=np.float32
        )
        if output.ndim == 3 and output.shape[0] == 1:
            output = output[0]
        if output.ndim != 2 or output.shape[1] < 6:
            raise ValueError(f"the model's output is {list(output.shape)}: expected [N, 6]")
        height, width = frame.shape[:2]
        by_class: dict[int, list[tuple[float, tuple[float, float, float, float]]]] = {}
        for x1, y1, x2, y2, score, cls in output[:, :6].tolist():
            if score < self.score_threshold:
                continue
            # Input pixels → frame pixels: undo the pad, then the scale.
            corners = ((x1 - left) / sx, (y1 - top) / sy, (x2 - left) / sx, (y2 - top) / sy)
            by_class.setdefault(round(cls), []).append((score, corners))
        found: list[Found] = []
        for cls, rows in by_class.items():
            rects = [(a, b, c - a, d - b) for _, (a, b, c, d) in rows]
            scores = [score for score, _ in rows]
            keep = cv2.dnn.NMSBoxes(rects, scores, self.score_threshold, self.nms_threshold)
            for index in np.ravel(np.asarray(keep, dtype=np.int64)).tolist():
                score, (a, b, c, d) = rows[index]
                box = make_box(a / width, b / height, c / width, d / height)
                found.append(Found(self._label(cls), _clip01(score), box))
        found.sort(key=lambda f: -f.score)
        return found


@dataclass
class Track:
    """One object followed across frames, and what has been said about it."""

    id: str
    box: Box
    started_at: datetime
    last_seen: datetime
    score: float
    votes: dict[str, float]
    anchor: Box  # where the object was when it last moved more than the tolerance
    still_since: datetime
    still_frames: int = 0
    hits: int = 1
    missed: int = 0
    seen: bool = True  # matched (or held and present) in the latest frame
    stationary: bool = False
    held: bool = False
    announced: bool = False
    last_sent: datetime | None = None
    sent_stationary: bool = False

    @property
    def label(self) -> str:
        """The label with the most score over the track's matches (one frame may err)."""
        return max(self.votes, key=lambda label: self.votes[label])


class Tracker:
    """Matches each frame's objects to the tracks of the frames before (IoU first, then
    centre distance for fast movers), starts tracks for the rest and ends tracks missed in
    `lost_frames` frames in a row; judges a track stationary once its box has moved less
    than `tolerance` (normalised, any edge) for `stationary_seconds`."""

    # Pairs overlapping less than this are left to the centre-distance pass.
    _MIN_IOU = 0.1
    # A centre may move this many times the track's larger side between two frames.
    _MAX_JUMP = 0.75

    def __init__(
        self,
        track_prefix: str,
        *,
        stationary_seconds: float,
        tolerance: float,
        lost_frames: int,
    ) -> None:
        self.track_prefix = track_prefix
        self.stationary_seconds = stationary_seconds
        self.tolerance = tolerance
        self.lost_frames = lost_frames
        self.tracks: list[Track] = []
        self._count = 0

    def update(
        self,
        found: Sequence[Found],
        time: datetime,
        present: Callable[[str], bool] | None = None,
    ) -> list[Track]:
        """Take one frame's objects; return the tracks that ended with it. `present(track_id)`
        says whether a held track's object is still there."""
        for track in self.tracks:
            track.seen = False
        # Held tracks are not matched: their region is hidden from the model, and their
        # presence is the model's comparison with the background.
        for track in self.tracks:
            if track.held and present is not None and present(track.id):
                self._seen(track, time)
        free = [t for t in self.tracks if not t.held]
        pairs = sorted(
            (
                (iou(track.box, item.box), ti, fi)
                for ti, track in enumerate(free)
                for fi, item in enumerate(found)
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_found: set[int] = set()
        for overlap, ti, fi in pairs:
            if overlap < self._MIN_IOU:
                break
            if ti not in used_tracks and fi not in used_found:
                used_tracks.add(ti)
                used_found.add(fi)
                self._match(free[ti], found[fi], time)
        jumps: list[tuple[float, int, int]] = []
        for ti, track in enumerate(free):
            if ti in used_tracks:
                continue
            tx, ty = _centre(track.box)
            reach = self._MAX_JUMP * max(track.box.x2 - track.box.x1, track.box.y2 - track.box.y1)
            for fi, item in enumerate(found):
                if fi not in used_found:
                    fx, fy = _centre(item.box)
                    distance = math.hypot(fx - tx, fy - ty)
                    if distance <= reach:
                        jumps.append((distance, ti, fi))
        for _, ti, fi in sorted(jumps):
            if ti not in used_tracks and fi not in used_found:
                used_tracks.add(ti)
                used_found.add(fi)
                self._match(free[ti], found[fi], time)
        for fi, item in enumerate(found):
            if fi not in used_found:
                self._start(item, time)
        ended: list[Track] = []
        kept: list[Track] = []
        for track in self.tracks:
            if not track.seen:
                track.missed += 1
            if track.missed >= self.lost_frames:
                ended.append(track)
            else:
                kept.append(track)
        self.tracks = kept
        return ended

    def _start(self, item: Found, time: datetime) -> None:
        self._count += 1
        self.tracks.append(
            Track(
                id=f"{self.track_prefix}:{self._count}",
                box=item.box,
                started_at=time,
                last_seen=time,
                score=item.score,
                votes={item.label: item.score},
                anchor=item.box,
                still_since=time,
            )
        )

    def _seen(self, track: Track, time: datetime) -> None:
        track.seen = True
        track.missed = 0
        track.last_seen = time
        track.still_frames += 1
        track.stationary = (time - track.still_since).total_seconds() >= self.stationary_seconds

    def _match(self, track: Track, item: Found, time: datetime) -> None:
        track.box = item.box
        track.score = item.score
        track.votes[item.label] = track.votes.get(item.label, 0.0) + item.score
        track.hits += 1
        if _moved(item.box, track.anchor) > self.tolerance:
            track.anchor = item.box
            track.still_since = time
            track.still_frames = 0
        self._seen(track, time)


@dataclass(frozen=True)
class DetectorConfig:
    """How one camera's built-in detector runs.

    `model` makes the camera's object model (called once per worker, since models keep
    state); None is the built-in `MotionModel` (with HOG people labels if `find_people`
    and this OpenCV has HOG). `min_area` is a fraction of the frame and applies to every
    model's objects. `labels` limits which labels are sent (None: all). `hold_frames` is how
    many still frames pass before a motion-model object is held (see `MotionModel`): it must
    come before MOG2 learns the object, after about a tenth of its history; None is half
    that, late enough that a slow walker is not held on the way (it would be split in two).
    A track is sent once it was seen in `confirm_frames` frames, then again when it turns
    (or stops being) stationary, and otherwise at most every `update_seconds`.
    """

    max_fps: float = 5.0
    max_width: int = 1280
    max_height: int = 720
    min_area: float = 0.002
    stationary_seconds: float = 60.0
    stationary_tolerance: float = 0.03
    lost_frames: int = 10
    labels: frozenset[str] | None = None
    model: Callable[[], ObjectModel] | None = None
    find_people: bool = True
    confirm_frames: int = 2
    hold_frames: int | None = None
    background_seconds: float = 30.0
    update_seconds: float = 2.0
    snapshot_quality: int = 80
    reconnect_seconds: float = 5.0
    source: str = "builtin"

    def __post_init__(self) -> None:
        if self.max_fps <= 0:
            raise ValueError("max_fps must be positive")
        if self.max_width < 16 or self.max_height < 16:
            raise ValueError("max_width and max_height must be at least 16")
        if not 0 <= self.min_area < 1:
            raise ValueError("min_area is a fraction of the frame: 0 ≤ min_area < 1")
        if self.lost_frames < 1 or self.confirm_frames < 1 or self.hold_after < 1:
            raise ValueError("lost_frames, confirm_frames and hold_frames must be at least 1")
        if self.stationary_seconds < 0 or self.stationary_tolerance < 0:
            raise ValueError("stationary_seconds and stationary_tolerance must not be negative")
        if self.model is None and self.hold_after + self.confirm_frames >= self.history / 10:
            raise ValueError(
                "background_seconds too short: MOG2 would learn a still object before it is held"
            )

    @property
    def history(self) -> int:
        """MOG2's history in processed frames."""
        return max(1, round(self.background_seconds * self.max_fps))

    @property
    def hold_after(self) -> int:
        """`hold_frames`, or its default: half of the tenth of the history."""
        return self.hold_frames if self.hold_frames is not None else max(2, self.history // 20)

    def make_model(self) -> ObjectModel:
        """A new object model for one camera."""
        if self.model is not None:
            return self.model()
        people = default_people_finder() if self.find_people else None
        return MotionModel(min_area=self.min_area, history=self.history, people=people)


@dataclass(frozen=True)
class SourceFrame:
    """A frame kept by a `FrameSource`: its position in the stream, its time, its image
    (already downscaled to the configured cap)."""

    index: int
    time: datetime
    image: Frame


def is_live(uri: str | Path) -> bool:
    """Whether `uri` is a live stream (a URL other than file://, or a device number)."""
    if isinstance(uri, Path):
        return False
    return ("://" in uri and not uri.startswith("file://")) or uri.isdigit()


class FrameSource:
    """Reads a stream or a file with `cv2.VideoCapture`, keeping at most `max_fps` frames a
    second and downscaling them to fit `max_width` × `max_height`.

    Which frames are kept follows the stream's own timestamps (or frame count over the
    declared rate where the stream gives none), never the wall clock, so a file replays the
    same way at any speed. A file's frames are timed `start_time` + their position; a live
    stream's by `clock` when grabbed.
    """

    def __init__(
        self,
        uri: str | Path,
        *,
        max_fps: float,
        max_width: int,
        max_height: int,
        start_time: datetime | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.uri = uri
        self.live = is_live(uri)
        self.max_fps = max_fps
        self.max_width = max_width
        self.max_height = max_height
        self.clock = clock
        self.start_time = start_time if start_time is not None else clock()
        if isinstance(uri, str) and uri.startswith("file://"):
            uri = uri.removeprefix("file://")
        target: str | int = int(uri) if isinstance(uri, str) and uri.isdigit() else str(uri)
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise OSError(f"cannot open video source {self.uri}")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and 0 < fps < 1000 else _FALLBACK_FPS
        self.frames_read = 0
        self.frames_kept = 0

    def frames(self) -> Iterator[SourceFrame]:
        """The kept frames, until the file ends or the stream stops delivering."""
        period = 1.0 / self.max_fps
        due: float | None = None
        position = -math.inf
        index = -1
        while self._capture.grab():
            index += 1
            self.frames_read += 1
            stamp = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            # A timestamp that does not advance (no timestamps, or a backend that reports 0)
            # is replaced by one frame period after the previous one.
            if math.isfinite(stamp) and stamp > position:
                position = stamp
            else:
                position = (position + 1.0 / self.fps) if index else 0.0
            if due is not None and position < due - _TIME_EPSILON:
                continue
            # After a gap in the stream, count from now rather than keep up in a burst.
            due = position + period if due is None or due + period <= position else due + period
            ok, image = self._capture.retrieve()
            if not ok or image is None:
                continue
            time = self.clock() if self.live else self.start_time + timedelta(seconds=position)
            self.frames_kept += 1
            yield SourceFrame(index=index, time=time, image=self._fit(_as_frame(image)))

    def _fit(self, image: Frame) -> Frame:
        height, width = image.shape[:2]
        scale = min(1.0, self.max_width / width, self.max_height / height)
        if scale >= 1.0:
            return image
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return _as_frame(cv2.resize(image, size, interpolation=cv2.INTER_AREA))

    def close(self) -> None:
        """Release the capture."""
        self._capture.release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def jpeg_base64(image: Frame, quality: int = 80) -> str:
    """`image` as a base64 JPEG, the form `DetectionIn.snapshot_base64` takes."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return base64.b64encode(data.tobytes()).decode("ascii")


@dataclass
class _Snapshot:
    image: Frame
    quality: int
    encoded: str | None = None

    def get(self) -> str:
        if self.encoded is None:
            self.encoded = jpeg_base64(self.image, self.quality)
        return self.encoded


class CameraWorker:
    """Runs one camera: source → model → tracker → `emit(list[DetectionIn])`.

    `run()` blocks until the file ends or `stop()` is called (from any thread), so it is
    meant for `threading.Thread(target=worker.run)`; a live stream that drops is reopened
    every `reconnect_seconds`. Whenever the source ends or the worker stops, each track
    that was announced is sent as ended, so the receiver holds no track open for a camera
    nobody watches any more. A failing `emit` is logged and its batch dropped: detection
    goes on. `process()` takes one frame directly (tests, other sources).
    """

    def __init__(
        self,
        camera: str,
        uri: str | Path,
        emit: Callable[[list[DetectionIn]], None],
        config: DetectorConfig | None = None,
        *,
        start_time: datetime | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.camera = camera
        self.uri = uri
        self.emit = emit
        self.config = config if config is not None else DetectorConfig()
        self.start_time = start_time
        self.clock = clock
        self.model = self.config.make_model()
        self.labels = (
            None
            if self.config.labels is None
            else frozenset(label.strip().lower() for label in self.config.labels)
        )
        self.frames_processed = 0
        self._stopping = threading.Event()
        self._tracker: Tracker | None = None

    def stop(self) -> None:
        """Ask `run()` to end after the current frame."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        return self._stopping.is_set()

    def run(self) -> None:
        """Process the source until it ends (a file) or `stop()` (a stream: reconnects)."""
        live = is_live(self.uri)
        while not self._stopping.is_set():
            try:
                source = FrameSource(
                    self.uri,
                    max_fps=self.config.max_fps,
                    max_width=self.config.max_width,
                    max_height=self.config.max_height,
                    start_time=self.start_time,
                    clock=self.clock,
                )
            except OSError:
                if not live:
                    raise
                log.warning("camera %s: cannot open its stream; retrying", self.camera)
                self._stopping.wait(self.config.reconnect_seconds)
                continue
            with source:
                for frame in source.frames():
                    self._send(self.process(frame))
                    if self._stopping.is_set():
                        break
            self._send(self.finish())
            if not live:
                return
            if not self._stopping.is_set():
                log.warning("camera %s: the stream stopped; reconnecting", self.camera)
                self._stopping.wait(self.config.reconnect_seconds)

    def _send(self, batch: list[DetectionIn]) -> None:
        if not batch:
            return
        try:
            self.emit(batch)
        except Exception:
            log.exception("camera %s: emit failed; %d detections dropped", self.camera, len(batch))

    def process(self, frame: SourceFrame) -> list[DetectionIn]:
        """Detect and track in one frame; the detections to send for it."""
        config = self.config
        if self._tracker is None:
            # Track ids carry the time the run began (ms, hex), so that a restarted worker
            # never reuses the ids of tracks the receiver already knows.
            run = format(int(frame.time.timestamp() * 1000), "x")
            self._tracker = Tracker(
                f"{self.camera}:{run}",
                stationary_seconds=config.stationary_seconds,
                tolerance=config.stationary_tolerance,
                lost_frames=config.lost_frames,
            )
        tracker = self._tracker
        self.frames_processed += 1
        found = [f for f in self.model.detect(frame.image) if box_area(f.box) >= config.min_area]
        holding = self.model if isinstance(self.model, HoldingModel) else None
        present = None if holding is None else partial(holding.present, frame=frame.image)
        ended = tracker.update(found, frame.time, present)
        if holding is not None:
            for track in ended:
                if track.held:
                    holding.release(track.id)
            for track in tracker.tracks:
                if (
                    not track.held
                    and track.seen
                    and track.hits >= config.confirm_frames
                    and track.still_frames >= config.hold_after
                ):
                    holding.hold(track.id, track.box)
                    track.held = True
        snapshot = _Snapshot(frame.image, config.snapshot_quality)
        out = [self._message(t, "end", t.last_seen, f"{t.id}:end") for t in ended if t.announced]
        for track in tracker.tracks:
            if not track.seen:
                continue
            with_snapshot = False
            phase: Phase
            if not track.announced:
                if track.hits < config.confirm_frames or not self._wanted(track.label):
                    continue
                track.announced = True
                phase = "new"
                with_snapshot = True
            elif track.stationary != track.sent_stationary:
                phase = "update"
                with_snapshot = track.stationary
            elif (
                track.last_sent is None
                or (frame.time - track.last_sent).total_seconds() >= config.update_seconds
            ):
                phase = "update"
            else:
                continue
            track.last_sent = frame.time
            track.sent_stationary = track.stationary
            out.append(
                self._message(
                    track,
                    phase,
                    frame.time,
                    f"{track.id}:{frame.index}",
                    snapshot.get() if with_snapshot else None,
                )
            )
        return out

    def finish(self) -> list[DetectionIn]:
        """End every track (the source ended or the worker stops); the detections to send."""
        tracker = self._tracker
        if tracker is None:
            return []
        out = [
            self._message(t, "end", t.last_seen, f"{t.id}:end")
            for t in tracker.tracks
            if t.announced
        ]
        for track in tracker.tracks:
            if track.held and isinstance(self.model, HoldingModel):
                self.model.release(track.id)
        tracker.tracks = []
        return out

    def _wanted(self, label: str) -> bool:
        return self.labels is None or label in self.labels

    def _message(
        self,
        track: Track,
        phase: Phase,
        time: datetime,
        detection_id: str,
        snapshot: str | None = None,
    ) -> DetectionIn:
        return DetectionIn(
            source=self.config.source,
            detection_id=detection_id,
            camera=self.camera,
            time=time,
            label=track.label,
            score=_clip01(track.score),
            box=track.box,
            track_id=track.id,
            phase=phase,
            stationary=track.stationary,
            track_started_at=track.started_at,
            snapshot_base64=snapshot,
        )


def run_file(
    path: str | Path,
    camera: str,
    start_time: datetime,
    config: DetectorConfig | None = None,
) -> list[DetectionIn]:
    """Run the detector over a video file, its first frame taken at `start_time`; every
    detection it would have sent, in order."""
    out: list[DetectionIn] = []
    CameraWorker(camera, Path(path), out.extend, config, start_time=start_time).run()
    return out
