"""The demo's penalty cases (行政处罚), all of the street team of 解放碑 and all through the
penalty services as the API would call them: one at each stage of the general procedure —
one past its decision deadline (Art. 60), one whose fine departs from the benchmark with a
written reason, one decided, served and published, one closed but never published — and
one decision made on the spot (简易程序, Art. 51)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from cityops.demo.enforcement.world import STREET, Work, World
from cityops.enforcement.penalties import actions, opening
from cityops.enforcement.penalties.schemas import ActionBody, CaseOpen, OnTheSpot
from cityops.enforcement.penalties.service import PenaltyEnv, acting_person

ACTION = TypeAdapter(ActionBody)
Step = tuple[int, float, str, dict[str, Any]]  # days before the end, hour, login, action body


@dataclass(frozen=True)
class Story:
    """A case: the party (a business of the shipped directory), the item, how it came to
    the team, the facts, and its steps after it was proposed for filing."""

    credit_code: str
    item: str
    source: str
    opened: tuple[int, float]
    facts: str
    steps: tuple[Step, ...]


def step(days: int, hour: float, login: str, action: str, **values: Any) -> Step:
    return (days, hour, login, {"action": action, **values})


def stories(w: World) -> list[Story]:
    """The cases, oldest first."""
    team = w.team()

    def approve(days: int) -> Step:
        return step(days, 9, "lead", "approve_filing", note="同意立案，由孙浩、马超承办")

    def site(days: int, hour: float, record: str, found: str, present: str) -> Step:
        return step(days, hour, "officer", "inspect_site", officer_ids=team, record=record,
                    findings=[found], present=present)  # fmt: skip

    def evidence(days: int, hour: float, record: str) -> Step:
        """Photos and video taken on site (no on-site record: fewer documents to render)."""
        return step(days, hour, "officer", "collect_evidence", officer_ids=team, note=record,
                    items=["现场照片4张", "执法记录仪视频1段", "营业执照复印件1份"])  # fmt: skip

    def inquiry(days: int, person: str, record: str) -> Step:
        return step(days, 10, "officer", "record_inquiry", officer_ids=team, person=person,
                    record=record)  # fmt: skip

    def propose(days: int, grade: str, fine: int, measures: list[str], why: str = "") -> Step:
        return step(days, 10, "officer", "propose", grade=grade, fine=fine, measures=measures,
                    departure_reason=why)  # fmt: skip

    def notify(days: int) -> Step:
        return step(days, 15, "officer", "serve_notice", method="in_person")

    def decide_and_serve(days: int, recipient: str) -> tuple[Step, Step]:
        return (step(days, 10, "lead", "decide", outcome="penalty"),
                step(days - 1, 10, "officer", "serve", method="in_person", officer_ids=team,
                     recipient=recipient))  # fmt: skip

    late_hours = "营业时间以外仍在营业"
    locked = "营业期间锁闭安全出口"
    return [
        # Past its decision deadline: filed more than ninety days ago, still investigating.
        Story("915001030729142826", "WH-CF-003", "complaint", (112, 10),
              "群众投诉反映，该网吧多次在凌晨2时后仍接纳上网消费者上网。", (
            approve(110),
            site(109, 1.5, "凌晨1时30分检查，该场所仍在营业，场内上网消费者17人", late_hours,
                 "刘思远（法定代表人）"),
            inquiry(100, "刘思远（法定代表人）",
                    "当事人称系员工交接班疏忽，未按时停止营业，营业记录待补充提供"),
        )),
        # Closed: decided, served, paid; never published (supervision flags it).
        Story("92500103870442603Y", "XF-CF-001", "patrol", (76, 15),
              "日常巡查发现，该店后厨通往后门的疏散通道堆放啤酒箱、食材纸箱，通道宽度不足0.5米。", (
            approve(75),
            evidence(75, 14, "后厨疏散通道堆放杂物约3立方米，经指出后当场清理"),
            inquiry(74, "周红梅（负责人）", "当事人承认因进货量大临时堆放，已清理并承诺不再占用"),
            propose(70, "lighter", 6000, ["fine"]),
            notify(70),
            step(68, 10, "officer", "record_statement",
                 statement="当事人对违法事实无异议，放弃陈述、申辩"),
            *decide_and_serve(66, "周红梅"),
            step(58, 11, "officer", "record_payment", amount="6000"),
            step(55, 10, "lead", "close"),
        )),
        # Decided, served and published; the fine is due a few days after the end.
        Story("91500103703519183L", "XF-CF-001", "complaint", (40, 16),
              "群众举报，该店营业期间将二楼安全出口门上锁，经现场核实属实。", (
            approve(39),
            evidence(39, 14, "二楼安全出口门被挂锁锁闭，就餐人员约50人"),
            inquiry(37, "罗志强（负责人）", "当事人称上锁系为防盗，已于检查当日拆除门锁"),
            propose(20, "ordinary", 20000, ["fine"]),
            notify(20),
            step(18, 10, "officer", "record_statement",
                 statement="当事人辩称上锁系防盗需要，已当场拆除门锁，请求从轻处罚"),
            *decide_and_serve(12, "罗志强"),
            step(10, 10, "lead", "publish"),
        )),
        # Awaiting legal review: the fine departs from the benchmark, with the reason.
        Story("925001035984679907", "WH-CF-003", "patrol", (21, 10),
              "夜间巡查发现，该网吧于凌晨1时40分仍在营业，场内上网消费者23人。", (
            approve(20),
            evidence(19, 1.7, "凌晨1时40分检查，该场所仍在营业，场内上网消费者23人"),
            inquiry(17, "杨晓东（负责人）", "当事人承认超时营业约1小时40分钟"),
            propose(3, "ordinary", 12000, ["warning", "fine"],
                    "超时营业期间场内上网消费者达23人，其中多人为附近学校学生，社会影响较一般"
                    "情形严重；当事人系初次违法，不属于从重情形。经集体讨论，在一般情形幅度之上"
                    "酌情确定罚款数额"),
        )),
        # The advance notice served; the party may still state a defence.
        Story("925001034897373495", "XF-CF-001", "patrol", (9, 10),
              "日常巡查发现，该店将桌椅摆放在临江路侧安全出口处，占用疏散通道。", (
            approve(8),
            evidence(8, 15, "安全出口处摆放餐桌2张、椅子8把"),
            inquiry(7, "郑德华（负责人）", "当事人称就餐高峰期临时加座"),
            propose(2, "lighter", 8000, ["fine"]),
            notify(2),
        )),
        # Being investigated by two officers, who ordered the exit opened.
        Story("915001035797529214", "XF-CF-001", "complaint", (6, 10),
              "群众投诉反映，该KTV营业期间五楼西侧安全出口被锁闭。", (
            approve(5),
            site(5, 21, "21时检查，五楼西侧安全出口门被铁链锁闭，场内消费者约60人", locked,
                 "袁继伟（法定代表人）"),
            step(5, 21.5, "officer", "order_correction", officer_ids=team, deadline=w.day(4),
                 requirement="立即解除安全出口的锁闭，保持疏散通道、安全出口畅通"),
        )),
        # Proposed for filing yesterday: waiting for the lead's approval.
        Story("92500103958351570X", "XF-CF-001", "patrol", (1, 15),
              "日常巡查发现，该店将餐桌摆放至后门疏散通道内，占用疏散通道。", ()),
    ]  # fmt: skip


def _env(w: World, now: datetime) -> PenaltyEnv:
    return PenaltyEnv(w.calendar, w.storage, now)


def penalty_cases(w: World) -> None:
    """Add the work of every case: proposed for filing by 孙浩 with 马超 as the handlers,
    then its steps by whom the procedure wants."""
    for n, story in enumerate(stories(w)):
        key = f"case-{n}"
        w.then(*story.opened, _opener(w, key, story))
        for days, hour, login, body in story.steps:
            w.then(days, hour, _actor(w, key, login, body))
    on_the_spot(w)


def _opener(w: World, key: str, story: Story) -> Work:
    def run(now: datetime) -> None:
        business = w.business(story.credit_code)
        body = CaseOpen.model_validate({
            "item_code": story.item, "business_id": business.id, "source": story.source,
            "facts": story.facts, "place": business.address, "officer_ids": w.team(),
            "violation_on": w.day(story.opened[0] + 1),
        })  # fmt: skip
        who = acting_person(w.session, w.people["officer"])
        w.ids[key] = opening.open_case(w.session, _env(w, now), who, body).id

    return run


def _actor(w: World, key: str, login: str, body: dict[str, Any]) -> Work:
    def run(now: datetime) -> None:
        who = acting_person(w.session, w.people[login])
        actions.act(w.session, _env(w, now), who, w.ids[key], ACTION.validate_python(body))

    return run


def on_the_spot(w: World) -> None:
    """A resident's electric bicycle and boxes in a stairwell: a fine of 200 CNY decided on
    the spot by two officers (Art. 51), paid the next day, filed with the agency (备案) and
    closed by the lead."""
    key = "on-the-spot"
    body = OnTheSpot.model_validate({
        "item_code": "XF-CF-001", "region_code": STREET, "grade": "ordinary", "fine": 200,
        "measures": ["fine"], "officer_ids": w.team(), "violation_on": w.day(4),
        "party": {"kind": "citizen", "name": "冉光明", "address": "重庆市渝中区邹容路60号附3号"},
        "place": "重庆市渝中区邹容路60号附3号一楼楼梯间",
        "facts": "当事人在居民楼一楼楼梯间停放电动自行车并堆放纸箱，占用疏散通道，经指出后"
                 "当场清理。",
    })  # fmt: skip

    def decide(now: datetime) -> None:
        who = acting_person(w.session, w.people["officer"])
        w.ids[key] = opening.open_on_the_spot(w.session, _env(w, now), who, body).id

    w.then(4, 16, decide)
    w.then(3, 10, _actor(w, key, "officer", {"action": "record_payment", "amount": "200"}))
    w.then(3, 11, _actor(w, key, "officer", {"action": "record_filing"}))
    w.then(2, 9, _actor(w, key, "lead", {"action": "close"}))
