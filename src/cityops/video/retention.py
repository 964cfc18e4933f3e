"""Keeping the detection log to its retention: old detections, their snapshots and the
tracks they followed are deleted in chunks, each chunk committed on its own.

A case keeps its own copy of its evidence (an attachment), so nothing a case shows is lost;
a camera's latest snapshot (the video wall's picture) is kept whatever its age.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from cityops.cases.models import CaseAttachment
from cityops.kit.storage import BlobStorage
from cityops.video.models import Camera, Detection, Track

log = logging.getLogger(__name__)

CHUNK = 5000


@dataclass
class PruneReport:
    detections: int = 0
    snapshots: int = 0
    tracks: int = 0

    @property
    def changes(self) -> int:
        return self.detections + self.tracks


def prune_detections(
    sessions: sessionmaker[Session], storage: BlobStorage, now: datetime, days: int
) -> PruneReport:
    """Delete what is older than `days` (0: keep everything)."""
    report = PruneReport()
    if days <= 0:
        return report
    cutoff = now - timedelta(days=days)
    while True:
        with sessions() as session:
            rows = session.execute(
                select(Detection.id, Detection.snapshot_key)
                .where(Detection.received_at < cutoff)
                .order_by(Detection.id)
                .limit(CHUNK)
            ).all()
            if not rows:
                break
            kept = set(
                session.scalars(select(Camera.last_snapshot_key).where(
                    Camera.last_snapshot_key.is_not(None)))
            )  # fmt: skip
            # A snapshot that became a case's evidence is the case's too: it stays.
            keys = [k for _, k in rows if k is not None]
            for start in range(0, len(keys), 500):
                kept.update(session.scalars(select(CaseAttachment.key).where(
                    CaseAttachment.key.in_(keys[start : start + 500]))))  # fmt: skip
            session.execute(delete(Detection).where(Detection.id.in_([i for i, _ in rows])))
            session.commit()
        report.detections += len(rows)
        # The rows are gone: now their pictures. A failure here leaves a file no row names,
        # never a row naming a missing file.
        for _, key in rows:
            if key is None or key in kept:
                continue
            try:
                storage.delete(key)
                report.snapshots += 1
            except Exception:  # one file the store refuses must not stop the rest
                log.warning("could not delete snapshot %s", key, exc_info=True)
        if len(rows) < CHUNK:
            break
    with sessions() as session:
        # Tracks that ended, or that no message has spoken of, before the cutoff (a source
        # that went away without ending them).
        result = session.execute(
            delete(Track).where(or_(Track.ended_at < cutoff, Track.last_seen_at < cutoff))
        )
        session.commit()
        report.tracks = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return report
