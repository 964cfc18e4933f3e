"""Group commit: concurrent requests share one transaction and one fsync.

Under load, requests that arrive while a transaction is being written wait for the next
one; each transaction takes everything waiting (up to a cap), so the cost of a commit is
shared instead of paid per request. A request is answered only when the transaction holding
it has committed (durability is unchanged), and a lone request goes through at once
without waiting for company.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from anyio.to_thread import run_sync

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Res = TypeVar("Res")


@dataclass
class _Waiting(Generic[Req, Res]):
    request: Req
    future: asyncio.Future[Res]


class BatchingWriter(Generic[Req, Res]):
    """One writer per process, fed by a queue; started on first use in the running loop.

    `write` runs in a worker thread with every request waiting (in order) and returns one
    result per request; it owns the transaction. `size` tells how much a request weighs
    against `max_items`.
    """

    def __init__(
        self, write: Callable[[list[Req]], list[Res]], size: Callable[[Req], int], max_items: int
    ) -> None:
        self._write = write
        self._size = size
        self.max_items = max_items
        self._queue: asyncio.Queue[_Waiting[Req, Res]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: Req) -> Res:
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="cityops-group-commit")
        assert self._queue is not None
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Waiting(request, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            count = self._size(batch[0].request)
            while not self._queue.empty() and count < self.max_items:
                waiting = self._queue.get_nowait()
                batch.append(waiting)
                count += self._size(waiting.request)
            try:
                results = await run_sync(self._write, [w.request for w in batch])
            except Exception as exc:  # every waiting request learns of the failure
                log.exception("group transaction failed")
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)
                continue
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.future.done():
                    waiting.future.set_result(result)
