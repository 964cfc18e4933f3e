"""Domain events: collected during a transaction, published only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "cityops.pending_events"

Handler = Callable[[Any], None]
# Work that must see a transaction's own writes before it commits (to build a message from
# the rows it wrote, say); it returns what to do once the transaction has committed.
Preparer = Callable[[Session, list[object]], Callable[[], None] | None]


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
        self._preparers: list[Preparer] = []

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def prepare_with(self, preparer: Preparer) -> None:
        """Run `preparer` on every transaction's events just before it commits."""
        self._preparers.append(preparer)

    def prepare(self, session: Session, events: list[object]) -> list[Callable[[], None]]:
        """What the preparers want done once `session` has committed `events`."""
        after = []
        for preparer in self._preparers:
            try:
                action = preparer(session, events)
            except Exception:  # a message that cannot be built must not lose the writes
                log.exception("preparer %r failed on %d events", preparer, len(events))
                continue
            if action is not None:
                after.append(action)
        return after

    def publish(self, events: list[object]) -> None:
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                try:
                    handler(event)
                except Exception:
                    log.exception("handler %r failed on %r", handler, event)


class UnitOfWork:
    """One session and one transaction; the edge that opened it commits it.

    `commit()` lets the bus's preparers read the transaction's own writes, commits, runs
    what they asked for and publishes the events collected during the transaction;
    closing without commit rolls back and drops them.
    """

    def __init__(self, session: Session, bus: MessageBus) -> None:
        self.session = session
        self.bus = bus

    def commit(self) -> None:
        events = take_pending(self.session)
        after = self.bus.prepare(self.session, events) if events else []
        self.session.commit()
        for action in after:
            try:
                action()
            except Exception:  # committed is committed: one failed side effect stops no other
                log.exception("after-commit action %r failed", action)
        self.bus.publish(events)

    def rollback(self) -> None:
        self.session.rollback()
        take_pending(self.session)

    def close(self) -> None:
        if self.session.in_transaction():
            self.rollback()
        self.session.close()
