"""The process's writer of detections: answered after the commit, a transaction run again
when it lost a race (two messages of one new track at once, from two connections or
processes, both inserting its track: the retry finds the other's rows).

HTTP requests share transactions through group commit (`kit.batching`): on SQLite a
transaction per request made them queue for the write lock, sleeping in its busy handler,
and on PostgreSQL 40 threads took turns at the interpreter lock between their round trips.
The Frigate consumer and the built-in detector, which batch messages themselves, call
`write` from their own threads.

Each request's detections are checked and their snapshots stored before any transaction
opens, in the request's own thread: the fsyncs of a snapshot must not hold the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from anyio.to_thread import run_sync

from cityops.auth.service import Principal
from cityops.db import is_retryable
from cityops.kit.batching import BatchingWriter
from cityops.video.schemas import DetectionIn, DetectionResult
from cityops.video.service import CheckedBatch, check_batch, discard_unused, record_detections

if TYPE_CHECKING:
    from cityops.bootstrap import Context

log = logging.getLogger(__name__)

ATTEMPTS = 3
INLINE_CHECK_MAX = 20


class DetectionsWriter:
    def __init__(self, context: Context, max_items: int = 500) -> None:
        self.context = context
        self._writer: BatchingWriter[CheckedBatch, list[DetectionResult]] = BatchingWriter(
            self.write_checked, lambda b: max(1, len(b.items)), max_items
        )

    async def submit(self, principal: Principal, items: Sequence[Any]) -> list[DetectionResult]:
        """Take in a request's detections (as sent: dicts), sharing a transaction with the
        requests waiting beside it; a result each, in order."""
        if len(items) <= INLINE_CHECK_MAX and not any(
            isinstance(i, dict) and i.get("snapshot_base64") for i in items
        ):
            # A few detections without pictures are checked in well under a millisecond:
            # a hop to a thread and back would cost more, under load, than it saves.
            batch = self.check(principal, items)
        else:
            batch = await run_sync(self.check, principal, items)
        if not batch.items:  # every one refused: nothing to write
            return [batch.rejected[i] for i in range(batch.size)]
        return await self._writer.submit(batch)

    def check(
        self,
        principal: Principal,
        items: Sequence[Any],
        snapshots: Sequence[bytes | None] | None = None,
    ) -> CheckedBatch:
        return check_batch(
            self.context.storage, principal, items, self.context.clock.now(), snapshots
        )

    def write(
        self,
        principal: Principal,
        items: Sequence[Any],
        *,
        fetch_snapshot: Callable[[DetectionIn], bytes | None] | None = None,
    ) -> list[DetectionResult]:
        """Take in a batch of detections in a transaction of its own (from a consumer's
        thread); `fetch_snapshot` gets the picture of one that reaches a case without one."""
        return self.write_checked([self.check(principal, items)], fetch_snapshot)[0]

    def write_checked(
        self,
        batches: list[CheckedBatch],
        fetch_snapshot: Callable[[DetectionIn], bytes | None] | None = None,
    ) -> list[list[DetectionResult]]:
        for attempt in range(ATTEMPTS):
            uow = self.context.unit_of_work()
            try:
                env = self.context.video_env(uow.session, self.context.clock.now())
                env.fetch_snapshot = fetch_snapshot
                results = record_detections(uow.session, env, batches)
                uow.commit()
            except Exception as exc:
                uow.rollback()
                if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                    discard_unused(self.context.storage, batches, None)
                    raise
                log.warning("detections transaction retried: %s", type(exc).__name__)
                continue
            finally:
                uow.close()
            discard_unused(self.context.storage, batches, results)
            return results
        raise AssertionError("unreachable")
