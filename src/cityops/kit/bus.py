"""Domain events: collected during a transaction, published only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "cityops.pending_events"

Handler = Callable[[Any], None]


def collect(session: Session, *events: object) -> None:
    """Queue `events` to be published when `session` commits (and dropped if it rolls back)."""
    session.info.setdefault(_PENDING, []).extend(events)


def take_pending(session: Session) -> list[object]:
    """Remove and return the events queued on `session`."""
    return list(session.info.pop(_PENDING, []))


class MessageBus:
    """An in-process publisher: each event goes to every handler subscribed to its type.

    A failing handler is logged and does not stop the others: the transaction that raised
    the event has already committed, and one listener's bug must not hide it from the rest.
    """

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def publish(self, events: list[object]) -> None:
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                try:
                    handler(event)
                except Exception:
                    log.exception("handler %r failed on %r", handler, event)


class UnitOfWork:
    """One session and one transaction; the edge that opened it commits it.

    `commit()` commits, then publishes the events collected during the transaction;
    closing without commit rolls back and drops them.
    """

    def __init__(self, session: Session, bus: MessageBus) -> None:
        self.session = session
        self.bus = bus

    def commit(self) -> None:
        self.session.commit()
        self.bus.publish(take_pending(self.session))

    def rollback(self) -> None:
        self.session.rollback()
        take_pending(self.session)

    def close(self) -> None:
        if self.session.in_transaction():
            self.rollback()
        self.session.close()
