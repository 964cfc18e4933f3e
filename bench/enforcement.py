"""Enforcement supervision benchmark: every supervision rule over a city's year of enforcement,
and the draw of a city-wide 双随机 plan.

    .venv/bin/python bench/enforcement.py                      # SQLite in a temporary file
    .venv/bin/python bench/enforcement.py --db postgresql      # a fresh PostgreSQL database
    .venv/bin/python bench/enforcement.py --database URL       # an empty database of yours
    .venv/bin/python bench/enforcement.py --inspections 20000 --cases 2000   # smaller

Generates, in bulk, a city of 1,031 towns and streets in 38 districts: agencies (five per
district, one team per street, one city-wide), 8,000 officers (some certificates expired,
some limited to a few streets), 100,000 businesses, a year of 200,000 inspections with
their officers, agencies and findings, and 20,000 penalty cases with their steps; a
fraction of each (`--irregular`) made to break a rule. Then, in a process of its own (so
that its peak memory is the evaluation's), it evaluates all rules twice — the first pass
raises every flag, the second finds them again and changes nothing — and prints each
rule's time and flags, the total (the target is under 10 s), the peak RSS, and the time
of a city-wide draw (`inspections.plans.run_draw`: 100,000 candidates) over `--repeats`
seeds, p50 and p99.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from cityops.config import Settings  # noqa: E402
from cityops.db import Base, import_all_models, make_engine, read_only  # noqa: E402
from cityops.enforcement.businesses.models import Business, BusinessType  # noqa: E402
from cityops.enforcement.inspections.models import (  # noqa: E402
    Finding,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
)
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep  # noqa: E402
from cityops.enforcement.registries.models import (  # noqa: E402
    Agency,
    AgencyRegion,
    Benchmark,
    Item,
    Officer,
    OfficerRegion,
)
from cityops.kit.bulk import insert_rows  # noqa: E402
from cityops.org.models import Person, Region  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "CITYOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)
DISTRICTS = 38
KINDS = [
    "fire_rescue",
    "market_regulation",
    "culture_market",
    "urban_management",
    "public_security",
]
TYPES = ["cafe", "restaurant", "ktv", "hotel", "shop"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def row_filler(model: type[Any]) -> Callable[..., dict[str, Any]]:
    """A function making a full row of `model` (every column: given, default or None)."""
    defaults: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        if column.primary_key and column.autoincrement is not False and column.name == "id":
            continue  # given, or left to the table's sequence
        if default is None:
            defaults[column.name] = None
        elif default.is_scalar:
            defaults[column.name] = default.arg
        else:  # list/dict factories of JSON columns
            defaults[column.name] = default.arg(None)

    def make(**values: Any) -> dict[str, Any]:
        # Shared default lists are safe: the bulk insert replaces JSON values, never edits.
        return {**defaults, **values}

    return make


@functools.cache
def local(day: date, hour: int) -> datetime:
    """The UTC instant of a local hour of a day (China: UTC+8 all year)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


class City:
    """The generated city, built as rows in memory and written table by table."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.today = datetime.now(UTC).astimezone(SHANGHAI).date()
        self.counts: dict[str, int] = {}

    def odd(self) -> bool:
        """Whether this row is made irregular."""
        return self.rng.random() < self.args.irregular

    def write(self, session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 50_000):
            insert_rows(session, [(model, rows[start : start + 50_000])])
        self.counts[model.__tablename__] = self.counts.get(model.__tablename__, 0) + len(rows)

    def build(self, session: Session) -> None:
        a = self.args
        regions, self.streets, self.district_of = [], [], {}
        make = row_filler(Region)
        for d in range(DISTRICTS):
            code = f"5001{d + 1:02d}"
            regions.append(make(code=code, level="district", name=f"区县{d + 1}"))
        per, extra = divmod(a.streets, DISTRICTS)
        for d in range(DISTRICTS):
            for s in range(per + (1 if d < extra else 0)):
                code = f"5001{d + 1:02d}{s + 1:03d}"
                regions.append(
                    make(
                        code=code,
                        level="street",
                        name=f"街镇{code}",
                        parent_code=f"5001{d + 1:02d}",
                    )
                )
                self.streets.append(code)
                self.district_of[code] = code[:6]
        self.write(session, Region, regions)
        session.add(Person(id=1, code="bench", name="bench", roles=["admin"], active=True))
        session.flush()
        self._agencies(session)
        self._officers(session)
        self._items(session)
        self._businesses(session)
        self._inspections(session)
        self._cases(session)

    def _agencies(self, session: Session) -> None:
        make, region = row_filler(Agency), row_filler(AgencyRegion)
        agencies, links = [], []
        self.district_agencies: dict[str, list[int]] = {}
        self.street_team: dict[str, int] = {}
        next_id = 1
        for d in range(DISTRICTS):
            code = f"5001{d + 1:02d}"
            for kind in KINDS:
                agencies.append(
                    make(id=next_id, code=f"A{next_id}", name=f"{code}{kind}", kind=kind)
                )
                links.append(region(agency_id=next_id, region_code=code))
                self.district_agencies.setdefault(code, []).append(next_id)
                next_id += 1
        for street in self.streets:
            agencies.append(
                make(id=next_id, code=f"A{next_id}", name=f"{street}综合执法", kind="town_street")
            )
            links.append(region(agency_id=next_id, region_code=street))
            self.street_team[street] = next_id
            next_id += 1
        self.city_agency = next_id  # market regulation's city-wide corps: the draw's agency
        agencies.append(
            make(id=next_id, code="CITY", name="市市场监管执法总队", kind="market_regulation")
        )
        links += [
            region(agency_id=next_id, region_code=f"5001{d + 1:02d}") for d in range(DISTRICTS)
        ]
        self.write(session, Agency, agencies)
        self.write(session, AgencyRegion, links)
        self.agency_region = {link["agency_id"]: link["region_code"] for link in links}

    def _officers(self, session: Session) -> None:
        make, region = row_filler(Officer), row_filler(OfficerRegion)
        a, rng = self.args, self.rng
        # Four officers a street team, twelve a district agency, the rest city-wide.
        agencies = [x for x in self.street_team.values() for _ in range(4)]
        agencies += [x for ids in self.district_agencies.values() for x in ids for _ in range(12)]
        agencies = agencies[: a.officers]
        agencies += [self.city_agency] * (a.officers - len(agencies))
        rows, links = [], []
        self.officers_of: dict[int, list[int]] = {}
        self.expired: dict[int, list[int]] = {}
        self.narrow: dict[int, tuple[int, str]] = {}  # officer → (agency, their one street)
        for i, agency in enumerate(agencies, start=1):
            expired = rng.random() < 0.05
            start = self.today - timedelta(days=rng.randint(400, 1500))
            end = (
                self.today - timedelta(days=rng.randint(30, 300))
                if expired
                else self.today + timedelta(days=rng.randint(100, 1500))
            )
            rows.append(
                make(
                    id=i,
                    certificate_number=f"C{i:06d}",
                    name=f"执法员{i}",
                    agency_id=agency,
                    valid_from=start,
                    valid_until=end,
                )
            )
            (self.expired if expired else self.officers_of).setdefault(agency, []).append(i)
            home = self.agency_region[agency]
            if len(home) == 6 and agency != self.city_agency and rng.random() < 0.1:
                street = rng.choice([s for s in self.streets if s.startswith(home)])
                links.append(region(officer_id=i, region_code=street))
                self.narrow[i] = (agency, street)
        self.write(session, Officer, rows)
        self.write(session, OfficerRegion, links)
        # Narrow officers act only in their street: keep them off the regular teams.
        for officer, (agency, _) in self.narrow.items():
            if officer in self.officers_of.get(agency, []):
                self.officers_of[agency].remove(officer)

    def _items(self, session: Session) -> None:
        make, bench = row_filler(Item), row_filler(Benchmark)
        items, rows = [], []
        self.items: list[int] = []
        self.exempt_items: list[int] = []
        bench_id = 1
        self.ordinary: dict[int, tuple[int, int, int]] = {}
        for i in range(1, 61):
            exempt = i % 10 == 0
            items.append(
                make(
                    id=i,
                    code=f"ITEM-{i:03d}",
                    name=f"事项{i}",
                    kind="penalty",
                    agency_kinds=[KINDS[i % len(KINDS)]],
                    first_violation_exempt=exempt,
                )
            )
            (self.exempt_items if exempt else self.items).append(i)
            low = 1000 * (1 + i % 7)
            for pos, (grade, lo, hi) in enumerate(
                [
                    ("lighter", low, low * 3),
                    ("ordinary", low * 3, low * 7),
                    ("heavier", low * 7, low * 10),
                ],
                start=1,
            ):
                rows.append(
                    bench(
                        id=bench_id,
                        item_id=i,
                        position=pos,
                        grade=grade,
                        fine_min=lo,
                        fine_max=hi,
                        circumstance=grade,
                    )
                )
                if grade == "ordinary":
                    self.ordinary[i] = (bench_id, lo, hi)
                bench_id += 1
        self.write(session, Item, items)
        self.write(session, Benchmark, rows)

    def _businesses(self, session: Session) -> None:
        make_type, make = row_filler(BusinessType), row_filler(Business)
        self.write(session, BusinessType, [make_type(code=t, name=t, item_codes=[]) for t in TYPES])
        rows = []
        self.business_street: list[str] = [""]
        for i in range(1, self.args.businesses + 1):
            street = self.rng.choice(self.streets)
            rows.append(
                make(
                    id=i,
                    credit_code=f"915001{i:012d}",
                    name=f"商户{i}",
                    type_code=TYPES[i % len(TYPES)],
                    region_code=street,
                )
            )
            self.business_street.append(street)
        self.write(session, Business, rows)

    def _team(self, agency: int, size: int) -> list[int]:
        pool = self.officers_of.get(agency) or []
        return self.rng.sample(pool, min(size, len(pool)))

    def _inspections(self, session: Session) -> None:
        a, rng = self.args, self.rng
        plans, visits, joined, on_site, findings = [], [], [], [], []
        make_plan, make_visit = row_filler(InspectionPlan), row_filler(Inspection)
        make_agency, make_officer = row_filler(InspectionAgency), row_filler(InspectionOfficer)
        make_finding = row_filler(Finding)
        plan_of: dict[int, int] = {}
        for agency in range(1, self.city_agency + 1):
            plan_of[agency] = agency
            plans.append(
                make_plan(
                    id=agency,
                    title="年度抽查计划",
                    kind="random",
                    initiator_agency_id=agency,
                    region_code=self.agency_region[agency],
                    state="in_progress",
                    planned_from=self.today - timedelta(days=365),
                    planned_until=self.today,
                    created_by=1,
                    created_at=local(self.today - timedelta(days=370), 9),
                )
            )
        hot = rng.sample(range(1, a.businesses + 1), max(1, int(a.inspections * a.irregular / 3)))
        finding_id = 1
        for i in range(1, a.inspections + 1):
            repeat = i <= len(hot) * 3
            business = hot[(i - 1) // 3] if repeat else rng.randint(1, a.businesses)
            street = self.business_street[business]
            lead = rng.choice(
                [self.street_team[street], *self.district_agencies[self.district_of[street]]]
            )
            if repeat:  # three visits of one business within a fortnight by any agencies
                day = self.today - timedelta(days=20 + (business % 300) + (i % 3) * 5)
            else:
                day = self.today - timedelta(days=rng.randint(1, 365))
            unplanned = self.odd()
            rectify = rng.random() < 0.1
            deadline = day + timedelta(days=15) if rectify else None
            overdue = (
                rectify
                and self.odd()
                and deadline is not None
                and deadline < self.today - timedelta(days=10)
            )
            state = "notice_served" if overdue else "closed"
            reinspected = (
                local(deadline + timedelta(days=2), 10) if rectify and not overdue else None
            )  # type: ignore[operator]
            visits.append(
                make_visit(
                    id=i,
                    plan_id=None if unplanned else plan_of[lead],
                    source=rng.choice(["other", "complaint"]) if unplanned else "plan",
                    business_id=business,
                    lead_agency_id=lead,
                    region_code=street,
                    scheduled_at=local(day, 9),
                    started_at=local(day, 10),
                    finished_at=local(day, 11),
                    state=state,
                    outcome="rectification" if rectify else "compliant",
                    rectification_deadline=deadline,
                    reinspected_at=reinspected,
                    closed_at=reinspected or (None if overdue else local(day, 12)),
                )
            )
            joined.append(
                make_agency(
                    inspection_id=i,
                    agency_id=lead,
                    role="initiator",
                    state="accepted",
                    invited_at=local(day, 8),
                )
            )
            team = self._team(lead, 1 if self.odd() else 2)
            if self.odd() and self.expired.get(lead):
                team[-1:] = [rng.choice(self.expired[lead])]
            if self.odd():
                narrow = [o for o, (ag, s) in self.narrow.items() if ag == lead and s != street]
                if narrow:
                    team[-1:] = [rng.choice(narrow)]
            for officer in dict.fromkeys(team):
                on_site.append(make_officer(inspection_id=i, officer_id=officer, agency_id=lead))
            if rng.random() < 0.05:  # a joint visit: another agency of the district joins
                other = rng.choice(
                    [x for x in self.district_agencies[self.district_of[street]] if x != lead]
                )
                joined.append(
                    make_agency(
                        inspection_id=i,
                        agency_id=other,
                        role="invited",
                        state="accepted",
                        invited_at=local(day, 8),
                    )
                )
                for officer in self._team(other, 2):
                    on_site.append(
                        make_officer(inspection_id=i, officer_id=officer, agency_id=other)
                    )
            for _ in range(rng.choice((1, 1, 2))):
                findings.append(
                    make_finding(
                        id=finding_id,
                        inspection_id=i,
                        agency_id=lead,
                        item_id=rng.choice(self.items),
                        officer_id=team[0] if team else 1,
                        outcome="fail" if rectify else "pass",
                        deadline=deadline,
                        recorded_at=local(day, 10),
                    )
                )
                finding_id += 1
        self.write(session, InspectionPlan, plans)
        self.write(session, Inspection, visits)
        self.write(session, InspectionAgency, joined)
        self.write(session, InspectionOfficer, [o for o in on_site if o["officer_id"]])
        self.write(session, Finding, findings)

    def _cases(self, session: Session) -> None:
        a, rng = self.args, self.rng
        make_case, make_step = row_filler(PenaltyCase), row_filler(PenaltyStep)
        cases, steps = [], []
        step_id = 1
        for i in range(1, a.cases + 1):
            business = rng.randint(1, a.businesses)
            street = self.business_street[business]
            agency = rng.choice(self.district_agencies[self.district_of[street]])
            exempt_item = self.odd()
            item = rng.choice(self.exempt_items if exempt_item else self.items)
            bench_id, lo, hi = self.ordinary.get(item, (None, 1000, 5000))
            filed = self.today - timedelta(days=rng.randint(20, 365))
            undecided = self.odd() or filed > self.today - timedelta(days=40)
            decided = None if undecided else filed + timedelta(days=rng.randint(20, 80))
            fine = rng.randint(lo, hi) if not self.odd() else hi * 2
            served = None if decided is None else decided + timedelta(days=1)
            closed = (
                None
                if served is None or served > self.today - timedelta(days=30)
                else served + timedelta(days=25)
            )
            if closed and self.odd():
                served = None  # closed without service
            published = None if decided is None or self.odd() else decided + timedelta(days=2)
            review = fine >= 50_000 or self.odd()
            team = self._team(agency, 2)
            cases.append(
                make_case(
                    id=i,
                    number=f"案{i:06d}",
                    agency_id=agency,
                    item_id=item,
                    business_id=business,
                    party_kind="organisation",
                    party_name=f"商户{business}",
                    procedure="general",
                    stage="closed" if closed else ("decided" if decided else "investigating"),
                    source="inspection",
                    title="案件",
                    region_code=street,
                    officer_ids=team,
                    violation_on=filed - timedelta(days=5),
                    discovered_on=filed - timedelta(days=3),
                    filed_on=filed,
                    decision_due=filed + timedelta(days=90),
                    grade="ordinary" if decided else None,
                    benchmark_id=bench_id if decided else None,
                    fine=fine if decided else None,
                    decision_kind="penalty" if decided else None,
                    exempt="first_violation" if exempt_item and decided else None,
                    legal_review_required=review and decided is not None,
                    decided_on=decided,
                    served_on=served,
                    published_on=published,
                    closed_on=closed,
                    stage_started_on=filed,
                    created_at=local(filed, 9),
                    updated_at=local(filed, 9),
                )
            )
            acts = [
                ("filed", filed, team),
                ("evidence_collected", filed + timedelta(days=3), team),
                ("inquiry_recorded", filed + timedelta(days=5), team[:1] if self.odd() else team),
            ]
            if self.odd() and self.expired.get(agency):
                acts.append(
                    (
                        "site_inspected",
                        filed + timedelta(days=6),
                        [team[0], self.expired[agency][0]],
                    )
                )
            if decided is not None:
                if review and not self.odd():
                    acts.append(("legal_review_passed", decided - timedelta(days=2), []))
                acts.append(("decided", decided, []))
            if served is not None:
                acts.append(("served", served, []))
            if closed is not None:
                acts.append(("closed", closed, []))
            for seq, (kind, day, officers) in enumerate(acts, start=1):
                steps.append(
                    make_step(
                        id=step_id,
                        case_id=i,
                        seq=seq,
                        kind=kind,
                        to_stage="x",
                        at=local(day, 10),
                        officer_ids=list(officers),
                    )
                )
                step_id += 1
        self.write(session, PenaltyCase, cases)
        self.write(session, PenaltyStep, steps)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The URL of the database to use, made (and dropped afterwards) unless given."""
    if args.database:
        yield args.database
        return
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cityops-bench-") as folder:
            yield f"sqlite:///{folder}/enforcement.db"
        return
    name = f"cityops_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def generate(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url, synchronous="OFF")
    if engine.dialect.name == "sqlite":
        # The rows are generated consistent: checking each reference on the way in would
        # double the load's time.
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=OFF"))
    import_all_models()
    Base.metadata.create_all(engine)
    city = City(args)
    started = time.perf_counter()
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            # The rows are consistent by construction; PostgreSQL checks each reference
            # with a trigger, which replica mode skips (a superuser's setting).
            try:
                with session.begin_nested():
                    session.execute(text("SET LOCAL session_replication_role = replica"))
            except DBAPIError:
                pass  # not a superuser: the references are checked, the load is slower
        city.build(session)
        session.commit()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                if "id" in table.columns and table.columns["id"].autoincrement is not False:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
    if engine.dialect.name == "postgresql":
        # As autovacuum would by the next day: statistics and the visibility map (without
        # it, index-only scans read every row's page).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    took = time.perf_counter() - started
    print(f"generated in {took:.1f} s (bulk inserts, statistics):")
    for table, count in city.counts.items():
        print(f"  {table:40} {count:>9,}")


def measure(url: str, repeats: int) -> dict[str, Any]:
    """The evaluation (twice) and the draws, in this process; its peak memory is theirs."""
    from cityops.enforcement.inspections.plans import run_draw
    from cityops.enforcement.supervision.service import make_env, run_evaluation
    from cityops.worktime.service import WorkCalendar

    engine = make_engine(url)
    calendar = WorkCalendar.from_settings(Settings(database_url=url))
    out: dict[str, Any] = {"passes": []}
    # As the scheduled job runs it: the checks in a read-only session, the flags written after.
    with Session(engine) as session, Session(read_only(engine)) as reader:
        for _ in range(2):
            env = make_env(reader, calendar, datetime.now(UTC))
            server = backend_cpu(reader), backend_cpu(session)
            started = time.perf_counter()
            result = run_evaluation(session, env, reader=reader)
            session.commit()
            after = backend_cpu(reader), backend_cpu(session)
            out["passes"].append(
                {
                    "seconds": time.perf_counter() - started,
                    "cpu": sum(r.cpu_seconds for r in result.rules),
                    "server_cpu": sum(after) - sum(server)
                    if engine.dialect.name == "postgresql"
                    else None,
                    "rules": [
                        {
                            "code": r.code,
                            "seconds": r.seconds,
                            "cpu": r.cpu_seconds,
                            "hits": r.hits,
                            "raised": r.raised,
                            "updated": r.updated,
                            "cleared": r.cleared,
                        }
                        for r in result.rules
                    ],
                }
            )
        out["rss_after_evaluation"] = peak_rss_mib()
        agency = session.scalar(text("SELECT id FROM enforcement_agencies WHERE code = 'CITY'"))
        today = datetime.now(UTC).date()
        times, drawn = [], 0
        for seed in range(repeats):
            began = time.perf_counter()
            result_draw = run_draw(
                session,
                region_code="5001",
                type_codes=[],
                agency_id=agency,
                valid_from=today,
                valid_until=today + timedelta(days=30),
                count=1000,
                per_target=2,
                seed=seed,
            )
            times.append(time.perf_counter() - began)
            drawn = result_draw.candidates
            session.rollback()
        out["draw"] = {
            "times": times,
            "candidates": drawn,
            "roster": result_draw.roster,
            "targets": len(result_draw.targets),
        }
    out["peak_rss_mib"] = peak_rss_mib()
    engine.dispose()
    return out


def backend_cpu(session: Session) -> float:
    """CPU seconds of the PostgreSQL backend serving the session, read from /proc (the
    server runs on this machine; parallel workers not counted); 0 elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: getrusage's ru_maxrss would include the
    parent's, which generated the data, since it outlives the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(figures: dict[str, Any]) -> None:
    first, second = figures["passes"]
    steady = {r["code"]: r for r in second["rules"]}
    print(f"\n{'rule':26} {'flags':>7} {'1st pass (cpu)':>17} {'2nd pass (cpu)':>17}")
    for r in first["rules"]:
        again = steady[r["code"]]
        print(
            f"{r['code']:26} {r['hits']:>7,} {r['seconds']:>8.2f}s ({r['cpu']:.2f}s)"
            f" {again['seconds']:>8.2f}s ({again['cpu']:.2f}s)"
        )
    total = sum(r["hits"] for r in first["rules"])
    print(
        f"{'all rules':26} {total:>7,} {first['seconds']:>8.2f}s ({first['cpu']:.2f}s)"
        f" {second['seconds']:>8.2f}s ({second['cpu']:.2f}s)   target < 10 s"
    )
    print("cpu: the evaluating thread's (SQLite's work is in it, a PostgreSQL server's is not)")
    if first.get("server_cpu") is not None:
        print(
            f"PostgreSQL backends' CPU (parallel workers not counted): "
            f"{first['server_cpu']:.2f} s (1st pass), {second['server_cpu']:.2f} s (2nd)"
        )
    changed = sum(r["raised"] + r["updated"] + r["cleared"] for r in second["rules"])
    print(f"second pass: {changed} flags raised, updated or cleared (none expected)")
    print(
        f"peak RSS of the measuring process: {figures['peak_rss_mib']:.0f} MiB "
        f"({figures['rss_after_evaluation']:.0f} MiB after the evaluation)"
    )
    d, ms = figures["draw"], [t * 1000 for t in figures["draw"]["times"]]
    print(
        f"city-wide draw of 1,000 targets x 2 officers from {d['candidates']:,} businesses and "
        f"{d['roster']:,} officers ({d['targets']:,} drawn): p50 {percentile(ms, 0.5):.0f} ms, "
        f"p99 {percentile(ms, 0.99):.0f} ms over {len(ms)} seeds"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--database", help="an empty database to use (URL) instead of a fresh one")
    ap.add_argument("--streets", type=int, default=1031, help="towns and streets")
    ap.add_argument("--officers", type=int, default=8000)
    ap.add_argument("--businesses", type=int, default=100_000)
    ap.add_argument("--inspections", type=int, default=200_000, help="a year's")
    ap.add_argument("--cases", type=int, default=20_000, help="penalty cases")
    ap.add_argument("--irregular", type=float, default=0.02, help="share made to break a rule")
    ap.add_argument("--repeats", type=int, default=20, help="draws timed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--measure-only", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.measure_only, args.repeats)))
        return
    with database(args) as url:
        print(f"database: {url.split('@')[-1]}")
        generate(url, args)
        child = subprocess.run(
            [sys.executable, __file__, "--measure-only", url, "--repeats", str(args.repeats)],
            check=True,
            capture_output=True,
            text=True,
        )
        report(json.loads(child.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
