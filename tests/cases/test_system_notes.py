"""Notes the system takes on cases in one go (a camera's batch of detections): each a NOTE
step in the order given, its picture attached, audited and announced; none on a closed case."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.cases.test_api import act, ok

from cityops.auth.models import AuditEntry
from cityops.cases.events import CaseTransitioned
from cityops.cases.models import CaseAttachment, CaseStep
from cityops.cases.service import Picture, SystemNote, add_system_notes
from cityops.cases.workflow import Actor
from cityops.kit.bus import take_pending

CAMERA = Actor.system("视频智能分析")
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 2000


def test_notes_are_steps_in_order_with_their_pictures_and_none_lands_on_a_closed_case(
    client: TestClient, login: Any, report: Any, context: Any, session: Session
) -> None:
    first, second, closed = report(), report(), report()
    ok(act(client, login("shift_leader"), closed, "cancel", note="重复上报"))
    stored = context.storage.put("video/CAM-1/snap.jpg", JPEG, "image/jpeg")
    notes = [
        SystemNote(
            first, "视频抓拍", Picture(stored, "snapshot.jpg", "image/jpeg", [0.1, 0.2, 0.3, 0.4])
        ),
        SystemNote(second, "同一区域新目标", Picture(JPEG, "snapshot.jpg", "image/jpeg")),
        SystemNote(closed, "目标离开"),
        SystemNote(first, "目标离开"),
        SystemNote(999_999, "没有这个案件"),
    ]
    env = context.case_env(session, context.clock.now())
    assert len(add_system_notes(session, env, context.storage, CAMERA, notes)) == 3

    def notes_of(case_id: int) -> list[tuple[int, str, list[int]]]:
        steps = session.scalars(select(CaseStep).where(CaseStep.case_id == case_id,
                                                       CaseStep.action == "note")
                                .order_by(CaseStep.seq))  # fmt: skip
        return [(s.seq, s.note, s.attachments) for s in steps]

    (snap_a, text_a, (att_a,)), (seq_b, text_b, none_b) = notes_of(first)
    assert (text_a, text_b, none_b, seq_b) == ("视频抓拍", "目标离开", [], snap_a + 1)
    ((_, text_c, (att_c,)),) = notes_of(second)
    assert text_c == "同一区域新目标"
    assert notes_of(closed) == []
    referenced, copied = session.get(CaseAttachment, att_a), session.get(CaseAttachment, att_c)
    assert referenced is not None and copied is not None
    # the camera's stored snapshot is referenced, box and all; bytes are stored for the case
    assert (referenced.key, referenced.sha256, referenced.box) == (
        stored.key, stored.sha256, [0.1, 0.2, 0.3, 0.4],
    )  # fmt: skip
    assert copied.key.startswith(f"cases/{second}/") and copied.case_id == second
    assert b"".join(context.storage.open(copied.key)) == JPEG
    assert (
        session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == closed)).all() == []
    )
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.note"))
    assert sorted((a.entity_id, a.actor) for a in audited) == sorted(
        [(str(first), "person:None:系统"), (str(second), "person:None:系统"),
         (str(first), "person:None:系统")]
    )  # fmt: skip
    announced = [e for e in take_pending(session) if isinstance(e, CaseTransitioned)]
    assert [(e.case_id, e.action) for e in announced] == [
        (first, "note"), (second, "note"), (first, "note"),
    ]  # fmt: skip


def test_a_person_cannot_take_system_notes(report: Any, context: Any, session: Session) -> None:
    case_id = report()
    person = Actor(id=1, name="张三", roles=frozenset({"call_taker"}), scope_code=None)
    env = context.case_env(session, context.clock.now())
    with pytest.raises(ValueError, match="taken by the system"):
        add_system_notes(session, env, context.storage, person, [SystemNote(case_id, "x")])
