"""Two writers (as two server processes would be) merging events into the same open cases
at once: every event is recorded once and every case counts each of its signals."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from tests.factories import migrated_district

from cityops.auth.service import Principal, principal_from_api_key
from cityops.bootstrap import Context, build_context
from cityops.cases.models import Case
from cityops.config import Settings
from cityops.ingest.models import SourceEvent

pytestmark = pytest.mark.slow

# 68 spots more than twice the class's merge radius (20 m) apart, inside the district.
SPOTS = [(106.5702 + 0.00045 * i, 29.5602 + 0.00045 * j) for i in range(17) for j in range(4)]
ROUNDS = 8


def _event(external_id: str, spot: tuple[float, float]) -> dict[str, Any]:
    return {
        "source": "cam-gw", "external_id": external_id, "kind": "camera",
        "location": {"lon": spot[0], "lat": spot[1]},
        "occurred_at": "2026-11-24T01:00:00Z", "class_code": "P0101",
    }  # fmt: skip


def _writer(
    context: Context, principal: Principal, name: str, order: list[int], failures: list[str]
) -> None:
    async def write() -> None:
        for r in range(ROUNDS):
            batch = [_event(f"{name}-{r}-{k}", SPOTS[k]) for k in order]
            results = await context.committer.submit(principal, batch)
            if [x.status for x in results] != ["merged"] * len(order):
                failures.append(f"{name} round {r}: {[x.status for x in results]}")

    try:
        asyncio.run(write())
    except Exception as exc:
        failures.append(f"{name}: {exc!r}")


def test_two_writers_merging_into_the_same_cases_lose_and_double_nothing(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    key = migrated_district(url)
    engine = create_engine(url)
    with Session(engine) as session:
        principal = principal_from_api_key(session, key)
    contexts = [
        build_context(Settings(database_url=url, storage_dir=tmp_path / f"blobs-{n}"))
        for n in range(2)
    ]
    opened = asyncio.run(contexts[0].committer.submit(
        principal, [_event(f"open-{k}", spot) for k, spot in enumerate(SPOTS)]))  # fmt: skip
    assert [r.status for r in opened] == ["created"] * len(SPOTS)

    # One writer walks the cases west to east, the other east to west: the order in which
    # two transactions would take the same rows' locks if nothing ordered them.
    ascending = list(range(len(SPOTS)))
    failures: list[str] = []
    writers = [
        threading.Thread(target=_writer, args=(contexts[0], principal, "a", ascending, failures)),
        threading.Thread(target=_writer,
                         args=(contexts[1], principal, "b", ascending[::-1], failures)),
    ]  # fmt: skip
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert not any(w.is_alive() for w in writers)
    assert failures == []

    with Session(engine) as session:
        events = session.scalar(select(func.count()).select_from(SourceEvent))
        assert events == len(SPOTS) * (1 + 2 * ROUNDS)
        counts = session.scalars(select(Case.signal_count).order_by(Case.id)).all()
        assert counts == [1 + 2 * ROUNDS] * len(SPOTS)
    for context in contexts:
        context.engine.dispose()
    engine.dispose()
