"""The demo's inspections: the joint inspection (综合查一次) of 渝中区极速网咖 and a random
plan (双随机) of the street team over the street's restaurants."""

from __future__ import annotations

from datetime import datetime, timedelta

from cityops.demo.enforcement.world import SERVED, STREET, TEAM, Work, World
from cityops.enforcement.inspections import joint, onsite, plans, rectification, repository
from cityops.enforcement.inspections.models import FindingOutcome, Inspection
from cityops.enforcement.inspections.schemas import (
    FindingIn,
    JointPlanCreate,
    PlanCreate,
    ResultIn,
)
from cityops.enforcement.inspections.service import points

CAFE = "91500103232332119Y"  # 渝中区极速网咖
# The café's failed points, by checklist code: what was found, what to do, and the deadline
# in days after the end of the demo (its notice is still running then).
CAFE_FAILS = {
    "XF-CF-002-01": ("吧台及二楼通道处3具灭火器压力表指针位于红区，压力不足",
                     "更换或者重新充装压力不足的灭火器，并建立每月检查记录", 2),
    "XF-CF-002-03": ("二楼东侧疏散通道2处疏散指示标志、1处应急照明灯不亮",
                     "维修或者更换损坏的疏散指示标志和应急照明灯，保持完好有效", 4),
    "SP-CF-001-01": ("吧台现场制售奶茶、果汁等现制饮品，食品经营许可证载明的经营"
                     "项目仅为预包装食品销售",
                     "立即停止现制饮品的制售，依法申请变更食品经营许可后方可经营", 4),
}  # fmt: skip
DECLINED = ("该网吧上网服务经营情况已纳入本月文化市场“双随机”抽查，本支队人员当日另有"
            "专项整治任务，本次不参加联合检查")  # fmt: skip
BLOCKED = ("后厨通往后门的疏散通道堆放食材纸箱和啤酒箱",
           "清除疏散通道内堆放的物品，保持疏散通道畅通")  # fmt: skip


def _finding(code: str, checklist_item_id: int, fails: dict[str, tuple[str, str, int]],
             w: World) -> FindingIn:  # fmt: skip
    """A pass, or a fail as `fails` says for the code (deadline: days after the end)."""
    found = fails.get(code)
    if found is None:
        return FindingIn(checklist_item_id=checklist_item_id, outcome=FindingOutcome.PASS)
    note, requirement, days = found
    return FindingIn(checklist_item_id=checklist_item_id, outcome=FindingOutcome.FAIL,
                     note=note, requirement=requirement, deadline=w.day(-days))  # fmt: skip


def _visit(w: World, inspection_id: int) -> Inspection:
    found = repository.inspection(w.session, inspection_id)
    assert found is not None
    return found


def joint_inspection(w: World) -> None:
    """The street team plans one visit to the café with the agencies its type calls for
    (public security left out); fire rescue and market regulation accept, the culture
    market team declines with its reason; each agency answers its own points; one combined
    notice is issued and served, due a few days after the end."""
    s, ids, actor = w.session, w.ids, w.actor
    cafe = w.business(CAFE)
    # Who records each agency's points on site.
    on_site = {"YZ-JFB-ZF": "officer", "YZ-XFJY": "fireofficer", "YZ-SCJG": "marketofficer"}

    def create(now: datetime) -> None:
        body = JointPlanCreate(
            business_id=cafe.id, scheduled_at=w.at(3, 9.5), officer_ids=w.team(),
            agency_ids=[w.agencies[c] for c in ("YZ-XFJY", "YZ-SCJG", "YZ-WHZF")],
            note="网吧消防、食品、文化市场经营一次联合检查，不再分别上门",
        )  # fmt: skip
        plan, _ = joint.create_joint(s, actor("officer"), body, now=now)
        ids["cafe_plan"], ids["cafe"] = plan.id, repository.plan_inspections(s, plan.id)[0].id

    def accept(login: str, agency: str, certificates: tuple[str, str]) -> Work:
        return lambda now: joint.accept(
            s, actor(login), ids["cafe"], w.agencies[agency],
            officer_ids=[w.officers[c] for c in certificates], now=now,
        )  # fmt: skip

    def findings(now: datetime) -> None:
        login_of = {w.agencies[code]: login for code, login in on_site.items()}
        for n, point in enumerate(points(s, _visit(w, ids["cafe"]))):
            for agency_id, row in point.agencies.items():
                body = _finding(row.code, row.checklist_item_id, CAFE_FAILS, w)
                onsite.record(s, w.storage, actor(login_of[agency_id]), ids["cafe"], body, [],
                              max_photo_bytes=w.max_photo_bytes,
                              now=now + timedelta(minutes=3 * n))  # fmt: skip

    w.then(6, 9, create)
    w.then(6, 9.5, lambda now: plans.move_plan(s, actor("officer"), ids["cafe_plan"], "submit",
                                               now=now))  # fmt: skip
    w.then(6, 11, lambda now: plans.move_plan(s, actor("lead"), ids["cafe_plan"], "approve",
                                              now=now))  # fmt: skip
    w.then(5, 10, accept("fireofficer", "YZ-XFJY", ("500103-XF-0001", "500103-XF-0002")))
    w.then(5, 11, accept("marketofficer", "YZ-SCJG", ("500103-SJ-0001", "500103-SJ-0002")))
    culture = w.agencies["YZ-WHZF"]
    w.then(5, 15, lambda now: joint.decline(s, actor("wenhua"), ids["cafe"], culture,
                                            reason=DECLINED, now=now))  # fmt: skip
    w.then(3, 9.5, lambda now: onsite.start(s, actor("officer"), ids["cafe"], now=now))
    w.then(3, 9.75, findings)
    w.then(3, 11.5, lambda now: onsite.finish(s, actor("officer"), ids["cafe"], now=now))
    w.then(3, 14, lambda now: rectification.issue_notice(
        s, w.storage, actor("officer"), ids["cafe"], contact="", now=now))  # fmt: skip
    w.then(3, 15, lambda now: rectification.serve_notice(
        s, actor("officer"), ids["cafe"], method=SERVED, served_at=None, now=now))  # fmt: skip


def random_plan(w: World, *, seed: int) -> None:
    """The street team draws four of the street's restaurants and two of its officers for
    each (the seed recorded); the lead approves and publishes the plan; two visits find
    nothing, one finds a blocked evacuation route, put right by the re-inspection, and the
    last is still to come."""
    s, ids = w.session, w.ids
    body = PlanCreate(
        title=f"{w.day(20).year}年解放碑街道餐饮场所消防安全“双随机”抽查", region_code=STREET,
        planned_from=w.day(20), planned_until=w.day(-10), item_codes=["XF-CF-001"],
        type_codes=["restaurant"], target_count=4, officers_per_target=2,
        note="从监管对象名录库随机抽取餐饮店，从执法人员名录库随机匹配检查人员",
    )  # fmt: skip
    when = [(16, 10.0), (16, 15.0), (13, 10.0), (-3, 10.0)]  # the visits: days before, hour
    failing = 2  # the visit that finds the blocked route

    def create(now: datetime) -> None:
        plan, _ = plans.create_plan(s, w.actor("officer"), body, now=now)
        plans.draw_plan(s, w.actor("officer"), plan.id, seed=seed, now=now)
        ids["plan"] = plan.id

    def visit(k: int) -> tuple[int, str]:
        """The k-th visit and who goes: 孙浩 if drawn for it, or else the lead (the roster
        has three, so one of them is)."""
        row = repository.plan_inspections(s, ids["plan"])[k]
        drawn = {o.officer_id for o in row.officers}
        return row.id, "officer" if w.officers[TEAM[0]] in drawn else "lead"

    def schedule(now: datetime) -> None:
        for k, (days, hour) in enumerate(when):
            inspection_id, login = visit(k)
            joint.schedule(s, w.actor(login), inspection_id, scheduled_at=w.at(days, hour),
                           place="", now=now)  # fmt: skip

    def inspect(k: int) -> Work:
        def run(now: datetime) -> None:
            inspection_id, login = visit(k)
            who = w.actor(login)
            onsite.start(s, who, inspection_id, now=now)
            for n, point in enumerate(points(s, _visit(w, inspection_id))):
                first = point.first
                # The failing visit's first point: due 9 days before the end, re-inspected.
                fails = {first.code: (*BLOCKED, -9)} if k == failing and n == 0 else {}
                body = _finding(first.code, first.checklist_item_id, fails, w)
                onsite.record(s, w.storage, who, inspection_id, body, [],
                              max_photo_bytes=w.max_photo_bytes, now=now)  # fmt: skip
            onsite.finish(s, who, inspection_id, now=now + timedelta(minutes=40))

        return run

    def notice(now: datetime) -> None:
        inspection_id, login = visit(failing)
        rectification.issue_notice(s, w.storage, w.actor(login), inspection_id, contact="",
                                   now=now)  # fmt: skip
        rectification.serve_notice(s, w.actor(login), inspection_id, method=SERVED,
                                   served_at=None, now=now + timedelta(minutes=30))  # fmt: skip

    def reinspect(now: datetime) -> None:
        inspection_id, login = visit(failing)
        results = [ResultIn(finding_id=f.id, rectified=True, note="通道内物品已清除，通道畅通")
                   for f in rectification.failed_findings(s, inspection_id)]  # fmt: skip
        rectification.reinspect(s, w.actor(login), inspection_id, officer_ids=w.team(),
                                results=results, now=now)  # fmt: skip

    w.then(24, 9, create)
    w.then(24, 10, lambda now: plans.move_plan(s, w.actor("officer"), ids["plan"], "submit",
                                               now=now))  # fmt: skip
    w.then(23, 9, lambda now: plans.move_plan(s, w.actor("lead"), ids["plan"], "approve",
                                              now=now))  # fmt: skip
    w.then(23, 10, lambda now: plans.move_plan(s, w.actor("lead"), ids["plan"], "publish",
                                               now=now))  # fmt: skip
    w.then(22, 9, schedule)
    for k in range(3):
        w.then(*when[k], inspect(k))
    w.then(13, 14, notice)
    w.then(8, 10, reinspect)
