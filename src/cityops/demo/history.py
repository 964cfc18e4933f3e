"""A month of cases run through the real intake and workflow, on a simulated clock.

Each case follows a path drawn at random (with a fixed seed): who reports it, whether it is
verified, how long each person takes, whether the handler is late, asks for more time,
sends it back, defers it, or is sent back to rework. Every step is taken by the person the
workflow requires, through `ingest_events` and `cases.service.act`, so the steps, deadlines
and KPIs of the demo are exactly what the real system would have recorded.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases import service as cases
from cityops.cases.models import Case
from cityops.cases.schemas import ActionRequest
from cityops.cases.workflow import Actor, State
from cityops.demo.district import Staff
from cityops.errors import DomainError
from cityops.ingest.service import ingest_events

# Class codes and weights: 市容环境 events dominate, as in real districts.
CLASS_MIX: list[tuple[str, float]] = [
    ("E0102", 16), ("E0113", 8), ("E0104", 6), ("E0108", 7), ("E0103", 3), ("E0109", 3),
    ("E0106", 2), ("E0107", 2), ("E0101", 1), ("E0502", 10), ("E0501", 5), ("E0503", 5),
    ("E0504", 4), ("E0507", 3), ("E0508", 3), ("E0201", 4), ("E0202", 1), ("E0302", 2),
    ("E0303", 2), ("E0304", 1), ("E0405", 2), ("E0404", 1), ("E0402", 1), ("P0101", 1),
    ("P0102", 1), ("P0103", 1), ("P0118", 2), ("P0303", 2), ("P0402", 1), ("P0209", 1),
]  # fmt: skip
CAMERA_CLASSES = ["E0502", "E0501", "E0102", "E0113", "E0508", "E0503"]
SENSOR_CLASSES = ["E0405", "E0404", "E0402"]

Progress = Callable[[int, int, str], None]


@dataclass(order=True)
class _Task:
    at: datetime
    seq: int
    case_id: int = field(compare=False)
    action: str = field(compare=False)
    actor: int = field(compare=False)
    body: dict[str, Any] = field(compare=False, default_factory=dict)


class Simulation:
    """Reports and actions in time order, each taken at its simulated instant."""

    def __init__(self, context: Context, staff: Staff, grids: dict[str, BaseGeometry],
                 rng: random.Random) -> None:  # fmt: skip
        self.context = context
        self.staff = staff
        self.grids = grids
        self.grid_codes = sorted(grids)
        self.rng = rng
        self.queue: list[_Task] = []
        self.seq = 0
        self.actors: dict[int, Actor] = {}
        self.reports = 0
        self.codes, weights = zip(*CLASS_MIX, strict=True)
        self.weights = list(weights)

    # -- helpers -----------------------------------------------------------------------------

    def actor(self, session: Session, person_id: int) -> Actor:
        if person_id not in self.actors:
            from cityops.auth.service import actor_of
            from cityops.org.models import Person

            person = session.get(Person, person_id)
            assert person is not None
            self.actors[person_id] = actor_of(person)
        return self.actors[person_id]

    def later(self, at: datetime, minutes: float, case_id: int, action: str, actor: int,
              **body: Any) -> None:  # fmt: skip
        self.seq += 1
        task = _Task(at + timedelta(minutes=minutes), self.seq, case_id, action, actor, body)
        heapq.heappush(self.queue, task)

    def point_in(self, grid: str) -> tuple[float, float]:
        geom = self.grids[grid]
        minx, miny, maxx, maxy = geom.bounds
        while True:
            lon, lat = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if geom.contains(Point(lon, lat)):
                return lon, lat

    # -- reports -----------------------------------------------------------------------------

    def report(self, session: Session, at: datetime) -> None:
        """A new problem: who finds it decides the path it takes."""
        rng = self.rng
        self.reports += 1
        grid = rng.choice(self.grid_codes)
        lon, lat = self.point_in(grid)
        roll = rng.random()
        source_kind, code, confidence = "inspector", rng.choices(self.codes, self.weights)[0], None
        if roll < 0.22:
            source_kind, code = "camera", rng.choice(CAMERA_CLASSES)
            confidence = round(rng.uniform(0.6, 0.99), 2)
        elif roll < 0.30:
            source_kind, code, confidence = "sensor", rng.choice(SENSOR_CLASSES), 0.95
        elif roll < 0.50:
            source_kind = rng.choice(["hotline", "citizen"])
        env = self.context.intake_env(session, at)
        event: dict[str, Any] = {
            "external_id": f"demo-{self.reports}",
            "kind": source_kind,
            "location": {"lon": round(lon, 7), "lat": round(lat, 7)},
            "occurred_at": (at - timedelta(minutes=rng.randint(0, 20))).isoformat(),
            "class_code": code,
            "description": _description(env.snapshot.classes[code].name, source_kind),
            "confidence": confidence,
        }
        self_fix = source_kind == "inspector" and rng.random() < 0.08
        if source_kind == "inspector":
            principal = Principal(actor=self.actor(session, self.staff.inspector_of[grid[:12]]))
            event["self_handled"] = self_fix
        else:
            event["source"] = {"camera": "video-ai", "sensor": "iot-platform"}.get(
                source_kind, "hotline-12345"
            )
            principal = Principal(actor=Actor(id=None, name=event["source"],
                                              roles=frozenset({"source"})),
                                  api_key_id=0, sources=frozenset({event["source"]}),
                                  trusted=source_kind in ("camera", "sensor"))  # fmt: skip
        result = ingest_events(session, env, principal, [event], max_batch=1)[0]
        if result.status != "created" or result.case_id is None:
            return
        self.next_step(session, result.case_id, at, created=True)

    # -- the path of a case -----------------------------------------------------------------

    def next_step(
        self, session: Session, case_id: int, at: datetime, created: bool = False
    ) -> None:
        """Schedule what the next person does with the case, given its state."""
        rng, staff = self.rng, self.staff
        case = session.get(Case, case_id)
        assert case is not None
        state = State(case.state)
        community = (case.grid_code or "")[:12]
        inspector = staff.inspector_of.get(community, next(iter(staff.inspector_of.values())))
        if state is State.REPORTED:
            who = rng.choice(staff.call_takers)
            if case.needs_verification:
                self.later(at, rng.uniform(3, 40), case_id, "send_verify", who)
            else:
                self.later(at, rng.uniform(3, 40), case_id, "accept", who)
        elif state is State.VERIFYING:
            outcome = "confirmed" if rng.random() < 0.9 else "not_confirmed"
            self.later(at, rng.uniform(10, 90), case_id, "verify", inspector, outcome=outcome,
                       note="现场核实属实" if outcome == "confirmed" else "现场未发现")  # fmt: skip
        elif state is State.ACCEPTED:
            leader = rng.choice(staff.shift_leaders)
            if case.verified is False:
                self.later(
                    at, rng.uniform(5, 40), case_id, "cancel", leader, note="核实不属实，作废"
                )
            else:
                self.later(at, rng.uniform(5, 40), case_id, "file", leader)
        elif state is State.FILED and not case.return_count and rng.random() < 0.02:
            # Now and then the shift leader finds a filed case was a repeat and cancels it.
            self.later(at, rng.uniform(5, 30), case_id, "cancel", rng.choice(staff.shift_leaders),
                       note="重复立案，作废")  # fmt: skip
        elif state is State.FILED:
            # A case sent back goes to the street office, which handles what no one owns.
            dept = (self.staff.street_office_of[(case.grid_code or "")[:9]]
                    if case.return_count else self.department_for(case))  # fmt: skip
            self.later(at, rng.uniform(2, 45), case_id, "dispatch", rng.choice(staff.dispatchers),
                       department_id=dept)  # fmt: skip
        elif state is State.HANDLING:
            self.plan_handling(case, at)
        elif state is State.DEFERRED:
            self.later(at, rng.uniform(24 * 60, 3 * 24 * 60), case_id, "resume",
                       rng.choice(staff.dispatchers))  # fmt: skip
        elif state is State.HANDLED:
            self.later(at, rng.uniform(5, 60), case_id, "send_check", rng.choice(staff.call_takers))
        elif state is State.CHECKING:
            outcome = "pass" if rng.random() < 0.9 else "rework"
            self.later(at, rng.uniform(20, 150), case_id, "check", inspector, outcome=outcome,
                       note="处置到位" if outcome == "pass" else "处置不到位，返工")  # fmt: skip
        elif state is State.CHECKED:
            self.later(at, rng.uniform(5, 90), case_id, "close", rng.choice(staff.shift_leaders))
        elif state is State.CLOSED and rng.random() < 0.7:
            score = rng.choice([3, 4, 4, 5, 5, 5])
            self.later(at, rng.uniform(60, 24 * 60), case_id, "evaluate",
                       rng.choice(staff.supervisors), score=score)  # fmt: skip

    def department_for(self, case: Case) -> int:
        snapshot = self.context.catalog.get(self.context.sessions())
        klass = snapshot.classes.get(case.class_code or "")
        if klass and klass.department_code in snapshot.department_ids:
            return snapshot.department_ids[klass.department_code]
        return self.staff.street_office_of[(case.grid_code or "")[:9]]

    def handler_of(self, case: Case) -> int:
        if case.assignee_id is not None:
            return case.assignee_id
        people = self.staff.handlers_of.get(case.department_id or 0)
        assert people, f"no handler for department {case.department_id}"
        return self.rng.choice(people)

    def plan_handling(self, case: Case, at: datetime) -> None:
        rng = self.rng
        handler = self.handler_of(case)
        if case.pending_request is None and rng.random() < 0.12 and case.rework_count == 0:
            kind = rng.choices(["extension", "return", "defer"], [6, 3, 1])[0]
            body: dict[str, Any] = {"note": {"extension": "需协调施工队伍，申请延时",
                                             "return": "不属本单位职责",
                                             "defer": "需纳入大修计划"}[kind]}  # fmt: skip
            if kind == "extension":
                body.update(extension_value=rng.choice([2, 4, 8]), extension_unit="working_hours")
            self.later(at, rng.uniform(20, 120), case.id, f"request_{kind}", handler, **body)
            return
        due = case.handle_due_at or at
        span = max((due - at).total_seconds() / 60, 30)
        # Most handlers finish in time; one in eight runs late.
        factor = rng.uniform(1.05, 1.8) if rng.random() < 0.12 else rng.uniform(0.15, 0.9)
        self.later(at, span * factor, case.id, "report_handled", handler, note="已处置完毕")

    def decide_request(self, session: Session, case: Case, at: datetime) -> None:
        approve = self.rng.random() < 0.85
        self.later(at, self.rng.uniform(5, 60), case.id, "approve" if approve else "reject",
                   self.rng.choice(self.staff.dispatchers))  # fmt: skip

    # -- running -------------------------------------------------------------------------------

    def run_task(self, session: Session, task: _Task) -> None:
        actor = self.actor(session, task.actor)
        env = self.context.case_env(session, task.at)
        try:
            case = cases.act(session, env, actor, task.case_id,
                             ActionRequest(action=task.action, **task.body))  # fmt: skip
        except DomainError:
            # The case moved on meanwhile (an earlier task changed it); plan afresh.
            self.next_step(session, task.case_id, task.at)
            return
        if task.action.startswith("request_"):
            self.decide_request(session, case, task.at)
        else:
            self.next_step(session, case.id, task.at)

    def run_until(self, session: Session, until: datetime) -> None:
        while self.queue and self.queue[0].at <= until:
            self.run_task(session, heapq.heappop(self.queue))


def _description(class_name: str, kind: str) -> str:
    source = {"inspector": "监督员巡查发现", "camera": "视频智能识别", "sensor": "物联感知告警",
              "hotline": "12345热线市民反映", "citizen": "市民随手拍反映"}[kind]  # fmt: skip
    return f"{source}：{class_name}"
