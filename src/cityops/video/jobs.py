"""Video work beside the API: the built-in detector (one worker thread per camera, its
stream or a file for a trial, each batch verified and stored like any source's), and the
pruning of the detection log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from cityops.auth.service import Principal
from cityops.cases.workflow import Actor
from cityops.kit.periodic import PeriodicThread
from cityops.video.detector import CameraWorker, DetectorConfig
from cityops.video.models import Camera, CameraStatus
from cityops.video.retention import PruneReport, prune_detections
from cityops.video.schemas import DetectionIn, DetectionResult

if TYPE_CHECKING:
    from cityops.bootstrap import Context

log = logging.getLogger(__name__)


@dataclass
class DetectorStats:
    frames: int = 0
    detections: int = 0
    signalled: int = 0
    failed_batches: int = 0
    by_camera: dict[str, int] = field(default_factory=dict)


def cameras_to_watch(context: Context, codes: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(code, stream URL) of the cameras to run: those named, else every online camera with
    a stream. A named camera without a stream is an error: there is nothing to read."""
    uow = context.unit_of_work(read_only=True)
    try:
        query = select(Camera.code, Camera.stream_url).order_by(Camera.code)
        if codes:
            rows = uow.session.execute(query.where(Camera.code.in_(codes))).all()
            found = {code for code, _ in rows}
            missing = [c for c in codes if c not in found]
            if missing:
                raise ValueError(f"no camera {', '.join(missing)}")
            silent = [code for code, url in rows if not url]
            if silent:
                raise ValueError(f"camera {', '.join(silent)} has no stream URL")
        else:
            rows = uow.session.execute(
                query.where(
                    Camera.stream_url.is_not(None), Camera.status == CameraStatus.ONLINE.value
                )
            ).all()
        return [(code, url) for code, url in rows if url]
    finally:
        uow.close()


def require_camera(context: Context, code: str) -> None:
    """A camera of the registry (for a trial on a file, which needs no stream URL)."""
    uow = context.unit_of_work(read_only=True)
    try:
        if uow.session.scalar(select(Camera.id).where(Camera.code == code)) is None:
            raise ValueError(f"no camera {code}")
    finally:
        uow.close()


class DetectorRunner:
    """Runs a `CameraWorker` per camera and takes their detections in."""

    def __init__(
        self,
        context: Context,
        sources: Sequence[tuple[str, str | Path]],
        config: DetectorConfig | None = None,
        *,
        start_time: datetime | None = None,
    ) -> None:
        self.context = context
        self.config = config if config is not None else DetectorConfig()
        self.stats = DetectorStats()
        # The detector posts as its configured source, with no key and no person behind it.
        self.principal = Principal(
            actor=Actor.system(f"detector:{self.config.source}"),
            api_key_id=0,
            sources=frozenset({self.config.source}),
            trusted=True,
        )
        self._lock = threading.Lock()
        self.workers = [
            CameraWorker(
                code, uri, self.take_in, self.config, start_time=start_time, clock=context.clock.now
            )
            for code, uri in sources
        ]
        self._threads = [
            threading.Thread(target=self._run, args=(w,), name=f"detector-{w.camera}", daemon=True)
            for w in self.workers
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.join()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _run(self, worker: CameraWorker) -> None:
        try:
            worker.run()
        except Exception:  # one camera's failure must not stop the others
            log.exception("camera %s: the detector stopped", worker.camera)
        with self._lock:
            self.stats.frames += worker.frames_processed

    def take_in(self, detections: list[DetectionIn]) -> None:
        """A worker's batch, verified and stored in one transaction (from its thread)."""
        if not detections:
            return
        items = [d.model_dump(mode="json", exclude_none=True) for d in detections]
        try:
            results = self.context.detections.write(self.principal, items)
        except Exception:
            with self._lock:
                self.stats.failed_batches += 1
            raise  # the worker logs it and goes on
        self._count(detections, results)

    def _count(self, detections: list[DetectionIn], results: list[DetectionResult]) -> None:
        for result in results:
            if result.status == "rejected":
                log.warning("detector batch item refused: %s", result.errors)
        with self._lock:
            stats = self.stats
            stats.detections += len(detections)
            stats.signalled += sum(
                1 for r in results for v in r.verdicts if v.get("verdict") == "signalled"
            )
            for d in detections:
                stats.by_camera[d.camera] = stats.by_camera.get(d.camera, 0) + 1


def run_pruning(context: Context) -> PruneReport:
    """One pass over the detection log with the settings' retention."""
    return prune_detections(
        context.sessions,
        context.storage,
        context.clock.now(),
        context.settings.detection_retention_days,
    )


def pruning_thread(context: Context, interval: float) -> PeriodicThread:
    return PeriodicThread(
        "cityops-video-pruning",
        interval,
        lambda: run_pruning(context).changes,
        "old detection(s) and track(s) removed",
    )
