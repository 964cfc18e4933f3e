"""`build_demo`: the demo district and a month of its cases, deterministic for a seed."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.auth.service import actor_of
from cityops.bootstrap import Context
from cityops.cases.models import Case, CaseStep
from cityops.cases.service import sweep_overdue
from cityops.citizens.intake import new_ticket
from cityops.citizens.models import CitizenRequest, CitizenService
from cityops.demo.district import DEMO_PASSWORD, WELL_KNOWN, build_district
from cityops.demo.enforcement import add_enforcement
from cityops.demo.history import Simulation
from cityops.demo.plans import add_plans
from cityops.enforcement.inspections.models import Inspection
from cityops.enforcement.penalties.models import PenaltyCase
from cityops.enforcement.public.models import Complaint
from cityops.enforcement.supervision.models import Flag
from cityops.ingest.models import SourceEvent
from cityops.onemap.models import ConflictRun, Layer
from cityops.org.models import Person, Region

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DemoSummary:
    regions: dict[str, int]
    people: int
    cases: dict[str, int]
    steps: int
    logins: dict[str, str]
    password: str
    requests: int  # residents' requests behind the hotline's and the app's cases
    ticket: str | None  # one of them, to follow on the residents' page
    layers: int  # of the one map
    conflicts: int  # patches found by the latest comparison of them
    inspections: int  # enforcement visits (the café's joint inspection among them)
    penalty_cases: dict[str, int]  # by stage
    flags: int  # raised by the supervision rules' pass
    complaints: int  # about enforcement conduct


def has_district(context: Context) -> bool:
    with context.sessions() as session:
        return session.scalar(select(func.count()).select_from(Region)) != 0


def build_demo(
    context: Context,
    *,
    until: date,
    seed: int = 7,
    days: int = 30,
    cases_per_day: int = 60,
    progress: Progress | None = None,
) -> DemoSummary:
    """Build the district and `days` days of history ending at 16:00 on `until`."""
    zone = ZoneInfo(context.settings.timezone)
    end = datetime.combine(until, time(16, 0), zone)
    start = datetime.combine(until - timedelta(days=days), time(0), zone)
    rng = random.Random(seed)
    uow = context.unit_of_work()
    try:
        staff = build_district(uow.session, start=start - timedelta(days=1))
        uow.commit()
        context.invalidate_reference()
        grids: dict[str, BaseGeometry] = {}
        for code, wkb in uow.session.execute(
            select(Region.code, Region.geometry).where(Region.level == "grid")
        ).all():
            geometry = shapely.from_wkb(wkb)
            assert geometry is not None
            grids[code] = geometry
        sim = Simulation(context, staff, grids, rng)
        session = uow.session
        for day in range(days + 1):
            day_start = start + timedelta(days=day)
            weekend = day_start.weekday() >= 5
            count = max(1, int(rng.gauss(cases_per_day * (0.6 if weekend else 1), 8)))
            moments = sorted(day_start + timedelta(hours=rng.uniform(7, 21)) for _ in range(count))
            next_sweep = day_start + timedelta(hours=1)
            for moment in moments:
                if moment > end:
                    break
                while next_sweep <= moment:
                    sim.run_until(session, next_sweep)
                    sweep_overdue(session, context.case_env(session, next_sweep))
                    next_sweep += timedelta(hours=1)
                sim.run_until(session, moment)
                sim.report(session, moment)
            sim.run_until(session, min(day_start + timedelta(days=1), end))
            uow.commit()
            if progress:
                progress(day + 1, days + 1, "cases")
        sweep_overdue(session, context.case_env(session, end))
        add_residents(session, rng)
        uow.commit()
        planner = actor_of(session.get_one(Person, staff.planner))
        add_plans(context, session, rng, now=end, planner=planner, progress=progress)
        uow.commit()
        add_enforcement(context, session, rng, now=end, progress=progress)
        uow.commit()
        return summary(context)
    finally:
        uow.close()


SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
RATINGS = ("satisfied", "satisfied", "satisfied", "basically_satisfied", None, None)


def add_residents(session: Session, rng: random.Random) -> int:
    """The residents behind the hotline's and the app's cases: their requests with a
    ticket and a (made-up) phone, some rated at the end, the others waiting for the
    call-taker's call-back."""
    services: dict[str, str] = {}
    for s in session.scalars(select(CitizenService).where(CitizenService.active.is_(True))):
        services.setdefault(s.class_code, s.code)
    rows = session.execute(
        select(Case, SourceEvent.id)
        .join(SourceEvent, SourceEvent.case_id == Case.id)
        .where(Case.source_kind.in_(["citizen", "hotline"]))
        .order_by(Case.id)
    ).all()
    for case, event_id in rows:
        closed = case.state in ("closed", "evaluated")
        rating = rng.choice(RATINGS) if closed else None
        session.add(CitizenRequest(
            token=new_ticket(rng), channel="web" if case.source_kind == "citizen" else "hotline",
            service_code=services.get(case.class_code or ""), event_id=event_id,
            case_id=case.id, description=case.description, lon=case.lon, lat=case.lat,
            address_string=case.address, attributes={},
            first_name=rng.choice(SURNAMES) + rng.choice(("先生", "女士")),
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            phone_verified=case.source_kind == "citizen", requested_at=case.created_at,
            routing="chosen", rating=rating, rating_comment="" if rating else None,
            rated_at=case.closed_at if rating else None,
        ))  # fmt: skip
    session.flush()
    return len(rows)


def summary(context: Context) -> DemoSummary:
    with context.sessions() as session:
        regions = Counter(dict(session.execute(
            select(Region.level, func.count()).group_by(Region.level)).all()))  # fmt: skip
        cases = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
        return DemoSummary(
            regions={k: int(v) for k, v in regions.items()},
            people=int(session.scalar(select(func.count()).select_from(Person)) or 0),
            cases={k: int(v) for k, v in sorted(cases.items())},
            steps=int(session.scalar(select(func.count()).select_from(CaseStep)) or 0),
            logins=dict(WELL_KNOWN),
            password=DEMO_PASSWORD,
            requests=int(session.scalar(select(func.count()).select_from(CitizenRequest)) or 0),
            ticket=session.scalar(select(CitizenRequest.token).where(
                CitizenRequest.rating.is_(None)).order_by(CitizenRequest.id.desc()).limit(1)),
            layers=int(session.scalar(select(func.count()).select_from(Layer)) or 0),
            conflicts=int(session.scalar(select(ConflictRun.patch_count).order_by(
                ConflictRun.id.desc()).limit(1)) or 0),
            inspections=int(session.scalar(select(func.count()).select_from(Inspection)) or 0),
            penalty_cases={k: int(v) for k, v in sorted(session.execute(select(
                PenaltyCase.stage, func.count()).group_by(PenaltyCase.stage)).all())},
            flags=int(session.scalar(select(func.count()).select_from(Flag)) or 0),
            complaints=int(session.scalar(select(func.count()).select_from(Complaint)) or 0),
        )  # fmt: skip
