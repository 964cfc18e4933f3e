"""The demo district's law enforcement (执法): the shipped registries and business directory
(certificates dated to the demo's end), the enforcement staff tied to registry officers, and
the last weeks of their work done through the real services in the order it happened:

- the joint inspection (综合查一次) of 渝中区极速网咖, its combined notice still running;
- a published random plan (双随机) over the street's restaurants, partly done;
- penalty cases at every stage and a decision made on the spot;
- two complaints about enforcement conduct, one answered;
- one pass of the supervision rules, so that the supervisors find flags.

Everything flushes; `build_demo` commits."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.demo.district import ENFORCEMENT_STAFF
from cityops.demo.enforcement.inspections import joint_inspection, random_plan
from cityops.demo.enforcement.penalties import penalty_cases
from cityops.demo.enforcement.world import STREET, Work, World
from cityops.enforcement.businesses import service as businesses
from cityops.enforcement.public import complaints
from cityops.enforcement.public.schemas import ComplaintIn
from cityops.enforcement.registries import io
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.models import Agency, Officer
from cityops.enforcement.supervision.service import make_env, run_evaluation
from cityops.org.models import Person

__all__ = ["LINKS", "add_enforcement"]

Progress = Callable[[int, int, str], None]
LABEL = "执法"

# The district's justice bureau: it supervises enforcement (行政执法监督), and its legal
# office reviews the major decisions of the district's agencies (法制审核).
JUSTICE = {
    "code": "YZ-SFJ", "name": "重庆市渝中区司法局", "kind": "other", "regions": "500103",
    "items": "", "department_code": "", "address": "", "phone": "", "active": "是",
    "note": "Demo agency: the district's enforcement supervision and legal review.",
}  # fmt: skip
# The officer row each enforcement login acts through (Officer.person_id).
LINKS = {
    "officer": "500103-JFB-0001",  # 孙浩, street team of 解放碑
    "fireofficer": "500103-XF-0001",  # 张伟, fire rescue
    "marketofficer": "500103-SJ-0001",  # 刘洋, market regulation
    "wenhua": "500103-WH-0001",  # 赵磊, culture market
    "lead": "500103-JFB-0003",  # new: the street team's lead
    "reviewer": "500103-SF-0001",  # new: the justice bureau's legal office
    "enfsupervisor": "500103-SF-0002",  # new: the justice bureau's supervision
}
NEW_OFFICERS = {  # certificate → agency, regions (none: the agency's)
    "500103-JFB-0003": ("YZ-JFB-ZF", STREET),
    "500103-SF-0001": ("YZ-SFJ", ""),
    "500103-SF-0002": ("YZ-SFJ", ""),
}


def add_enforcement(
    context: Context,
    session: Session,
    rng: random.Random,
    *,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Load the registries and the business directory, tie the enforcement staff to their
    officers, do the weeks of work ending at `now`, and evaluate the supervision rules at
    `now` once. The random plan's seed is drawn from `rng`."""
    zone = ZoneInfo(context.settings.timezone)
    today = now.astimezone(zone).date()
    registries.load_seed(session, today=today)
    businesses.load_seed(session)
    link_staff(session, today)
    world = World(
        context, session, context.calendar.get(session), zone, now,
        people=dict(session.execute(select(Person.code, Person.id).where(
            Person.code.in_(list(ENFORCEMENT_STAFF)))).all()),
        officers=dict(session.execute(select(Officer.certificate_number, Officer.id)).all()),
        agencies=dict(session.execute(select(Agency.code, Agency.id)).all()),
    )  # fmt: skip
    joint_inspection(world)
    random_plan(world, seed=rng.randrange(10**8))
    penalty_cases(world)
    conduct_complaints(world)
    work = world.in_order()
    total = len(work) + 2
    if progress:
        progress(1, total, LABEL)
    for done, (moment, job) in enumerate(work, start=2):
        job(moment)
        if progress and done % 10 == 0:
            progress(done, total, LABEL)
    run_evaluation(session, make_env(session, world.calendar, now))
    if progress:
        progress(total, total, LABEL)


def link_staff(session: Session, today: date) -> None:
    """Tie each enforcement login to its officer row through the registry import (the
    login in `person_code`): the sample's officers as the seed loaded them, and new rows
    for the street team's lead and the justice bureau's two, certified since last year."""
    shipped = io.read_tables(registries.SEED_DIR)["officers"]
    shipped = io.shift_dates(shipped, ("valid_from", "valid_until"),
                             today - registries.SEED_REFERENCE_DAY)  # fmt: skip
    rows = {row["certificate_number"]: row for _, row in shipped.rows}
    names = dict(session.execute(select(Person.code, Person.name).where(
        Person.code.in_(list(LINKS)))).all())  # fmt: skip
    since = today - timedelta(days=400)
    for n, (login, certificate) in enumerate(LINKS.items()):
        if certificate in NEW_OFFICERS:
            agency, regions = NEW_OFFICERS[certificate]
            rows[certificate] = {
                "certificate_number": certificate, "name": names[login], "agency_code": agency,
                "valid_from": since.isoformat(),
                "valid_until": (since + timedelta(days=5 * 365)).isoformat(),
                "regions": regions, "phone": f"138000007{n:02d}", "active": "是",
                "note": "Demo officer.",
            }  # fmt: skip
        rows[certificate] = rows[certificate] | {"person_code": login}
    linked = [rows[c] for c in LINKS.values()]
    io.import_tables(session, {
        "agencies": io.Table("agencies", list(JUSTICE), [(2, JUSTICE)]),
        "officers": io.Table("officers", shipped.header,
                             [(n, row) for n, row in enumerate(linked, start=2)]),
    })  # fmt: skip


# -- complaints about enforcement conduct -------------------------------------------------------

CHECKED = ("经调阅执法记录仪视频核实，执法人员进店时已出示执法证件并说明来意，"
           "要求清理疏散通道系依法开展消防安全检查。已提醒执法人员在就餐高峰期"
           "合理安排检查方式。感谢您的监督。")  # fmt: skip


def conduct_complaints(w: World) -> None:
    """A restaurant owner's complaint about the random plan's visit, taken up and answered
    by the enforcement supervisor; another about the café's joint inspection, just in."""
    s, ids = w.session, w.ids
    sent = [
        (15, 20.0, ComplaintIn(
            what="执法人员到店检查时未主动出示执法证件，在就餐高峰期要求服务员清理后厨通道，"
                 "态度生硬。",
            agency_id=w.agencies["YZ-JFB-ZF"], officer_name="马超",
            certificate_number="500103-JFB-0002", happened_at=w.at(16, 10.5),
            place="重庆市渝中区解放碑街道一餐饮店", name="何先生")),
        (2, 21.0, ComplaintIn(
            what="联合检查时有执法人员对吧台和收银台拍照，未告知拍照用途，也没有留下书面材料。",
            agency_id=w.agencies["YZ-SCJG"], happened_at=w.at(3, 10.5),
            place="重庆市渝中区民权路56号3楼")),
    ]  # fmt: skip

    def submit(n: int, complaint: ComplaintIn) -> Work:
        def run(now: datetime) -> None:
            ids[f"complaint-{n}"] = complaints.submit(
                s, w.storage, complaint, [], phone_verified=False, client="", request_key=None,
                max_photo_bytes=w.max_photo_bytes, now=now,
            ).complaint.id  # fmt: skip

        return run

    for n, (days, hour, complaint) in enumerate(sent):
        w.then(days, hour, submit(n, complaint))
    supervisor = Principal(actor=w.actor("enfsupervisor"))
    w.then(14, 9, lambda now: complaints.take(s, supervisor, ids["complaint-0"], now=now))
    w.then(12, 16, lambda now: complaints.answer(s, supervisor, ids["complaint-0"], CHECKED,
                                                 now=now))  # fmt: skip
