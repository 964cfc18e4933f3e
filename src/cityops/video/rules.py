"""A zone's rule, judged for one detection: pure functions, no database, no clock.

A detection counts in a zone when the zone is active at that hour, the label is one the
zone counts, it is not a known false positive, and the best score its track reached is
high enough. It *qualifies* (becomes a signal) when it has also stayed: still for the
zone's dwell time where the source says whether it is still, else present that long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from functools import cached_property

import shapely
from shapely.geometry import Polygon

from cityops.video.models import Verdict


@dataclass(frozen=True)
class ZoneRule:
    """What verification needs of a zone."""

    id: int
    code: str
    polygon: tuple[tuple[float, float], ...]
    labels: frozenset[str]
    min_score: float
    min_dwell_s: int
    active_hours: tuple[tuple[time, time], ...]
    class_code: str
    cooldown_s: int

    @cached_property
    def shape(self) -> Polygon:
        shape = Polygon(self.polygon)
        shapely.prepare(shape)
        return shape

    def contains(self, x: float, y: float) -> bool:
        """Whether the image point (normalised) lies in the zone, its edge included."""
        return bool(shapely.intersects_xy(self.shape, x, y))

    def active_at(self, at: datetime, tz: tzinfo) -> bool:
        """Whether the rule applies at `at`, read on the district's clock. A window whose
        end is before its start runs past midnight (20:00–02:00)."""
        if not self.active_hours:
            return True
        clock = at.astimezone(tz).time()
        for start, end in self.active_hours:
            if start <= end:
                if start <= clock < end:
                    return True
            elif clock >= start or clock < end:
                return True
        return False


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes [x1, y1, x2, y2]."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True)
class KnownFalsePositive:
    label: str
    box: tuple[float, float, float, float]
    min_overlap: float


def is_known_false_positive(
    label: str, box: Sequence[float] | None, known: Sequence[KnownFalsePositive]
) -> bool:
    """Whether a detection is one the centre marked as false before (same label, about the
    same place in the image). A detection without a box cannot be matched."""
    if box is None:
        return False
    return any(k.label == label and overlap(box, k.box) >= k.min_overlap for k in known)


@dataclass(frozen=True, slots=True)
class Sighting:
    """A track as verification sees it after this detection."""

    label: str
    best_score: float
    first_seen_at: datetime
    at: datetime
    # None: the source does not say whether the object is still; then presence counts.
    stationary: bool | None
    stationary_since: datetime | None


def dwell_seconds(s: Sighting) -> float:
    """How long the object has stayed: still for, if the source says, else present for."""
    if s.stationary is None:
        return (s.at - s.first_seen_at).total_seconds()
    if not s.stationary or s.stationary_since is None:
        return 0.0
    return (s.at - s.stationary_since).total_seconds()


def judge(
    rule: ZoneRule,
    s: Sighting,
    box: Sequence[float] | None,
    known: Sequence[KnownFalsePositive],
    tz: tzinfo,
) -> Verdict:
    """`WATCHING` when the sighting counts but has not stayed long enough yet,
    `SIGNALLED` when it satisfies the rule, or the reason it does not count."""
    if s.label not in rule.labels:
        return Verdict.LABEL
    if not rule.active_at(s.at, tz):
        return Verdict.OFF_HOURS
    if is_known_false_positive(s.label, box, known):
        return Verdict.FALSE_POSITIVE
    if s.best_score < rule.min_score:
        return Verdict.LOW_SCORE
    if dwell_seconds(s) < rule.min_dwell_s:
        return Verdict.WATCHING
    return Verdict.SIGNALLED
