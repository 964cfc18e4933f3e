"""Case use cases where the transactions themselves matter: really committed, two at once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside, migrated_district

from cityops.auth.service import actor_of, principal_from_api_key
from cityops.bootstrap import build_context
from cityops.cases import service
from cityops.cases.models import CaseAttachment
from cityops.config import Settings
from cityops.kit.storage import LocalStorage
from cityops.org.models import Person


def test_the_same_upload_sent_twice_at_once_is_stored_once(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    api_key = migrated_district(url)
    context = build_context(Settings(database_url=url, storage_dir=tmp_path / "blobs"))
    with context.sessions() as session:
        principal = principal_from_api_key(session, api_key)
    lon, lat = inside(GRID_A)
    opened = asyncio.run(context.committer.submit(principal, [{
        "source": "cam-gw", "external_id": "cam-1", "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "occurred_at": "2026-11-24T01:00:00Z",
        "class_code": "P0101",
    }]))  # fmt: skip
    case_id = opened[0].case_id
    assert case_id is not None
    sessions = context.sessions
    storage = LocalStorage(tmp_path / "shared-blobs")
    with sessions() as session:
        actor = actor_of(session.scalars(select(Person).where(Person.code == "call_taker")).one())
    jpeg = b"\xff\xd8\xff\xe0" + b"2" * 1000

    def upload(session: Session) -> tuple[CaseAttachment, bool]:
        return service.add_attachment(
            session, storage, actor, case_id, filename="现场.jpg", content_type="image/jpeg",
            data=jpeg, now=EPOCH, request_key="photo-1",
        )  # fmt: skip

    second: dict[str, Any] = {}

    def resend() -> None:
        with sessions() as session:
            try:
                row, created = upload(session)
                second.update(id=row.id, created=created)
                session.commit()
            except Exception as exc:
                second["error"] = exc

    with sessions() as first_session:
        first, created = upload(first_session)
        assert created
        # The resend arrives while the first upload's transaction is still open: it waits
        # for it (SQLite: for the write lock; PostgreSQL: on the unique index) ...
        thread = threading.Thread(target=resend)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()
        first_session.commit()
        thread.join(timeout=15)
    # ... and then answers with the file the first one stored, whose bytes alone are kept.
    assert second == {"id": first.id, "created": False}
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(CaseAttachment))
        assert count == 1
    assert [p.name for p in storage.root.rglob("*") if p.is_file()] == [Path(first.key).name]
    context.engine.dispose()
