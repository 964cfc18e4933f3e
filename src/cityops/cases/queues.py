"""The centre's work queues (待办队列): which open cases wait for which desk.

A queue is a named filter, so the console lists a queue through the same case list as any
search, and one grouped count gives every queue's size at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cityops.cases.workflow import OPEN_STATES, State

QueueName = Literal[
    "to_accept", "verifying", "to_file", "to_dispatch", "awaiting_approval", "handling",
    "to_check", "checking", "to_close", "overdue",
]  # fmt: skip


@dataclass(frozen=True)
class Queue:
    """Open cases in one of `states`; `pending` narrows to those with (or without) a
    handler's request awaiting a decision; `overdue` to those past their stage deadline."""

    states: frozenset[State]
    pending: bool | None = None
    overdue: bool | None = None

    def holds(self, state: str, pending: bool, overdue: bool) -> bool:
        return (
            state in self.states
            and (self.pending is None or self.pending == pending)
            and (self.overdue is None or self.overdue == overdue)
        )


S = State
QUEUES: dict[str, Queue] = {
    "to_accept": Queue(frozenset({S.REPORTED})),  # 待受理: the call-taker
    "verifying": Queue(frozenset({S.VERIFYING})),  # 待核实: out with an inspector
    "to_file": Queue(frozenset({S.ACCEPTED})),  # 待立案: the shift leader
    "to_dispatch": Queue(frozenset({S.FILED})),  # 待派遣: the dispatcher
    "awaiting_approval": Queue(frozenset({S.HANDLING}), pending=True),  # 待审批: the dispatcher
    "handling": Queue(frozenset({S.HANDLING, S.DEFERRED}), pending=False),  # 处置中
    "to_check": Queue(frozenset({S.HANDLED})),  # 待核查: the call-taker sends an inspector
    "checking": Queue(frozenset({S.CHECKING})),  # 核查中: out with an inspector
    "to_close": Queue(frozenset({S.CHECKED})),  # 待结案: the shift leader
    "overdue": Queue(frozenset(OPEN_STATES), overdue=True),  # 超时: every desk
}
assert set(QUEUES) == set(QueueName.__args__)  # type: ignore[attr-defined]
