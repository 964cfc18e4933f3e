"""The process's writer of readings: each batch in one transaction, answered after commit.

HTTP requests share transactions through group commit; the MQTT consumer, which batches
messages itself, calls `write` directly from its thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from cityops.db import is_retryable
from cityops.kit.batching import BatchingWriter
from cityops.sensing.readings import ReadingResult, ingest_readings

if TYPE_CHECKING:
    from cityops.bootstrap import Context

log = logging.getLogger(__name__)

ATTEMPTS = 3
# A unique-key race seen by the driver itself (a COPY on PostgreSQL), not through SQLAlchemy.
_RETRY_SQLSTATES = frozenset({"23505", "40001", "40P01"})


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, DBAPIError):
        return is_retryable(exc)
    return getattr(exc, "sqlstate", None) in _RETRY_SQLSTATES


class ReadingsWriter:
    def __init__(self, context: Context, max_items: int = 100_000) -> None:
        self.context = context
        self._writer: BatchingWriter[list[Any], list[ReadingResult]] = BatchingWriter(
            self.write_many, len, max_items
        )

    async def submit(self, items: list[Any]) -> list[ReadingResult]:
        """Take in a request's readings, sharing a transaction with others waiting."""
        return await self._writer.submit(items)

    def write(self, items: list[Any]) -> list[ReadingResult]:
        """Take in readings in a transaction of their own (from a consumer's thread)."""
        return self.write_many([items])[0]

    def write_many(self, requests: list[list[Any]]) -> list[list[ReadingResult]]:
        items = [item for request in requests for item in request]
        for attempt in range(ATTEMPTS):
            uow = self.context.unit_of_work()
            try:
                env = self.context.sensing_env(uow.session, self.context.clock.now())
                results = ingest_readings(uow.session, env, items)
                uow.commit()
            except Exception as exc:
                uow.rollback()
                if attempt == ATTEMPTS - 1 or not _retryable(exc):
                    raise
                log.warning("readings transaction retried: %s", type(exc).__name__)
                continue
            finally:
                uow.close()
            out, start = [], 0
            for request in requests:
                part = results[start : start + len(request)]
                if start:
                    for result in part:
                        result.index -= start
                out.append(part)
                start += len(request)
            return out
        raise AssertionError("unreachable")
