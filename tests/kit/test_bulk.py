"""The bulk helpers of the ingest hot path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.factories import EPOCH

from cityops.cases.models import Case
from cityops.kit.bulk import add_to_counts


def test_counts_are_updated_in_id_order_so_concurrent_writers_cannot_deadlock(
    session: Session,
) -> None:
    executed: list[Any] = []
    engine = session.get_bind()

    def capture(*args: Any) -> None:  # conn, cursor, statement, params, context, many
        statement, params = args[2], args[3]
        if statement.startswith("UPDATE cases"):
            executed.append(params)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        add_to_counts(session, Case, {30: 1, 10: 2, 20: 3}, column="signal_count", now=EPOCH)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    (params,) = executed
    assert [row[-1] for row in params] == [10, 20, 30]
    assert [row[0] for row in params] == [2, 3, 1]
