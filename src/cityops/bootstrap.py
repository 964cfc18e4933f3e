"""The composition root: builds the engine, sessions, bus, storage and reference caches."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityops.auth.service import ApiKeyCache
from cityops.cases.intake import IntakeEnv
from cityops.cases.service import CaseEnv
from cityops.catalog.service import CatalogSnapshot, load_snapshot
from cityops.citizens.classify import Classifier
from cityops.citizens.service import load_classifier
from cityops.config import Settings
from cityops.db import is_retryable, make_engine, make_sessionmaker, read_only
from cityops.geo.index import GridIndex
from cityops.kit.bus import MessageBus, UnitOfWork
from cityops.kit.clock import Clock, SystemClock
from cityops.kit.periodic import PeriodicThread
from cityops.kit.storage import BlobStorage, make_storage
from cityops.notify.handlers import AlarmFramePublisher, DetectionFramePublisher, FramePublisher
from cityops.notify.hub import LocalHub, make_hub
from cityops.notify.sms import SmsSender, make_sms
from cityops.org.service import load_grid_index
from cityops.sensing.events import ReadingsStored
from cityops.sensing.registry import LatestValues, Registry, load_registry
from cityops.worktime.service import WorkCalendar, load_calendar

if TYPE_CHECKING:
    from cityops.ingest.committer import GroupCommitter
    from cityops.sensing.readings import SensingEnv
    from cityops.sensing.writer import ReadingsWriter
    from cityops.video.service import VideoEnv
    from cityops.video.writer import DetectionsWriter

T = TypeVar("T")

# Reference data (grids, catalog, calendar) changes rarely but is read on every event.
# Each process keeps it in memory and reloads it when this process changed it, or at
# the latest after this many seconds when another process may have.
REFERENCE_TTL_SECONDS = 30.0
CLASSIFIER_TTL_SECONDS = 600.0


class ReferenceCache(Generic[T]):
    """A value loaded from the database, kept until invalidated or older than the TTL."""

    def __init__(self, load: Callable[[Session], T], ttl: float = REFERENCE_TTL_SECONDS):
        self._load = load
        self._ttl = ttl
        self._value: T | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session) -> T:
        value = self._value
        if value is not None and time.monotonic() - self._loaded_at < self._ttl:
            return value
        with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at >= self._ttl:
                self._value = self._load(session)
                self._loaded_at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        self._loaded_at = 0.0


@dataclass
class Context:
    """Everything a request, job or command needs, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: MessageBus
    storage: BlobStorage
    clock: Clock
    # Sessions for requests that only read: on SQLite they take no write lock.
    read_sessions: sessionmaker[Session]
    grids: ReferenceCache[GridIndex] = field(init=False)
    catalog: ReferenceCache[CatalogSnapshot] = field(init=False)
    calendar: ReferenceCache[WorkCalendar] = field(init=False)
    sensors: ReferenceCache[Registry] = field(init=False)
    latest: LatestValues = field(init=False)
    committer: GroupCommitter = field(init=False)
    readings: ReadingsWriter = field(init=False)
    detections: DetectionsWriter = field(init=False)
    classifier: ReferenceCache[Classifier] = field(init=False)
    api_keys: ApiKeyCache = field(init=False)
    hub: LocalHub = field(init=False)
    publisher: FramePublisher = field(init=False)
    alarm_publisher: AlarmFramePublisher = field(init=False)
    detection_publisher: DetectionFramePublisher = field(init=False)
    sms: SmsSender = field(init=False)

    def __post_init__(self) -> None:
        from cityops.ingest.committer import GroupCommitter
        from cityops.sensing.writer import ReadingsWriter
        from cityops.video.writer import DetectionsWriter

        self.committer = GroupCommitter(self)
        self.readings = ReadingsWriter(self)
        self.detections = DetectionsWriter(self)
        self.sensors = ReferenceCache(load_registry)
        self.latest = LatestValues()
        self.bus.subscribe(ReadingsStored, lambda e: self.latest.update(e.latest))
        self.api_keys = ApiKeyCache()
        self.grids = ReferenceCache(load_grid_index)
        self.catalog = ReferenceCache(load_snapshot)
        # Rebuilt now and then, as closed cases teach it (a build takes a fraction of a
        # second), and when the catalog or the services change in this process.
        self.classifier = ReferenceCache(load_classifier, ttl=CLASSIFIER_TTL_SECONDS)
        self.calendar = ReferenceCache(lambda s: load_calendar(s, self.settings))
        self.hub = make_hub(self.settings)
        self.publisher = FramePublisher(self.hub, lambda s: self.case_env(s, self.clock.now()))
        self.bus.prepare_with(self.publisher.prepare)
        self.alarm_publisher = AlarmFramePublisher(self.hub, self.settings.district_code)
        self.bus.prepare_with(self.alarm_publisher.prepare)
        self.detection_publisher = DetectionFramePublisher(self.hub, self.settings.district_code)
        self.bus.prepare_with(self.detection_publisher.prepare)
        self.sms = make_sms(self.settings)

    def start_delivery(
        self, loop: asyncio.AbstractEventLoop | None = None, *, always: bool = False
    ) -> None:
        """Start pushing case changes (the hub's transport); with `loop`, also deliver to
        clients connected to this process; with `always`, publish even before hearing that
        any process has clients (a short-lived worker)."""
        self.hub.always = always
        if loop is not None:
            self.hub.attach(loop)
        self.hub.start()

    def stop_delivery(self) -> None:
        self.hub.stop()

    def scheduled_work(self) -> list[PeriodicThread]:
        """Every periodic job, each in a thread of its own (not started): the overdue sweep,
        the silence sweep, sensor storage upkeep, the pruning of the detection log, the
        joint inspections' reminders and the supervision rules. One API process runs them
        (the scheduler), or `cityops sweep --loop` beside several."""
        from cityops.cases.jobs import sweep_thread
        from cityops.enforcement.inspections.jobs import upkeep_thread
        from cityops.enforcement.supervision.jobs import supervision_thread
        from cityops.sensing.jobs import maintenance_thread, silence_thread
        from cityops.video.jobs import pruning_thread

        settings = self.settings
        return [
            sweep_thread(self, settings.sla_sweep_seconds),
            silence_thread(self, settings.silence_sweep_seconds),
            maintenance_thread(self, settings.sensor_maintenance_seconds),
            pruning_thread(self, settings.video_maintenance_seconds),
            upkeep_thread(self),
            supervision_thread(self, settings.enforcement_supervision_seconds),
        ]

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        factory = self.read_sessions if read_only else self.sessions
        return UnitOfWork(factory(), self.bus)

    def in_transaction(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        """`work` in a transaction of its own, committed (its events published after); run
        again when it lost a race to another writer (`db.is_retryable`)."""
        for attempt in range(attempts):
            uow = self.unit_of_work()
            try:
                result = work(uow.session)
                uow.commit()
                return result
            except Exception as exc:
                uow.rollback()
                if attempt == attempts - 1 or not is_retryable(exc):
                    raise
            finally:
                uow.close()
        raise AssertionError("unreachable")

    def intake_env(self, session: Session, now: datetime) -> IntakeEnv:
        """The reference data intake reads, from this process's caches."""
        return IntakeEnv(
            snapshot=self.catalog.get(session),
            grids=self.grids.get(session),
            calendar=self.calendar.get(session),
            district_code=self.settings.district_code,
            now=now,
        )

    def case_env(self, session: Session, now: datetime) -> CaseEnv:
        """The reference data case services read, from this process's caches."""
        return CaseEnv(
            snapshot=self.catalog.get(session), calendar=self.calendar.get(session), now=now
        )

    def sensing_env(self, session: Session, now: datetime) -> SensingEnv:
        """What the sensing services read: the device registry and, when an alarm opens a
        case, what intake and the case services read."""
        from cityops.sensing.readings import SensingEnv

        days = self.settings.reading_retention_days
        return SensingEnv(
            registry=self.sensors.get(session),
            now=now,
            tz=ZoneInfo(self.settings.timezone),
            intake_env=lambda: self.intake_env(session, now),
            case_env=lambda: self.case_env(session, now),
            reading_retention=timedelta(days=days) if days else None,
        )

    def video_env(self, session: Session, now: datetime) -> VideoEnv:
        """What the video services read: blob storage for snapshots and, when a detection
        opens or joins a case, what intake and the case services read."""
        from cityops.video.service import VideoEnv

        return VideoEnv(
            now=now,
            tz=ZoneInfo(self.settings.timezone),
            storage=self.storage,
            intake_env=lambda: self.intake_env(session, now),
            case_env=lambda: self.case_env(session, now),
        )

    def invalidate_reference(self) -> None:
        """Forget the cached grids, catalog, calendar and device registry (after an import
        or an edit)."""
        for cache in (self.grids, self.catalog, self.calendar, self.sensors, self.classifier):
            cache.invalidate()


def build_context(
    settings: Settings,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    storage: BlobStorage | None = None,
) -> Context:
    """Wire the process: real adapters from settings unless a test passes its own."""
    if sessions is None:
        engine = make_engine(
            settings.database_url,
            synchronous=settings.sqlite_synchronous,
            pool_size=settings.db_pool_size,
        )
        sessions = make_sessionmaker(engine)
        read_sessions = make_sessionmaker(read_only(engine))
    else:
        bind = sessions.kw["bind"]
        engine = bind if isinstance(bind, Engine) else bind.engine
        read_sessions = sessions
    return Context(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=MessageBus(),
        storage=storage or make_storage(settings),
        clock=clock or SystemClock(),
        read_sessions=read_sessions,
    )
