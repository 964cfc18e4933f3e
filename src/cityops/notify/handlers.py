"""What delivery does when cases, alarms or detections change: frames built in the
transaction, sent after it.

The frames are built just before the commit, in the committing transaction, which sees
its own writes: no second connection, no second read, no hand-over to another thread
between the commit and the push (each hand-over in a busy process waits for the
interpreter lock). They are handed to the hub only once the commit has succeeded, and
dropped with the transaction if it fails.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityops.cases.events import CaseTransitioned
from cityops.cases.service import CaseEnv
from cityops.notify.hub import LocalHub
from cityops.notify.service import Change, alarm_frames, detection_frames, frames_for
from cityops.sensing.events import AlarmChanged
from cityops.video.events import DetectionRecorded

# Changed cases published together past which only those sent to someone get a frame each.
DETAIL_LIMIT = 200
# Changed alarms published together past which the pages are told to reload instead.
ALARM_DETAIL_LIMIT = 200
# Detections taken in together past which the video wall gets a summary per camera instead:
# its live list shows the latest hundred, so more in one go is a backlog, not news.
DETECTION_DETAIL_LIMIT = 100


class FramePublisher:
    """The bus's preparer for delivery; one per process."""

    def __init__(self, hub: LocalHub, case_env: Callable[[Session], CaseEnv]) -> None:
        self.hub = hub
        self._case_env = case_env

    def prepare(self, session: Session, events: list[object]) -> Callable[[], None] | None:
        """The frames of the cases `events` changed, to publish after the commit."""
        if not self.hub.listening:
            return None
        changes = [Change(e.case_id, e.step_id, e.action)
                   for e in events if isinstance(e, CaseTransitioned)]  # fmt: skip
        if not changes:
            return None
        frames = frames_for(session, self._case_env(session), changes, detail_limit=DETAIL_LIMIT)
        return self.hub.prepare_send(session, frames) if frames else None


class AlarmFramePublisher:
    """The bus's preparer for alarm frames; one per process, beside `FramePublisher`.

    The sensing context only says that alarms changed (`AlarmChanged`); delivery decides
    who hears of it, through the same hub and the same visibility as case frames.
    """

    def __init__(self, hub: LocalHub, district_code: str) -> None:
        self.hub = hub
        self.district_code = district_code

    def prepare(self, session: Session, events: list[object]) -> Callable[[], None] | None:
        """The frames of the alarms `events` changed, to publish after the commit."""
        if not self.hub.listening:
            return None
        changes = [e for e in events if isinstance(e, AlarmChanged)]
        if not changes:
            return None
        frames = alarm_frames(
            session, changes, district_code=self.district_code, detail_limit=ALARM_DETAIL_LIMIT
        )
        return self.hub.prepare_send(session, frames) if frames else None


class DetectionFramePublisher:
    """The bus's preparer for detection frames; one per process, beside `AlarmFramePublisher`.

    The video context only says that detections were taken in (`DetectionRecorded`; it may
    not import delivery); delivery decides who hears of them: those who may see the camera.
    """

    def __init__(self, hub: LocalHub, district_code: str) -> None:
        self.hub = hub
        self.district_code = district_code

    def prepare(self, session: Session, events: list[object]) -> Callable[[], None] | None:
        """The frames of the detections `events` recorded, to publish after the commit."""
        if not self.hub.listening:
            return None
        recorded = [e for e in events if isinstance(e, DetectionRecorded)]
        if not recorded:
            return None
        frames = detection_frames(recorded, district_code=self.district_code,
                                  detail_limit=DETECTION_DETAIL_LIMIT)  # fmt: skip
        return self.hub.prepare_send(session, frames) if frames else None
