"""What happened to cameras' detections, published after the transaction that did it commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DetectionRecorded:
    """A detection was taken in and judged: what the video wall shows live."""

    id: int
    source: str
    detection_id: str
    camera_id: int
    camera_code: str
    grid_code: str | None
    department_id: int | None
    time: datetime
    label: str
    score: float
    box: list[float] | None
    phase: str
    track_id: str | None
    stationary: bool | None
    # One per zone it was judged in: {"zone": code, "verdict": …, "case_id": …}.
    verdicts: list[dict[str, Any]]
    has_snapshot: bool
    received_at: datetime
