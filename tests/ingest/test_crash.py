"""Kill the server hard in the middle of a stream of events: nothing acknowledged is lost,
and a client that retries what was not acknowledged creates no duplicates."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from tests.factories import GRIDS, migrated_district
from tests.serverproc import ServerProcess

from cityops.cases.models import Case
from cityops.ingest.models import SourceEvent

pytestmark = pytest.mark.slow


def _event(i: int) -> dict[str, object]:
    grid = list(GRIDS)[i % len(GRIDS)]
    lon, lat = GRIDS[grid]
    return {
        "source": "cam-gw",
        "external_id": f"det-{i}",
        "kind": "camera",
        # Spread the points so that no two merge: each event must make its own case.
        "location": {"lon": lon + 0.0001 + (i % 97) * 0.00002,
                     "lat": lat + 0.0001 + (i // 97) * 0.00002},
        "occurred_at": "2026-11-24T01:00:00Z",
        "class_code": "E0102",
        "description": f"暴露垃圾 {i}",
    }  # fmt: skip


def test_sigkill_mid_stream_loses_nothing_acknowledged(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    key = migrated_district(url)
    server = ServerProcess(url, tmp_path)
    server.start()
    acked: set[str] = set()
    sent: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=5) as client:
            i = 0
            while not stop.is_set():
                sent.append(i)
                try:
                    r = client.post("/api/v1/events", json=_event(i))
                except httpx.HTTPError:
                    return  # the server died under us: this one is unacknowledged
                if r.status_code in (200, 201):
                    acked.add(f"det-{i}")
                i += 1

    worker = threading.Thread(target=stream)
    worker.start()
    while len(acked) < 150:
        time.sleep(0.01)
    server.kill()
    stop.set()
    worker.join(10)
    assert len(acked) >= 150

    server.start()
    try:
        engine = create_engine(url)
        with Session(engine) as session:
            stored = dict(
                session.execute(
                    select(SourceEvent.external_id, func.count()).group_by(SourceEvent.external_id)
                ).all()
            )
            assert acked <= set(stored), "an acknowledged event was lost"
            assert all(n == 1 for n in stored.values())
            cases_before = session.scalar(select(func.count()).select_from(Case))

        # The client retries everything it sent, acknowledged or not.
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=10) as client:
            batch = [_event(i) for i in sent]
            r = client.post("/api/v1/events", json=batch)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["rejected"] == 0
            for item in body["results"]:
                external_id = batch[item["index"]]["external_id"]
                if external_id in stored:
                    assert item["duplicate"] is True

        with Session(engine) as session:
            total = session.scalar(select(func.count()).select_from(SourceEvent))
            distinct = session.scalar(select(func.count(func.distinct(SourceEvent.external_id))))
            assert total == distinct == len(set(sent))
            # Every event points at a case, and no case was opened for a repeat.
            linked = session.scalar(select(func.count(func.distinct(SourceEvent.case_id))))
            cases_after = session.scalar(select(func.count()).select_from(Case))
            assert cases_after == linked >= cases_before
        engine.dispose()
    finally:
        server.stop()
