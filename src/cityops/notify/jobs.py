"""The publisher: turns committed case changes into frames and hands them to the hub.

The bus calls `changes_committed` in the thread that committed, after the commit. The
publisher only queues the change there, so that an ingest batch is answered without
waiting for its frames; its own thread reads the changed cases (committed, so every
process sees the same rows) and publishes one frame per case. Changes that arrive
together go out together: a batch of 5,000 events is a few reads and a few messages.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from cityops.cases.events import CaseTransitioned
from cityops.cases.service import CaseEnv
from cityops.notify.hub import LocalHub
from cityops.notify.service import Change, frames_for

log = logging.getLogger(__name__)

# Changed cases published together past which only those sent to someone get a frame each.
DETAIL_LIMIT = 200


class FramePublisher(threading.Thread):
    """One per process; started with the hub."""

    def __init__(
        self,
        hub: LocalHub,
        sessions: Callable[[], Session],
        case_env: Callable[[Session], CaseEnv],
    ) -> None:
        super().__init__(name="cityops-publisher", daemon=True)
        self.hub = hub
        self._sessions = sessions
        self._case_env = case_env
        self._queue: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self._pending = 0
        self._done = threading.Condition()

    def changes_committed(self, event: CaseTransitioned) -> None:
        """Bus handler: a step was committed."""
        if self.hub.listening:
            with self._done:
                self._pending += 1
            self._queue.put(Change(event.case_id, event.step_id, event.action))

    def stop(self) -> None:
        self._queue.put(None)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every change queued so far is published (for tests and shutdown)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            changes = [first]
            stop = False
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                changes.append(more)
            try:
                with self._sessions() as session:
                    env = self._case_env(session)
                    frames = frames_for(session, env, changes, detail_limit=DETAIL_LIMIT)
                self.hub.publish(frames)
            except Exception:  # a failed publish must not stop later ones
                log.exception("publishing %d case changes failed", len(changes))
            with self._done:
                self._pending -= len(changes)
                self._done.notify_all()
            if stop:
                return
