"""The bulk helpers of the ingest hot path."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside

from cityops.cases.models import Case, CaseStep
from cityops.kit.bulk import (
    SMALL_WRITE,
    add_to_counts,
    allocate_ids,
    driver_rows,
    execute_many,
    insert_rows,
)


def _case_row(case_id: int, lon: float, lat: float) -> dict[str, Any]:
    return {
        "id": case_id, "class_code": "E0102", "family": "event", "urgency": "normal",
        "state": "reported", "description": "垃圾", "address": None, "lon": lon, "lat": lat,
        "grid_code": GRID_A, "region_code": GRID_A, "needs_placement": False,
        "source_kind": "camera", "source": "cam", "reporter_id": None,
        "needs_verification": True, "verified": None, "self_handled": False,
        "department_id": None, "assignee_id": None, "pending_request": None,
        "signal_count": 1, "rework_count": 0, "extension_count": 0, "return_count": 0,
        "created_at": EPOCH, "reported_at": EPOCH, "filed_at": None, "dispatched_at": None,
        "handle_due_at": None, "handled_at": None, "closed_at": None,
        "stage_started_at": EPOCH, "stage_due_at": EPOCH, "overdue": False,
        "escalated_at": None, "evaluation": None, "updated_at": EPOCH, "version": 1,
    }  # fmt: skip


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("count", [3, SMALL_WRITE + 1], ids=["pipelined", "copied"])
def test_bulk_rows_read_back_as_the_orm_wrote_them_and_counts_add_up(
    session: Session, count: int
) -> None:
    ids, none = allocate_ids(session, [(Case, count), (CaseStep, 0)])
    assert len(set(ids)) == count
    assert none == []
    lon, lat = inside(GRID_A)
    insert_rows(session, [(Case, [_case_row(i, lon, lat) for i in ids]), (CaseStep, [])])
    later = EPOCH.replace(hour=2)
    add_to_counts(session, Case, {ids[2]: 1, ids[0]: 4}, column="signal_count", now=later)
    session.expire_all()

    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    assert [cases[i].signal_count for i in ids[:3]] == [5, 1, 2]
    assert [cases[i].version for i in ids[:3]] == [2, 1, 2]
    assert cases[ids[0]].updated_at == later
    assert cases[ids[1]].updated_at == cases[ids[1]].created_at == EPOCH
    assert cases[ids[1]].description == "垃圾"
    assert driver_rows(session, "SELECT count(*) FROM cases WHERE created_at = ?", [EPOCH]) == [
        (count,)
    ]
    (more,) = allocate_ids(session, [(Case, 2)])
    assert min(more) > max(ids)


def test_rows_are_locked_or_updated_in_id_order_so_concurrent_writers_cannot_deadlock(
    session: Session,
) -> None:
    executed: list[Any] = []
    engine = session.get_bind()

    def capture(*args: Any) -> None:  # conn, cursor, statement, params, context, many
        statement, params = args[2], args[3]
        if "cases" in statement and ("UPDATE" in statement or "FOR UPDATE" in statement):
            executed.append(params)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        add_to_counts(session, Case, {30: 1, 10: 2, 20: 3}, column="signal_count", now=EPOCH)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    first = executed[0]
    if session.get_bind().dialect.name == "postgresql":
        assert first == ([10, 20, 30],)  # the ids locked first, in order
    else:
        assert [row[-1] for row in first] == [10, 20, 30]
        assert [row[0] for row in first] == [2, 3, 1]


@pytest.mark.usefixtures("district")
def test_execute_many_stores_datetimes_as_the_orm_does_whatever_their_zone(
    session: Session,
) -> None:
    ids = allocate_ids(session, [(Case, 3)])[0]
    lon, lat = inside(GRID_A)
    insert_rows(session, [(Case, [_case_row(i, lon, lat) for i in ids])])
    due = EPOCH.replace(hour=5)
    same_instant = due.astimezone(ZoneInfo("Asia/Shanghai"))
    changed = execute_many(
        session,
        "UPDATE cases SET handle_due_at = ?, description = ? WHERE id = ?",
        [(due, "甲", ids[0]), (same_instant, "乙", ids[1]), (None, "丙", ids[2])],
    )
    assert changed == 3
    session.expire_all()
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    assert [(cases[i].handle_due_at, cases[i].description) for i in ids] == [
        (due, "甲"),
        (due, "乙"),
        (None, "丙"),
    ]
    # stored alike, so the database compares them as one instant
    assert driver_rows(session, "SELECT count(*) FROM cases WHERE handle_due_at = ?", [due]) == [
        (2,)
    ]
