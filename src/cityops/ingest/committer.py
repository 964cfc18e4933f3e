"""Group commit: concurrent ingest requests share one transaction and one fsync.

Under load, requests that arrive while a transaction is being written wait for the next
one; each transaction takes everything waiting (up to a cap), so the cost of a commit and
of intake's few queries is shared instead of paid per event. A request is answered only
when the transaction holding its events has committed — durability is unchanged, and a
lone request goes through at once without waiting for company.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from anyio.to_thread import run_sync
from sqlalchemy.exc import DBAPIError

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases.intake import intake
from cityops.db import is_retryable
from cityops.ingest.schemas import EventResult
from cityops.ingest.service import prepare

log = logging.getLogger(__name__)

# Two requests carrying the same new (source, external_id) from two processes race to
# insert it; the loser's transaction fails on the unique key, and on the retry intake finds
# the winner's row and answers with its result. On PostgreSQL, two processes merging events
# into the same open cases may also deadlock: the one rolled back runs again.
ATTEMPTS = 3


@dataclass
class _Request:
    principal: Principal
    items: list[Any]
    future: asyncio.Future[list[EventResult]]


class GroupCommitter:
    """One writer per process, fed by a queue; started on first use in the running loop."""

    def __init__(self, context: Context, max_events: int = 20_000) -> None:
        self.context = context
        self.max_events = max_events
        self._queue: asyncio.Queue[_Request] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, principal: Principal, items: list[Any]) -> list[EventResult]:
        """Take in `items` (already checked as a request) and return their results."""
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="cityops-group-commit")
        assert self._queue is not None
        future: asyncio.Future[list[EventResult]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(principal, items, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            count = len(batch[0].items)
            while not self._queue.empty() and count < self.max_events:
                request = self._queue.get_nowait()
                batch.append(request)
                count += len(request.items)
            try:
                results = await run_sync(self._write, batch)
            except Exception as exc:  # every waiting request learns of the failure
                log.exception("ingest transaction failed")
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request, result in zip(batch, results, strict=True):
                if not request.future.done():
                    request.future.set_result(result)

    def _write(self, batch: list[_Request]) -> list[list[EventResult]]:
        for attempt in range(ATTEMPTS):
            uow = self.context.unit_of_work()
            try:
                now = self.context.clock.now()
                env = self.context.intake_env(uow.session, now)
                signals, rejected, spans = [], {}, []
                first = 0
                for request in batch:
                    got, bad = prepare(request.principal, request.items, now, first_index=first)
                    signals.extend(got)
                    rejected.update(bad)
                    spans.append((first, len(request.items)))
                    first += len(request.items)
                taken = intake(uow.session, env, signals) if signals else []
                uow.commit()
            except DBAPIError as exc:
                uow.rollback()
                if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                    raise
                log.warning("ingest transaction retried: %s", type(exc.orig).__name__)
                continue
            finally:
                uow.close()
            by_index = {r.index: r for r in taken} | rejected
            return [[_renumbered(by_index[i], start) for i in range(start, start + size)]
                    for start, size in spans]  # fmt: skip
        raise AssertionError("unreachable")


def _renumbered(result: EventResult, start: int) -> EventResult:
    """The result as its own request numbers it (the first request's need no copy)."""
    return result if start == 0 else result.model_copy(update={"index": result.index - start})
