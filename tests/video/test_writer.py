"""Detections written under concurrency: a transaction that lost a race is run again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tests.factories import EPOCH, migrated_district
from tests.video.conftest import detection

from cityops.auth.service import Principal
from cityops.bootstrap import build_context
from cityops.cases.workflow import Actor
from cityops.config import Settings
from cityops.video import writer
from cityops.video.models import Camera, Detection, Track, Zone
from cityops.video.writer import write_detections

GATEWAY = Principal(actor=Actor.system("cam-gw"), api_key_id=0, sources=frozenset({"cam-gw"}))


@pytest.mark.usefixtures("video")
def test_a_transaction_that_lost_a_race_is_run_again(
    context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = writer.ingest_detections, []

    def loses_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO video_tracks", {}, Exception("uq_video_tracks_key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "ingest_detections", loses_once)
    (result,) = write_detections(context, GATEWAY, [detection(0, phase="new")])
    assert len(calls) == 2
    assert result.status == "created"


def _send(context: Any, key: str, seconds: float, track: str, start: threading.Barrier,
          errors: list[BaseException]) -> None:  # fmt: skip
    start.wait()
    try:
        write_detections(context, GATEWAY, [detection(seconds, track=track, key=key)])
    except BaseException as exc:  # the test reports it
        errors.append(exc)


@pytest.mark.slow
def test_two_messages_of_one_new_track_at_once_both_go_in(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Two processes (two contexts) take two messages of the same new track at the same
    moment: both insert its track; the one that loses the race is run again."""
    url = fresh_database_url
    migrated_district(url)
    engine = create_engine(url)
    with Session(engine) as session:
        camera = Camera(code="CAM-1", name="站台", lon=106.571, lat=29.561,
                        created_at=EPOCH, updated_at=EPOCH)  # fmt: skip
        session.add(camera)
        session.flush()
        zone = Zone(camera_id=camera.id, code="platform", name="站台",
                    polygon=[[0, 0], [1, 0], [1, 1], [0, 1]], labels=["person"], min_score=0.7,
                    min_dwell_s=600, active_hours=[], class_code="E0502", cooldown_s=600,
                    active=True, created_at=EPOCH, updated_at=EPOCH)  # fmt: skip
        session.add(zone)
        session.commit()
    contexts = [
        build_context(Settings(database_url=url, storage_dir=tmp_path / f"blobs-{n}"))
        for n in range(2)
    ]
    errors: list[BaseException] = []
    for round_ in range(5):
        start = threading.Barrier(2)
        threads = [
            threading.Thread(
                target=_send,
                args=(contexts[n], f"r{round_}-{n}", n, f"race{round_}", start, errors),
            )
            for n in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Detection)) == 10
        assert session.scalar(select(func.count()).select_from(Track)) == 5
    for context in contexts:
        context.engine.dispose()
    engine.dispose()
