"""The unit of work: events and after-commit work happen after the commit, or never."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityops.kit.bus import MessageBus, UnitOfWork, collect
from cityops.org.models import Department


def _uow(session_factory: sessionmaker[Session], bus: MessageBus) -> UnitOfWork:
    return UnitOfWork(session_factory(), bus)


def test_a_preparer_reads_the_transactions_own_writes_and_acts_after_the_commit(
    session_factory: sessionmaker[Session],
) -> None:
    bus, log = MessageBus(), []

    def prepare(session: Session, events: list[object]) -> Any:
        seen = session.scalar(select(func.count()).select_from(Department))
        log.append(("prepared", events, seen))
        return lambda: log.append(("after commit", committed(session)))

    def committed(session: Session) -> bool:
        return not session.in_transaction()

    bus.prepare_with(prepare)
    bus.subscribe(str, lambda e: log.append(("published", e)))
    uow = _uow(session_factory, bus)
    uow.session.add(Department(code="HW", name="区环卫所", kind="department", active=True))
    uow.session.flush()
    collect(uow.session, "changed")
    uow.commit()
    assert log == [("prepared", ["changed"], 1), ("after commit", True), ("published", "changed")]


def test_nothing_is_prepared_or_sent_for_a_transaction_that_rolls_back(
    session_factory: sessionmaker[Session],
) -> None:
    bus, log = MessageBus(), []
    bus.prepare_with(lambda s, e: log.append("prepared"))  # type: ignore[func-returns-value]
    bus.subscribe(str, log.append)
    uow = _uow(session_factory, bus)
    collect(uow.session, "changed")
    uow.close()  # no commit
    assert log == []


def test_a_failing_preparer_or_action_loses_no_write(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    bus, log = MessageBus(), []

    def broken(_session: Session, _events: list[object]) -> Any:
        raise RuntimeError("cannot build")

    def failing_action(_session: Session, _events: list[object]) -> Any:
        def act() -> None:
            raise RuntimeError("cannot send")

        return act

    bus.prepare_with(broken)
    bus.prepare_with(failing_action)
    bus.subscribe(str, log.append)
    uow = _uow(session_factory, bus)
    uow.session.add(Department(code="SZ", name="市政", kind="department", active=True))
    collect(uow.session, "changed")
    uow.commit()
    uow.close()
    assert log == ["changed"]
    with session_factory() as check:
        assert check.scalar(select(func.count()).select_from(Department)) == 1
    assert "cannot build" in caplog.text
    assert "cannot send" in caplog.text
