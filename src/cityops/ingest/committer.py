"""Group commit of events (see cityops.kit.batching): concurrent ingest requests share one
transaction, and intake's few queries, instead of paying for them per event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases.intake import intake
from cityops.db import is_retryable
from cityops.ingest.schemas import EventResult
from cityops.ingest.service import prepare
from cityops.kit.batching import BatchingWriter

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


class GroupCommitter:
    """The process's one writer of events."""

    def __init__(self, context: Context, max_events: int = 20_000) -> None:
        self.context = context
        self._writer: BatchingWriter[_Request, list[EventResult]] = BatchingWriter(
            self._write, lambda r: len(r.items), max_events
        )

    async def submit(self, principal: Principal, items: list[Any]) -> list[EventResult]:
        """Take in `items` (already checked as a request) and return their results."""
        return await self._writer.submit(_Request(principal, items))

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
