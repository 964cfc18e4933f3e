"""The periodic thread: its first pass may come sooner than its interval."""

from __future__ import annotations

import threading

from cityops.kit.periodic import PeriodicThread


def test_the_first_pass_comes_after_first_after_and_the_next_after_the_interval() -> None:
    passes: list[int] = []
    ran = threading.Event()

    def job() -> int:
        passes.append(1)
        ran.set()
        return 0

    thread = PeriodicThread("test-periodic", 3600, job, "passes", first_after=0.01)
    thread.start()
    try:
        assert ran.wait(5)
        # The next pass is an hour away.
        assert not thread.stopped.wait(0.1)
        assert passes == [1]
    finally:
        thread.stop()
        thread.join(5)
    assert not thread.is_alive()
