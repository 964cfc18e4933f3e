"""A background thread that runs one job every so many seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicThread(threading.Thread):
    """Runs `job` every `interval` seconds; a failed pass is logged and the next one runs.

    `job` returns how much it did; passes that did something are logged as `what`. The
    first pass runs after `first_after` seconds if given (a job with a long interval whose
    first pass should not wait for it), else after `interval`."""

    def __init__(
        self,
        name: str,
        interval: float,
        job: Callable[[], int],
        what: str,
        first_after: float | None = None,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.job = job
        self.what = what
        self.first_after = interval if first_after is None else first_after
        self.stopped = threading.Event()

    def run(self) -> None:
        wait = self.first_after
        while not self.stopped.wait(wait):
            wait = self.interval
            try:
                done = self.job()
                if done:
                    log.info("%s: %d", self.what, done)
            except Exception:
                log.exception("%s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()
