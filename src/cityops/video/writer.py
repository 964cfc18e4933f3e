"""Detections written in a transaction of their own, answered after the commit, and run
again when the transaction lost a race (two messages of one new track at once, from two
connections or processes, both inserting its track): the retry finds the other's rows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cityops.auth.service import Principal
from cityops.db import is_retryable
from cityops.video.schemas import DetectionIn, DetectionResult
from cityops.video.service import ingest_detections

if TYPE_CHECKING:
    from cityops.bootstrap import Context

log = logging.getLogger(__name__)

ATTEMPTS = 3


def write_detections(
    context: Context,
    principal: Principal,
    items: Sequence[Any],
    *,
    fetch_snapshot: Callable[[DetectionIn], bytes | None] | None = None,
) -> list[DetectionResult]:
    """Take in a batch of detections (as sent: dicts) in one transaction; a result each."""
    for attempt in range(ATTEMPTS):
        uow = context.unit_of_work()
        try:
            env = context.video_env(uow.session, context.clock.now())
            env.fetch_snapshot = fetch_snapshot
            results = ingest_detections(uow.session, env, principal, items)
            uow.commit()
            return results
        except Exception as exc:
            uow.rollback()
            if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                raise
            log.warning("detections transaction retried: %s", type(exc).__name__)
        finally:
            uow.close()
    raise AssertionError("unreachable")
