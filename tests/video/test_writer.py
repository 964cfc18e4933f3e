"""Detections written under concurrency: requests share a transaction, a transaction that
lost a race is run again, and no snapshot is kept for a detection that was not recorded."""

from __future__ import annotations

import asyncio
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

GATEWAY = Principal(actor=Actor.system("cam-gw"), api_key_id=0, sources=frozenset({"cam-gw"}))


@pytest.mark.usefixtures("video")
def test_a_transaction_that_lost_a_race_is_run_again(
    context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = writer.record_detections, []

    def loses_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO video_tracks", {}, Exception("uq_video_tracks_key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "record_detections", loses_once)
    (result,) = context.detections.write(GATEWAY, [detection(0, phase="new")])
    assert len(calls) == 2
    assert result.status == "created"


def _snapshots(context: Any) -> list[Path]:
    root = Path(context.settings.storage_dir) / "video"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.usefixtures("video")
def test_requests_sharing_a_transaction_keep_their_own_numbering(context: Any) -> None:
    first = [detection(0, phase="new", track="a"), detection(1, track="a")]
    second = [detection(2, phase="new", track="b"), detection(0, phase="new", track="a")]
    batches = [context.detections.check(GATEWAY, first), context.detections.check(GATEWAY, second)]
    one, two = context.detections.write_checked(batches)
    assert [(r.index, r.status) for r in one] == [(0, "created"), (1, "created")]
    # numbered as the second request sent them; its repeat of the first's detection found it
    assert [(r.index, r.status) for r in two] == [(0, "created"), (1, "duplicate")]
    assert two[1].id == one[0].id


@pytest.mark.usefixtures("video")
def test_requests_waiting_together_are_answered_each_with_its_own_results(
    context: Any,
) -> None:
    async def together() -> list[Any]:
        return list(await asyncio.gather(*(
            context.detections.submit(GATEWAY, [detection(n, phase="new", track=f"t{n}"),
                                                {"source": "cam-gw"}])
            for n in range(8)
        )))  # fmt: skip

    answers = asyncio.run(together())
    for answer in answers:
        assert [r.status for r in answer] == ["created", "rejected"]
        assert [r.index for r in answer] == [0, 1]
    assert len({answer[0].id for answer in answers}) == 8


@pytest.mark.usefixtures("video")
def test_a_snapshot_is_kept_only_for_a_detection_that_was_recorded(context: Any) -> None:
    new = detection(0, phase="new", snapshot=True)
    (created,) = context.detections.write(GATEWAY, [new])
    assert created.status == "created"
    kept = _snapshots(context)
    assert len(kept) == 1
    # a repeat, and a camera nobody registered: their snapshots are not left behind
    results = context.detections.write(
        GATEWAY, [new, detection(5, phase="new", snapshot=True, camera="NOPE", key="x")]
    )
    assert [r.status for r in results] == ["duplicate", "rejected"]
    assert _snapshots(context) == kept


@pytest.mark.usefixtures("video")
def test_a_snapshot_broken_after_its_first_bytes_is_refused_naming_the_field(
    context: Any,
) -> None:
    good = detection(0, phase="new", snapshot=True)
    broken = detection(1, phase="new", snapshot=True, track="b")
    # a JPEG's head, then something that is not base64 (the head alone passes the schema)
    broken["snapshot_base64"] = good["snapshot_base64"][:64] + "!not base64!"
    results = context.detections.write(GATEWAY, [good, broken])
    assert [r.status for r in results] == ["created", "rejected"]
    assert results[1].errors == [{"path": "snapshot_base64", "message": "not base64"}]
    assert len(_snapshots(context)) == 1


@pytest.mark.usefixtures("video")
def test_a_failed_transaction_leaves_no_snapshot_behind(
    context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*_: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(writer, "record_detections", fails)
    with pytest.raises(RuntimeError):
        context.detections.write(GATEWAY, [detection(0, phase="new", snapshot=True)])
    assert _snapshots(context) == []


def _send(context: Any, key: str, seconds: float, track: str, start: threading.Barrier,
          errors: list[BaseException]) -> None:  # fmt: skip
    start.wait()
    try:
        context.detections.write(GATEWAY, [detection(seconds, track=track, key=key)])
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
